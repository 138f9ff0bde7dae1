/**
 * The smallest useful graph: it answers every message with the caller's own
 * words, tenant and identity. It needs no model, so `npm run dev` and the
 * integration tests run offline, and it shows what a run sees of its caller
 * (`configurable.langgraph_auth_user`, put there by the server).
 */
import { AIMessage } from "@langchain/core/messages";
import { MessagesAnnotation, StateGraph, type LangGraphRunnableConfig } from "@langchain/langgraph";

function echo(state: typeof MessagesAnnotation.State, config: LangGraphRunnableConfig) {
  const user = config.configurable?.langgraph_auth_user as { identity?: string; tenant_id?: string } | undefined;
  const last = state.messages.at(-1);
  const text = typeof last?.content === "string" ? last.content : JSON.stringify(last?.content ?? "");
  return {
    messages: [new AIMessage(`[${user?.tenant_id ?? "?"}/${user?.identity ?? "?"}] ${text}`)],
  };
}

export const graph = new StateGraph(MessagesAnnotation)
  .addNode("echo", echo)
  .addEdge("__start__", "echo")
  .addEdge("echo", "__end__")
  .compile();
