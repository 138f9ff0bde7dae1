import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../support/langgraph-dev.ts";
import { createRoutePolicy, type RouteRequest } from "../../src/policy/route-policy.ts";
import { SERVER_ROUTES } from "../../src/policy/route-table.ts";
import type { Principal } from "../../src/tenant/principal.ts";

const principal = (permissions: string[] = []): Principal => ({
  identity: "bob",
  tenant_id: "tenant-b",
  permissions,
  roles: [],
  display_name: "bob",
  issuer: "https://issuer.example",
  is_authenticated: true,
});

const req = (method: string, path: string, body?: unknown, query = ""): RouteRequest => ({
  method,
  path,
  query: new URLSearchParams(query),
  ...(body !== undefined ? { body } : {}),
});

const T = "0192b8d2-6c4a-7a57-9a8e-5b7f3d9b0a11";
const R = "0192b8d2-6c4a-7a57-9a8e-5b7f3d9b0a22";

describe("createRoutePolicy", () => {
  const policy = createRoutePolicy();

  it("lists every route the installed server declares, once", async () => {
    // Read the route table from the server's own code, so a route a new
    // version adds fails this test until it is reviewed and listed.
    const dist = join(PROJECT_ROOT, "node_modules/@langchain/langgraph-api/dist");
    const files = [...(await readdir(join(dist, "api"))).filter((f) => f.endsWith(".mjs")).map((f) => join(dist, "api", f)), join(dist, "ui/load.mjs"), join(dist, "server.mjs")];
    const declared = new Set<string>();
    for (const file of files) {
      const source = await readFile(file, "utf8");
      for (const m of source.matchAll(/\b(?:api|app)\.(get|post|put|patch|delete)\(\s*"([^"]+)"/g)) {
        const method = m[1]!.toUpperCase();
        const path = m[2]!;
        if (path.endsWith("?")) {
          // Hono's optional last parameter declares two routes.
          declared.add(`${method} ${path.slice(0, path.lastIndexOf("/"))}`);
          declared.add(`${method} ${path.slice(0, -1)}`);
        } else declared.add(`${method} ${path}`);
      }
    }
    const listed = SERVER_ROUTES.map((r) => `${r.method} ${r.path}`);
    expect(new Set(listed).size).toBe(listed.length);
    expect([...declared].sort()).toEqual([...listed].sort());
  });

  it("allows the handler-protected routes", () => {
    for (const [method, path] of [
      ["GET", "/ok"],
      ["POST", "/threads"],
      ["GET", `/threads/${T}/state`],
      ["POST", `/threads/${T}/copy`],
      ["DELETE", `/threads/${T}/runs/${R}`],
      ["PATCH", "/assistants/abc"],
      ["GET", "/assistants/abc/subgraphs/ns"],
      ["HEAD", `/threads/${T}`],
    ] as const) {
      const decision = policy.decide(req(method, path), principal());
      expect(decision.allow, `${method} ${path}`).toBe(true);
    }
  });

  it("matches a method in any case to the same route as its upper-case form (the Fetch standard leaves PATCH as sent)", () => {
    for (const [method, path, id] of [
      ["patch", "/assistants/abc", "assistants.update"],
      ["Patch", "/assistants/abc", "assistants.update"],
      ["get", `/threads/${T}`, "threads.get"],
      ["head", `/threads/${T}`, "threads.get"],
      ["post", "/internal/truncate", "internal.truncate"],
    ] as const) {
      expect(policy.match(method, path)?.route.id, `${method} ${path}`).toBe(id);
      expect(policy.match(method, path)?.params).toEqual(policy.match(method.toUpperCase(), path)?.params);
    }
    expect(policy.match("purge", `/threads/${T}`)).toBeUndefined();
  });

  it("refuses unknown routes, trailing slashes, wrong methods and percent-encoded paths with 404", () => {
    for (const [method, path] of [
      ["GET", "/metrics"],
      ["GET", "/docs"],
      ["POST", "/threads/"],
      ["PUT", "/threads"],
      ["POST", "/internal/%74runcate"],
      ["GET", `/threads/${T}%2Fstate`],
      ["GET", "/Threads/x"],
      ["GET", "//threads"],
      ["GET", ""],
    ] as const) {
      const decision = policy.decide(req(method, path), principal());
      expect(decision, `${method} ${path}`).toMatchObject({ allow: false, status: 404 });
    }
  });

  it("refuses truncate, crons and protocol routes with 404 unless the operator permission is configured and held", () => {
    const refused = [
      ["POST", "/internal/truncate"],
      ["POST", "/runs/crons"],
      ["POST", "/runs/crons/search"],
      ["DELETE", `/runs/crons/${R}`],
      ["POST", `/threads/${T}/runs/crons`],
      ["GET", `/threads/${T}/stream/events`],
      ["POST", `/threads/${T}/stream/events`],
      ["POST", `/threads/${T}/commands`],
    ] as const;
    for (const [method, path] of refused) {
      expect(policy.decide(req(method, path), principal(["admin:truncate"])), path).toMatchObject({ allow: false, status: 404 });
    }
    const operator = createRoutePolicy({ operatorPermissions: { truncate: "admin:truncate" } });
    expect(operator.decide(req("POST", "/internal/truncate"), principal(["admin:truncate"])).allow).toBe(true);
    expect(operator.decide(req("POST", "/internal/truncate"), principal(["admin:other"]))).toMatchObject({ allow: false, status: 404 });
    expect(operator.decide(req("POST", "/runs/crons"), principal(["admin:truncate"]))).toMatchObject({ allow: false, status: 404 });
  });

  it("refuses delete_threads=true on assistant delete with 403", () => {
    expect(policy.decide(req("DELETE", "/assistants/x", undefined, "delete_threads=true"), principal())).toMatchObject({ allow: false, status: 403 });
    expect(policy.decide(req("DELETE", "/assistants/x", undefined, "delete_threads=false"), principal()).allow).toBe(true);
  });

  it("refuses a run webhook on every run-creating route and in any batch item", () => {
    for (const path of ["/runs", "/runs/wait", "/runs/stream", `/threads/${T}/runs`, `/threads/${T}/runs/wait`, `/threads/${T}/runs/stream`]) {
      expect(policy.decide(req("POST", path, { assistant_id: "echo", webhook: "http://169.254.169.254/" }), principal()), path).toMatchObject({ allow: false, status: 403 });
      expect(policy.decide(req("POST", path, { assistant_id: "echo", webhook: null }), principal()).allow).toBe(true);
    }
    expect(policy.decide(req("POST", "/runs/batch", [{ assistant_id: "echo" }, { assistant_id: "echo", webhook: "/internal/truncate" }]), principal())).toMatchObject({ allow: false, status: 403 });
    const hooks = createRoutePolicy({ operatorPermissions: { webhooks: "runs:webhook" } });
    expect(hooks.decide(req("POST", "/runs", { webhook: "https://hooks.example" }), principal(["runs:webhook"])).allow).toBe(true);
    expect(hooks.allowsWebhooks(principal(["runs:webhook"]))).toBe(true);
    expect(policy.allowsWebhooks(principal(["runs:webhook"]))).toBe(false);
  });

  it("requires store searches and namespace listings to start with the caller's tenant", () => {
    expect(policy.decide(req("POST", "/store/items/search", { namespace_prefix: [] }), principal())).toMatchObject({ allow: false, status: 403 });
    expect(policy.decide(req("POST", "/store/items/search", { namespace_prefix: ["tenant-a"] }), principal())).toMatchObject({ allow: false, status: 403 });
    expect(policy.decide(req("POST", "/store/items/search", { namespace_prefix: ["tenant-b", "x"] }), principal()).allow).toBe(true);
    expect(policy.decide(req("POST", "/store/namespaces", {}), principal())).toMatchObject({ allow: false, status: 403 });
    expect(policy.decide(req("POST", "/store/namespaces", { prefix: ["tenant-b"] }), principal()).allow).toBe(true);
  });

  it("asks for storage checks on the join routes", () => {
    expect(policy.decide(req("GET", `/runs/${R}/stream`), principal())).toMatchObject({ allow: true, checks: ["run-in-tenant"], params: { run_id: R } });
    expect(policy.decide(req("GET", `/threads/${T}/runs/${R}/join`), principal())).toMatchObject({ allow: true, checks: ["run-in-thread"], params: { thread_id: T, run_id: R } });
  });

  it("matches in mounting order whatever the first segment: a route whose first segment is a parameter too", () => {
    const custom = createRoutePolicy({ extraRoutes: [{ method: "GET", path: "/:org/reports/:id/pdf/full" }] });
    expect(custom.match("GET", "/acme/reports/7/pdf/full")).toMatchObject({ route: { id: "extra.0" }, params: { org: "acme", id: "7" } });
    expect(custom.match("GET", "/threads/reports/7/pdf/full")).toMatchObject({ route: { id: "extra.0" }, params: { org: "threads" } });
    expect(custom.match("GET", `/threads/${T}`)).toMatchObject({ route: { id: "threads.get" }, params: { thread_id: T } });
    expect(custom.match("GET", "/acme/reports/7/pdf")).toBeUndefined();
    expect(custom.match("GET", "//reports/7/pdf/full")).toBeUndefined();
    expect(custom.decide(req("GET", `/threads/${T}`), principal())).toMatchObject({ allow: true, checks: [] });
  });

  it("lets extra routes of a custom app through, and checks options at construction", () => {
    const custom = createRoutePolicy({ extraRoutes: [{ method: "GET", path: "/custom/:id" }] });
    expect(custom.decide(req("GET", "/custom/1"), principal()).allow).toBe(true);
    expect(() => createRoutePolicy({ operatorPermissions: { everything: "x" } as never })).toThrow(/operatorPermissions: "everything"/);
    expect(() => createRoutePolicy({ operatorPermissions: { truncate: "has space" } })).toThrow(TypeError);
    expect(() => createRoutePolicy({ extraRoutes: [{ method: "TRACE" as never, path: "/x" }] })).toThrow(/extraRoutes\[0\]/);
  });
});
