/**
 * Nothing a caller can reach through an entry point changes what the package
 * accepts (STYLE item 17).
 *
 * The test takes every exported value of every entry point of package.json
 * (`.`, `./langgraph`, `./runtime`, `./auth`, `./hono`, `./pg`: read from
 * its `exports`) and tries to change it the
 * ways a dependency, a plugin or a careless line in an app would: assign,
 * `compile` on a RegExp, push/splice/sort/fill on an array, delete, assign and
 * redefine on every property, all the way down. Then:
 *
 * - every exported value is exactly what it was (a structural fingerprint,
 *   functions by identity), and every one that is not a function is deeply
 *   frozen plain data: no RegExp (`compile` rewrites even a frozen one), no
 *   zod schema, no Map;
 * - the tenant-id and route checks of the isolation matrix
 *   (test/isolation/isolation-matrix.test.ts, test/policy/route-policy.test.ts)
 *   give the same verdicts as before the tampering, run in process at the
 *   policy level through the entry points' own functions: the tenant id rule
 *   in every function that applies it, real tokens through a real
 *   authenticator (local issuer over loopback), the route policy over every
 *   route of both tables for a caller with no permission and one with all,
 *   the tool policy, the provider presets and the configuration reader.
 *
 * In process, not against `langgraph dev`: the server runs these same
 * functions, and the tampering would have to be done by code loaded into the
 * server's process (its own copy of the modules) to mean anything there;
 * booting a server (about a minute on two busy cores) would add no verdict
 * this run cannot give.
 *
 * Functions and classes are code, exported as they are (as jose does): their
 * `prototype` is not walked. Rewriting the package's code in place is
 * monkey-patching, which a same-process attacker can do to any library and to
 * the JavaScript intrinsics alike; only a hardened realm (SES `lockdown()`)
 * prevents it.
 */
import { readFileSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import { InMemoryStore } from "@langchain/langgraph-checkpoint";
import { Auth } from "@langchain/langgraph-sdk/auth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as core from "../../src/index.ts";
import * as runtime from "../../src/runtime/index.ts";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";

/**
 * Every code entry point of package.json's `exports`, read from the file
 * (`./dist/x.js` is `src/x.ts`), so an entry point added later is covered
 * without editing this test. `./auth` builds its `Auth` from the
 * environment at import, so the entries are imported once the local issuer
 * is up (beforeAll).
 */
const PACKAGE = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { exports: Record<string, string | { default: string }> };
const ENTRY_SOURCES: ReadonlyArray<readonly [string, URL]> = Object.entries(PACKAGE.exports)
  .filter(([entry]) => entry !== "./package.json")
  .map(([entry, target]) => {
    const file = typeof target === "string" ? target : target.default;
    return [entry, new URL(`../../${file.replace(/^\.\/dist\//, "src/").replace(/\.js$/, ".ts")}`, import.meta.url)] as const;
  });
const ENTRIES: Record<string, Record<string, unknown>> = {};

// ---------------------------------------------------------------------------
// Fingerprints: what an exported value is, structurally, with functions by identity.

const functionIds = new Map<unknown, number>();
const idOf = (fn: unknown) => {
  if (!functionIds.has(fn)) functionIds.set(fn, functionIds.size);
  return functionIds.get(fn)!;
};

function fingerprint(value: unknown, seen = new Map<object, string>(), path = "$"): unknown {
  if (typeof value === "function") return { function: idOf(value) };
  if (value === null || typeof value !== "object") return typeof value === "bigint" ? `${value}n` : value;
  if (seen.has(value)) return { cycle: seen.get(value) };
  seen.set(value, path);
  const prototype = Object.getPrototypeOf(value);
  return {
    prototype: prototype === null ? null : prototype === Object.prototype ? "Object" : prototype === Array.prototype ? "Array" : String(prototype?.constructor?.name),
    extensible: Object.isExtensible(value),
    ...(value instanceof RegExp ? { regexp: `${value.source}/${value.flags}/${value.lastIndex}` } : {}),
    properties: Reflect.ownKeys(value).map((key) => {
      const d = Object.getOwnPropertyDescriptor(value, key)!;
      return [String(key), d.writable ?? "accessor", d.configurable, d.enumerable, "value" in d ? fingerprint(d.value, seen, `${path}.${String(key)}`) : { get: idOf(d.get), set: idOf(d.set) }];
    }),
  };
}

/** Where a non-function export is not deeply frozen plain data, or `undefined`. */
function unfrozen(value: unknown, path: string, seen = new Set<object>()): string | undefined {
  if (value === null || typeof value !== "object" || seen.has(value)) return undefined;
  seen.add(value);
  const prototype = Object.getPrototypeOf(value);
  // The one class instance an entry point exports: ./auth's `Auth`, which the
  // server reads its handlers from. It must be frozen, handlers and all.
  if (!Array.isArray(value) && prototype !== Object.prototype && prototype !== null && prototype !== Auth.prototype) {
    return `${path} is a ${String(prototype?.constructor?.name)}, not plain data`;
  }
  if (!Object.isFrozen(value)) return `${path} is not frozen`;
  for (const key of Reflect.ownKeys(value)) {
    const d = Object.getOwnPropertyDescriptor(value, key)!;
    const problem = "value" in d ? unfrozen(d.value, `${path}.${String(key)}`, seen) : `${path}.${String(key)} is an accessor`;
    if (problem) return problem;
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Tampering: every change a careless caller could try, each in its own try.

const attempt = (change: () => unknown) => {
  try {
    change();
  } catch {
    // Frozen data throws in strict mode: that is the point.
  }
};

const WIDE = ".*";
/** A value of the same kind that would loosen a check if it were taken. */
function wider(value: unknown): unknown {
  if (typeof value === "string") return WIDE;
  if (typeof value === "number") return Number.MAX_SAFE_INTEGER;
  if (typeof value === "boolean") return !value;
  if (Array.isArray(value)) return [WIDE];
  if (value === undefined || value === null) return WIDE;
  return {};
}

function tamper(value: unknown, seen = new Set<object>()): void {
  if (value === null || typeof value !== "object" || seen.has(value)) return;
  seen.add(value);
  const target = value as Record<PropertyKey, unknown> & unknown[];
  // Children first, while they are still reachable.
  for (const key of Reflect.ownKeys(target)) {
    const d = Object.getOwnPropertyDescriptor(target, key);
    if (d && "value" in d) tamper(d.value, seen);
  }
  if (value instanceof Auth) {
    // What a plugin would do to the exported Auth: register a handler that allows everything.
    const allow = () => true;
    attempt(() => value.on("*", allow));
    attempt(() => value.on([...core.AUTH_EVENTS], allow as never));
    attempt(() => value.on("threads", allow));
    attempt(() => value.authenticate(() => ({ identity: "mallory", tenant_id: "tenant-a", permissions: [...core.PERMISSIONS] }) as never));
  }
  if (value instanceof RegExp) {
    // The issue's attack: the pattern is replaced, and every `test` passes.
    attempt(() => (value as RegExp & { compile(pattern: string): void }).compile(WIDE));
    return;
  }
  if (Array.isArray(target)) {
    attempt(() => target.push(WIDE));
    attempt(() => target.unshift(WIDE));
    attempt(() => target.splice(0, 1));
    attempt(() => target.splice(1, 0, WIDE));
    attempt(() => target.reverse());
    attempt(() => target.sort());
    attempt(() => target.copyWithin(0, 1));
    attempt(() => target.fill(WIDE as never, 0, 1));
    attempt(() => target.pop());
    attempt(() => target.shift());
    attempt(() => { target.length = 0; });
    attempt(() => { target[0] = WIDE; });
  }
  for (const key of Reflect.ownKeys(target)) {
    const old = (target as Record<PropertyKey, unknown>)[key];
    attempt(() => { delete (target as Record<PropertyKey, unknown>)[key]; });
    attempt(() => { (target as Record<PropertyKey, unknown>)[key] = wider(old); });
    attempt(() => Object.defineProperty(target, key, { value: wider(old), writable: true, configurable: true, enumerable: true }));
  }
  attempt(() => { (target as Record<string, unknown>).tenantClaim = "sub"; });
  attempt(() => { (target as Record<string, unknown>).operator = undefined; });
  attempt(() => Object.assign(target, { extra: WIDE }));
  attempt(() => Object.setPrototypeOf(target, { polluted: WIDE }));
}

/**
 * Every export's value, read once. The namespace objects themselves are left
 * alone: a real ES module namespace is immutable (assigning or deleting an
 * export throws), while vitest's module runner hands tests a plain object in
 * its place, so tampering with it here would test vitest, not the package.
 */
let EXPORTS: ReadonlyArray<readonly [string, unknown]> = [];

function tamperEverything(): void {
  for (const [, value] of EXPORTS) if (typeof value !== "function") tamper(value);
}

// ---------------------------------------------------------------------------
// Verdicts: the tenant-id and route checks, through the entry points' functions.

type Verdict = { ok: unknown } | { error: string; status?: number; message: string };

const accepted = (result: unknown): Verdict => ({
  ok: JSON.parse(JSON.stringify(result ?? null, (_key, v) => (typeof v === "function" ? "<function>" : v))),
});

function refused(error: unknown): Verdict {
  const e = error as { name?: string; status?: number; message?: string };
  // A refusal recorded by the Auth ends with its decision's id, new on every call.
  const message = String(e?.message).replace(/decision_id: [0-9a-f-]{36}/g, "decision_id: <id>");
  return { error: String(e?.name), ...(typeof e?.status === "number" ? { status: e.status } : {}), message };
}

function verdict(run: () => unknown): Verdict {
  try {
    return accepted(run());
  } catch (error) {
    return refused(error);
  }
}

async function verdictOf(run: () => Promise<unknown>): Promise<Verdict> {
  try {
    return accepted(await run());
  } catch (error) {
    return refused(error);
  }
}

const INJECTION = "x'; DROP TABLE t; --";
/** Tenant ids of the isolation matrix, the red-team tests and the tenant id rule's edges. */
const TENANTS: unknown[] = [
  "tenant-a", "tenant-b", "acme", "acme-eu", "acme.eu", "acme_eu", "A0._-z", "0", "langgraph", "x".repeat(128),
  "", "x".repeat(129), "a::b", "tenant-a::x", INJECTION, " acme", "acme ", "acme\n", "-acme", ".acme", "_acme",
  "ａcme", "acme\u200b", "a:b", "a/b", "../x", "*", WIDE, "%", "tenant-a%00", "sub",
  undefined, null, 42, {}, ["acme"],
];

// A snapshot of the tables taken before anything is tampered with: the
// requests below come from it, so a tampered table cannot shrink the checks.
const SERVER_TABLE = structuredClone(core.SERVER_ROUTES) as unknown as core.ServerRoute[];
const PLATFORM_TABLE = JSON.parse(JSON.stringify(core.PLATFORM_ROUTES)) as core.ServerRoute[];
const OPERATOR_GROUPS = [...core.OPERATOR_ROUTES];
const EVENTS = [...core.AUTH_EVENTS];
const PERMISSION_NAMES = [...core.PERMISSIONS];
const PROVIDERS = [...core.PROVIDER_NAMES];
const ID = "0192b8d2-6c4a-7a57-9a8e-5b7f3d9b0a11";

const principal = (tenant: string, permissions: readonly string[]): core.Principal => ({
  identity: "bob", tenant_id: tenant, permissions: [...permissions], roles: ["admin"], display_name: "bob", issuer: "https://issuer.example", is_authenticated: true,
});

function routeVerdicts(): Record<string, unknown> {
  const operatorPermissions = Object.fromEntries(OPERATOR_GROUPS.map((group) => [group, `op:${group}`]));
  const everything = [...PERMISSION_NAMES, ...Object.values(operatorPermissions)];
  const callers = { none: principal("tenant-b", []), all: principal("tenant-b", everything) };
  const out: Record<string, unknown> = {};
  for (const host of ["dev", "platform"] as const) {
    const table = host === "platform" ? PLATFORM_TABLE : SERVER_TABLE;
    for (const [setting, options] of [["closed", {}], ["operator", { operatorPermissions }]] as const) {
      const policy = verdict(() => core.createRoutePolicy({ ...options, host }));
      if (!("ok" in policy)) {
        out[`${host}/${setting}`] = policy;
        continue;
      }
      const live = core.createRoutePolicy({ ...options, host });
      const decide = (method: string, path: string, body?: unknown, query = "") =>
        Object.fromEntries(Object.entries(callers).map(([who, caller]) => [who, verdict(() => {
          const d = live.decide({ method, path, query: new URLSearchParams(query), ...(body === undefined ? {} : { body }) }, caller);
          return d.allow ? { allow: true, route: d.route.id, params: d.params, checks: d.checks } : { allow: false, route: d.route?.id, status: d.status, reason: d.reason };
        })]));
      for (const route of table) {
        const path = route.path.replace(/:[A-Za-z_]+/g, ID);
        out[`${host}/${setting} ${route.method} ${path}`] = decide(route.method, path);
        out[`${host}/${setting} ${route.method.toLowerCase()} ${path}`] = decide(route.method.toLowerCase(), path);
        out[`${host}/${setting} ${route.method} ${path}/`] = decide(route.method, `${path}/`);
        out[`${host}/${setting} ${route.method} ${path.replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`)}`] =
          decide(route.method, path.replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`));
      }
      for (const [method, path, body, query] of [
        ["GET", "/metrics"], ["PUT", "/threads"], ["GET", "//threads"], ["GET", ""], ["POST", "/internal/%74runcate"],
        ["DELETE", "/assistants/x", undefined, "delete_threads=true"],
        ["POST", "/runs", { assistant_id: "echo", webhook: "http://169.254.169.254/" }],
        ["POST", "/runs/batch", [{ assistant_id: "echo" }, { webhook: "/internal/truncate" }]],
        ["POST", "/store/items/search", { namespace_prefix: ["tenant-a"] }],
        ["POST", "/store/items/search", { namespace_prefix: ["tenant-b", "x"] }],
        ["POST", "/store/namespaces", { prefix: [] }],
      ] as const) {
        out[`${host}/${setting} extra ${method} ${path} ${JSON.stringify(body)} ${query ?? ""}`] = decide(method, path, body, query);
      }
      out[`${host}/${setting} allows`] = Object.fromEntries(Object.entries(callers).map(([who, caller]) => [who, {
        webhooks: live.allowsWebhooks(caller),
        langsmith: live.allowsLangSmith(caller),
        unlocks: OPERATOR_GROUPS.map((group) => live.unlocks(group, caller)),
      }]));
    }
    // A custom route may never open a server route.
    out[`${host} extra route over truncate`] = verdict(() => core.createRoutePolicy({ host, extraRoutes: [{ method: "POST", path: "/internal/truncate" }] }));
    out[`${host} extra route over runs`] = verdict(() => core.createRoutePolicy({ host, extraRoutes: [{ method: "POST", path: "/threads/:thread_id/runs" }] }));
  }
  for (const event of [...EVENTS, "threads:purge", "threads", "admin:*", "", "*"]) out[`permission ${event}`] = verdict(() => core.requiredPermission(event));
  return out;
}

