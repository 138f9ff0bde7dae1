/**
 * Every refusal path of the package, driven in-process through the real
 * wrappers: the `Auth` of `createTenantAuth` as the LangGraph server calls it
 * (`authenticate` and `authorize` of `@langchain/langgraph-api/auth`, with
 * the route guard and run check inside), on the `dev` and `platform` hosts,
 * the Hono middleware (`app.request`), the tool guard (a real `ToolNode`
 * path, `invoke`), and the runtime checks that fail a run. Keys come from a
 * real local issuer over loopback; the server's storage is an in-memory
 * world (the real server's storage is covered by test/integration/decision-log.test.ts).
 *
 * Every request carries the canary where the package must never copy it
 * from: the token (claims other than tenant and subject, a `kid`, garbage
 * tokens), other headers and cookies, and bodies. Shared by
 * `refusal-paths.test.ts` (each path's reason code; every code produced) and
 * `never-logged.test.ts` (the canary appears nowhere that was written).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tool } from "@langchain/core/tools";
import { Hono } from "hono";
import { z } from "zod";
import { authenticate, authorize, registerAuth, type AuthContext } from "@langchain/langgraph-api/auth";
import type { Auth } from "@langchain/langgraph-sdk/auth";
import { createAuditLog } from "../../src/audit/audit-log.ts";
import { createJsonLinesSink } from "../../src/audit/json-lines-sink.ts";
import { createAuthenticator } from "../../src/authenticate/create-authenticator.ts";
import { readConfig } from "../../src/config/read-config.ts";
import type { DecisionEvent } from "../../src/decision/decision-event.ts";
import type { DecisionLog } from "../../src/decision/decision-log.ts";
import { AuthError, type RefusalReason } from "../../src/errors.ts";
import { createTenantMiddleware, requirePermissions, type TenantEnv } from "../../src/hono/tenant-middleware.ts";
import { NO_METRICS, type AuthMetrics } from "../../src/metrics/create-auth-metrics.ts";
import { createPlatformRouteGuard } from "../../src/langgraph/create-platform-route-guard.ts";
import { createRouteGuard } from "../../src/langgraph/create-route-guard.ts";
import { createRunCheck } from "../../src/langgraph/create-run-check.ts";
import { createTenantAuth } from "../../src/langgraph/create-tenant-auth.ts";
import type { ServerStorage } from "../../src/langgraph/server-storage.ts";
import { PERMISSIONS } from "../../src/policy/event-permission.ts";
import { createRoutePolicy } from "../../src/policy/route-policy.ts";
import { systemAssistantId } from "../../src/policy/run-assistant.ts";
import { createToolPolicy } from "../../src/policy/tool-policy.ts";
import { createToolGuard } from "../../src/runtime/guard-tools.ts";
import { requireRunTenant } from "../../src/runtime/run-tenant.ts";
import { parseTenantKey, tenantKey } from "../../src/tenant/tenant-key.ts";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";

/** Where a path's refusal is told: a decision event of a wrapper, or only the error (the runtime checks that fail a run). */
export type Observed = { kind: "event"; event: DecisionEvent } | { kind: "error"; error: AuthError };

/** One way to be refused. */
export interface RefusalPath {
  /** What it tries, in words (the test name). */
  name: string;
  /** The reason code its refusal must carry. */
  reason: RefusalReason;
  drive(w: RefusalWorld): Promise<Observed>;
}

const ALL = PERMISSIONS.join(" ");
const A_THREAD = "0193f0a1-0000-7000-8000-0000000000a1";
const A_ASSISTANT = "0193f0a1-0000-7000-8000-0000000000a2";
const A_RUN = "0193f0a1-0000-7000-8000-0000000000a3";
const B_THREAD = "0193f0a1-0000-7000-8000-0000000000b1";
/** What the server hands the handler for a run of the graph "echo": its system assistant's id. */
const SYSTEM_ECHO = systemAssistantId("echo");

