import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
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

describe("createRoutePolicy, exactly what each decision says", () => {
  const policy = createRoutePolicy();

  it("an unknown route: 404 unknown_route, no route named", () => {
    // Strict: a refusal that read no resources has no resources key at all.
    expect(policy.decide(req("GET", "/nowhere"), principal())).toStrictEqual({ allow: false, route: undefined, status: 404, reason: "no such route", reasonCode: "unknown_route" });
    expect(Object.keys(policy.decide(req("POST", "/internal/truncate"), principal()))).toEqual(["allow", "route", "status", "reason", "reasonCode"]);
    // A match handed in that is not one of this policy's routes is refused the same way.
    const foreign = { route: { id: "x", method: "GET", path: "/nowhere", protection: "handler" } as never, params: {} };
    expect(policy.decide(req("GET", "/nowhere"), principal(), foreign)).toEqual({ allow: false, route: undefined, status: 404, reason: "no such route", reasonCode: "unknown_route" });
  });

  it("an allowed route: the route, its parameters and its checks (none is an empty list)", () => {
    const decision = policy.decide(req("GET", `/threads/${T}/runs/${R}`), principal());
    expect(decision).toEqual({ allow: true, route: expect.objectContaining({ method: "GET", path: "/threads/:thread_id/runs/:run_id" }), params: { thread_id: T, run_id: R }, checks: expect.any(Array) });
    expect(policy.decide(req("GET", "/ok"), principal())).toEqual({ allow: true, route: expect.objectContaining({ id: "meta.ok" }), params: {}, checks: [] });
  });

  it("uses the match handed in instead of matching again", () => {
    const matched = policy.match("GET", "/ok");
    expect(matched).toEqual({ route: expect.objectContaining({ id: "meta.ok" }), params: {} });
    // The request's own path would be a 404: the decision follows the match it was given.
    expect(policy.decide(req("GET", "/nowhere"), principal(), matched)).toMatchObject({ allow: true, route: { id: "meta.ok" } });
  });

  it("an operator route: 404 naming only the route id; the platform's cron route: 403 with its reason", () => {
    expect(policy.decide(req("POST", "/internal/truncate"), principal())).toEqual({
      allow: false, route: expect.objectContaining({ id: "internal.truncate" }), status: 404, reason: "internal.truncate is not available", reasonCode: "operator_only",
    });
    const platform = createRoutePolicy({ host: "platform" });
    expect(platform.routes).not.toBe(policy.routes);
    expect(platform.decide(req("POST", "/runs/crons"), principal())).toEqual({
      allow: false, route: expect.objectContaining({ id: "crons.create" }), status: 403,
      reason: "a cron without a thread cannot be tied to your tenant; create it on a thread (POST /threads/{thread_id}/runs/crons)", reasonCode: "operator_only",
    });
    const unlocked = createRoutePolicy({ host: "platform", operatorPermissions: { crons: "ops:crons" } });
    expect(unlocked.decide(req("POST", "/runs/crons"), principal(["ops:crons"])).allow).toBe(true);
  });

  it("host: dev and js share the server's table, platform has its own, anything else is refused", () => {
    expect(createRoutePolicy({ host: "js" }).routes).toEqual(createRoutePolicy({ host: "dev" }).routes);
    expect(createRoutePolicy({ host: "dev" }).routes).toEqual(SERVER_ROUTES);
    expect(createRoutePolicy({ host: "platform" }).routes.map((r) => r.id)).toContain("mcp.post");
    expect(createRoutePolicy().routes.map((r) => r.id)).not.toContain("mcp.post");
    expect(() => createRoutePolicy({ host: "cloud" as never })).toThrow(new TypeError('host must be "dev", "js" or "platform"'));
  });

  it("delete_threads=true: 403 with its reason, unless the delete-threads permission is held", () => {
    expect(policy.decide(req("DELETE", "/assistants/x", undefined, "delete_threads=true"), principal())).toEqual({
      allow: false, route: expect.objectContaining({ id: "assistants.delete" }), status: 403,
      reason: "delete_threads=true deletes threads of every tenant that name this assistant; delete threads one by one", reasonCode: "operator_only",
    });
    const ops = createRoutePolicy({ operatorPermissions: { "delete-threads": "ops:delete-threads" } });
    expect(ops.decide(req("DELETE", "/assistants/x", undefined, "delete_threads=true"), principal(["ops:delete-threads"])).allow).toBe(true);
    expect(ops.decide(req("DELETE", "/assistants/x", undefined, "delete_threads=true"), principal())).toMatchObject({ allow: false, status: 403 });
    // Only on the assistant delete route: the same query elsewhere means nothing.
    expect(policy.decide(req("DELETE", `/threads/${T}`, undefined, "delete_threads=true"), principal()).allow).toBe(true);
  });

  it("a webhook: 403 run_option_refused; an empty, null or absent one is no webhook; a batch needs the permission too", () => {
    const refused = { allow: false, route: expect.anything(), status: 403, reason: "run webhooks are not allowed", reasonCode: "run_option_refused" };
    expect(policy.decide(req("POST", "/runs", { webhook: "https://hooks.example" }), principal())).toEqual(refused);
    expect(policy.decide(req("POST", "/runs", { webhook: 0 }), principal())).toEqual(refused);
    for (const body of [{ webhook: "" }, { webhook: null }, {}, undefined, "webhook", ["webhook"], null]) {
      expect(policy.decide(req("POST", "/runs", body), principal()).allow, JSON.stringify(body)).toBe(true);
    }
    expect(policy.decide(req("POST", "/runs/batch", [{ webhook: "" }, { webhook: "x" }]), principal())).toEqual(refused);
    for (const body of [[{ webhook: "" }, {}], [], { webhook: "x" }, undefined]) {
      expect(policy.decide(req("POST", "/runs/batch", body), principal()).allow, JSON.stringify(body)).toBe(true);
    }
    const hooks = createRoutePolicy({ operatorPermissions: { webhooks: "runs:webhook" } });
    expect(hooks.decide(req("POST", "/runs/batch", [{ webhook: "x" }]), principal(["runs:webhook"])).allow).toBe(true);
    expect(hooks.decide(req("POST", "/runs/batch", [{ webhook: "x" }]), principal())).toEqual(refused);
  });

  it("a store prefix: the hint, the reason and the resources; a body that is not an object is left to the server", () => {
    expect(policy.decide(req("POST", "/store/items/search", { namespace_prefix: ["tenant-a", "x"] }), principal())).toEqual({
      allow: false, route: expect.objectContaining({ id: "store.search" }), status: 403,
      reason: 'store namespaces must start with your tenant ("tenant-b")', reasonCode: "cross_tenant", resources: { namespace: ["tenant-a", "x"], tenant_id: "tenant-a" },
    });
    expect(policy.decide(req("POST", "/store/namespaces", { prefix: [] }), principal())).toMatchObject({ allow: false, reasonCode: "store_namespace_refused", resources: { namespace: [] } });
    // Each route reads its own field.
    expect(policy.decide(req("POST", "/store/namespaces", { namespace_prefix: ["tenant-b"] }), principal()).allow).toBe(false);
    expect(policy.decide(req("POST", "/store/items/search", { prefix: ["tenant-b"] }), principal()).allow).toBe(false);
    for (const body of [undefined, null, ["tenant-a"], "x"]) {
      expect(policy.decide(req("POST", "/store/items/search", body), principal()).allow, JSON.stringify(body)).toBe(true);
      expect(policy.decide(req("POST", "/store/namespaces", body), principal()).allow, JSON.stringify(body)).toBe(true);
    }
  });

  it("allowsLangSmith and unlocks answer for the group configured, and only for a caller holding its permission", () => {
    const ops = createRoutePolicy({ operatorPermissions: { langsmith: "ops:langsmith", truncate: "ops:truncate" } });
    expect(ops.allowsLangSmith(principal(["ops:langsmith"]))).toBe(true);
    expect(ops.allowsLangSmith(principal(["ops:truncate"]))).toBe(false);
    expect(ops.allowsWebhooks(principal(["ops:langsmith"]))).toBe(false);
    expect(policy.allowsLangSmith(principal(["ops:langsmith"]))).toBe(false);
    expect(ops.unlocks("truncate", principal(["ops:truncate"]))).toBe(true);
    expect(ops.unlocks("crons", principal(["ops:truncate"]))).toBe(false);
  });
});