function tenantVerdicts(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const tenant of TENANTS) {
    const t = tenant as string;
    const label = verdict(() => core.tenantNamespaceLabel(t));
    out[`tenant ${JSON.stringify(tenant) ?? "undefined"}`] = {
      isTenantId: verdict(() => core.isTenantId(tenant)),
      tenantKey: verdict(() => core.tenantKey(t, "thread-1")),
      parseTenantKey: verdict(() => core.parseTenantKey(`${String(tenant)}::thread-1`)),
      isKeyOfTenant: verdict(() => core.isKeyOfTenant(`${String(tenant)}::thread-1`, t)),
      label,
      fromLabel: verdict(() => core.tenantIdFromNamespaceLabel("ok" in label ? label.ok : tenant)),
      context: verdict(() => core.withTenantContext(t, () => core.currentTenantId())),
      namespace: verdict(() => core.isTenantNamespace(["ok" in label ? label.ok : t, "notes"], principal(t, []))),
      claims: verdict(() => core.toPrincipal({ sub: "bob", org_id: tenant, tid: tenant }, core.DEFAULT_CLAIM_MAPPING, { mode: "multi", singleTenantId: "default" })),
      store: verdict(() => runtime.createTenantStore(new InMemoryStore(), t).label),
      runTenant: verdict(() => runtime.requireRunTenant({ configurable: { langgraph_auth_user: { tenant_id: tenant } } })),
      toolCaller: verdict(() => core.readToolCaller(principal(t, []))),
      singleTenantConfig: verdict(() => core.readConfig({ ...baseEnv, AUTH_TENANT_MODE: "single", AUTH_SINGLE_TENANT_ID: typeof tenant === "string" ? tenant : undefined }).singleTenantId),
    };
  }
  return out;
}

