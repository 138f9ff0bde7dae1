/**
 * A caller's mistake found while serving a request gets one of the package's
 * coded errors with the right status, never a plain `TypeError` (which the
 * LangGraph server answers with a bare 500, and the platform with its raw
 * message): a bad tenant is a 400 where a client sent it and a 403 where the
 * run or the caller has none to scope to; a bad store namespace is a 400; a
 * per-request option of the deployment's own code that is wrong is a coded
 * 500 naming the option (`InvalidOptionError`). Options given once to a
 * factory at start-up stay `TypeError`s naming the option (STYLE item 1).
 */
import { tool } from "@langchain/core/tools";
import { InMemoryStore } from "@langchain/langgraph";
import type { BaseStore } from "@langchain/langgraph-checkpoint";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import * as core from "../../src/index.ts";
import * as runtime from "../../src/runtime/index.ts";
import { createTenantMiddleware, type TenantEnv } from "../../src/hono/tenant-middleware.ts";
import * as pgEntry from "../../src/pg/index.ts";

const INJECTION = "x'; DROP TABLE t; --";
const BAD_TENANTS: unknown[] = [undefined, null, "", "a::b", INJECTION, " acme", "ａcme", "x".repeat(129), 42, {}, ["acme"]];
const BAD_RESOURCE_IDS: unknown[] = [undefined, null, "", "x::y", ":x", "x:", "a b", "a\u200bb", "ａ", "x".repeat(1025), 42, {}];
const BAD_NAMESPACES: unknown[] = [["a.b"], ["a:b"], [""], ["a\u0000"], [1], ["ok", null], "notes", undefined, null, 42, {}];

/** What a call did: returned, or threw; for an error its class, code and status, and whether the server would map it. */
function outcome(run: () => unknown): unknown {
  try {
    run();
    return "returned";
  } catch (error) {
    return describeError(error);
  }
}
async function outcomeOf(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
    return "returned";
  } catch (error) {
    return describeError(error);
  }
}
function describeError(error: unknown) {
  const e = error as core.AuthError;
  // The LangGraph server turns an error into a response only when it has both `status` and `headers`.
  return { name: e?.name, code: e?.code, status: e?.status, coded: e instanceof core.AuthError && typeof e.headers === "object" };
}
const coded = (name: string, code: string, status: number) => ({ name, code, status, coded: true });
const TENANT_400 = coded("InvalidTenantIdError", "ERR_TENANT_ID_INVALID", 400);
const KEY_400 = coded("InvalidTenantKeyError", "ERR_TENANT_KEY_INVALID", 400);
const NO_TENANT_403 = coded("MissingTenantContextError", "ERR_TENANT_CONTEXT_MISSING", 403);
const NAMESPACE_400 = coded("InvalidStoreNamespaceError", "ERR_STORE_NAMESPACE_INVALID", 400);
const OPTION_500 = coded("InvalidOptionError", "ERR_OPTION_INVALID", 500);

const principal: core.Principal = { identity: "alice", tenant_id: "acme", permissions: ["threads:read"], roles: [], display_name: "alice", issuer: "https://issuer.example", is_authenticated: true };
const runOf = (tenant: unknown) => ({ configurable: { langgraph_auth_user: { ...principal, tenant_id: tenant }, thread_id: "t1", run_id: "r1" } });

describe("tenant ids and keys", () => {
  it.each(BAD_TENANTS.map((t) => [JSON.stringify(t) ?? "undefined", t]))("a bad tenant %s is a 400 (403 in a run), everywhere it is passed", (_name, tenant) => {
    expect(outcome(() => core.tenantKey(tenant as string, "thread-1"))).toEqual(TENANT_400);
    expect(outcome(() => core.tenantNamespaceLabel(tenant as string))).toEqual(TENANT_400);
    expect(outcome(() => core.withTenantContext(tenant as string, () => 1))).toEqual(TENANT_400);
    expect(outcome(() => runtime.createTenantStore(new InMemoryStore(), tenant as string))).toEqual(TENANT_400);
    expect(outcome(() => runtime.createTenantStoreForRun(new InMemoryStore(), runOf(tenant)))).toEqual(NO_TENANT_403);
    expect(outcome(() => runtime.requireRunTenant(runOf(tenant)))).toEqual(NO_TENANT_403);
    expect(outcome(() => core.tenantFilter({ ...principal, tenant_id: tenant as string }, "tenant"))).toEqual(NO_TENANT_403);
    expect(outcome(() => core.tenantStamp({ ...principal, tenant_id: tenant as string }))).toEqual(NO_TENANT_403);
    expect(core.isInTenant({ tenant_id: tenant }, { ...principal, tenant_id: tenant as string }, "tenant")).toBe(false);
  });

  it.each(BAD_RESOURCE_IDS.map((r) => [JSON.stringify(r) ?? "undefined", r]))("a bad resource id %s is a 400", (_name, resource) => {
    expect(outcome(() => core.tenantKey("acme", resource as string))).toEqual(KEY_400);
    if (typeof resource === "string") expect(outcome(() => core.parseTenantKey(`acme::${resource}`))).toEqual(KEY_400);
  });

  it("a key that is not one is a 400, whatever it is", () => {
    for (const key of [undefined, null, 42, {}, "", "acme", "::x", "a::b::c", `${INJECTION}::x`]) {
      expect([TENANT_400, KEY_400], JSON.stringify(key)).toContainEqual(outcome(() => core.parseTenantKey(key as string)));
    }
  });
});

