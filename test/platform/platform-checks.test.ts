/**
 * What the package relies on the platform for, proven with the platform's
 * own values and the server's matcher (`isAuthMatching`); what it refuses
 * because the platform would drop a rewrite; crons, Studio, operator
 * unlocks, `auth.cache`; and that nothing a client sends makes a handler or
 * `authenticate` throw anything but the package's coded errors: a raw error
 * makes the worker answer 500, and the platform shows its message to the
 * client (docs/platform-contract.md#errors).
 *
 * Every refusal asserted here is also held to its decision event on the
 * worker's standard error (recorded-refusals.ts): reason code, route id (for
 * `authenticate`) or event (for a handler), caller, and the client's message
 * is the exact message followed by ` (decision_id: <that event's id>)`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAuthMatching } from "@langchain/langgraph-api/auth";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";
import { AUTH_EVENTS } from "../../src/policy/event-permission.ts";
import { PLATFORM_ROUTES } from "../../src/policy/platform-routes.ts";
import { applyPlatformValue, startPlatformWorker, type PlatformHost } from "../support/platform-host.ts";
import { decisionRecordsIn, isDecisionEvent } from "../support/decision-events.ts";
import type { RefusalReason } from "../../src/errors.ts";
import { refusalChecker, type RefusalChecker } from "./recorded-refusals.ts";

const ALL = "threads:read threads:write assistants:read assistants:write crons:read crons:write store:read store:write";
const OPS = "ops:prune ops:mcp ops:a2a ops:crons ops:protocol ops:webhooks ops:langsmith";
const GRAPHS = JSON.stringify({ echo: "./examples/graphs/echo.ts:graph" });
const URL_BASE = "https://agent.example.langgraph.app";

let issuer: LocalIssuer;
let worker: PlatformHost;
let operatorWorker: PlatformHost;
let check: RefusalChecker;
let operatorCheck: RefusalChecker;

beforeAll(async () => {
  issuer = await startLocalIssuer();
  // Every refusal written on its own (the flood bound's default burst is 20 per reason and caller).
  const base = { ...issuer.env(), LANGSERVE_GRAPHS: GRAPHS, AUTH_DECISION_LOG_BURST: "1000" };
  [worker, operatorWorker] = await Promise.all([
    startPlatformWorker({ ...base, LANGGRAPH_AUTH: JSON.stringify({ path: "./src/auth.ts:auth" }) }),
    startPlatformWorker({
      ...base,
      LANGGRAPH_AUTH: JSON.stringify({ path: "./src/auth.ts:auth", disable_studio_auth: false }),
      AUTH_ROUTE_PERMISSIONS: "prune=ops:prune,mcp=ops:mcp,a2a=ops:a2a,crons=ops:crons,protocol=ops:protocol,webhooks=ops:webhooks,langsmith=ops:langsmith",
      AUTH_STUDIO_ACCESS: "operator",
    }),
  ]);
  check = refusalChecker(worker);
  operatorCheck = refusalChecker(operatorWorker);
});

afterAll(async () => {
  await worker?.stop();
  await operatorWorker?.stop();
  await issuer?.close();
});

/** Authenticate like the platform; the context after its JSON round trip. */
async function contextOf(sub: string, tenant: string, scope = ALL, host = worker, path = "/threads/search", method = "POST") {
  const token = await issuer.sign({ sub, org_id: tenant, scope });
  const answer = await host.authenticate(`${URL_BASE}${path}`, method, { authorization: `Bearer ${token}` });
  if (!answer.ok) throw new Error(`authenticate refused: ${answer.status} ${answer.message}`);
  return answer.context;
}

/** The caller a decision event names. */
const ALICE = { tenant_id: "acme", subject: "alice" };
/** A handler's refusal as the record must show it: 403 on the platform, whatever the package threw. */
const handler = (event: string, reason: RefusalReason, message: string, caller: { tenant_id: string; subject: string } | null = ALICE) =>
  ({ status: 403, message, source: "handler" as const, reason, event, caller });

const ACME_THREAD = { tenant_id: "acme", owner: "alice", graph_id: "echo" };
const GLOBEX_THREAD = { tenant_id: "globex", owner: "bob", graph_id: "echo" };