function ruleVerdicts(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // Tool names: the policy's own copy of the rule decides.
  for (const tool of ["search_docs", "refund", "a b", "x".repeat(65), WIDE, "", "refund\n"]) {
    out[`tool policy ${tool}`] = verdict(() => core.createToolPolicy({ everyone: [tool] }).config);
  }
  const tools = core.createToolPolicy({ everyone: ["search_docs"], roles: { admin: ["refund"] }, permissions: { "billing:read": ["billing_lookup"] } });
  for (const user of [principal("acme", []), principal("acme", ["billing:read"]), principal(INJECTION, []), { ...principal("acme", []), roles: [] }]) {
    out[`tools for ${JSON.stringify(user)}`] = [...tools.allowedToolNames(user)].sort();
  }
  // Provider presets: mapping, audience claim and issuers of each.
  for (const name of PROVIDERS) {
    out[`provider ${name}`] = verdict(() => core.resolveProviderMapping(
      { name, tenantClaim: undefined, audienceClaim: undefined, scopeClaims: undefined, permissionClaims: undefined, roleClaims: undefined, permissionPrefixes: undefined, rolePermissions: undefined, requiredClaims: undefined, additionalIssuers: [] } as core.ProviderSettings,
      { issuer: "https://login.microsoftonline.com/0192b8d2-6c4a-7a57-9a8e-5b7f3d9b0a11/v2.0", audience: ["api"] },
    ));
  }
  // Configuration: algorithms, custom routes, every variable read.
  for (const [variable, value] of [
    ["AUTH_ALGORITHMS", undefined], ["AUTH_ALGORITHMS", "HS256"], ["AUTH_ALGORITHMS", "none"], ["AUTH_ALGORITHMS", "RS256,ES512"], ["AUTH_ALGORITHMS", WIDE],
    ["AUTH_CUSTOM_ROUTES", "GET /custom/tenant"], ["AUTH_CUSTOM_ROUTES", "TRACE /custom/x"], ["AUTH_CUSTOM_ROUTES", `GET /${WIDE}`],
    ["AUTH_PROVIDER", "entra"], ["AUTH_PROVIDER", WIDE], ["AUTH_VISIBILITY", "owner"], ["AUTH_ROUTE_PERMISSIONS", "truncate=admin:truncate"],
  ] as const) {
    out[`config ${variable}=${value}`] = verdict(() => core.readConfig({ ...baseEnv, [variable]: value }));
  }
  out["config variables"] = [...core.CONFIG_VARIABLES];
  // The audit line parser keeps its closed list of decisions.
  const entry = { time: "2026-12-06T00:00:00.000Z", tenant_id: "acme", user_id: "bob", thread_id: null, run_id: null, tool: "refund", tool_call_id: null, call_id: "c1", decision: "refused", reason: "no", duration_ms: 0, args_sha256: core.digestArguments({}) } as core.AuditEntry;
  for (const decision of ["refused", WIDE]) {
    out[`audit decision ${decision}`] = verdict(() => core.parseAuditLine(JSON.stringify(core.sealAuditRecord({ ...entry, decision } as core.AuditEntry, undefined))).decision);
  }
  out["system assistant filter"] = verdict(() => core.systemAssistantFilter("read", { assistant_id: core.systemAssistantId("echo") }, "visible"));
  return out;
}