/** Tenant A's world as the server's storage shows it; tenant B does the probing. */
const storage: ServerStorage = {
  async getAssistant(id) {
    if (id === A_ASSISTANT) return { assistant_id: id, graph_id: "echo", metadata: { tenant_id: "tenant-a", owner: "alice" } };
    if (id === systemAssistantId("echo")) return { assistant_id: id, graph_id: "echo", metadata: { created_by: "system" } };
    return undefined;
  },
  async getThread(id) {
    if (id === A_THREAD) return { thread_id: id, metadata: { tenant_id: "tenant-a", owner: "alice" } };
    if (id === B_THREAD) return { thread_id: id, metadata: { tenant_id: "tenant-b", owner: "bob" } };
    return undefined;
  },
  async getRun(id) {
    return id === A_RUN ? { run_id: id, thread_id: A_THREAD } : undefined;
  },
};

/** The world the paths run in. */
export interface RefusalWorld {
  canary: string;
  issuer: LocalIssuer;
  /** Every decision any wrapper recorded, in order (an observer: unaffected by the flood bound). */
  decided: DecisionEvent[];
  /** The audit trail the tool guard writes (and, with an audit decision sink, the decisions). */
  auditFile: string;
  /** Sign a token for tenant B's bob carrying the canary in every claim but tenant and subject. */
  token(claims?: Record<string, unknown>, options?: Parameters<LocalIssuer["sign"]>[1]): Promise<string>;
  /** Headers carrying the canary (cookie, API key, user agent, forwarded-for, a custom one). */
  canaryHeaders(): Record<string, string>;
  auths: Record<"dev" | "owner" | "platform" | "keysDown" | "unchecked" | "broken", Auth>;
  /** The metrics every wrapper records into (none unless the caller passed some). */
  metrics: AuthMetrics;
  use(which: keyof RefusalWorld["auths"]): void;
  app: Hono<TenantEnv>;
  close(): Promise<void>;
}

/**
 * Build the world: one decision log for every wrapper (the caller passes
 * the log, with the sinks it wants searched), and the metrics they all
 * record into (default: none).
 */