describe("createRoutePolicy, options checked at construction", () => {
  it("names the unknown operator group and lists the known ones", () => {
    expect(() => createRoutePolicy({ operatorPermissions: { everything: "x" } as never })).toThrow(
      new TypeError('operatorPermissions: "everything" is not one of truncate, crons, protocol, webhooks, delete-threads, langsmith, prune, mcp, a2a'),
    );
  });

  it("takes only a printable permission name of 1 to 200 characters", () => {
    for (const bad of ["", "has space", "é", "x".repeat(201), 7, undefined]) {
      expect(() => createRoutePolicy({ operatorPermissions: { truncate: bad as never } }), String(bad)).toThrow(
        new TypeError("operatorPermissions.truncate must be a permission name (printable ASCII, no spaces)"),
      );
    }
    expect(createRoutePolicy({ operatorPermissions: { truncate: "x".repeat(200) } }).unlocks("truncate", principal(["x".repeat(200)]))).toBe(true);
    expect(createRoutePolicy({ operatorPermissions: { truncate: "!~" } }).unlocks("truncate", principal(["!~"]))).toBe(true);
  });

  it("takes extra routes with a known method and a path starting with '/', and names the bad one", () => {
    for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE"] as const) {
      expect(createRoutePolicy({ extraRoutes: [{ method, path: "/custom/x" }] }).match(method, "/custom/x")?.route).toEqual({ id: "extra.0", method, path: "/custom/x", protection: "handler" });
    }
    for (const bad of [{ method: "TRACE", path: "/x" }, { method: "GET", path: "x" }, { method: "GET", path: 7 }, { method: "get", path: "/x" }]) {
      expect(() => createRoutePolicy({ extraRoutes: [{ method: "GET", path: "/fine" }, bad as never] }), JSON.stringify(bad)).toThrow(
        new TypeError('extraRoutes[1] needs a method (GET, POST, PUT, PATCH, DELETE) and a path starting with "/"'),
      );
    }
  });

  it("refuses an extra route that overlaps a server route of the same method, and only then", () => {
    expect(() => createRoutePolicy({ extraRoutes: [{ method: "GET", path: "/fine" }, { method: "POST", path: "/internal/:what" }] })).toThrow(
      new TypeError('extraRoutes[1]: "POST /internal/:what" overlaps the server\'s route "POST /internal/truncate"; list only the app\'s own routes'),
    );
    expect(() => createRoutePolicy({ extraRoutes: [{ method: "GET", path: "/:any" }] })).toThrow(/overlaps the server's route "GET \/info"/);
    expect(() => createRoutePolicy({ extraRoutes: [{ method: "GET", path: "/threads/abc" }] })).toThrow(/overlaps the server's route "GET \/threads\/:thread_id"/);
    // Another method, another length, another literal: no overlap.
    const fine = createRoutePolicy({ extraRoutes: [{ method: "PUT", path: "/internal/truncate" }, { method: "POST", path: "/internal/truncate/now" }, { method: "POST", path: "/internals/truncate" }] });
    expect(fine.match("PUT", "/internal/truncate")?.route.id).toBe("extra.0");
    expect(fine.match("POST", "/internal/truncate/now")?.route.id).toBe("extra.1");
    expect(fine.match("POST", "/internals/truncate")?.route.id).toBe("extra.2");
    expect(fine.match("POST", "/internal/truncate")?.route.id).toBe("internal.truncate");
  });
});

describe("createRoutePolicy.match, segment by segment", () => {
  // Built in each test, not once for the file: the mutation run (Stryker)
  // activates a mutant per test, so a policy compiled at load time would
  // never be compiled by mutated code.
  let custom: ReturnType<typeof createRoutePolicy>;
  beforeEach(() => {
    custom = createRoutePolicy({ extraRoutes: [{ method: "GET", path: "/custom/:a/x/:b" }, { method: "GET", path: "/:first" + "/deep/deeper/deepest/end" }] });
  });

  it("cuts out exactly the parameters, and nothing from literals", () => {
    expect(custom.match("GET", "/custom/one/x/two")).toEqual({ route: expect.objectContaining({ id: "extra.0" }), params: { a: "one", b: "two" } });
    expect(custom.match("GET", `/threads/${T}/runs/${R}/join`)?.params).toEqual({ thread_id: T, run_id: R });
  });

  it("needs every literal whole and every parameter non-empty", () => {
    for (const path of ["/custom/one/y/two", "/custom/one/xx/two", "/custom/one//two", "/custom//x/two", "/custom/one/x/", "/custo/one/x/two", "/customs/one/x/two", "/custom/one/x/two/", "custom/one/x/two", "/custom/one/x"]) {
      expect(custom.match("GET", path), path).toBeUndefined();
    }
    expect(custom.match("GET", "/threads/")).toBeUndefined();
    expect(custom.match("GET", "/thread/x")).toBeUndefined();
    expect(custom.match("GET", "/threadsx/x")).toBeUndefined();
  });

  it("finds a parameter-first route for a first character no literal route starts with, non-ASCII included", () => {
    for (const first of ["é", "€", "~", "Z", "0"]) {
      expect(custom.match("GET", `/${first}/deep/deeper/deepest/end`), first).toEqual({ route: expect.objectContaining({ id: "extra.1" }), params: { first } });
    }
    expect(createRoutePolicy().match("GET", "/é")).toBeUndefined();
  });

  it("HEAD is GET, any case; an unknown method, a path with '%' or without a leading '/' match nothing", () => {
    expect(custom.match("HEAD", "/custom/1/x/2")?.route.id).toBe("extra.0");
    expect(custom.match("Head", "/custom/1/x/2")?.route.id).toBe("extra.0");
    expect(custom.match("POST", "/custom/1/x/2")).toBeUndefined();
    expect(custom.match("GET", "/custom/1%/x/2")).toBeUndefined();
    expect(custom.match("GET", "ok")).toBeUndefined();
    expect(custom.match("GET", "")).toBeUndefined();
    expect(custom.match("post", "/threads")?.route.id).toBe("threads.create");
    // Without its leading "/", a path is no route's, even when the rest lines up.
    expect(custom.match("POST", "xthreads/abc")).toBeUndefined();
    expect(custom.match("GET", `xthreads/${T}/state`)).toBeUndefined();
  });
});