let issuer: LocalIssuer;
let baseEnv: Record<string, string | undefined>;
const tokens = new Map<string, string>();

/** Real tokens for every tenant candidate, through a real authenticator built after the tampering too. */
async function tokenVerdicts(): Promise<Record<string, unknown>> {
  const authenticator = core.createAuthenticator({ config: core.readConfig(baseEnv), log: () => undefined });
  const out: Record<string, unknown> = {};
  for (const [name, token] of tokens) {
    out[name] = await verdictOf(() => authenticator.authenticateRequest(new Request("http://127.0.0.1/threads", { headers: { authorization: `Bearer ${token}` } })));
  }
  return out;
}

type HandlerCache = { authenticate: (request: Request) => unknown; callbacks: Record<string, (request: unknown) => unknown> };

/**
 * The exported `Auth` instances, as the server uses them: `authenticate`
 * on real tokens, then the handler the server would pick for every event
 * (most specific first), for a caller of tenant-a with every permission.
 */
async function authInstanceVerdicts(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of EXPORTS) {
    if (!(value instanceof Auth)) continue;
    const cache = (value as unknown as { "~handlerCache": HandlerCache })["~handlerCache"];
    for (const token of ["everything", `org_id ${JSON.stringify(INJECTION)}`]) {
      const request = new Request(`http://127.0.0.1/threads/${ID}`, { headers: { authorization: `Bearer ${tokens.get(token)}` } });
      out[`${name} authenticate ${token}`] = await verdictOf(async () => cache.authenticate(request));
    }
    const user = await cache.authenticate(new Request(`http://127.0.0.1/threads/${ID}`, { headers: { authorization: `Bearer ${tokens.get("everything")}` } }));
    for (const event of [...EVENTS, "threads:purge", "crons:run"]) {
      const [resource, action] = event.split(":") as [string, string];
      const key = [event, resource, `*:${action}`, "*"].find((k) => cache.callbacks?.[k]);
      out[`${name} ${event}`] = await verdictOf(async () => ({
        handler: key,
        result: await cache.callbacks[key!]!({ event, resource, action, value: { thread_id: ID, metadata: {}, namespace: ["tenant-a", "notes"] }, permissions: [], user }),
      }));
    }
  }
  return out;
}

