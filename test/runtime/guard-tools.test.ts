import { AIMessage, HumanMessage, ToolMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { MessagesAnnotation, StateGraph } from "@langchain/langgraph";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { NO_TENANT, digestArguments, type AuditRecord } from "../../src/audit/audit-record.ts";
import { createAuditLog } from "../../src/audit/audit-log.ts";
import type { AuditSink } from "../../src/audit/audit-sink.ts";
import { canonicalJson } from "../../src/audit/canonical-json.ts";
import { verifyAuditLog } from "../../src/audit/verify-audit-chain.ts";
import { createToolGuard, readRunCaller } from "../../src/runtime/guard-tools.ts";
import { createToolPolicy } from "../../src/policy/tool-policy.ts";

const viewer = { identity: "vera", tenant_id: "acme", permissions: ["threads:write"], roles: ["viewer"], is_authenticated: true };
const admin = { ...viewer, identity: "ada", roles: ["admin"] };
const configFor = (user: unknown) => ({ configurable: { thread_id: "thread-1", run_id: "run-1", langgraph_auth_user: user } });

function memorySink(options: { failAppend?: boolean; failReady?: boolean } = {}): AuditSink & { records: AuditRecord[] } {
  const records: AuditRecord[] = [];
  const heads = new Map<string, { seq: number; hash: string }>();
  return {
    records,
    async append(tenant, seal) {
      if (options.failAppend) throw new Error("sink down");
      const record = seal(heads.get(tenant));
      heads.set(tenant, { seq: record.seq, hash: record.hash });
      records.push(record);
      return record;
    },
    async ready() {
      if (options.failReady) throw new Error("sink down");
    },
  };
}

function setup(sinkOptions: Parameters<typeof memorySink>[0] = {}, guardOptions: { captureArguments?: (a: unknown, t: string) => unknown } = {}) {
  const ran: string[] = [];
  const searchDocs = tool(async ({ query }) => { ran.push("search_docs"); return `docs about ${query}`; }, {
    name: "search_docs", description: "search", schema: z.object({ query: z.string() }),
  });
  const refund = tool(async ({ invoice_id }) => { ran.push("refund"); return `refunded ${invoice_id}`; }, {
    name: "refund", description: "refund", schema: z.object({ invoice_id: z.string(), card: z.string().optional() }),
  });
  const broken = tool(async () => { ran.push("broken"); throw new Error("secret-db-password in message"); }, {
    name: "broken", description: "always fails", schema: z.object({}),
  });
  const tools = [searchDocs, refund, broken];
  const sink = memorySink(sinkOptions);
  const policy = createToolPolicy({ everyone: ["search_docs", "broken"], roles: { admin: ["refund"] } });
  const guard = createToolGuard({ policy, audit: createAuditLog({ sink }), ...guardOptions });
  const graph = new StateGraph(MessagesAnnotation).addNode("tools", guard.createToolNode(tools)).addEdge("__start__", "tools").compile();
  const callTools = (user: unknown, calls: { name: string; args: Record<string, unknown> }[]) =>
    graph.invoke(
      { messages: [new HumanMessage("hi"), new AIMessage({ content: "", tool_calls: calls.map((c, i) => ({ ...c, id: `call_${i}`, type: "tool_call" as const })) })] },
      configFor(user),
    );
  return { ran, tools, sink, guard, callTools };
}

const toolMessages = (state: { messages: unknown[] }) => state.messages.filter((m): m is ToolMessage => ToolMessage.isInstance(m as ToolMessage));

describe("createToolGuard: ToolNode", () => {
  it("refuses a call the model emits for a tool its user may not use: nothing runs, the model reads why, the refusal is recorded", async () => {
    const { ran, sink, callTools } = setup();
    const state = await callTools(viewer, [{ name: "refund", args: { invoice_id: "inv_7" } }]);
    expect(ran).toEqual([]);
    const [message] = toolMessages(state);
    expect(message).toMatchObject({ status: "error", name: "refund", tool_call_id: "call_0" });
    expect(message!.content).toMatch(/not available to this user, so it was not run/);
    expect(sink.records).toEqual([
      expect.objectContaining({
        tenant_id: "acme", user_id: "vera", thread_id: "thread-1", run_id: "run-1", tool: "refund", tool_call_id: "call_0",
        decision: "refused", reason: "the policy does not allow this tool for this user", duration_ms: 0,
        args_sha256: digestArguments({ invoice_id: "inv_7" }),
        // The decision log's code and id: the same refusal as its decision event.
        reason_code: "tool_not_allowed", decision_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      }),
    ]);
    expect(sink.records[0]).not.toHaveProperty("args");
  });

  it("runs an allowed call and records it", async () => {
    const { ran, sink, callTools } = setup();
    const state = await callTools(admin, [{ name: "refund", args: { invoice_id: "inv_7" } }]);
    expect(ran).toEqual(["refund"]);
    expect(toolMessages(state)[0]).toMatchObject({ status: "success", content: "refunded inv_7" });
    const [started, finished] = sink.records;
    expect(sink.records).toHaveLength(2);
    expect(started).toMatchObject({ v: 2, decision: "started", reason: null, user_id: "ada", tool: "refund", duration_ms: 0, tool_call_id: "call_0" });
    expect(finished).toMatchObject({ v: 2, decision: "finished", reason: null, user_id: "ada", tool: "refund", call_id: started!.call_id });
    expect(started!.call_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("writes the started record before the tool runs, and the outcome after it", async () => {
    const sink = memorySink();
    const seenWhileRunning: (string | undefined)[] = [];
    const probe = tool(async () => { seenWhileRunning.push(...sink.records.map((r) => r.decision)); return "ok"; }, {
      name: "search_docs", description: "probe", schema: z.object({}),
    });
    const guard = createToolGuard({ policy: createToolPolicy({ everyone: ["search_docs"] }), audit: createAuditLog({ sink }), callId: () => "call-1" });
    await guard.invoke([probe], { name: "search_docs", args: {}, id: "c1" }, configFor(viewer));
    expect(seenWhileRunning).toEqual(["started"]);
    expect(sink.records.map((r) => [r.decision, r.call_id])).toEqual([["started", "call-1"], ["finished", "call-1"]]);
  });

  it("records a failing tool as failed, without its error message", async () => {
    const { ran, sink, callTools } = setup();
    const state = await callTools(viewer, [{ name: "broken", args: {} }]);
    expect(ran).toEqual(["broken"]);
    expect(toolMessages(state)[0]).toMatchObject({ status: "error" });
    expect(sink.records.map((r) => r.decision)).toEqual(["started", "failed"]);
    expect(sink.records[1]).toMatchObject({ decision: "failed", reason: "the tool reported an error", call_id: sink.records[0]!.call_id });
    expect(JSON.stringify(sink.records)).not.toContain("secret-db-password");
  });

  it("records a tool that throws past the node (handleToolErrors: false) before the error surfaces", async () => {
    const { ran, sink, guard, tools } = setup();
    const node = guard.createToolNode(tools, { handleToolErrors: false });
    const message = new AIMessage({ content: "", tool_calls: [{ name: "broken", args: {}, id: "c9", type: "tool_call" }] });
    await expect(node.invoke({ messages: [message] }, configFor(viewer))).rejects.toThrow(/secret-db-password/);
    expect(ran).toEqual(["broken"]);
    expect(sink.records).toEqual([
      expect.objectContaining({ decision: "started", tool_call_id: "c9" }),
      expect.objectContaining({ decision: "failed", reason: "the tool threw Error", tool_call_id: "c9" }),
    ]);
  });

  it("refuses tools that do not exist and calls from a run with no valid user", async () => {
    const { ran, sink, callTools } = setup();
    await callTools(admin, [{ name: "drop_tables", args: {} }]);
    await callTools(undefined, [{ name: "search_docs", args: { query: "x" } }]);
    await callTools({ identity: "langgraph-studio-user", permissions: [] }, [{ name: "search_docs", args: { query: "x" } }]);
    expect(ran).toEqual([]);
    expect(sink.records.map((r) => [r.tenant_id, r.decision, r.reason])).toEqual([
      ["acme", "refused", "no tool of this name is installed"],
      [NO_TENANT, "refused", "the run has no authenticated user"],
      [NO_TENANT, "refused", "the run has no authenticated user"],
    ]);
  });

  it("records every one of several parallel calls on one intact chain", async () => {
    const { ran, sink, callTools } = setup();
    await callTools(viewer, [
      { name: "search_docs", args: { query: "a" } }, { name: "refund", args: { invoice_id: "1" } },
      { name: "broken", args: {} }, { name: "search_docs", args: { query: "b" } },
    ]);
    expect(ran.sort()).toEqual(["broken", "search_docs", "search_docs"]);
    expect(sink.records.map((r) => r.decision).sort()).toEqual(["failed", "finished", "finished", "refused", "started", "started", "started"]);
    expect(verifyAuditLog(sink.records.map((r) => `${canonicalJson(r)}\n`).join(""))).toMatchObject({ ok: true, records: 7, unfinished: [] });
  });

  it("does not run the tool when the sink cannot write, and fails the run instead of losing the record", async () => {
    const notReady = setup({ failReady: true });
    await expect(notReady.callTools(admin, [{ name: "refund", args: { invoice_id: "1" } }])).rejects.toMatchObject({ code: "ERR_AUDIT_WRITE" });
    expect(notReady.ran).toEqual([]);

    // Write-ahead: the started record cannot be written, so the tool does not run either.
    const down = setup({ failAppend: true });
    await expect(down.callTools(viewer, [{ name: "refund", args: { invoice_id: "1" } }])).rejects.toMatchObject({ code: "ERR_AUDIT_WRITE" });
    await expect(down.callTools(viewer, [{ name: "search_docs", args: { query: "q" } }])).rejects.toMatchObject({ code: "ERR_AUDIT_WRITE" });
    expect(down.ran).toEqual([]);
  });

  it("fails the run when the outcome cannot be written after the tool ran, leaving the call on record as unfinished", async () => {
    const { ran, sink, guard, tools } = setup();
    const append = sink.append.bind(sink);
    sink.append = (tenant, seal) => (sink.records.length === 0 ? append(tenant, seal) : Promise.reject(new Error("disk full")));
    await expect(guard.invoke(tools, { name: "search_docs", args: { query: "q" }, id: "c1" }, configFor(viewer))).rejects.toMatchObject({ code: "ERR_AUDIT_WRITE" });
    expect(ran).toEqual(["search_docs"]);
    const report = verifyAuditLog(sink.records.map((r) => `${canonicalJson(r)}\n`).join(""));
    expect(report).toMatchObject({ ok: true, records: 1 });
    expect(report.unfinished).toEqual([expect.objectContaining({ tenant_id: "acme", tool: "search_docs", call_id: sink.records[0]!.call_id, tool_call_id: "c1" })]);
  });

  it("stores arguments only through the capture hook", async () => {
    const { sink, callTools } = setup({}, {
      captureArguments: (args) => ({ ...(args as Record<string, unknown>), card: "[redacted]" }),
    });
    await callTools(admin, [{ name: "refund", args: { invoice_id: "inv_7", card: "4111111111111111" } }]);
    expect(sink.records[0]).toMatchObject({ decision: "started", args: { invoice_id: "inv_7", card: "[redacted]" } });
    expect(sink.records[1]).toMatchObject({ decision: "finished" });
    expect(sink.records[1]).not.toHaveProperty("args");
    expect(JSON.stringify(sink.records)).not.toContain("4111");
  });

  it("refuses the call, runs nothing and records why when the capture hook fails", async () => {
    for (const captureArguments of [() => { throw new Error("redactor bug"); }, () => ({ n: Number.NaN })]) {
      const { ran, sink, callTools } = setup({}, { captureArguments });
      const state = await callTools(admin, [{ name: "refund", args: { invoice_id: "inv_7" } }]);
      expect(ran).toEqual([]);
      expect(toolMessages(state)[0]).toMatchObject({ status: "error" });
      expect(sink.records).toEqual([expect.objectContaining({ decision: "refused", reason: "the argument capture hook failed" })]);
      expect(sink.records[0]).not.toHaveProperty("args");
    }
  });

  it("refuses two tools with the same name", () => {
    const { guard, tools } = setup();
    expect(() => guard.createToolNode([tools[0]!, tools[0]!])).toThrow(/two tools are named "search_docs"/);
  });
});

describe("createToolGuard: binding and plain calls", () => {
  it("binds only the caller's tools; a run without a user gets none", () => {
    const { guard, tools } = setup();
    expect(guard.toolsFor(configFor(viewer), tools).map((t) => t.name)).toEqual(["search_docs", "broken"]);
    expect(guard.toolsFor(configFor(admin), tools).map((t) => t.name)).toEqual(["search_docs", "refund", "broken"]);
    expect(guard.toolsFor(undefined, tools)).toEqual([]);
    expect(guard.toolsFor({ configurable: {} }, tools)).toEqual([]);
  });

  it("guards a plain tool call the same way", async () => {
    const { guard, tools, ran, sink } = setup();
    const refused = await guard.invoke(tools, { name: "refund", args: { invoice_id: "1" }, id: "c1" }, configFor(viewer));
    expect(refused).toMatchObject({ status: "error", tool_call_id: "c1" });
    const allowed = await guard.invoke(tools, { name: "refund", args: { invoice_id: "1" }, id: "c2" }, configFor(admin));
    expect(allowed).toMatchObject({ status: "success", content: "refunded 1" });
    const failed = await guard.invoke(tools, { name: "broken", args: {}, id: "c3" }, configFor(admin));
    expect(failed).toMatchObject({ status: "error" });
    expect(ran).toEqual(["refund", "broken"]);
    expect(sink.records.map((r) => r.decision)).toEqual(["refused", "started", "finished", "started", "failed"]);
    expect(new Set(sink.records.map((r) => r.call_id)).size).toBe(3);
  });

  it("reads the caller from the run config", () => {
    expect(readRunCaller(configFor(admin))).toMatchObject({ tenant_id: "acme", user_id: "ada", thread_id: "thread-1", run_id: "run-1" });
    expect(readRunCaller(undefined)).toMatchObject({ user: undefined, tenant_id: NO_TENANT, user_id: null, thread_id: null, run_id: null });
  });

  it("refuses bad options at construction", () => {
    const audit = createAuditLog({ sink: memorySink() });
    expect(() => createToolGuard({ audit } as never)).toThrow(/options\.policy/);
    expect(() => createToolGuard({ policy: createToolPolicy({}) } as never)).toThrow(/options\.audit/);
    expect(() => createToolGuard({ policy: createToolPolicy({}), audit, captureArguments: "yes" as never })).toThrow(/captureArguments/);
    expect(() => createToolGuard({ policy: createToolPolicy({}), audit, callId: "id" as never })).toThrow(/options\.callId must be a function/);
  });
});
