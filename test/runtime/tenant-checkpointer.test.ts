import type { RunnableConfig } from "@langchain/core/runnables";
import { Annotation, MemorySaver, StateGraph, START, END } from "@langchain/langgraph";
import { emptyCheckpoint, type BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import { describe, expect, it } from "vitest";
import { InvalidTenantKeyError, MissingTenantContextError } from "../../src/errors.ts";
import { createTenantCheckpointer, TenantCheckpointSaver } from "../../src/runtime/tenant-checkpointer.ts";

const run = (tenant: string | undefined, thread?: string, extra: Record<string, unknown> = {}): RunnableConfig => ({
  configurable: {
    ...(thread !== undefined ? { thread_id: thread } : {}),
    checkpoint_ns: "",
    ...(tenant !== undefined ? { langgraph_auth_user: { identity: `user-${tenant}`, tenant_id: tenant } } : {}),
    ...extra,
  },
});

async function putCheckpoint(saver: BaseCheckpointSaver, config: RunnableConfig, value: string) {
  const checkpoint = { ...emptyCheckpoint(), channel_values: { note: value }, channel_versions: { note: 1 } };
  return saver.put(config, checkpoint, { source: "input", step: -1, parents: {} }, { note: 1 });
}

async function collect<T>(it: AsyncGenerator<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe("createTenantCheckpointer over MemorySaver", () => {
  it("keeps two tenants with the same raw thread ids apart, and shows raw thread ids", async () => {
    const memory = new MemorySaver();
    const saver = createTenantCheckpointer(memory);
    const a1 = await putCheckpoint(saver, run("acme", "t1"), "acme secret");
    await putCheckpoint(saver, run("globex", "t1"), "globex secret");

    expect(a1.configurable?.thread_id).toBe("t1");
    // Stored under the namespaced key, nothing under the raw one.
    expect(Object.keys(memory.storage).sort()).toEqual(["acme::t1", "globex::t1"]);

    const a = await saver.getTuple(run("acme", "t1"));
    const g = await saver.getTuple(run("globex", "t1"));
    expect(a?.checkpoint.channel_values).toEqual({ note: "acme secret" });
    expect(g?.checkpoint.channel_values).toEqual({ note: "globex secret" });
    expect(a?.config.configurable?.thread_id).toBe("t1");
    expect(await saver.getTuple(run("initech", "t1"))).toBeUndefined();
  });

  it.each([
    ["the other tenant's namespaced key", "globex::t1"],
    ["a key one level deeper", "acme::globex::t1"],
    ["a fullwidth-colon forgery", "globex\uff1a\uff1at1"],
  ])("refuses or misses when a thread id is %s", async (_why, thread) => {
    const saver = createTenantCheckpointer(new MemorySaver());
    await putCheckpoint(saver, run("globex", "t1"), "globex secret");
    await expect(saver.getTuple(run("acme", thread))).rejects.toBeInstanceOf(InvalidTenantKeyError);
    await expect(collect(saver.list(run("acme", thread)))).rejects.toBeInstanceOf(InvalidTenantKeyError);
    await expect(putCheckpoint(saver, run("acme", thread), "x")).rejects.toBeInstanceOf(InvalidTenantKeyError);
  });

  it("never returns another tenant's checkpoint even if the wrapped saver holds raw or foreign keys", async () => {
    const memory = new MemorySaver();
    // State written without the wrapper (legacy or a bug elsewhere).
    await putCheckpoint(memory, { configurable: { thread_id: "t1", checkpoint_ns: "" } }, "unscoped");
    await putCheckpoint(memory, { configurable: { thread_id: "globex::t1", checkpoint_ns: "" } }, "globex");
    const saver = createTenantCheckpointer(memory);
    expect(await saver.getTuple(run("acme", "t1"))).toBeUndefined();
    expect(await collect(saver.list(run("acme")))).toEqual([]);
    const globex = await collect(saver.list(run("globex")));
    expect(globex.map((t) => [t.config.configurable?.thread_id, t.checkpoint.channel_values])).toEqual([["t1", { note: "globex" }]]);
  });

  it("lists across threads only the caller's tuples and applies the limit after filtering", async () => {
    const saver = createTenantCheckpointer(new MemorySaver());
    for (let i = 0; i < 5; i++) {
      await putCheckpoint(saver, run("globex", `g${i}`), "g");
      await putCheckpoint(saver, run("acme", `a${i}`), "a");
    }
    const all = await collect(saver.list(run("acme")));
    expect(all.map((t) => t.config.configurable?.thread_id).sort()).toEqual(["a0", "a1", "a2", "a3", "a4"]);
    const two = await collect(saver.list(run("acme"), { limit: 2 }));
    expect(two).toHaveLength(2);
    expect(two.every((t) => String(t.config.configurable?.thread_id).startsWith("a"))).toBe(true);
  });

  it("namespaces putWrites and deleteThread, and delete only reaches the caller's thread", async () => {
    const memory = new MemorySaver();
    const saver = createTenantCheckpointer(memory);
    const acme = await putCheckpoint(saver, run("acme", "t1"), "a");
    await putCheckpoint(saver, run("globex", "t1"), "g");
    await saver.putWrites({ ...run("acme", "t1"), configurable: { ...run("acme", "t1").configurable, ...acme.configurable } }, [["note", "w"]], "task-1");
    const tuple = await saver.getTuple(run("acme", "t1"));
    expect(tuple?.pendingWrites).toEqual([["task-1", "note", "w"]]);

    await saver.deleteThread("t1", run("acme"));
    expect(await saver.getTuple(run("acme", "t1"))).toBeUndefined();
    expect((await saver.getTuple(run("globex", "t1")))?.checkpoint.channel_values).toEqual({ note: "g" });
    expect(Object.keys(memory.storage)).toEqual(["globex::t1"]);
  });

  it("fails closed with no tenant, an invalid tenant, or no thread id", async () => {
    const saver = createTenantCheckpointer(new MemorySaver());
    await expect(saver.getTuple(run(undefined, "t1"))).rejects.toBeInstanceOf(MissingTenantContextError);
    await expect(saver.getTuple(run(undefined, "t1"))).rejects.toMatchObject({ code: "ERR_TENANT_CONTEXT_MISSING", status: 403 });
    await expect(saver.getTuple(run("acme::x", "t1"))).rejects.toBeInstanceOf(MissingTenantContextError);
    await expect(saver.getTuple(run("", "t1"))).rejects.toBeInstanceOf(MissingTenantContextError);
    await expect(
      saver.getTuple({ configurable: { thread_id: "t1", langgraph_auth_user: "acme" } }),
    ).rejects.toBeInstanceOf(MissingTenantContextError);
    await expect(collect(saver.list(run(undefined)))).rejects.toBeInstanceOf(MissingTenantContextError);
    await expect(putCheckpoint(saver, run(undefined, "t1"), "x")).rejects.toBeInstanceOf(MissingTenantContextError);
    await expect(saver.putWrites(run(undefined, "t1"), [["a", 1]], "t")).rejects.toBeInstanceOf(MissingTenantContextError);
    await expect(saver.deleteThread("t1")).rejects.toBeInstanceOf(MissingTenantContextError);
    await expect(saver.getTuple(run("acme"))).rejects.toBeInstanceOf(InvalidTenantKeyError);
    await expect(saver.getTuple(run("acme", 7 as unknown as string))).rejects.toBeInstanceOf(InvalidTenantKeyError);
  });

  it("refuses a non-saver and a bad option at construction with a TypeError naming it", () => {
    expect(() => createTenantCheckpointer({} as BaseCheckpointSaver)).toThrow(/`saver`/);
    expect(() => createTenantCheckpointer(new MemorySaver(), { tenantFromConfig: "x" as never })).toThrow(/`tenantFromConfig`/);
  });

  it("takes the tenant from a custom reader", async () => {
    const saver = createTenantCheckpointer(new MemorySaver(), {
      tenantFromConfig: (config) => (config?.configurable as Record<string, unknown> | undefined)?.org,
    });
    await putCheckpoint(saver, { configurable: { thread_id: "t1", org: "acme" } }, "a");
    expect((await saver.getTuple({ configurable: { thread_id: "t1", org: "acme" } }))?.checkpoint.channel_values).toEqual({ note: "a" });
    expect(await saver.getTuple({ configurable: { thread_id: "t1", org: "globex" } })).toBeUndefined();
  });
});

describe("a real compiled graph on the tenant checkpointer", () => {
  const State = Annotation.Root({
    messages: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
  });

  function build(checkpointer: BaseCheckpointSaver) {
    return new StateGraph(State)
      .addNode("echo", (state) => ({ messages: [`echo:${state.messages.at(-1)}`] }))
      .addEdge(START, "echo")
      .addEdge("echo", END)
      .compile({ checkpointer });
  }

  it("deleteThread without a config, called inside a run, takes the run's tenant", async () => {
    const memory = new MemorySaver();
    const saver = new TenantCheckpointSaver(memory);
    await build(saver).invoke({ messages: ["a"] }, run("acme", "scratch"));
    await build(saver).invoke({ messages: ["g"] }, run("globex", "scratch"));
    const cleaner = new StateGraph(State)
      .addNode("clean", async () => {
        await saver.deleteThread("scratch");
        return { messages: ["cleaned"] };
      })
      .addEdge(START, "clean")
      .addEdge("clean", END)
      .compile();
    await cleaner.invoke({ messages: [] }, run("acme"));
    expect(Object.keys(memory.storage)).toEqual(["globex::scratch"]);
  });

  it("resumes each tenant's own thread state and history, with the same thread id", async () => {
    const memory = new MemorySaver();
    const saver = new TenantCheckpointSaver(memory);
    const graph = build(saver);

    await graph.invoke({ messages: ["acme-1"] }, run("acme", "shared"));
    await graph.invoke({ messages: ["globex-1"] }, run("globex", "shared"));
    const acme = await graph.invoke({ messages: ["acme-2"] }, run("acme", "shared"));
    expect(acme.messages).toEqual(["acme-1", "echo:acme-1", "acme-2", "echo:acme-2"]);

    const globexState = await graph.getState(run("globex", "shared"));
    expect(globexState.values.messages).toEqual(["globex-1", "echo:globex-1"]);
    expect(globexState.config.configurable?.thread_id).toBe("shared");

    const history = [];
    for await (const snapshot of graph.getStateHistory(run("globex", "shared"))) history.push(snapshot);
    expect(history.length).toBeGreaterThan(0);
    expect(history.every((s) => !JSON.stringify(s.values).includes("acme"))).toBe(true);

    // An update as acme lands in acme's thread only.
    await graph.updateState(run("acme", "shared"), { messages: ["acme-note"] });
    expect((await graph.getState(run("globex", "shared"))).values.messages).not.toContain("acme-note");

    await expect(graph.invoke({ messages: ["x"] }, run(undefined, "shared"))).rejects.toBeInstanceOf(MissingTenantContextError);
    expect(Object.keys(memory.storage).sort()).toEqual(["acme::shared", "globex::shared"]);
  });
});