describe("the tenant store", () => {
  const store = runtime.createTenantStore(new InMemoryStore(), "acme");

  it.each(BAD_NAMESPACES.map((n) => [JSON.stringify(n) ?? "undefined", n]))("refuses the namespace %s with a 400, on every operation", async (_name, namespace) => {
    const ns = namespace as string[];
    expect(await outcomeOf(() => store.put(ns, "k", { v: 1 }))).toEqual(NAMESPACE_400);
    expect(await outcomeOf(() => store.get(ns, "k"))).toEqual(NAMESPACE_400);
    expect(await outcomeOf(() => store.delete(ns, "k"))).toEqual(NAMESPACE_400);
    expect(await outcomeOf(() => store.search(ns))).toEqual(NAMESPACE_400);
    if (Array.isArray(namespace)) expect(await outcomeOf(() => store.listNamespaces({ prefix: ns }))).toEqual(NAMESPACE_400);
    // A rejected promise, never a synchronous throw: `store.put(...).catch(...)` still catches it.
    await expect(store.put(ns, "k", { v: 1 })).rejects.toThrow(core.InvalidStoreNamespaceError);
  });

  it("answers a store or an operation the graph's code got wrong with a coded 500 naming it", async () => {
    expect(outcome(() => runtime.createTenantStore(undefined as unknown as BaseStore, "acme"))).toEqual(OPTION_500);
    // A graph compiled without a store has none in its config.
    expect(outcome(() => runtime.createTenantStoreForRun(undefined as unknown as BaseStore, runOf("acme")))).toEqual(OPTION_500);
    expect(outcome(() => runtime.createTenantStoreForRun(new InMemoryStore(), runOf("acme"), "tenant_id" as never))).toEqual(OPTION_500);
    for (const operations of [[{ bogus: 1 }], [null], "ops", [{ limit: 1, offset: 0, matchConditions: "x" }]]) {
      expect(await outcomeOf(() => store.batch(operations as never)), JSON.stringify(operations)).toEqual(OPTION_500);
    }
    expect(outcome(() => core.withTenantContext("acme", "not a function" as never))).toEqual(OPTION_500);
    expect(outcome(() => runtime.requireRunTenant(runOf("acme"), 42 as never))).toEqual(OPTION_500);
  });
});

describe("the tool guard", () => {
  const records: unknown[] = [];
  const audit = core.createAuditLog({ sink: { async append(_tenant, seal) { const r = seal(undefined); records.push(r); return r; }, async ready() {} } });
  const policy = core.createToolPolicy({ everyone: ["search_docs"] });
  const searchDocs = tool(async () => "docs", { name: "search_docs", description: "search", schema: z.object({}) });
  const call = { name: "search_docs", args: {}, id: "call_1", type: "tool_call" as const };

  it("refuses a call of a run with a bad or missing user without throwing", async () => {
    const guard = runtime.createToolGuard({ policy, audit });
    for (const tenant of BAD_TENANTS) {
      const answer = await guard.invoke([searchDocs], call, runOf(tenant));
      expect(answer.status, JSON.stringify(tenant)).toBe("error");
    }
  });

  it("answers tools or a callId the deployment got wrong with a coded 500 naming the option", async () => {
    const guard = runtime.createToolGuard({ policy, audit });
    expect(await outcomeOf(() => guard.invoke([searchDocs, searchDocs], call, runOf("acme")))).toMatchObject({ ...OPTION_500 });
    expect(await outcomeOf(() => guard.invoke([{}] as never, call, runOf("acme")))).toEqual(OPTION_500);
    expect(await outcomeOf(() => guard.invoke("tools" as never, call, runOf("acme")))).toEqual(OPTION_500);
    for (const id of ["", 42, "x".repeat(129)]) {
      const badIds = runtime.createToolGuard({ policy, audit, callId: () => id as string });
      expect(await outcomeOf(() => badIds.invoke([searchDocs], call, runOf("acme"))), String(id)).toEqual(OPTION_500);
    }
    const error = await guard.invoke([searchDocs, searchDocs], call, runOf("acme")).catch((e: core.AuthError & { option: string }) => e);
    expect(error).toMatchObject({ option: "tools", message: expect.stringContaining('two tools are named "search_docs"') });
  });

  it("keeps start-up mistakes TypeErrors naming the option", () => {
    expect(() => runtime.createToolGuard({ policy: {} as never, audit })).toThrow(TypeError);
    expect(() => runtime.createToolGuard({ policy, audit }).createToolNode([searchDocs, searchDocs])).toThrow(/tools: two tools are named/);
    expect(() => createTenantMiddleware({} as never)).toThrow(TypeError);
  });
});

