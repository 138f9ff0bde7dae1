/**
 * The default graph of a `check-isolation` run, when `--graph` is not given.
 */
import type { Answer, SendAs } from "./types.ts";

/** No graph could be found: the run cannot build A's world. */
export class GraphNotFoundError extends Error {
  override name = "GraphNotFoundError";
}

const firstGraph = (answer: Answer): string | undefined => {
  if (answer.status < 200 || answer.status >= 300 || !Array.isArray(answer.json)) return undefined;
  return (answer.json as Array<{ graph_id?: unknown } | null>).map((x) => x?.graph_id).find((g): g is string => typeof g === "string" && g !== "");
};

/**
 * The first graph tenant A can see: first among the system assistants
 * (`POST /assistants/search {metadata: {created_by: "system"}}`, what
 * LangGraph clients ask and what a deployment behind this package answers
 * even on a fresh server, where a tenant owns no assistant yet), then among
 * A's own assistants (a plain search, for a deployment that hides system
 * assistants). A refused system search falls through to the plain one.
 *
 * @throws {GraphNotFoundError} neither search shows a graph: name it with `--graph`.
 * @example
 * const graph = await discoverGraph(send); // "agent"
 */
export async function discoverGraph(send: SendAs): Promise<string> {
  const system = await send("a", { method: "POST", path: "/assistants/search", body: { metadata: { created_by: "system" }, limit: 100 } });
  const fromSystem = firstGraph(system);
  if (fromSystem) return fromSystem;
  const own = await send("a", { method: "POST", path: "/assistants/search", body: { limit: 100 } });
  // A's own search must work (the world needs it anyway): a refusal here is a token or deployment problem, said as such.
  if (own.status < 200 || own.status >= 300) throw new GraphNotFoundError(`finding a graph (POST /assistants/search as A) answered ${own.status}: ${own.text.slice(0, 200)}`);
  const fromOwn = firstGraph(own);
  if (fromOwn) return fromOwn;
  throw new GraphNotFoundError(`/assistants/search shows tenant A no graph (system assistants: ${system.status}, none listed; A's own assistants: none): name the graph with --graph`);
}
