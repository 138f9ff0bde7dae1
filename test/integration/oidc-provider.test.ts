/**
 * End to end against a real OpenID provider: `oidc-provider` issues JWT
 * access tokens for this API's resource indicator through its token endpoint
 * (client credentials), and the real `langgraph dev` verifies them through
 * OIDC discovery (AUTH_ISSUER only, no AUTH_JWKS_URL).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { startLangGraphDev, type LangGraphDev } from "../support/langgraph-dev.ts";
import { startOidcProvider, type RunningOidcProvider } from "../support/oidc-provider.ts";
import { waitFor } from "../support/wait-for.ts";

const RESOURCE = "https://langgraph.api.test";
const SCOPES = ["threads:read", "threads:write", "assistants:read", "store:read", "store:write"];

let op: RunningOidcProvider;
let server: LangGraphDev;

beforeAll(async () => {
  op = await startOidcProvider({
    resource: RESOURCE,
    scopes: SCOPES,
    clients: [
      { clientId: "acme-service", clientSecret: "acme-secret-0123456789", tenant: "acme" },
      { clientId: "globex-service", clientSecret: "globex-secret-0123456789", tenant: "globex" },
      // 5 s: long enough that a busy machine still uses the token before it expires.
      { clientId: "acme-short-lived", clientSecret: "short-secret-0123456789", tenant: "acme", accessTokenTTL: 5 },
    ],
  });
  server = await startLangGraphDev({
    env: { AUTH_ISSUER: op.issuer, AUTH_AUDIENCE: RESOURCE, AUTH_CLOCK_TOLERANCE: "0" },
  });
});

afterAll(async () => {
  await server?.stop();
  await op?.close();
});

async function call(token: string, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

describe("oidc-provider → langgraph dev, through discovery", () => {
  it("issues RFC 9068 JWT access tokens for the resource, with the tenant claim", async () => {
    const token = await op.token("acme-service");
    expect(decodeProtectedHeader(token).typ).toBe("at+jwt");
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ iss: op.issuer, aud: RESOURCE, sub: "acme-service", client_id: "acme-service", org_id: "acme" });
  });

  it("keeps two tenants apart", async () => {
    const acme = await op.token("acme-service");
    const globex = await op.token("globex-service");

    const created = await call(acme, "POST", "/threads", { metadata: { topic: "q3-plan" } });
    expect(created.status).toBe(200);
    const thread = (await created.json()) as { thread_id: string; metadata: Record<string, unknown> };
    expect(thread.metadata).toMatchObject({ tenant_id: "acme", owner: "acme-service", topic: "q3-plan" });

    expect((await call(acme, "GET", `/threads/${thread.thread_id}`)).status).toBe(200);
    expect((await call(globex, "GET", `/threads/${thread.thread_id}`)).status).toBe(404);
    expect((await call(globex, "DELETE", `/threads/${thread.thread_id}`)).status).toBe(404);

    const search = await call(globex, "POST", "/threads/search", { limit: 100 });
    expect(search.status).toBe(200);
    const ids = ((await search.json()) as Array<{ thread_id: string }>).map((t) => t.thread_id);
    expect(ids).not.toContain(thread.thread_id);
  });

  it("refuses a token without the permission the route needs (scope narrowed at the token endpoint)", async () => {
    const readOnly = await op.token("acme-service", "threads:read");
    const response = await call(readOnly, "POST", "/threads", {});
    expect(response.status).toBe(403);
    expect(response.headers.get("www-authenticate")).toContain('error="insufficient_scope"');
  });

  it("cannot revoke a JWT access token at the provider, so expiry is what ends it", async () => {
    const token = await op.token("acme-short-lived");
    // RFC 7009 revocation is refused for structured tokens: the resource
    // server verifies them offline, so a revoked-at-the-provider list would
    // never be consulted. What ends a JWT access token is its short `exp`.
    const revoked = await op.revoke("acme-short-lived", token);
    expect(revoked.status).toBe(400);
    expect(revoked.body.error).toBe("unsupported_token_type");

    expect((await call(token, "POST", "/threads/search", { limit: 1 })).status).toBe(200);
    // Ask until it is refused; until then it must keep working.
    let last: Response | undefined;
    await waitFor(async () => {
      last = await call(token, "POST", "/threads/search", { limit: 1 });
      return last.status !== 200;
    }, "the token to expire", { intervalMs: 250 });
    const expired = last!;
    expect(expired.status).toBe(401);
    expect(expired.headers.get("www-authenticate")).toContain('error="invalid_token"');
    expect(await expired.text()).toContain("expired");
  });

  it("accepts tokens signed with a rotated key, and those of the old key still published", async () => {
    const before = await op.token("acme-service");
    await op.rotate();
    const after = await op.token("acme-service");
    expect(decodeProtectedHeader(after).kid).toBe(op.keys[0]!.kid);
    expect(decodeProtectedHeader(after).kid).not.toBe(decodeProtectedHeader(before).kid);

    // jose refetches a key set for an unknown kid at most once per 30 s
    // cooldown: wait out what is left of it since the server's last fetch.
    // (Computed from the observed fetch, not guessed; asking in between would
    // not help: each refused unknown kid is remembered for the cooldown.)
    const wait = op.lastJwksFetch() + 31_000 - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));

    const fetchesBefore = op.lastJwksFetch();
    expect((await call(after, "POST", "/threads/search", { limit: 1 })).status).toBe(200);
    expect(op.lastJwksFetch()).toBeGreaterThan(fetchesBefore);
    expect((await call(before, "POST", "/threads/search", { limit: 1 })).status).toBe(200);
  }, 60_000);
});
