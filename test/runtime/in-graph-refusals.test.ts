/**
 * Refusals inside a graph are on the record: each refusal of the tenant
 * checkpointer, the tenant store and `requireRunTenant` is one decision event
 * (source `runtime`), with the reason, the helper, the run's ids and the
 * caller of the run's verified user, and never the offending value. In
 * process, with the real wrappers over LangGraph's own `MemorySaver` and
 * `InMemoryStore` inside real compiled graphs, and the process's real
 * decision log (`AUTH_DECISION_LOG*`, the one the `Auth` of the process
 * uses), read through its observer API. The same on `langgraph dev`:
 * test/integration/decision-log.test.ts ("refusals inside a graph").
 */
import { Annotation, END, InMemoryStore, MemorySaver, START, StateGraph, type LangGraphRunnableConfig } from "@langchain/langgraph";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DecisionEvent } from "../../src/decision/decision-event.ts";
import { createDecisionLog } from "../../src/decision/decision-log.ts";
import { decisionLogFromEnv } from "../../src/decision/shared-decision-log.ts";
import { InvalidStoreNamespaceError, InvalidTenantIdError, InvalidTenantKeyError, MissingTenantContextError } from "../../src/errors.ts";
import { requireRunTenant } from "../../src/runtime/run-tenant.ts";
import { createTenantCheckpointer } from "../../src/runtime/tenant-checkpointer.ts";
import { createTenantStore, createTenantStoreForRun } from "../../src/runtime/tenant-store.ts";

const CANARY = `Canary${Math.random().toString(36).slice(2, 12)}`;
const alice = { identity: "alice", tenant_id: "acme", permissions: [], roles: [], display_name: CANARY, is_authenticated: true };

let events: DecisionEvent[];
let unsubscribe: () => void;
beforeEach(() => {
  events = [];
  unsubscribe = decisionLogFromEnv(process.env).onDecision((event) => void events.push(event));
});
afterEach(() => unsubscribe());

const runtimeEvents = () => events.filter((e) => e.source === "runtime");

const State = Annotation.Root({ note: Annotation<string> });

describe("the tenant checkpointer", () => {
  const graph = new StateGraph(State)
    .addNode("noop", () => ({ note: "done" }))
    .addEdge(START, "noop")
    .addEdge("noop", END)
    .compile({ checkpointer: createTenantCheckpointer(new MemorySaver()) });

  it("a run with no tenant in its config: one tenant_context_missing event, with the thread and run ids", async () => {
    await expect(graph.invoke({ note: "x" }, { configurable: { thread_id: "t-1", run_id: "r-1" } })).rejects.toBeInstanceOf(MissingTenantContextError);
    expect(runtimeEvents()).toEqual([
      expect.objectContaining({
        host: "app", outcome: "refused", status: 403, reason: "tenant_context_missing", event: "checkpointer",
        resources: { thread_id: "t-1", run_id: "r-1" }, tenant_id: null, subject: null,
      }),
    ]);
  });

  it("a thread id that breaks the key rule: one invalid_tenant_key event naming the caller, without the id", async () => {
    const config = { configurable: { thread_id: `${CANARY}::x`, langgraph_auth_user: alice } };
    await expect(graph.invoke({ note: "x" }, config)).rejects.toBeInstanceOf(InvalidTenantKeyError);
    expect(runtimeEvents()).toEqual([
      expect.objectContaining({ status: 400, reason: "invalid_tenant_key", event: "checkpointer", resources: {}, tenant_id: "acme", subject: "alice" }),
    ]);
    expect(JSON.stringify(events)).not.toContain(CANARY);
  });

  it("goes to the decision log it is given", async () => {
    const given: DecisionEvent[] = [];
    const decisions = createDecisionLog({ sink: { write: () => undefined } });
    decisions.onDecision((event) => void given.push(event));
    const saver = createTenantCheckpointer(new MemorySaver(), { decisions, host: "dev" });
    await expect(saver.getTuple({ configurable: { thread_id: "t-2" } })).rejects.toBeInstanceOf(MissingTenantContextError);
    expect(given).toEqual([expect.objectContaining({ host: "dev", source: "runtime", reason: "tenant_context_missing", event: "checkpointer" })]);
    expect(runtimeEvents()).toEqual([]);
  });
});

describe("the tenant store", () => {
  it("a namespace LangGraph refuses, inside a real graph: one invalid_value event naming the run's caller, never the labels", async () => {
    const graph = new StateGraph(State)
      .addNode("remember", async (_state: typeof State.State, config: LangGraphRunnableConfig) => {
        await createTenantStoreForRun(config.store!, config).put([`${CANARY}.label`], "k", { text: "x" });
        return { note: "stored" };
      })
      .addEdge(START, "remember")
      .addEdge("remember", END)
      .compile({ store: new InMemoryStore() });
    await expect(graph.invoke({ note: "x" }, { configurable: { thread_id: "t-3", run_id: "r-3", langgraph_auth_user: alice } })).rejects.toBeInstanceOf(
      InvalidStoreNamespaceError,
    );
    expect(runtimeEvents()).toEqual([
      expect.objectContaining({ status: 400, reason: "invalid_value", event: "store", resources: { thread_id: "t-3", run_id: "r-3" }, tenant_id: "acme", subject: "alice" }),
    ]);
    expect(JSON.stringify(events)).not.toContain(CANARY);
  });

  it("a tenant id that breaks the rule: one invalid_tenant_id event, without the id", () => {
    expect(() => createTenantStore(new InMemoryStore(), `${CANARY}::x`)).toThrow(InvalidTenantIdError);
    expect(runtimeEvents()).toEqual([expect.objectContaining({ status: 400, reason: "invalid_tenant_id", event: "store", tenant_id: null })]);
    expect(JSON.stringify(events)).not.toContain(CANARY);
  });

  it("a store made for a run with no tenant: recorded once (as the store's), not once per helper", () => {
    expect(() => createTenantStoreForRun(new InMemoryStore(), { configurable: { thread_id: "t-4" } })).toThrow(MissingTenantContextError);
    expect(runtimeEvents()).toEqual([expect.objectContaining({ reason: "tenant_context_missing", event: "store", resources: { thread_id: "t-4" } })]);
  });
});

describe("requireRunTenant, called by a graph's own code", () => {
  it("one tenant_context_missing event for a tenant id that breaks the rule", () => {
    expect(() => requireRunTenant({ configurable: { langgraph_auth_user: { ...alice, tenant_id: "a::b" } } })).toThrow(MissingTenantContextError);
    // The user's tenant is not a valid one: no caller is named.
    expect(runtimeEvents()).toEqual([expect.objectContaining({ reason: "tenant_context_missing", event: "run_config", status: 403, tenant_id: null, subject: null })]);
  });

  it("nothing for a run with a tenant", () => {
    expect(requireRunTenant({ configurable: { langgraph_auth_user: alice } })).toBe("acme");
    expect(runtimeEvents()).toEqual([]);
  });
});
