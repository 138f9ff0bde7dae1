import { Annotation, END, InMemoryStore, START, StateGraph } from "@langchain/langgraph";
import { BaseStore } from "@langchain/langgraph-checkpoint";
import { describe, expect, it } from "vitest";
import { InvalidOptionError, InvalidTenantIdError, MissingTenantContextError } from "../../src/errors.ts";
import { createTenantStore, createTenantStoreForRun } from "../../src/runtime/tenant-store.ts";

async function seeded() {
  const inner = new InMemoryStore();
  const acme = createTenantStore(inner, "acme");
  const globex = createTenantStore(inner, "globex");
  // acme2 starts with "acme": a string-prefix bug would leak it.
  const acme2 = createTenantStore(inner, "acme2");
  for (const [store, name] of [[acme, "acme"], [globex, "globex"], [acme2, "acme2"]] as const) {
    await store.put(["memories"], "m1", { owner: name, text: `${name} secret` });
    await store.put(["memories", "work"], "m2", { owner: name, text: `${name} work` });
    await store.put(["profile"], "p", { owner: name });
  }
  return { inner, acme, globex, acme2 };
}

describe("createTenantStore over InMemoryStore", () => {
  it("puts the tenant first in every stored namespace", async () => {
    const { inner } = await seeded();
    const all = await inner.listNamespaces({ limit: 100 });
    expect(all.map((ns) => ns[0]).sort()).toEqual(["acme", "acme", "acme", "acme2", "acme2", "acme2", "globex", "globex", "globex"]);
    expect((await inner.get(["acme", "memories"], "m1"))?.value.text).toBe("acme secret");
  });

  it("get, search and listNamespaces return only the caller's items, with the tenant taken off", async () => {
    const { acme } = await seeded();
    const item = await acme.get(["memories"], "m1");
    expect(item).toMatchObject({ namespace: ["memories"], key: "m1", value: { owner: "acme" } });

    const everything = await acme.search([], { limit: 100 });
    expect(everything.map((i) => i.value.owner)).toEqual(["acme", "acme", "acme"]);
    expect(everything.map((i) => i.namespace).sort()).toEqual([["memories"], ["memories", "work"], ["profile"]]);

    const filtered = await acme.search(["memories"], { filter: { owner: "globex" } });
    expect(filtered).toEqual([]);

    expect((await acme.listNamespaces()).sort()).toEqual([["memories"], ["memories", "work"], ["profile"]]);
    expect(await acme.listNamespaces({ prefix: ["memories"] })).toEqual([["memories"], ["memories", "work"]]);
    expect(await acme.listNamespaces({ maxDepth: 1 })).toEqual([["memories"], ["profile"]]);
    expect(await acme.listNamespaces({ suffix: ["work"] })).toEqual([["memories", "work"]]);
    // A suffix that could only match by reaching into the tenant label matches nothing.
    expect(await acme.listNamespaces({ suffix: ["*", "profile"] })).toEqual([]);
    expect(await acme.listNamespaces({ suffix: ["acme", "profile"] })).toEqual([]);
    expect(await acme.listNamespaces({ prefix: ["*"], limit: 1, offset: 1 })).toHaveLength(1);
  });

  it("the stored item is not mutated when the tenant is taken off", async () => {
    const { inner, acme } = await seeded();
    await acme.get(["memories"], "m1");
    expect((await inner.get(["acme", "memories"], "m1"))?.namespace).toEqual(["acme", "memories"]);
  });

  it("cannot reach another tenant whatever namespace is named", async () => {
    const { acme, globex } = await seeded();
    expect(await acme.get(["globex", "memories"], "m1")).toBeNull();
    expect(await acme.search(["globex"])).toEqual([]);
    expect(await acme.listNamespaces({ prefix: ["globex"] })).toEqual([]);
    // A delete aimed at the other tenant's path lands in the caller's own space.
    await acme.delete(["globex", "memories"], "m1");
    expect((await globex.get(["memories"], "m1"))?.value.text).toBe("globex secret");
    // Labels that would forge a path are refused by LangGraph's own rule, as a coded 400 that does not echo them.
    const refusal = (rule: RegExp) => ({ code: "ERR_STORE_NAMESPACE_INVALID", status: 400, message: expect.not.stringContaining("globex"), cause: expect.objectContaining({ name: "InvalidNamespaceError", message: expect.stringMatching(rule) }) });
    await expect(acme.get(["globex:memories"], "m1")).rejects.toMatchObject(refusal(/colon/));
    await expect(acme.search(["x.y"])).rejects.toMatchObject(refusal(/period/));
  });

  it("delete and batch stay inside the tenant", async () => {
    const { acme, globex } = await seeded();
    await acme.delete(["memories"], "m1");
    expect(await acme.get(["memories"], "m1")).toBeNull();
    expect((await globex.get(["memories"], "m1"))?.value.text).toBe("globex secret");

    const [got, , found, namespaces] = await globex.batch([
      { namespace: ["memories"], key: "m1" },
      { namespace: ["memories"], key: "m3", value: { owner: "globex", text: "new" } },
      { namespacePrefix: ["memories"], limit: 10, offset: 0 },
      { matchConditions: [{ matchType: "prefix", path: ["memories"] }], limit: 10, offset: 0 },
    ] as const);
    expect(got?.value.owner).toBe("globex");
    // InMemoryStore applies a batch's puts after its reads: m1 and m2, both globex's.
    expect(found.map((i) => i.value.owner)).toEqual(["globex", "globex"]);
    expect(namespaces).toEqual([["memories"], ["memories", "work"]]);
    expect(await acme.get(["memories"], "m3")).toBeNull();
    expect((await globex.get(["memories"], "m3"))?.value.text).toBe("new");
    await expect(globex.batch([{ namespace: [], key: "k", value: { a: 1 } }])).rejects.toThrow(/empty/);
  });

  it("refuses bad tenants and stores", () => {
    const inner = new InMemoryStore();
    expect(() => createTenantStore(inner, "acme::x")).toThrow(InvalidTenantIdError);
    expect(() => createTenantStore(inner, "")).toThrow(InvalidTenantIdError);
    expect(() => createTenantStore({} as BaseStore, "acme")).toThrow(expect.objectContaining({ name: "InvalidOptionError", option: "store", status: 500 }));
    expect(() => createTenantStoreForRun(undefined as never, { configurable: { langgraph_auth_user: { tenant_id: "acme" } } })).toThrow(InvalidOptionError);
    expect(() => createTenantStoreForRun(inner, { configurable: {} })).toThrow(MissingTenantContextError);
  });
});