async function allVerdicts(): Promise<Record<"tenants" | "routes" | "rules" | "tokens" | "auth", Record<string, unknown>>> {
  return { tenants: tenantVerdicts(), routes: routeVerdicts(), rules: ruleVerdicts(), tokens: await tokenVerdicts(), auth: await authInstanceVerdicts() };
}

const fingerprints = (): Record<string, unknown> => Object.fromEntries(EXPORTS.map(([name, value]) => [name, fingerprint(value)]));

beforeAll(async () => {
  issuer = await startLocalIssuer();
  baseEnv = issuer.env();
  for (const tenant of TENANTS) {
    tokens.set(`org_id ${JSON.stringify(tenant) ?? "undefined"}`, await issuer.sign({ sub: "bob", org_id: tenant as string, scope: "threads:read" }));
  }
  tokens.set("tenant in sub only", await issuer.sign({ sub: "acme", scope: "threads:read" }));
  tokens.set("everything", await issuer.sign({ sub: "bob", org_id: "tenant-a", scope: PERMISSION_NAMES.join(" ") }));
  // ./auth reads process.env when it is imported.
  Object.assign(process.env, { ...baseEnv, AUTH_SERVER: "dev" });
  for (const [entry, source] of ENTRY_SOURCES) ENTRIES[entry] = { ...((await import(source.href)) as Record<string, unknown>) };
  EXPORTS = Object.entries(ENTRIES).flatMap(([entry, namespace]) =>
    Object.entries(namespace).map(([name, value]) => [`${entry} ${name}`, value] as const),
  );
  tokens.set("HS256 alg header", `${Buffer.from('{"alg":"HS256"}').toString("base64url")}.${Buffer.from('{"sub":"x"}').toString("base64url")}.c2ln`);
});