describe("the Hono middleware", () => {
  const appWith = (authenticated: unknown) => {
    const app = new Hono<TenantEnv>();
    app.use("/custom/*", createTenantMiddleware({ authenticator: { authenticateRequest: async () => authenticated as core.Principal } }));
    app.get("/custom/tenant", (c) => c.json({ tenant: c.get("principal").tenant_id, allowed: c.get("principal").permissions.includes("x") }));
    return app;
  };

  it("refuses a caller without a valid tenant with a 403 before the route runs", async () => {
    for (const tenant of BAD_TENANTS) {
      const response = await appWith({ ...principal, tenant_id: tenant }).request("/custom/tenant");
      expect(response.status, JSON.stringify(tenant)).toBe(403);
      // The refusal is the middleware's own answer, so its decision id goes back with it (header and body).
      const id = response.headers.get("x-decision-id");
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(await response.text()).toBe(`forbidden: the authenticated caller has no valid tenant (decision_id: ${id})`);
    }
  });

  it("answers an authenticator that resolved to no principal with a coded 500, not a crash in the route", async () => {
    for (const value of [undefined, null, "alice", {}, { ...principal, permissions: undefined }, { ...principal, permissions: [1] }, { ...principal, identity: "" }]) {
      const response = await appWith(value).request("/custom/tenant");
      expect(response.status, JSON.stringify(value)).toBe(500);
      expect(await response.text()).toMatch(/^server_error: the deployment passed an invalid "authenticator"/);
    }
    expect((await appWith(principal).request("/custom/tenant")).status).toBe(200);
  });
});

describe("./pg, per request", () => {
  // Nothing may reach the database: a pool whose checkout is counted.
  let checkouts = 0;
  const pool = { connect: async () => { checkouts += 1; throw new Error("no database here"); } } as never;
  const sink = pgEntry.createPostgresAuditSink({ pool });
  const seal = () => { throw new Error("not sealed"); };

  it.each(BAD_TENANTS.map((t) => [JSON.stringify(t) ?? "undefined", t]))("a bad tenant %s is a 400 before any SQL", async (_name, tenant) => {
    const t = tenant as string;
    expect(await outcomeOf(() => pgEntry.withTenant(pool, t, async () => 1))).toEqual(TENANT_400);
    expect(await outcomeOf(() => pgEntry.eraseTenant(pool, t))).toEqual(TENANT_400);
    expect(await outcomeOf(() => pgEntry.readTenantAuditRecords(pool, t))).toEqual(TENANT_400);
    expect(await outcomeOf(() => pgEntry.verifyTenantAuditChain(pool, t))).toEqual(TENANT_400);
    expect(await outcomeOf(() => sink.append(t, seal))).toEqual(TENANT_400);
    expect(checkouts).toBe(0);
  });

  it("answers a pool, a callback or a `since` the deployment got wrong with a coded 500 naming it, before any SQL", async () => {
    for (const fn of [undefined, "SELECT 1", {}]) {
      expect(await outcomeOf(() => pgEntry.withTenant(pool, "acme", fn as never)), String(fn)).toEqual(OPTION_500);
    }
    for (const badPool of [undefined, null, {}, "postgres://"]) {
      expect(await outcomeOf(() => pgEntry.withTenant(badPool as never, "acme", async () => 1)), String(badPool)).toEqual(OPTION_500);
    }
    for (const since of ["2026-01-01", 0, {}, new Date(Number.NaN)]) {
      expect(await outcomeOf(() => pgEntry.readTenantAuditRecords(pool, "acme", { since: since as never })), String(since)).toEqual(OPTION_500);
    }
    expect(checkouts).toBe(0);
  });
});

describe("requiredPermission", () => {
  it("answers anything but an event name with no permission, never a throw", () => {
    for (const event of [undefined, null, 42, {}, ["threads:read"]]) expect(core.requiredPermission(event as string)).toBeUndefined();
  });
});