describe("what the platform checks itself, proven with its matcher", () => {
  it("run creation: assistants:search with { metadata: {} } finds the caller's assistant and system ones, never another tenant's", async () => {
    const alice = await contextOf("alice", "acme");
    const answer = await worker.authorize("assistants:search", { metadata: {} }, alice);
    if (!answer.ok) throw new Error(answer.message);
    // The platform's lookup: a system assistant is exempt from the filter.
    const findable = (assistant: { metadata: Record<string, unknown>; system: boolean }) =>
      assistant.system || isAuthMatching(assistant.metadata, answer.filters as never);
    expect(findable({ metadata: { tenant_id: "acme", owner: "alice" }, system: false })).toBe(true);
    expect(findable({ metadata: { tenant_id: "acme", owner: "viola" }, system: false })).toBe(true);
    expect(findable({ metadata: { tenant_id: "globex", owner: "bob" }, system: false })).toBe(false);
    expect(findable({ metadata: { created_by: "system" }, system: true })).toBe(true);
    // The filter alone does not match a system assistant: only the platform's exemption lets it through.
    expect(isAuthMatching({ created_by: "system" }, answer.filters as never)).toBe(false);
  });

  it("joins and streams: threads:read with { run_id, thread_id } matches the caller's thread only", async () => {
    for (const [ctx, own, theirs] of [
      [await contextOf("alice", "acme"), ACME_THREAD, GLOBEX_THREAD],
      [await contextOf("bob", "globex"), GLOBEX_THREAD, ACME_THREAD],
    ] as const) {
      const answer = await worker.authorize("threads:read", { run_id: "0192f000-0000-7000-8000-000000000101", thread_id: "0192f000-0000-7000-8000-000000000001" }, ctx);
      if (!answer.ok) throw new Error(answer.message);
      expect(isAuthMatching(own, answer.filters as never)).toBe(true);
      expect(isAuthMatching(theirs, answer.filters as never)).toBe(false);
    }
  });

  it("bulk cancel: threads:update with { thread_id, action, metadata: { run_ids, status } } is filtered to the caller's thread", async () => {
    const alice = await contextOf("alice", "acme");
    const value = { thread_id: "t", action: "interrupt", metadata: { run_ids: ["r1"], status: "pending" } };
    const answer = await worker.authorize("threads:update", value, alice);
    if (!answer.ok) throw new Error(answer.message);
    expect(isAuthMatching(ACME_THREAD, answer.filters as never)).toBe(true);
    expect(isAuthMatching(GLOBEX_THREAD, answer.filters as never)).toBe(false);
    const viewer = await contextOf("viola", "acme", "threads:read");
    await check.refused(
      () => worker.authorize("threads:update", value, viewer),
      handler("threads:update", "insufficient_scope", 'insufficient_scope: the "threads:write" permission is required', { tenant_id: "acme", subject: "viola" }),
    );
  });

  it("an empty, missing or operator-shaped tenant never yields a filter that matches everything", async () => {
    const user = { identity: "mallory", permissions: ALL.split(" "), display_name: "m", is_authenticated: true, issuer: "x" };
    const contexts = [
      { user: { ...user, tenant_id: "" }, scopes: ALL.split(" ") },
      { user: { ...user }, scopes: ALL.split(" ") },
      { user: { ...user, tenant_id: { $eq: "" } }, scopes: ALL.split(" ") },
      { user: { ...user, tenant_id: { $ne: "acme" } }, scopes: ALL.split(" ") },
      { user: { ...user, tenant_id: null }, scopes: ALL.split(" ") },
    ];
    for (const context of contexts) {
      for (const event of AUTH_EVENTS) {
        // No caller on the record: a user without a valid tenant is no principal of this package.
        const { answer } = await check.refused(
          () => worker.authorize(event, { namespace: ["acme"], metadata: {}, thread_id: "t" }, context),
          handler(event, "no_tenant", "forbidden: this caller has no tenant", null),
          `${event} ${JSON.stringify(context.user)}`,
        );
        expect(answer.worker.status).toBe(403);
      }
    }
  });
});

