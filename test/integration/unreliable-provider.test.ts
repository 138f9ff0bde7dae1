/**
 * The real `langgraph dev` with this package's auth, in front of an identity
 * provider (the local issuer) that the test breaks and mends: a provider
 * that was never reached answers 503 with `Retry-After` (not 401), and once
 * keys were fetched, an outage past the cache age keeps valid tokens working
 * (stale-if-error) while forged ones keep failing.
 *
 * Durations are shrunk through the `AUTH_JWKS_*` variables (1 s). The test
 * never sleeps for a guessed time: it keeps asking until the server shows
 * the next state (keys fetched, refreshes failing), checking every answer on
 * the way; nothing asserts how long a step took.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";
import { startLangGraphDev, type LangGraphDev } from "../support/langgraph-dev.ts";
import { waitFor } from "../support/wait-for.ts";

let issuer: LocalIssuer;
let server: LangGraphDev;
let down = true;

const staleLines = () => server.output().split("stale-if-error: verifying with keys fetched").length - 1;
const get = (token: string) => fetch(`${server.url}/threads/search`, {
  method: "POST",
  headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
  body: "{}",
});
const valid = () => issuer.sign({ sub: "alice", org_id: "acme", scope: "threads:read" });
async function forged(): Promise<string> {
  const [h, , s] = (await valid()).split(".");
  const payload = Buffer.from(JSON.stringify({ sub: "mallory", org_id: "acme", scope: "threads:read", iss: issuer.issuer, aud: issuer.audience, exp: 9e9 })).toString("base64url");
  return `${h}.${payload}.${s}`;
}

beforeAll(async () => {
  issuer = await startLocalIssuer({
    intercept: (req) => {
      if (!down) return false;
      req.socket.destroy();
      return true;
    },
  });
  server = await startLangGraphDev({
    env: { ...issuer.env(), AUTH_JWKS_COOLDOWN: "1", AUTH_JWKS_MAX_AGE: "1", AUTH_JWKS_TIMEOUT_MS: "2000" },
  });
});

afterAll(async () => {
  await server?.stop();
  await issuer?.close();
});

describe("an unreliable identity provider, through langgraph dev", () => {
  it("answers 503 with Retry-After while no keys were ever fetched, then recovers", async () => {
    const first = await get(await valid());
    expect(first.status).toBe(503);
    expect(Number(first.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await first.text()).not.toContain("eyJ");

    down = false;
    // Until the 1 s cooldown is over the server keeps answering 503; then it fetches the keys.
    await waitFor(async () => {
      const answer = await get(await valid());
      if (answer.status !== 200) expect(answer.status).toBe(503);
      return answer.status === 200;
    }, "the server to fetch the keys after its cooldown", { intervalMs: 200 });
    expect((await get(await valid())).status).toBe(200);
    expect((await get(await forged())).status).toBe(401);
  });

  it("keeps verifying with the last good keys when the provider goes down (stale-if-error)", async () => {
    down = true;
    const before = staleLines();
    // Every answer while the provider is down: valid tokens pass, forged ones fail. Keep
    // asking until the server has logged two failed refreshes of its (now stale) key set.
    await waitFor(async () => {
      expect((await get(await valid())).status).toBe(200);
      const refused = await get(await forged());
      expect(refused.status).toBe(401);
      expect(refused.headers.get("www-authenticate")).toMatch(/error="invalid_token"/);
      return staleLines() >= before + 2;
    }, "two failed refreshes served stale-if-error", { intervalMs: 200 });
    expect(server.output()).toContain("stale-if-error: verifying with keys fetched");
  });
});
