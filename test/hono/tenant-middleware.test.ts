/**
 * The Hono middleware on its own: `app.request(new Request(...))`, keys served
 * by the local issuer over loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Hono } from "hono";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";
import { createAuthenticator, type Authenticator } from "../../src/authenticate/create-authenticator.ts";
import { readConfig } from "../../src/config/read-config.ts";
import { cors } from "hono/cors";
import { createTenantMiddleware, requirePermissions, type TenantEnv } from "../../src/hono/tenant-middleware.ts";
import { createDecisionLog } from "../../src/decision/decision-log.ts";
import type { DecisionRecord } from "../../src/decision/decision-event.ts";

let issuer: LocalIssuer;
let authenticator: Authenticator;
let app: Hono<TenantEnv>;

beforeAll(async () => {
  issuer = await startLocalIssuer();
  authenticator = createAuthenticator({ config: readConfig(issuer.env()) });
  app = new Hono<TenantEnv>();
  app.use("/api/*", createTenantMiddleware({ authenticator }));
  app.get("/api/tenant", (c) => c.json({ tenant: c.get("principal").tenant_id, sub: c.get("principal").identity }));
  app.post("/api/reports", requirePermissions("store:write"), (c) => c.json({ ok: true }, 201));
  app.use("/admin/*", createTenantMiddleware({ authenticator, permissions: ["assistants:write"] }));
  app.get("/admin/ping", (c) => c.text("pong"));
});
afterAll(async () => {
  await issuer.close();
});

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

describe("createTenantMiddleware", () => {
  it("puts the principal in the context", async () => {
    const token = await issuer.sign({ sub: "alice", org_id: "acme", scope: "threads:read" });
    const response = await app.request("/api/tenant", bearer(token));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ tenant: "acme", sub: "alice" });
  });

  it("answers 401 with a bare challenge when there is no token", async () => {
    const response = await app.request("/api/tenant");
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe('Bearer realm="langgraph"');
  });

  it("answers 401 invalid_token for a token of another issuer, without echoing it", async () => {
    const other = await startLocalIssuer({ audience: issuer.audience });
    try {
      const token = await other.sign({ sub: "mallory", org_id: "acme" });
      const response = await app.request("/api/tenant", { headers: { AuthoriZation: `bEaReR ${token}` } });
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toContain('error="invalid_token"');
      expect(await response.text()).not.toContain(token);
    } finally {
      await other.close();
    }
  });

  it("answers 400 invalid_request for a malformed header", async () => {
    const response = await app.request("/api/tenant", { headers: { authorization: "Basic YWxhZGRpbjpvcGVu" } });
    expect(response.status).toBe(400);
    expect(response.headers.get("www-authenticate")).toContain('error="invalid_request"');
  });

  it("checks permissions required for the whole prefix", async () => {
    const weak = await issuer.sign({ sub: "bob", org_id: "acme", scope: "threads:read" });
    const strong = await issuer.sign({ sub: "carol", org_id: "acme", scope: "assistants:write" });
    const refused = await app.request("/admin/ping", bearer(weak));
    expect(refused.status).toBe(403);
    expect(refused.headers.get("www-authenticate")).toContain('scope="assistants:write"');
    expect((await app.request("/admin/ping", bearer(strong))).status).toBe(200);
  });

  it("refuses bad options at construction with a TypeError naming them", () => {
    expect(() => createTenantMiddleware({} as never)).toThrow(/options\.authenticator/);
    expect(() => createTenantMiddleware({ authenticator, permissions: [""] })).toThrow(/options\.permissions/);
    expect(() => requirePermissions()).toThrow(/at least one permission/);
  });
});

describe("requirePermissions", () => {
  it("answers 403 insufficient_scope naming the missing permission", async () => {
    const token = await issuer.sign({ sub: "bob", org_id: "acme", scope: "store:read" });
    const response = await app.request("/api/reports", { method: "POST", ...bearer(token) });
    expect(response.status).toBe(403);
    expect(response.headers.get("www-authenticate")).toContain('error="insufficient_scope"');
    expect(response.headers.get("www-authenticate")).toContain('scope="store:write"');
  });

  it("lets a caller with the permission through", async () => {
    const token = await issuer.sign({ sub: "bob", org_id: "acme", scope: "store:write" });
    expect((await app.request("/api/reports", { method: "POST", ...bearer(token) })).status).toBe(201);
  });

  it("refuses when used without the tenant middleware in front (fails closed)", async () => {
    const bare = new Hono<TenantEnv>();
    bare.get("/x", requirePermissions("threads:read"), (c) => c.text("leak"));
    const response = await bare.request("/x");
    expect(response.status).toBe(403);
  });
});

describe("decisions", () => {
  it("records each refusal once, sends its id back (header and body) and lets a browser read it behind the app's CORS", async () => {
    const written: DecisionRecord[] = [];
    const decisions = createDecisionLog({ sink: { write: (record) => void written.push(record) } });
    const browserApp = new Hono<TenantEnv>();
    browserApp.use("*", cors({ origin: "https://app.example.com", exposeHeaders: ["x-request-id"] }));
    browserApp.use("/api/*", createTenantMiddleware({ authenticator, decisions, host: "dev" }));
    browserApp.post("/api/reports", requirePermissions("store:write"), (c) => c.json({ ok: true }, 201));

    const origin = { origin: "https://app.example.com" };
    const missing = await browserApp.request("/api/reports", { method: "POST", headers: origin });
    const weak = await issuer.sign({ sub: "bob", org_id: "acme", scope: "threads:read", name: "Bob Secret" });
    const scoped = await browserApp.request("/api/reports", { method: "POST", headers: { ...origin, authorization: `Bearer ${weak}` } });
    expect([missing.status, scoped.status]).toEqual([401, 403]);
    expect(written.map((r) => [r.reason, r.source, r.host, r.tenant_id, r.subject, r.type === "auth.decision" ? r.route : null])).toEqual([
      ["missing_token", "middleware", "dev", null, null, "POST /api/reports"],
      ["insufficient_scope", "middleware", "dev", "acme", "bob", "POST /api/reports"],
    ]);
    for (const [response, record] of [[missing, written[0]!], [scoped, written[1]!]] as const) {
      expect(response.headers.get("x-decision-id")).toBe(record.decision_id);
      expect(await response.text()).toMatch(new RegExp(`\\(decision_id: ${record.decision_id}\\)$`));
      expect(response.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
      // The app's own exposed header stays; the refusal's are added.
      expect(response.headers.get("access-control-expose-headers")).toBe("x-request-id,WWW-Authenticate,X-Decision-Id,Retry-After");
    }
    expect(JSON.stringify(written)).not.toContain("Bob Secret");
  });

  it("names the route the app registered, never the raw path or method: a canary in either appears in no event", async () => {
    const canary = `Canary${Math.random().toString(36).slice(2, 12)}`;
    const written: DecisionRecord[] = [];
    const decisions = createDecisionLog({ mode: "all", sink: { write: (record) => void written.push(record) } });
    const routed = new Hono<TenantEnv>();
    routed.use("/api/*", createTenantMiddleware({ authenticator, decisions }));
    routed.get("/api/notes/:id", (c) => c.text("note"));
    routed.post("/api/notes/:id/share", requirePermissions("store:write"), (c) => c.text("shared"));
    const weak = await issuer.sign({ sub: "bob", org_id: "acme", scope: "threads:read" });
    const answers = [
      await routed.request(`/api/notes/${canary}`),
      await routed.request(`/api/notes/${canary}`, bearer(weak)),
      await routed.request(`/api/notes/${canary}/share`, { method: "POST", ...bearer(weak) }),
      await routed.request(`/api/${canary}/nowhere?q=${canary}`),
      await routed.request(`/api/notes/${canary}`, { method: canary }),
    ];
    expect(answers.map((a) => a.status)).toEqual([401, 200, 403, 401, 401]);
    expect(written.map((r) => [r.outcome, r.type === "auth.decision" ? r.route : null])).toEqual([
      ["refused", "GET /api/notes/:id"],
      ["allowed", "GET /api/notes/:id"],
      ["allowed", "POST /api/notes/:id/share"],
      ["refused", "POST /api/notes/:id/share"],
      // No endpoint matched: the pattern the middleware was mounted on.
      ["refused", "GET /api/*"],
      ["refused", "OTHER /api/*"],
    ]);
    expect(JSON.stringify(written)).not.toContain(canary);
  });

  it("AUTH_DECISION_LOG=off: no event and no id", async () => {
    const written: DecisionRecord[] = [];
    const quiet = new Hono<TenantEnv>();
    quiet.use("*", createTenantMiddleware({ authenticator, decisions: createDecisionLog({ mode: "off", sink: { write: (r) => void written.push(r) } }) }));
    quiet.get("/x", (c) => c.text("x"));
    const response = await quiet.request("/x");
    expect(response.status).toBe(401);
    expect(response.headers.get("x-decision-id")).toBeNull();
    expect(await response.text()).toBe("authentication required: send Authorization: Bearer <token>");
    expect(written).toEqual([]);
  });

  it("answers an authenticator that throws something else with the coded 500, recorded once as an error, never its message", async () => {
    const written: DecisionRecord[] = [];
    const decisions = createDecisionLog({ sink: { write: (record) => void written.push(record) } });
    const errors: unknown[] = [];
    const faulty = new Hono<TenantEnv>();
    faulty.onError((error, c) => (errors.push(error), c.text("leaked to the error handler", 599 as never)));
    const secret = "db password hunter2 in a stack trace";
    faulty.use("/api/*", createTenantMiddleware({ authenticator: { authenticateRequest: async () => Promise.reject(Object.assign(new RangeError(secret), { code: "ECONNRESET" })) }, decisions }));
    faulty.get("/api/x", (c) => c.text("x"));
    const response = await faulty.request("/api/x");
    const body = await response.text();
    expect(response.status).toBe(500);
    expect(errors).toEqual([]);
    expect(written.map((r) => [r.outcome, r.status, r.reason, r.source])).toEqual([["error", 500, "internal_error", "middleware"]]);
    // What was thrown is named by its class and code, as the Auth's events name it, never by its message.
    expect(written[0]).toMatchObject({ error_class: "RangeError", error_code: "ECONNRESET" });
    expect(body).toBe(`server_error: the authorization check failed; the request was refused (decision_id: ${written[0]!.decision_id})`);
    expect(response.headers.get("x-decision-id")).toBe(written[0]!.decision_id);
    expect(JSON.stringify(written) + body).not.toContain("hunter2");
  });
});
