/**
 * Custom routes (`langgraph.json` `http.app` → `examples/http/app.ts`) on LangGraph
 * Platform: the platform proxies them to the worker's HTTP server, and nothing
 * says it authenticated them first. So the app is called here directly
 * (`app.fetch`), with no server and no `Auth` in front: the package's Hono
 * middleware alone must guard every route.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Hono } from "hono";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";
import { CUSTOM_ROUTES } from "../../examples/http/custom-routes.ts";
import { createRoutePolicy } from "../../src/policy/route-policy.ts";
import { makePrincipal } from "../support/principal.ts";

let issuer: LocalIssuer;
let app: Hono;

beforeAll(async () => {
  issuer = await startLocalIssuer();
  // The worker's environment: the app reads its AUTH_* variables at import.
  Object.assign(process.env, issuer.env(), { LANGSERVE_GRAPHS: '{"echo":"./examples/graphs/echo.ts:graph"}' });
  app = (await import("../../examples/http/app.ts")).app as unknown as Hono;
});
afterAll(async () => {
  await issuer?.close();
});

const call = (method: string, path: string, token?: string, body?: unknown) =>
  app.fetch(
    new Request(`https://agent.example.langgraph.app${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    }),
  );

describe("the sample app's routes with no server auth in front", () => {
  it.each(CUSTOM_ROUTES.map((r) => [`${r.method} ${r.path}`, r] as const))("%s refuses no token (401) and a bad token (401)", async (_, route) => {
    const none = await call(route.method, route.path, undefined, route.method === "POST" ? { text: "x" } : undefined);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toBe('Bearer realm="langgraph"');
    const forged = (await issuer.sign({ sub: "alice", org_id: "acme", scope: "store:read store:write" })).slice(0, -4) + "AAAA";
    const bad = await call(route.method, route.path, forged, route.method === "POST" ? { text: "x" } : undefined);
    expect(bad.status).toBe(401);
    expect(bad.headers.get("www-authenticate")).toContain('error="invalid_token"');
  });

  it("checks each route's permission and keeps tenants apart", async () => {
    const viewer = await issuer.sign({ sub: "viola", org_id: "acme", scope: "store:read" });
    const denied = await call("POST", "/custom/notes", viewer, { text: "x" });
    expect(denied.status).toBe(403);
    expect(denied.headers.get("www-authenticate")).toContain('scope="store:write"');
    const acme = await issuer.sign({ sub: "alice", org_id: "acme", scope: "store:read store:write" });
    const globex = await issuer.sign({ sub: "gus", org_id: "globex", scope: "store:read store:write" });
    expect((await call("POST", "/custom/notes", acme, { text: "acme only" })).status).toBe(201);
    expect(((await (await call("GET", "/custom/notes", globex)).json()) as { notes: string[] }).notes).not.toContain("acme only");
    expect(((await (await call("GET", "/custom/notes", acme)).json()) as { notes: string[] }).notes).toContain("acme only");
    expect(await (await call("GET", "/custom/tenant", globex)).json()).toMatchObject({ tenant_id: "globex", identity: "gus" });
  });
});

describe("when the platform does call authenticate for them", () => {
  it("the platform route table lets exactly the sample routes through", () => {
    const policy = createRoutePolicy({ host: "platform", extraRoutes: CUSTOM_ROUTES });
    const caller = makePrincipal();
    for (const route of CUSTOM_ROUTES) {
      expect(policy.decide({ method: route.method, path: route.path, query: new URLSearchParams() }, caller).allow).toBe(true);
    }
    expect(policy.decide({ method: "DELETE", path: "/custom/notes", query: new URLSearchParams() }, caller).allow).toBe(false);
    expect(policy.decide({ method: "GET", path: "/custom/other", query: new URLSearchParams() }, caller).allow).toBe(false);
  });
});