describe("run creation on the platform reads value.kwargs and refuses what it cannot rewrite", () => {
  const run = (kwargs: Record<string, unknown>) => ({ thread_id: "t", assistant_id: "a", metadata: {}, kwargs });
  const LANGSMITH = "forbidden: LangSmith feedback keys and tracing projects are not allowed";
  const refusals: [string, Record<string, unknown>, string][] = [
    ["a webhook", { webhook: "https://evil.example/hook" }, "forbidden: run webhooks are not allowed"],
    ["feedback keys", { feedback_keys: ["x"] }, LANGSMITH],
    ["a LangSmith project", { config: { configurable: { langsmith_project: "theirs" } } }, LANGSMITH],
    ["a foreign configurable.user_id", { config: { configurable: { user_id: "bob" } } }, "forbidden: config.configurable.user_id must be omitted or be your own identity"],
    [
      "a credential header the platform copied into configurable",
      { config: { configurable: { "x-forwarded-access-token": "t0k" } } },
      "forbidden: the run carries a credential-like x-* request header that would be stored with it; strip it at your proxy or leave it out of http.configurable_headers",
    ],
  ];

  it.each(refusals)("refuses %s (403), on the record", async (_, kwargs, message) => {
    const context = await contextOf("alice", "acme");
    const { answer } = await check.refused(() => worker.authorize("threads:create_run", run(kwargs), context), handler("threads:create_run", "run_option_refused", message));
    expect(answer.worker.status).toBe(403);
    expect(answer.message).not.toContain("t0k");
  });

  it("allows the caller's own user_id and ordinary headers", async () => {
    const answer = await worker.authorize(
      "threads:create_run",
      run({ config: { configurable: { user_id: "alice", "x-request-id": "r", "user-agent": "sdk" } } }),
      await contextOf("alice", "acme"),
    );
    expect(answer).toMatchObject({ ok: true, filters: { tenant_id: "acme" } });
  });

  it("with the operator permissions, webhooks and LangSmith options are allowed", async () => {
    const ops = await contextOf("olga", "acme", `${ALL} ${OPS}`, operatorWorker);
    const answer = await operatorWorker.authorize("threads:create_run", run({ webhook: "https://hooks.example/x", feedback_keys: ["k"] }), ops);
    expect(answer).toMatchObject({ ok: true, filters: { tenant_id: "acme" } });
  });
});

describe("updates and assistants: what the merge would keep", () => {
  it("a forged tenant_id is overwritten by the merge; an owner key is refused", async () => {
    const alice = await contextOf("alice", "acme");
    const value = { thread_id: "t", metadata: { tenant_id: "globex", topic: "x" } };
    const answer = await worker.authorize("threads:update", value, alice);
    if (!answer.ok) throw new Error(answer.message);
    expect((applyPlatformValue(value, answer.value) as { metadata: unknown }).metadata).toEqual({ tenant_id: "acme", topic: "x" });
    for (const event of ["threads:update", "assistants:update"]) {
      await check.refused(
        () => worker.authorize(event, { thread_id: "t", assistant_id: "a", metadata: { owner: "alice" } }, alice),
        handler(event, "platform_value_refused", 'forbidden: the "owner" metadata key cannot be changed'),
      );
      await check.refused(
        () => worker.authorize(event, { thread_id: "t", assistant_id: "a", metadata: "x" }, alice),
        handler(event, "invalid_value", "forbidden: metadata must be an object"),
      );
    }
  });

  it("a create's client owner and tenant are overwritten by the stamp", async () => {
    const value = { thread_id: "t", metadata: { tenant_id: "globex", owner: "bob" } };
    const answer = await worker.authorize("threads:create", value, await contextOf("alice", "acme"));
    if (!answer.ok) throw new Error(answer.message);
    expect((applyPlatformValue(value, answer.value) as { metadata: unknown }).metadata).toEqual({ tenant_id: "acme", owner: "alice" });
  });

  it("an assistant cannot carry a LangSmith project (the run check cannot read it back on the platform)", async () => {
    const alice = await contextOf("alice", "acme");
    for (const event of ["assistants:create", "assistants:update"]) {
      await check.refused(
        () => worker.authorize(event, { assistant_id: "a", graph_id: "echo", metadata: {}, config: { configurable: { langsmith_project: "p" } } }, alice),
        handler(event, "run_option_refused", "forbidden: LangSmith feedback keys and tracing projects are not allowed"),
      );
    }
  });
});

