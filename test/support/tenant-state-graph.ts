/**
 * A test graph that exercises this package's tenant store and tenant
 * checkpointer wrappers inside a real server run.
 *
 * Input: one human message holding JSON `{ "key": string, "text"?: string }`.
 * With `text`, the run stores it under `["memories"]` through the run's
 * tenant store (the server's own store, so the item is also visible through
 * the store API under the tenant's label) and saves a checkpoint for thread
 * `key` through the tenant checkpointer. Then it answers, as JSON, what the
 * wrappers show it: the item, a search, the namespaces, the checkpoint, and
 * the thread ids the shared saver holds (to show how they are namespaced).
 *
 * Every run in the server process shares one saver, as tenants share a
 * database, so one tenant's run can look for another tenant's thread.
 */
import { AIMessage } from "@langchain/core/messages";
import { MemorySaver, MessagesAnnotation, StateGraph, type LangGraphRunnableConfig } from "@langchain/langgraph";
import { emptyCheckpoint, type CheckpointMetadata } from "@langchain/langgraph-checkpoint";
import { createTenantCheckpointer } from "../../src/runtime/tenant-checkpointer.ts";
import { createTenantStoreForRun } from "../../src/runtime/tenant-store.ts";

const saver = new MemorySaver();

async function remember(state: typeof MessagesAnnotation.State, config: LangGraphRunnableConfig) {
  const last = state.messages.at(-1);
  const command = JSON.parse(typeof last?.content === "string" ? last.content : "{}") as { key: string; text?: string };
  if (!config.store) throw new Error("the server gave the run no store");
  const store = createTenantStoreForRun(config.store, config);
  const checkpointer = createTenantCheckpointer(saver);
  const threadConfig = {
    configurable: { thread_id: command.key, checkpoint_ns: "", langgraph_auth_user: config.configurable?.langgraph_auth_user },
  };
  if (command.text !== undefined) {
    await store.put(["memories"], command.key, { text: command.text });
    const metadata = { source: "input", step: -1, parents: {}, text: command.text } as CheckpointMetadata;
    await checkpointer.put(threadConfig, emptyCheckpoint(), metadata, {});
  }
  const item = await store.get(["memories"], command.key);
  const search = await store.search(["memories"], { limit: 100 });
  const namespaces = await store.listNamespaces({ limit: 100 });
  const tuple = await checkpointer.getTuple(threadConfig);
  const seen = {
    item: item?.value ?? null,
    search: search.map((i) => i.value.text).sort(),
    namespaces,
    checkpoint_text: (tuple?.metadata as { text?: string } | undefined)?.text ?? null,
    checkpoint_thread: tuple?.config.configurable?.thread_id ?? null,
    saved_threads: Object.keys(saver.storage).sort(),
  };
  return { messages: [new AIMessage(JSON.stringify(seen))] };
}

export const graph = new StateGraph(MessagesAnnotation)
  .addNode("remember", remember)
  .addEdge("__start__", "remember")
  .addEdge("remember", "__end__")
  .compile();