describe("tenants of every legal shape", () => {
  // "acme.eu" and "acme_eu" would both be "acme_eu" under a naive "." → "_"
  // encoding; "langgraph" is a root label LangGraph stores refuse.
  const tenants = ["acme.eu", "acme_eu", "acme-eu", "acme", "a.b_c-d", "langgraph"];

  it("each keeps its own items under its own label, in a store that refuses \".\" in labels", async () => {
    const inner = new InMemoryStore();
    for (const tenant of tenants) {
      const store = createTenantStore(inner, tenant);
      await store.put(["memories"], "m", { owner: tenant });
    }
    for (const tenant of tenants) {
      const store = createTenantStore(inner, tenant);
      expect((await store.get(["memories"], "m"))?.value).toEqual({ owner: tenant });
      expect((await store.search([], { limit: 100 })).map((i) => i.value.owner)).toEqual([tenant]);
      expect(await store.listNamespaces({ limit: 100 })).toEqual([["memories"]]);
    }
    const labels = (await inner.listNamespaces({ limit: 100 })).map((ns) => ns[0]).sort();
    expect(labels).toEqual(["acme", "acme-eu", "acme~2Eeu", "acme~5Feu", "a~2Eb~5Fc-d", "~6Canggraph"].sort());
  });
});

describe("a real compiled graph using the store of its run's tenant", () => {
  it("each tenant's node reads and writes its own memories", async () => {
    const inner = new InMemoryStore();
    const State = Annotation.Root({ note: Annotation<string>, seen: Annotation<string[]> });
    const graph = new StateGraph(State)
      .addNode("remember", async (state, config) => {
        const store = createTenantStoreForRun(config.store!, config);
        await store.put(["memories"], "latest", { note: state.note });
        const items = await store.search(["memories"]);
        return { seen: items.map((i) => String(i.value.note)) };
      })
      .addEdge(START, "remember")
      .addEdge("remember", END)
      .compile({ store: inner });
    const as = (tenant: string) => ({ configurable: { langgraph_auth_user: { identity: "u", tenant_id: tenant } } });
    const a = await graph.invoke({ note: "acme note" }, as("acme"));
    const g = await graph.invoke({ note: "globex note" }, as("globex"));
    expect(a.seen).toEqual(["acme note"]);
    expect(g.seen).toEqual(["globex note"]);
    await expect(graph.invoke({ note: "x" }, { configurable: {} })).rejects.toBeInstanceOf(MissingTenantContextError);
  });
});