describe("crons", () => {
  it("a cron on a thread is tied to the tenant through the thread; its payload is checked like a run", async () => {
    const alice = await contextOf("alice", "acme");
    const cron = { thread_id: "t", payload: { assistant_id: "a", input: {} }, schedule: "* * * * *" };
    const answer = await worker.authorize("crons:create", cron, alice);
    expect(answer).toMatchObject({ ok: true, filters: { tenant_id: "acme" } });
    if (answer.ok) expect(isAuthMatching(GLOBEX_THREAD, answer.filters as never)).toBe(false);
    const payloads: [unknown, RefusalReason, string][] = [
      [{ webhook: "https://x.example" }, "run_option_refused", "forbidden: run webhooks are not allowed"],
      [{ config: { configurable: { user_id: "bob" } } }, "run_option_refused", "forbidden: config.configurable.user_id must be omitted or be your own identity"],
      [{ langsmith_tracer: { project_name: "p" } }, "run_option_refused", "forbidden: LangSmith feedback keys and tracing projects are not allowed"],
      [[], "invalid_value", "forbidden: the cron payload must be an object"],
    ];
    for (const [payload, reason, message] of payloads) {
      const label = JSON.stringify(payload);
      await check.refused(() => worker.authorize("crons:create", { ...cron, payload }, alice), handler("crons:create", reason, message), `crons:create ${label}`);
      await check.refused(() => worker.authorize("crons:update", { cron_id: "c", payload }, alice), handler("crons:update", reason, message), `crons:update ${label}`);
    }
  });

  it("a cron without a thread is refused for tenants with 403 and the reason, in authenticate and in crons:create, and allowed with the operator permission", async () => {
    const token = await issuer.sign({ sub: "alice", org_id: "acme", scope: ALL });
    const reason = "forbidden: a cron without a thread cannot be tied to your tenant; create it on a thread (POST /threads/{thread_id}/runs/crons)";
    // The route guard names it an operator route (the crons group); the handler, a value the platform cannot tie to a tenant.
    const refused = await check.refused(() => worker.authenticate(`${URL_BASE}/runs/crons`, "POST", { authorization: `Bearer ${token}` }), {
      status: 403,
      message: reason,
      source: "authenticate",
      reason: "operator_only",
      route: "crons.create",
      caller: ALICE,
    });
    expect(refused.answer.worker.status).toBe(403);
    const alice = await contextOf("alice", "acme");
    const answer = await check.refused(
      () => worker.authorize("crons:create", { payload: { assistant_id: "a" }, schedule: "* * * * *" }, alice),
      handler("crons:create", "platform_value_refused", reason),
    );
    expect(answer.answer.worker.status).toBe(403);
    // The operator permission unlocks both.
    const opsToken = await issuer.sign({ sub: "olga", org_id: "acme", scope: `${ALL} ${OPS}` });
    expect(await operatorWorker.authenticate(`${URL_BASE}/runs/crons`, "POST", { authorization: `Bearer ${opsToken}` })).toMatchObject({ ok: true });
    const ops = await contextOf("olga", "acme", `${ALL} ${OPS}`, operatorWorker, "/runs/crons");
    expect(await operatorWorker.authorize("crons:create", { payload: { assistant_id: "a" }, schedule: "* * * * *" }, ops)).toMatchObject({ ok: true });
  });

  it("crons need crons:read / crons:write", async () => {
    const viewer = await contextOf("viola", "acme", "threads:read threads:write");
    for (const event of ["crons:create", "crons:search", "crons:update", "crons:delete"]) {
      const permission = event === "crons:search" ? "crons:read" : "crons:write";
      await check.refused(
        () => worker.authorize(event, { thread_id: "t", cron_id: "c" }, viewer),
        handler(event, "insufficient_scope", `insufficient_scope: the "${permission}" permission is required`, { tenant_id: "acme", subject: "viola" }),
      );
    }
  });
});

