/**
 * AUTH_CUSTOM_ROUTES: the app's own `http.app` routes are configuration, the
 * published auth ships none, and a bad value or one that would open a server
 * route stops the start with a message naming the variable.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readConfig } from "../../src/config/read-config.ts";
import { ConfigError } from "../../src/errors.ts";
import { createAuthFromEnv } from "../../src/langgraph/create-env-auth.ts";
import { createRoutePolicy } from "../../src/policy/route-policy.ts";
import { configProblems } from "../support/config-problems.ts";
import { makePrincipal } from "../support/principal.ts";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";

const BASE = { AUTH_ISSUER: "https://id.example.com/", AUTH_AUDIENCE: "https://api.example.com" };
const quiet = { log: () => undefined };

describe("AUTH_CUSTOM_ROUTES in readConfig", () => {
  it("is absent by default: no custom route is let through", () => {
    expect(readConfig(BASE).customRoutes).toBeUndefined();
    expect(readConfig({ ...BASE, AUTH_CUSTOM_ROUTES: "  " }).customRoutes).toBeUndefined();
  });

  it("reads comma-separated METHOD /path pairs, :name parameters included", () => {
    expect(readConfig({ ...BASE, AUTH_CUSTOM_ROUTES: " GET /custom/tenant ,POST  /custom/notes,DELETE /custom/notes/:note_id" }).customRoutes).toEqual([
      { method: "GET", path: "/custom/tenant" },
      { method: "POST", path: "/custom/notes" },
      { method: "DELETE", path: "/custom/notes/:note_id" },
    ]);
  });

  it.each([
    ["GET", /"GET" is not METHOD \/path/],
    ["/custom/tenant", /"\/custom\/tenant" is not METHOD \/path/],
    ["GET /a POST /b", /is not METHOD \/path/],
    ["get /custom", /the method must be one of GET, POST, PUT, PATCH, DELETE/],
    ["HEAD /custom", /the method must be one of/],
    ["GET custom", /the path must start with "\/"/],
    ["GET /custom/", /no empty segment or trailing "\/"/],
    ["GET /custom//x", /no empty segment/],
    ["GET /", /no empty segment/],
    ["GET /custom/%74", /literal segments/],
    ["GET /custom/*", /literal segments/],
    ["GET /custom?x=1", /literal segments/],
    ["GET /custom/:", /literal segments/],
    [",", /must list at least one METHOD \/path pair/],
    ["GET /custom/a,GET  /custom/a", /"GET  \/custom\/a" is listed twice/],
  ])("refuses %j at start, naming the variable", (value, message) => {
    const problems = configProblems({ ...BASE, AUTH_CUSTOM_ROUTES: value });
    expect(problems.some((p) => p.startsWith("AUTH_CUSTOM_ROUTES") && message.test(p)), problems.join("\n")).toBe(true);
  });
});

describe("custom routes in the route policy", () => {
  it("refuses an extra route that overlaps a server route, on every host's table", () => {
    for (const host of ["dev", "js", "platform"] as const) {
      expect(() => createRoutePolicy({ host, extraRoutes: [{ method: "POST", path: "/threads/search" }] }), host).toThrow(TypeError);
      expect(() => createRoutePolicy({ host, extraRoutes: [{ method: "GET", path: "/threads/:id" }] }), host).toThrow(/overlaps the server's route "GET \/threads\/:thread_id"/);
      expect(() => createRoutePolicy({ host, extraRoutes: [{ method: "GET", path: "/threads/mine" }] }), host).toThrow(/overlaps/);
    }
    expect(() => createRoutePolicy({ extraRoutes: [{ method: "POST", path: "/internal/:anything" }] })).toThrow(/"POST \/internal\/truncate"/);
    // Another method on a server path is not the server's route.
    expect(() => createRoutePolicy({ extraRoutes: [{ method: "PUT", path: "/threads/search" }] })).not.toThrow();
  });
});

describe("createAuthFromEnv (the published ./auth)", () => {
  let issuer: LocalIssuer;
  beforeAll(async () => {
    issuer = await startLocalIssuer();
  });
  afterAll(async () => {
    await issuer?.close();
  });

  const authenticate = (env: Record<string, string>) => {
    const auth = createAuthFromEnv({ ...issuer.env(), AUTH_SERVER: "dev", ...env }, quiet) as unknown as {
      "~handlerCache": { authenticate: (request: Request) => Promise<unknown> };
    };
    return auth["~handlerCache"].authenticate;
  };
  const statusOf = async (promise: Promise<unknown>) => promise.then(() => 200, (error: { status?: number }) => error.status ?? 500);

  it("lets no custom route through unless AUTH_CUSTOM_ROUTES names it", async () => {
    const token = await issuer.sign({ sub: "alice", org_id: "acme", scope: "store:read" });
    const request = (method: string, path: string) =>
      new Request(`http://127.0.0.1${path}`, { method, headers: { authorization: `Bearer ${token}` } });
    expect(await statusOf(authenticate({})(request("GET", "/custom/tenant")))).toBe(404);
    const configured = authenticate({ AUTH_CUSTOM_ROUTES: "GET /custom/tenant" });
    expect(await statusOf(configured(request("GET", "/custom/tenant")))).toBe(200);
    expect(await statusOf(configured(request("POST", "/custom/tenant")))).toBe(404);
    expect(await statusOf(configured(request("GET", "/custom/other")))).toBe(404);
  });

  it("stops at start with a ConfigError when a custom route would open a server route", () => {
    const start = () => createAuthFromEnv({ ...BASE, AUTH_SERVER: "dev", AUTH_CUSTOM_ROUTES: "GET /custom/tenant,POST /internal/truncate" }, quiet);
    expect(start).toThrow(ConfigError);
    expect(start).toThrow(/AUTH_CUSTOM_ROUTES: .*"POST \/internal\/truncate" overlaps the server's route/);
  });

  it("keeps the other policy decisions for a custom route's caller", () => {
    const policy = createRoutePolicy({ extraRoutes: [{ method: "GET", path: "/custom/tenant" }] });
    expect(policy.decide({ method: "POST", path: "/internal/truncate", query: new URLSearchParams() }, makePrincipal()).allow).toBe(false);
  });
});
