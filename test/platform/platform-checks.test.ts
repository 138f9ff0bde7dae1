/**
 * What the package relies on the platform for, proven with the platform's
 * own values and the server's matcher (`isAuthMatching`); what it refuses
 * because the platform would drop a rewrite; crons, Studio, operator
 * unlocks, `auth.cache`; and that nothing a client sends makes a handler or
 * `authenticate` throw anything but the package's coded errors: a raw error
 * makes the worker answer 500, and the platform shows its message to the
 * client (docs/platform-contract.md#errors).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAuthMatching } from "@langchain/langgraph-api/auth";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";
import { AUTH_EVENTS } from "../../src/policy/event-permission.ts";
import { PLATFORM_ROUTES } from "../../src/policy/platform-routes.ts";
import { applyPlatformValue, startPlatformWorker, type PlatformHost } from "../support/platform-host.ts";

const ALL = "threads:read threads:write assistants:read assistants:write crons:read crons:write store:read store:write";
const OPS = "ops:prune ops:mcp ops:a2a ops:crons ops:protocol ops:webhooks ops:langsmith";
const GRAPHS = JSON.stringify({ echo: "./examples/graphs/echo.ts:graph" });
const URL_BASE = "https://agent.example.langgraph.app";

let issuer: LocalIssuer;
let worker: PlatformHost;
let operatorWorker: PlatformHost;

beforeAll(async () => {
  issuer = await startLocalIssuer();
  const base = { ...issuer.env(), LANGSERVE_GRAPHS: GRAPHS };
  [worker, operatorWorker] = await Promise.all([
    startPlatformWorker({ ...base, LANGGRAPH_AUTH: JSON.stringify({ path: "./src/auth.ts:auth" }) }),
    startPlatformWorker({
      ...base,
      LANGGRAPH_AUTH: JSON.stringify({ path: "./src/auth.ts:auth", disable_studio_auth: false }),
      AUTH_ROUTE_PERMISSIONS: "prune=ops:prune,mcp=ops:mcp,a2a=ops:a2a,crons=ops:crons,protocol=ops:protocol,webhooks=ops:webhooks,langsmith=ops:langsmith",
      AUTH_STUDIO_ACCESS: "operator",
    }),
  ]);
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
    expect(await worker.authorize("threads:update", value, viewer)).toMatchObject({ ok: false, status: 403 });
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
        const answer = await worker.authorize(event, { namespace: ["acme"], metadata: {}, thread_id: "t" }, context);
        expect(answer, `${event} ${JSON.stringify(context.user)}`).toMatchObject({ ok: false, status: 403, message: "forbidden: this caller has no tenant", worker: { status: 403 } });
      }
    }
  });
});

describe("run creation on the platform reads value.kwargs and refuses what it cannot rewrite", () => {
  const run = (kwargs: Record<string, unknown>) => ({ thread_id: "t", assistant_id: "a", metadata: {}, kwargs });
  const refusals: [string, Record<string, unknown>, RegExp][] = [
    ["a webhook", { webhook: "https://evil.example/hook" }, /run webhooks are not allowed/],
    ["feedback keys", { feedback_keys: ["x"] }, /LangSmith/],
    ["a LangSmith project", { config: { configurable: { langsmith_project: "theirs" } } }, /LangSmith/],
    ["a foreign configurable.user_id", { config: { configurable: { user_id: "bob" } } }, /user_id must be omitted/],
    ["a credential header the platform copied into configurable", { config: { configurable: { "x-forwarded-access-token": "t0k" } } }, /credential-like x-\* request header/],
  ];

  it.each(refusals)("refuses %s (403)", async (_, kwargs, message) => {
    const answer = await worker.authorize("threads:create_run", run(kwargs), await contextOf("alice", "acme"));
    expect(answer).toMatchObject({ ok: false, status: 403, worker: { status: 403 } });
    expect(answer.ok || answer.message).toMatch(message);
    expect(answer.ok || answer.message).not.toContain("t0k");
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
      const owner = await worker.authorize(event, { thread_id: "t", assistant_id: "a", metadata: { owner: "alice" } }, alice);
      expect(owner).toMatchObject({ ok: false, status: 403 });
      expect(owner.ok || owner.message).toContain('"owner" metadata key cannot be changed');
      expect(await worker.authorize(event, { thread_id: "t", assistant_id: "a", metadata: "x" }, alice)).toMatchObject({ ok: false, status: 403 });
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
      const answer = await worker.authorize(event, { assistant_id: "a", graph_id: "echo", metadata: {}, config: { configurable: { langsmith_project: "p" } } }, alice);
      expect(answer, event).toMatchObject({ ok: false, status: 403 });
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
    for (const payload of [{ webhook: "https://x.example" }, { config: { configurable: { user_id: "bob" } } }, { langsmith_tracer: { project_name: "p" } }, []]) {
      expect(await worker.authorize("crons:create", { ...cron, payload }, alice), JSON.stringify(payload)).toMatchObject({ ok: false, status: 403 });
      expect(await worker.authorize("crons:update", { cron_id: "c", payload }, alice), JSON.stringify(payload)).toMatchObject({ ok: false, status: 403 });
    }
  });

  it("a cron without a thread is refused for tenants with 403 and the reason, in authenticate and in crons:create, and allowed with the operator permission", async () => {
    const token = await issuer.sign({ sub: "alice", org_id: "acme", scope: ALL });
    const reason = "forbidden: a cron without a thread cannot be tied to your tenant; create it on a thread (POST /threads/{thread_id}/runs/crons)";
    const refused = await worker.authenticate(`${URL_BASE}/runs/crons`, "POST", { authorization: `Bearer ${token}` });
    expect(refused).toMatchObject({ ok: false, status: 403, message: reason, worker: { status: 403 } });
    const answer = await worker.authorize("crons:create", { payload: { assistant_id: "a" }, schedule: "* * * * *" }, await contextOf("alice", "acme"));
    expect(answer).toMatchObject({ ok: false, status: 403, message: reason, worker: { status: 403 } });
    // The operator permission unlocks both.
    const opsToken = await issuer.sign({ sub: "olga", org_id: "acme", scope: `${ALL} ${OPS}` });
    expect(await operatorWorker.authenticate(`${URL_BASE}/runs/crons`, "POST", { authorization: `Bearer ${opsToken}` })).toMatchObject({ ok: true });
    const ops = await contextOf("olga", "acme", `${ALL} ${OPS}`, operatorWorker, "/runs/crons");
    expect(await operatorWorker.authorize("crons:create", { payload: { assistant_id: "a" }, schedule: "* * * * *" }, ops)).toMatchObject({ ok: true });
  });

  it("crons need crons:read / crons:write", async () => {
    const viewer = await contextOf("viola", "acme", "threads:read threads:write");
    for (const event of ["crons:create", "crons:search", "crons:update", "crons:delete"]) {
      expect(await worker.authorize(event, { thread_id: "t", cron_id: "c" }, viewer)).toMatchObject({ ok: false, status: 403 });
    }
  });
});

describe("operator routes", () => {
  const operatorRoutes = PLATFORM_ROUTES.filter((r) => r.operator);

  it.each(operatorRoutes.map((r) => [`${r.method} ${r.path}`, r] as const))("%s: refused for tenants (404, or 403 for crons without a thread), allowed with its permission", async (_, route) => {
    const url = `${URL_BASE}${route.path.replace(/:[a-z_]+/g, "0192f000-0000-7000-8000-000000000001")}`;
    const tenant = await issuer.sign({ sub: "alice", org_id: "acme", scope: ALL });
    const expected = route.id === "crons.create" ? { status: 403, message: expect.stringMatching(/^forbidden: a cron without a thread/) } : { status: 404, message: "not found" };
    expect(await operatorWorker.authenticate(url, route.method, { authorization: `Bearer ${tenant}` })).toMatchObject({ ok: false, ...expected });
    const ops = await issuer.sign({ sub: "olga", org_id: "acme", scope: `${ALL} ${OPS}` });
    expect(await operatorWorker.authenticate(url, route.method, { authorization: `Bearer ${ops}` })).toMatchObject({ ok: true });
  });

  it("?delete_threads=true is refused without its permission; unknown routes are 404", async () => {
    const token = await issuer.sign({ sub: "alice", org_id: "acme", scope: ALL });
    const auth = { authorization: `Bearer ${token}` };
    expect(await worker.authenticate(`${URL_BASE}/assistants/a?delete_threads=true`, "DELETE", auth)).toMatchObject({
      ok: false,
      status: 403,
      message: expect.stringMatching(/^forbidden: delete_threads=true deletes threads of every tenant/),
    });
    for (const [path, method] of [["/internal/truncate", "POST"], ["/threads/%73earch", "POST"], ["/threads/t/history", "GET"], ["/metrics", "GET"]]) {
      expect(await worker.authenticate(`${URL_BASE}${path}`, method!, auth), path).toMatchObject({ ok: false, status: 404, message: "not found", worker: { status: 404 } });
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
      const answer = await worker.authorize(event, { namespace: ["acme"], metadata: {} }, studio);
      expect(answer, event).toMatchObject({
        ok: false,
        status: 403,
        message: "forbidden: LangGraph Studio users have no access here (AUTH_STUDIO_ACCESS=none)",
        worker: { status: 403 },
      });
    }
  });

  it("AUTH_STUDIO_ACCESS=operator: every tenant readable, nothing writable", async () => {
    for (const event of AUTH_EVENTS) {
      const answer = await operatorWorker.authorize(event, { namespace: ["acme"], metadata: {}, thread_id: "t" }, studio);
      const read = /:(read|search|get|list_namespaces)$/.test(event);
      expect(answer, event).toMatchObject(read ? { ok: true, filters: undefined } : { ok: false, status: 403 });
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
        const answer = await worker.authorize(event, value, alice);
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
      const answer = await worker.authenticate(url, method, headers);
      if (answer.ok) continue;
      refused += 1;
      // A coded error comes back with its status in the body; anything else as a bare 403.
      expect(answer.worker.body, `${method} ${url}`).toHaveProperty("status", answer.status);
      expect(answer.status).toBeLessThan(500);
    }
    expect(refused).toBeGreaterThanOrEqual(6);
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