describe("operator routes", () => {
  const operatorRoutes = PLATFORM_ROUTES.filter((r) => r.operator);

  it.each(operatorRoutes.map((r) => [`${r.method} ${r.path}`, r] as const))("%s: refused for tenants (404, or 403 for crons without a thread), allowed with its permission", async (_, route) => {
    const url = `${URL_BASE}${route.path.replace(/:[a-z_]+/g, "0192f000-0000-7000-8000-000000000001")}`;
    const tenant = await issuer.sign({ sub: "alice", org_id: "acme", scope: ALL });
    const expected =
      route.id === "crons.create"
        ? { status: 403, message: "forbidden: a cron without a thread cannot be tied to your tenant; create it on a thread (POST /threads/{thread_id}/runs/crons)" }
        : { status: 404, message: "not found" };
    await operatorCheck.refused(() => operatorWorker.authenticate(url, route.method, { authorization: `Bearer ${tenant}` }), {
      ...expected,
      source: "authenticate",
      reason: "operator_only",
      route: route.id,
      caller: ALICE,
    });
    const ops = await issuer.sign({ sub: "olga", org_id: "acme", scope: `${ALL} ${OPS}` });
    expect(await operatorWorker.authenticate(url, route.method, { authorization: `Bearer ${ops}` })).toMatchObject({ ok: true });
  });

  it("?delete_threads=true is refused without its permission; unknown routes are 404", async () => {
    const token = await issuer.sign({ sub: "alice", org_id: "acme", scope: ALL });
    const auth = { authorization: `Bearer ${token}` };
    await check.refused(() => worker.authenticate(`${URL_BASE}/assistants/a?delete_threads=true`, "DELETE", auth), {
      status: 403,
      message: "forbidden: delete_threads=true deletes threads of every tenant that name this assistant; delete threads one by one",
      source: "authenticate",
      reason: "operator_only",
      route: "assistants.delete",
      caller: ALICE,
    });
    for (const [path, method] of [["/internal/truncate", "POST"], ["/threads/%73earch", "POST"], ["/threads/t/history", "GET"], ["/metrics", "GET"]] as const) {
      const { answer } = await check.refused(
        () => worker.authenticate(`${URL_BASE}${path}`, method, auth),
        { status: 404, message: "not found", source: "authenticate", reason: "unknown_route", route: null, caller: ALICE },
        `${method} ${path}`,
      );
      expect(answer.worker.status).toBe(404);
    }
  });
});

describe("Studio on the platform", () => {
  const studio = {
    user: { kind: "StudioUser", identity: "dev@example.com", display_name: "dev@example.com", is_authenticated: true, permissions: [] },
    scopes: [],
  };

  it("AUTH_STUDIO_ACCESS=none (default): a Studio user gets nothing", async () => {
    for (const event of AUTH_EVENTS) {
      // No caller on the record: the Studio user carries no tenant of a verified token.
      const { answer } = await check.refused(
        () => worker.authorize(event, { namespace: ["acme"], metadata: {} }, studio),
        handler(event, "studio_access_refused", "forbidden: LangGraph Studio users have no access here (AUTH_STUDIO_ACCESS=none)", null),
      );
      expect(answer.worker.status).toBe(403);
    }
  });

  it("AUTH_STUDIO_ACCESS=operator: every tenant readable, nothing writable", async () => {
    for (const event of AUTH_EVENTS) {
      const call = () => operatorWorker.authorize(event, { namespace: ["acme"], metadata: {}, thread_id: "t" }, studio);
      const read = /:(read|search|get|list_namespaces)$/.test(event);
      if (read) expect(await operatorCheck.unrecorded(call, event), event).toMatchObject({ ok: true, filters: undefined });
      else {
        await operatorCheck.refused(
          call,
          handler(event, "studio_access_refused", `forbidden: the Studio operator view is read-only ("${event}" is a write)`, null),
        );
      }
    }
  });

  it("a token whose sub is Studio's identity is still a tenant principal, not the operator view", async () => {
    const impostor = await contextOf("langgraph-studio-user", "acme", ALL, operatorWorker);
    const answer = await operatorWorker.authorize("threads:search", { metadata: {} }, impostor);
    expect(answer).toMatchObject({ ok: true, filters: { tenant_id: "acme" } });
  });
});