export async function createRefusalWorld(options: { canary: string; decisions: DecisionLog; metrics?: AuthMetrics }): Promise<RefusalWorld> {
  const { canary, decisions } = options;
  const metrics = options.metrics ?? NO_METRICS;
  const decided: DecisionEvent[] = [];
  decisions.onDecision((event) => void decided.push(event));
  const issuer = await startLocalIssuer();
  const dir = await mkdtemp(join(tmpdir(), "refusal-paths-"));
  const auditFile = join(dir, "audit.jsonl");
  const config = readConfig({ ...issuer.env(), AUTH_ROUTE_PERMISSIONS: "truncate=admin:truncate" });
  const authenticator = createAuthenticator({ config });
  // A key set that cannot be had: a closed loopback port, short timeout, no cooldown games.
  const keysDown = createAuthenticator({
    config: readConfig({ ...issuer.env(), AUTH_JWKS_URL: "http://127.0.0.1:9/jwks.json", AUTH_JWKS_TIMEOUT_MS: "500", AUTH_TOKEN_CACHE: "off" }),
  });
  const policy = createRoutePolicy({ operatorPermissions: config.routePermissions });
  const platformPolicy = createRoutePolicy({ host: "platform" });
  const common = { policy, log: () => undefined, decisions, env: {}, metrics };
  const auths = {
    dev: createTenantAuth({
      ...common,
      authenticator,
      host: "dev",
      guard: createRouteGuard({ policy, storage: () => storage }),
      checkRun: createRunCheck({ policy, storage: () => storage }),
    }),
    owner: createTenantAuth({ ...common, authenticator, host: "dev", visibility: "owner" }),
    platform: createTenantAuth({
      ...common,
      policy: platformPolicy,
      authenticator,
      host: "platform",
      guard: createPlatformRouteGuard({ policy: platformPolicy }),
      checkRun: createRunCheck({ policy: platformPolicy, host: "platform" }),
    }),
    keysDown: createTenantAuth({ ...common, authenticator: keysDown, host: "dev" }),
    // The run check reads the server's storage from the request context: outside a server there is none.
    unchecked: createTenantAuth({ ...common, authenticator, host: "dev", checkRun: createRunCheck({ policy }) }),
    // A guard with a bug: what it throws is no refusal, the server answers 500.
    broken: createTenantAuth({
      ...common,
      authenticator,
      host: "dev",
      guard: () => {
        throw new TypeError(`guard bug while reading ${canary}`);
      },
    }),
  };
  let selected: keyof typeof auths = "dev";
  (globalThis as Record<string, unknown>).__refusalAuth = () => auths[selected];
  await writeFile(join(dir, "auth.mjs"), 'export const auth = { get "~handlerCache"() { return globalThis.__refusalAuth()["~handlerCache"]; } };\n');
  await registerAuth({ path: "./auth.mjs:auth" }, { cwd: dir });

  const app = new Hono<TenantEnv>();
  app.use("/custom/*", createTenantMiddleware({ authenticator, decisions, host: "dev", metrics }));
  app.post("/custom/notes", requirePermissions("store:write"), (c) => c.json({ ok: true }));

  return {
    canary,
    issuer,
    decided,
    auditFile,
    auths,
    metrics,
    app,
    use(which) {
      selected = which;
    },
    token(claims = {}, signOptions) {
      return issuer.sign(
        { sub: "bob", org_id: "tenant-b", scope: ALL, name: canary, email: `${canary}@example.com`, note: { secret: canary }, ...claims },
        signOptions,
      );
    },
    canaryHeaders() {
      return {
        cookie: `session=${canary}; theme=${canary}`,
        "x-api-key": canary,
        "user-agent": `agent/${canary}`,
        "x-forwarded-for": `10.0.0.1, ${canary}`,
        "x-canary": canary,
      };
    },
    async close() {
      await issuer.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The refusal the last call recorded: exactly one (the wrapper records
 * before the error leaves it). Allowed decisions are told to observers too
 * (the world's list is one), so those of the same call are skipped.
 */
function lastDecision(w: RefusalWorld, before: number): Observed {
  const refusals = w.decided.slice(before).filter((event) => event.outcome !== "allowed");
  if (refusals.length !== 1) throw new Error(`expected one refusal, got ${refusals.length}`);
  return { kind: "event", event: refusals[0]! };
}

/** `authenticate` as the server calls it; it must refuse. */
async function viaAuthenticate(w: RefusalWorld, request: Request): Promise<Observed> {
  const before = w.decided.length;
  const outcome = await authenticate(request).then(
    () => undefined,
    (error: unknown) => error,
  );
  if (outcome === undefined) throw new Error(`${request.method} ${new URL(request.url).pathname} was allowed`);
  return lastDecision(w, before);
}

/** A request with the canary in its headers (and the token, if any). */
function request(w: RefusalWorld, method: string, path: string, init: { token?: string; authorization?: string; body?: string } = {}): Request {
  const headers: Record<string, string> = { ...w.canaryHeaders() };
  if (init.authorization !== undefined) headers.authorization = init.authorization;
  else if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  if (init.body !== undefined) {
    headers["content-type"] = "application/json";
    headers["content-length"] = String(Buffer.byteLength(init.body));
  }
  return new Request(`http://127.0.0.1:2024${path}`, { method, headers, body: init.body });
}

/** The server's context for a token: what `authenticate` returned for it. */
async function contextOf(w: RefusalWorld, token: string): Promise<AuthContext> {
  const context = await authenticate(request(w, "POST", "/threads/search", { token, body: JSON.stringify({ metadata: { note: w.canary } }) }));
  if (!context) throw new Error("no auth registered");
  return context as AuthContext;
}

/** `authorize` as the server calls it for an event; it must refuse. */
async function viaHandler(w: RefusalWorld, event: string, value: unknown, context: AuthContext): Promise<Observed> {
  const [resource, action] = event.split(":") as [string, string];
  const before = w.decided.length;
  const outcome = await authorize({ resource, action, value, context }).then(
    () => undefined,
    (error: unknown) => error,
  );
  if (outcome === undefined) throw new Error(`${event} was allowed`);
  return lastDecision(w, before);
}

/** A search body carrying the canary. */
const canaryBody = (w: RefusalWorld) => JSON.stringify({ metadata: { note: w.canary }, limit: 10 });

/** A run body carrying the canary wherever a client may put text (never in an id). */
const runBody = (w: RefusalWorld, assistant: string, extra: Record<string, unknown> = {}) => ({
  assistant_id: assistant,
  input: { messages: [{ role: "user", content: w.canary }] },
  metadata: { note: w.canary },
  config: { configurable: { api_key: w.canary } },
  ...extra,
});

/** The value the server hands `threads:create_run` for a run body (ops.mjs), with the body's options as `kwargs`. */
const createRunValue = (body: Record<string, unknown>, threadId?: string) => ({
  thread_id: threadId,
  assistant_id: body.assistant_id,
  run_id: "0193f0a1-0000-7000-8000-00000000c0de",
  status: "pending",
  metadata: body.metadata ?? {},
  if_not_exists: "reject",
  kwargs: { input: body.input, config: body.config, webhook: body.webhook },
});

const STUDIO_USER = { kind: "StudioUser", display_name: "langgraph-studio-user", identity: "langgraph-studio-user", permissions: [], is_authenticated: true };

/** A tool guard over the audit file, its policy letting viewers use `search_docs` only. */
function toolGuard(w: RefusalWorld, decisions: DecisionLog, captureArguments?: (args: unknown) => unknown) {
  const audit = createAuditLog({ sink: createJsonLinesSink({ file: w.auditFile }) });
  const guard = createToolGuard({
    policy: createToolPolicy({ everyone: ["search_docs"] }),
    audit,
    decisions,
    metrics: w.metrics,
    ...(captureArguments ? { captureArguments } : {}),
  });
  const searchDocs = tool(async () => "docs", { name: "search_docs", description: "search", schema: z.object({ query: z.string() }) });
  const refund = tool(async () => "refunded", { name: "refund", description: "refund", schema: z.object({ note: z.string() }) });
  return { guard, audit, tools: [searchDocs, refund] };
}

/** Run one tool call through the guard; the refusal's decision is the last one recorded. */
async function viaToolGuard(
  w: RefusalWorld,
  decisions: DecisionLog,
  call: { name: string; args: Record<string, unknown> },
  user: unknown,
  captureArguments?: (args: unknown) => unknown,
): Promise<Observed> {
  const { guard, audit, tools } = toolGuard(w, decisions, captureArguments);
  const before = w.decided.length;
  try {
    // The tool's name and call id are the model's and stay in the audit record by design: no canary there.
    const message = await guard.invoke(tools, { ...call, id: "call_1", type: "tool_call" }, {
      configurable: { thread_id: B_THREAD, run_id: A_RUN, langgraph_auth_user: user },
    });
    if (message.status !== "error") throw new Error(`tool ${call.name} ran`);
  } finally {
    await audit.close();
  }
  return lastDecision(w, before);
}

/** A runtime check's error (no wrapper records these: they fail the run). */
function thrown(fn: () => unknown): Observed {
  try {
    fn();
  } catch (error) {
    if (error instanceof AuthError) return { kind: "error", error };
    throw error;
  }
  throw new Error("nothing was refused");
}

/** The principal the server puts in a run's config (with the canary in the claims it copied). */
const runUser = (w: RefusalWorld, fields: Record<string, unknown> = {}) => ({
  identity: "bob",
  tenant_id: "tenant-b",
  permissions: ["threads:write"],
  roles: ["viewer"],
  display_name: w.canary,
  issuer: w.issuer.issuer,
  is_authenticated: true,
  ...fields,
});

/**
 * Every path, each with the reason it must carry. `decisions` is the log the
 * tool guard records to (the `Auth` and middleware got theirs in the world).
 */
export function refusalPaths(decisions: DecisionLog): RefusalPath[] {
  const dev = (fn: (w: RefusalWorld) => Promise<Observed>) => async (w: RefusalWorld) => {
    w.use("dev");
    return fn(w);
  };
  const on = (which: keyof RefusalWorld["auths"], fn: (w: RefusalWorld) => Promise<Observed>) => async (w: RefusalWorld) => {
    w.use(which);
    try {
      return await fn(w);
    } finally {
      w.use("dev");
    }
  };
  const deep = (w: RefusalWorld) => `${"[".repeat(150)}"${w.canary}"${"]".repeat(150)}`;
  return [
    // authenticate: the token
    { name: "no token", reason: "missing_token", drive: dev((w) => viaAuthenticate(w, request(w, "POST", "/threads/search", { body: "{}" }))) },
    { name: "an unsupported scheme naming the canary", reason: "invalid_request", drive: dev((w) => viaAuthenticate(w, request(w, "POST", "/threads/search", { body: canaryBody(w), authorization: `${w.canary} abc` }))) },
    { name: "a token in the query string", reason: "invalid_request", drive: dev((w) => viaAuthenticate(w, request(w, "GET", `/threads/search?access_token=${w.canary}`))) },
    { name: "a garbage token made of the canary", reason: "invalid_token", drive: dev((w) => viaAuthenticate(w, request(w, "POST", "/threads/search", { body: canaryBody(w), authorization: `Bearer ${w.canary}.${w.canary}.${w.canary}` }))) },
    { name: "a token whose kid is the canary", reason: "invalid_token", drive: dev(async (w) => viaAuthenticate(w, request(w, "POST", "/threads/search", { body: canaryBody(w), token: await w.token({}, { header: { kid: w.canary } }) }))) },
    { name: "a token of another issuer's key", reason: "invalid_token", drive: dev(async (w) => {
      const other = await startLocalIssuer({ audience: w.issuer.audience });
      try {
        const forged = await other.sign({ iss: w.issuer.issuer, sub: "bob", org_id: "tenant-b", name: w.canary });
        return await viaAuthenticate(w, request(w, "POST", "/threads/search", { body: canaryBody(w), token: forged }));
      } finally {
        await other.close();
      }
    }) },
    { name: "an expired token", reason: "expired_token", drive: dev(async (w) => viaAuthenticate(w, request(w, "POST", "/threads/search", { body: canaryBody(w), token: await w.token({}, { expiresIn: -600 }) }))) },
    { name: "a token without a tenant claim", reason: "invalid_tenant_claim", drive: dev(async (w) => viaAuthenticate(w, request(w, "POST", "/threads/search", { body: canaryBody(w), token: await w.token({ org_id: undefined }) }))) },
    { name: "a tenant claim that breaks the tenant id rule", reason: "invalid_tenant_claim", drive: dev(async (w) => viaAuthenticate(w, request(w, "POST", "/threads/search", { body: canaryBody(w), token: await w.token({ org_id: `${w.canary}::x` }) }))) },
    { name: "signing keys that cannot be fetched", reason: "key_set_unavailable", drive: on("keysDown", async (w) => viaAuthenticate(w, request(w, "POST", "/threads/search", { body: canaryBody(w), token: await w.token() }))) },
    // authenticate: the route guard
    { name: "a route the server does not have", reason: "unknown_route", drive: dev(async (w) => viaAuthenticate(w, request(w, "GET", "/nope", { token: await w.token() }))) },
    { name: "the wipe-every-tenant route", reason: "operator_only", drive: dev(async (w) => viaAuthenticate(w, request(w, "POST", "/internal/truncate", { token: await w.token(), body: JSON.stringify({ threads: true, note: w.canary }) }))) },
    { name: "a run webhook", reason: "run_option_refused", drive: dev(async (w) => viaAuthenticate(w, request(w, "POST", "/runs/wait", { token: await w.token(), body: JSON.stringify(runBody(w, "echo", { webhook: `https://${w.canary}.example.com/hook` })) }))) },
    { name: "a body over the inspection limit", reason: "body_too_large", drive: dev(async (w) => viaAuthenticate(w, request(w, "POST", "/runs", { token: await w.token(), body: JSON.stringify(runBody(w, "echo", { pad: w.canary.repeat(Math.ceil((1024 * 1024 + 10) / w.canary.length)) })) }))) },
    { name: "JSON nested deeper than the limit", reason: "body_too_deep", drive: dev(async (w) => viaAuthenticate(w, request(w, "POST", "/threads", { token: await w.token(), body: `{"metadata":{"x":${deep(w)}}}` }))) },
    { name: "a store search of another tenant's prefix", reason: "cross_tenant", drive: dev(async (w) => viaAuthenticate(w, request(w, "POST", "/store/items/search", { token: await w.token(), body: JSON.stringify({ namespace_prefix: ["tenant-a"], query: w.canary }) }))) },
    { name: "a store search with no prefix", reason: "store_namespace_refused", drive: dev(async (w) => viaAuthenticate(w, request(w, "POST", "/store/items/search", { token: await w.token(), body: JSON.stringify({ namespace_prefix: [], query: w.canary }) }))) },
    { name: "joining another tenant's run by id", reason: "cross_tenant", drive: dev(async (w) => viaAuthenticate(w, request(w, "GET", `/runs/${A_RUN}/stream`, { token: await w.token() }))) },
    { name: "joining a run that exists nowhere", reason: "not_found", drive: dev(async (w) => viaAuthenticate(w, request(w, "GET", `/threads/${B_THREAD}/runs/0193f0a1-0000-7000-8000-0000000000ff/join`, { token: await w.token() }))) },
    { name: "a guard that throws something that is not a refusal", reason: "internal_error", drive: on("broken", async (w) => viaAuthenticate(w, request(w, "POST", "/threads/search", { body: canaryBody(w), token: await w.token() }))) },
    // handlers
    { name: "an event without its permission", reason: "insufficient_scope", drive: dev(async (w) => viaHandler(w, "threads:read", { thread_id: B_THREAD }, await contextOf(w, await w.token({ scope: "store:read" })))) },
    { name: "LangGraph Studio's unverified user", reason: "no_tenant", drive: dev(async (w) => viaHandler(w, "threads:read", { thread_id: B_THREAD }, { user: STUDIO_USER, scopes: [] } as unknown as AuthContext)) },
    { name: "a run of another tenant's assistant", reason: "cross_tenant", drive: dev(async (w) => viaHandler(w, "threads:create_run", createRunValue(runBody(w, A_ASSISTANT), B_THREAD), await contextOf(w, await w.token()))) },
    { name: "a run on another tenant's thread", reason: "cross_tenant", drive: dev(async (w) => viaHandler(w, "threads:create_run", createRunValue(runBody(w, SYSTEM_ECHO), A_THREAD), await contextOf(w, await w.token()))) },
    { name: "a run of an assistant that exists nowhere", reason: "not_found", drive: dev(async (w) => viaHandler(w, "threads:create_run", createRunValue(runBody(w, "0193f0a1-0000-7000-8000-0000000000fe"), B_THREAD), await contextOf(w, await w.token()))) },
    { name: "a run with a webhook the route guard never saw", reason: "run_option_refused", drive: dev(async (w) => viaHandler(w, "threads:create_run", createRunValue(runBody(w, SYSTEM_ECHO, { webhook: `https://${w.canary}.example.com/` }), B_THREAD), await contextOf(w, await w.token()))) },
    { name: "an event the SDK may add later", reason: "event_not_allowed", drive: dev(async (w) => viaHandler(w, "threads:stream", { thread_id: B_THREAD, note: w.canary }, await contextOf(w, await w.token()))) },
    { name: "an assistant posing as a system one", reason: "system_assistant_write", drive: dev(async (w) => viaHandler(w, "assistants:create", { graph_id: "echo", metadata: { created_by: "system", note: w.canary }, config: { configurable: { key: w.canary } } }, await contextOf(w, await w.token()))) },
    { name: "a store item in another tenant's namespace", reason: "cross_tenant", drive: dev(async (w) => viaHandler(w, "store:put", { namespace: ["tenant-a", "notes"], key: "k", value: { text: w.canary } }, await contextOf(w, await w.token()))) },
    { name: "a store item with no namespace", reason: "store_namespace_refused", drive: dev(async (w) => viaHandler(w, "store:put", { namespace: [], key: "k", value: { text: w.canary } }, await contextOf(w, await w.token()))) },
    { name: "a create with no body to stamp", reason: "invalid_value", drive: dev(async (w) => viaHandler(w, "threads:create", null, await contextOf(w, await w.token()))) },
    { name: "another member's namespace with owner visibility", reason: "cross_owner", drive: on("owner", async (w) => viaHandler(w, "store:put", { namespace: ["tenant-b", "carol"], key: "k", value: { text: w.canary } }, await contextOf(w, await w.token()))) },
    { name: "a run check outside the server (no storage to read)", reason: "check_unavailable", drive: on("unchecked", async (w) => viaHandler(w, "threads:create_run", createRunValue(runBody(w, SYSTEM_ECHO), B_THREAD), await contextOf(w, await w.token()))) },
    // the platform host
    { name: "a platform create the platform would drop the stamp of", reason: "platform_value_refused", drive: on("platform", async (w) => viaHandler(w, "threads:create", { thread_id: B_THREAD, note: w.canary }, await contextOf(w, await w.token()))) },
    { name: "a Studio user on the platform", reason: "studio_access_refused", drive: on("platform", async (w) => viaHandler(w, "threads:read", { thread_id: A_THREAD }, { user: STUDIO_USER, scopes: [] } as unknown as AuthContext)) },
    { name: "an operator route on the platform", reason: "operator_only", drive: on("platform", async (w) => viaAuthenticate(w, request(w, "POST", "/threads/prune", { token: await w.token() }))) },
    // the Hono middleware of custom routes
    { name: "a custom route without a token", reason: "missing_token", drive: async (w) => {
      const before = w.decided.length;
      const response = await w.app.request(`/custom/notes`, { method: "POST", headers: w.canaryHeaders(), body: JSON.stringify({ text: w.canary }) });
      if (response.status !== 401) throw new Error(`custom route answered ${response.status}`);
      return lastDecision(w, before);
    } },
    { name: "a custom route with a garbage token", reason: "invalid_token", drive: async (w) => {
      const before = w.decided.length;
      const response = await w.app.request(`/custom/notes`, { method: "POST", headers: { ...w.canaryHeaders(), authorization: `Bearer ${w.canary}` }, body: JSON.stringify({ text: w.canary }) });
      if (response.status !== 401) throw new Error(`custom route answered ${response.status}`);
      return lastDecision(w, before);
    } },
    { name: "a custom route without its permission", reason: "insufficient_scope", drive: async (w) => {
      const before = w.decided.length;
      const token = await w.token({ scope: "threads:read" });
      const response = await w.app.request(`/custom/notes`, { method: "POST", headers: { ...w.canaryHeaders(), authorization: `Bearer ${token}` }, body: JSON.stringify({ text: w.canary }) });
      if (response.status !== 403) throw new Error(`custom route answered ${response.status}`);
      return lastDecision(w, before);
    } },
    // the tool guard
    { name: "tool arguments with no JSON form", reason: "tool_arguments_unreadable", drive: (w) => viaToolGuard(w, decisions, { name: "search_docs", args: { query: w.canary, n: 1n } as Record<string, unknown> }, runUser(w)) },
    { name: "a tool call in a run with no user", reason: "tool_run_unauthenticated", drive: (w) => viaToolGuard(w, decisions, { name: "search_docs", args: { query: w.canary } }, undefined) },
    { name: "a tool that is not installed", reason: "tool_unknown", drive: (w) => viaToolGuard(w, decisions, { name: "drop_tables", args: { query: w.canary } }, runUser(w)) },
    { name: "a tool the user may not use", reason: "tool_not_allowed", drive: (w) => viaToolGuard(w, decisions, { name: "refund", args: { note: w.canary } }, runUser(w)) },
    { name: "an argument capture hook that fails", reason: "tool_capture_failed", drive: (w) => viaToolGuard(w, decisions, { name: "search_docs", args: { query: w.canary } }, runUser(w), () => {
      throw new Error(`capture failed on ${w.canary}`);
    }) },
    // inside a graph, failing the run (no wrapper: not decision events)
    { name: "a run with no tenant in its config", reason: "tenant_context_missing", drive: async (w) => thrown(() => requireRunTenant({ configurable: { langgraph_auth_user: { identity: w.canary } } })) },
    { name: "a tenant key for a bad tenant id", reason: "invalid_tenant_id", drive: async (w) => thrown(() => tenantKey(`${w.canary}::x`, "t")) },
    { name: "a malformed tenant key", reason: "invalid_tenant_key", drive: async (w) => thrown(() => parseTenantKey(`${w.canary}`)) },
  ];
}
