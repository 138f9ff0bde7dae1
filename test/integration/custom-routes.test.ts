/**
 * The sample custom routes (`langgraph.json` `http.app` → `examples/http/app.ts`)
 * inside the real `langgraph dev`: the tenant middleware gives them the
 * caller's tenant and refuses without a token or a permission.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";
import { startLangGraphDev, type LangGraphDev } from "../support/langgraph-dev.ts";

let issuer: LocalIssuer;
let server: LangGraphDev;

beforeAll(async () => {
  issuer = await startLocalIssuer();
  server = await startLangGraphDev({ env: issuer.env() });
});
afterAll(async () => {
  await server?.stop();
  await issuer?.close();
});

const get = (path: string, token?: string) =>
  fetch(`${server.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
const post = (path: string, token: string, body: unknown) =>
  fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });

describe("custom routes behind the tenant middleware, in langgraph dev", () => {
  it("sees the caller's tenant", async () => {
    const token = await issuer.sign({ sub: "alice", org_id: "acme", scope: "store:read" });
    const response = await get("/custom/tenant", token);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ tenant_id: "acme", identity: "alice", permissions: ["store:read"] });
  });

  it("refuses a request without a token (401 with a challenge)", async () => {
    const response = await get("/custom/tenant");
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toMatch(/^Bearer realm="langgraph"/);
  });

  it("refuses a caller without the route's permission (403 insufficient_scope)", async () => {
    const token = await issuer.sign({ sub: "bob", org_id: "acme", scope: "store:read" });
    const response = await post("/custom/notes", token, { text: "hello" });
    expect(response.status).toBe(403);
    expect(response.headers.get("www-authenticate")).toContain('error="insufficient_scope"');
    expect(response.headers.get("www-authenticate")).toContain('scope="store:write"');
  });

  it("keeps each tenant's notes apart", async () => {
    const acme = await issuer.sign({ sub: "alice", org_id: "acme", scope: "store:read store:write" });
    const globex = await issuer.sign({ sub: "gus", org_id: "globex", scope: "store:read store:write" });
    expect((await post("/custom/notes", acme, { text: "acme only" })).status).toBe(201);
    const theirs = (await (await get("/custom/notes", globex)).json()) as { notes: string[] };
    expect(theirs.notes).not.toContain("acme only");
    const ours = (await (await get("/custom/notes", acme)).json()) as { notes: string[] };
    expect(ours.notes).toContain("acme only");
  });

  it("leaves the server's own routes to the server (custom app mounted only under /custom/)", async () => {
    const token = await issuer.sign({ sub: "alice", org_id: "acme", scope: "threads:read" });
    const response = await fetch(`${server.url}/threads/search`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: "{}",
    });
    expect(response.status).toBe(200);
  });
});