describe("nothing a client sends gives a 500", () => {
  const odd: unknown[] = [
    null, 1, "s", [], {}, { metadata: "x" }, { metadata: [] }, { namespace: "acme" }, { namespace: [{}] }, { namespace: [] },
    { kwargs: "x" }, { kwargs: { config: "x" } }, { kwargs: { config: { configurable: null } } }, { kwargs: [] },
    { payload: "x" }, { thread_id: 5 }, { config: [] }, { metadata: { owner: null } },
  ];

  it("authorize answers every odd value with a coded error or allows it", async () => {
    const alice = await contextOf("alice", "acme");
    let refused = 0;
    for (const event of [...AUTH_EVENTS, "threads:stream", "runs:create"]) {
      for (const value of odd) {
        // A refusal is on the record, and its message ends with the id of its event.
        const answer = await check.anyRefusal(() => worker.authorize(event, value, alice), { source: "handler", event }, `${event} ${JSON.stringify(value)}`);
        if (answer.ok) continue;
        refused += 1;
        // A coded error reaches the worker as an HTTPException with its own status; a raw one as a 500.
        expect(answer.worker.status, `${event} ${JSON.stringify(value)}: ${answer.message}`).toBeLessThan(500);
        expect(answer.status).toBe(403);
      }
    }
    expect(refused).toBeGreaterThan(100);
  });

  it("authenticate answers odd requests with a coded error", async () => {
    const token = await issuer.sign({ sub: "alice", org_id: "acme", scope: ALL });
    const cases: [string, string, Record<string, string>][] = [
      [`${URL_BASE}/threads`, "POST", { authorization: "Basic YTpi" }],
      [`${URL_BASE}/threads`, "POST", { authorization: "Bearer" }],
      [`${URL_BASE}/threads`, "POST", { authorization: `Bearer ${token}, Bearer ${token}` }],
      [`${URL_BASE}/threads/../internal/truncate`, "POST", { authorization: `Bearer ${token}` }],
      [`${URL_BASE}//threads`, "POST", { authorization: `Bearer ${token}` }],
      [`${URL_BASE}/threads`, "PURGE", { authorization: `Bearer ${token}` }],
      [`${URL_BASE}/threads/search?x=%ZZ`, "POST", { authorization: `Bearer ${token}` }],
    ];
    let refused = 0;
    for (const [url, method, headers] of cases) {
      const answer = await check.anyRefusal(() => worker.authenticate(url, method, headers), { source: "authenticate" }, `${method} ${url}`);
      if (answer.ok) continue;
      refused += 1;
      // A coded error comes back with its status in the body; anything else as a bare 403.
      expect(answer.worker.body, `${method} ${url}`).toHaveProperty("status", answer.status);
      expect(answer.status).toBeLessThan(500);
    }
    expect(refused).toBeGreaterThanOrEqual(6);
  });
});

describe("the record", () => {
  it("each worker wrote exactly one decision event per refusal above, and nothing else", () => {
    expect(check.recorded).toBeGreaterThan(0);
    expect(decisionRecordsIn(worker.stderr()).filter(isDecisionEvent)).toHaveLength(check.recorded);
    expect(decisionRecordsIn(worker.stderr())).toHaveLength(check.recorded);
    expect(operatorCheck.recorded).toBeGreaterThan(0);
    expect(decisionRecordsIn(operatorWorker.stderr())).toHaveLength(operatorCheck.recorded);
  });
});

describe("auth.cache in langgraph.json", () => {
  it("stops the worker at start: a cached answer would skip authenticate's route decisions", async () => {
    const started = startPlatformWorker({
      ...issuer.env(),
      LANGSERVE_GRAPHS: GRAPHS,
      LANGGRAPH_AUTH: JSON.stringify({ path: "./src/auth.ts:auth", cache: { cache_keys: ["authorization"], ttl_seconds: 60, max_size: 100 } }),
    });
    await expect(started).rejects.toThrow(/remove "auth": \{ "cache": \.\.\. \}/);
  });
});