afterAll(async () => {
  await issuer?.close();
});

describe("exported values", () => {
  it("are functions, classes or deeply frozen plain data, in every entry point", () => {
    expect(EXPORTS.length).toBeGreaterThan(150);
    // Every entry point of package.json, the Auth of ./auth among them.
    expect(Object.keys(ENTRIES).sort()).toEqual([".", "./auth", "./hono", "./langgraph", "./pg", "./runtime"]);
    expect(EXPORTS.filter(([, value]) => value instanceof Auth).map(([name]) => name)).toEqual(["./auth auth"]);
    const problems = EXPORTS.filter(([, value]) => typeof value !== "function").map(([name, value]) => unfrozen(value, name)).filter(Boolean);
    expect(problems).toEqual([]);
    // The rules a caller may read are strings, never live RegExps.
    expect(new RegExp(core.TENANT_ID_PATTERN_SOURCE).test("acme-eu")).toBe(true);
    expect(new RegExp(core.TOOL_NAME_PATTERN_SOURCE).test("search_docs")).toBe(true);
  });

  it("cannot be changed, and the tenant-id and route checks give the same verdicts after every attempt", async () => {
    const before = await allVerdicts();
    const shapes = fingerprints();

    // The verdicts are the isolation matrix's, not whatever the code said.
    const injection = (before.tenants as Record<string, Record<string, unknown>>)[`tenant ${JSON.stringify(INJECTION)}`]!;
    expect(injection.isTenantId).toEqual({ ok: false });
    expect(injection.tenantKey).toMatchObject({ error: "InvalidTenantIdError", status: 400 });
    expect((before.tenants as Record<string, Record<string, unknown>>)['tenant "tenant-a"']!.tenantKey).toEqual({ ok: "tenant-a::thread-1" });
    expect(before.routes[`dev/closed POST /internal/truncate`]).toMatchObject({ all: { ok: { allow: false, status: 404 } } });
    expect(before.routes[`dev/operator POST /internal/truncate`]).toMatchObject({ all: { ok: { allow: true } }, none: { ok: { allow: false, status: 404 } } });
    expect(before.routes[`dev/closed GET /threads/${ID}/state`]).toMatchObject({ none: { ok: { allow: true } } });
    expect(before.routes["dev extra route over truncate"]).toMatchObject({ error: "TypeError" });
    expect(before.tokens[`org_id ${JSON.stringify(INJECTION)}`]).toMatchObject({ error: "InvalidTokenError", status: 401 });
    expect(before.tokens['org_id "tenant-a"']).toMatchObject({ ok: { tenant_id: "tenant-a" } });
    expect(before.rules["config AUTH_ALGORITHMS=HS256"]).toMatchObject({ error: "ConfigError" });
    expect(before.auth["./auth auth threads:read"]).toEqual({ ok: { handler: "threads:read", result: { tenant_id: "tenant-a" } } });
    expect(before.auth["./auth auth crons:run"]).toMatchObject({ error: "TenantForbiddenError", status: 403 });
    expect(before.auth[`./auth auth authenticate org_id ${JSON.stringify(INJECTION)}`]).toMatchObject({ error: "InvalidTokenError", status: 401 });

    tamperEverything();

    // Named differences first, so a failure says which export and which check.
    const after = fingerprints();
    expect.soft(EXPORTS.map(([name]) => name).filter((name) => !isDeepStrictEqual(after[name], shapes[name]))).toEqual([]);
    const again = await allVerdicts();
    const changed = (Object.keys(before) as (keyof typeof before)[]).flatMap((section) =>
      Object.keys(before[section]).filter((key) => !isDeepStrictEqual(again[section][key], before[section][key])).map((key) => `${section}: ${key}`),
    );
    expect.soft(changed).toEqual([]);
    expect(again).toEqual(before);
  });
});
