/**
 * A test graph whose run stays in flight until it is told to stop: its one
 * node waits for the run's abort signal (a cancel), at most ten minutes.
 * Wired into a test server's `langgraph.json` with `holdGraphConfig`, it
 * gives a tenant "a run still in flight" for as long as a test needs.
 */
import { AIMessage } from "@langchain/core/messages";
import { MessagesAnnotation, StateGraph, type LangGraphRunnableConfig } from "@langchain/langgraph";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";

const LONGEST_MS = 10 * 60_000;

async function hold(_state: typeof MessagesAnnotation.State, config: LangGraphRunnableConfig) {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, LONGEST_MS);
    const stop = () => {
      clearTimeout(timer);
      resolve();
    };
    if (config.signal?.aborted) stop();
    config.signal?.addEventListener("abort", stop, { once: true });
  });
  return { messages: [new AIMessage("released")] };
}

export const graph = new StateGraph(MessagesAnnotation).addNode("hold", hold).addEdge("__start__", "hold").addEdge("hold", "__end__").compile();

/**
 * An `editConfig` for `startLangGraphDev` that adds this graph as `hold`
 * (paths in the copied `langgraph.json` are relative to the server's folder,
 * `<checkout>/.tmp/lg-dev-*`).
 *
 * @example
 * const server = await startLangGraphDev({ env, editConfig: holdGraphConfig });
 */
export function holdGraphConfig(config: Record<string, unknown>): void {
  const file = relative(fileURLToPath(new URL("../../.tmp/lg-dev-x/", import.meta.url)), fileURLToPath(import.meta.url));
  (config.graphs as Record<string, string>).hold = `./${file}:graph`;
}
