/**
 * Probes of the assistant and thread routes: tenant B reads, searches,
 * counts, updates, deletes, copies and walks the history and state of tenant
 * A's assistant and thread, directly and through ids smuggled into its own.
 */
import { MARKER_KEY, NOT_FOUND, anyBody, countIsZero, countMatchesList, isCount, isEmptyList, noItemOfA, nullCheckpoint, probe } from "./probe-helpers.ts";
import { systemAssistantId } from "../policy/run-assistant.ts";
import type { FollowUp, Probe } from "./types.ts";

/** A second user of another tenant may plant nothing A can see: A re-reads the created resource. */
const plantedFor =
  (kind: "threads" | "assistants"): FollowUp =>
  async (_w, send, json) => {
    const id = (json as Record<string, unknown> | null)?.[kind === "threads" ? "thread_id" : "assistant_id"];
    if (typeof id !== "string") return undefined;
    const seen = await send("a", { method: "GET", path: `/${kind}/${encodeURIComponent(id)}` });
    return seen.status === 200 ? `tenant A can now read B's ${kind.slice(0, -1)} ${id}: B moved it into A's tenant` : undefined;
  };

/** Assistant probes. */
export const ASSISTANT_PROBES: Probe[] = [
  probe("assistants", "assistants.create", "POST /assistants", "create with A's assistant id (if_exists do_nothing returns the existing one?)", { body: (w) => ({ assistant_id: w.a.assistant, graph_id: w.graph, if_exists: "do_nothing" }), refused: [403, 404, 409], expect: 409 }),
  probe("assistants", "assistants.create", "POST /assistants", "pre-claim a system assistant id (uuid5 of a future graph)", { body: (w) => ({ assistant_id: systemAssistantId("future-graph"), graph_id: w.graph, metadata: { [MARKER_KEY]: w.marker } }), refused: [400, 403, 409, 422], expect: 403 }),
  probe("assistants", "assistants.create", "POST /assistants", "stamp created_by=system", { body: (w) => ({ graph_id: w.graph, metadata: { created_by: "system", [MARKER_KEY]: w.marker } }), refused: [400, 403, 422], expect: 403 }),
  probe("assistants", "assistants.create", "POST /assistants", "client-set tenant and owner metadata naming A", { commandOnly: true, body: (w) => ({ graph_id: w.graph, metadata: { ...w.a.stamped, [MARKER_KEY]: w.marker } }), refused: [400, 403, 422], ok2xx: anyBody, followUp: plantedFor("assistants") }),
  probe("assistants", "assistants.search", "POST /assistants/search", "search with metadata naming tenant A", { body: (w) => ({ metadata: w.a.stamped }), refused: [403], ok2xx: noItemOfA, suiteBody: isEmptyList, expect: 200 }),
  probe("assistants", "assistants.search", "POST /assistants/search", "search A's graph", { body: (w) => ({ graph_id: w.graph, metadata: w.a.tag }), refused: [403], ok2xx: isEmptyList, expect: 200 }),
  probe("assistants", "assistants.count", "POST /assistants/count", "count with metadata naming tenant A", { body: (w) => ({ metadata: w.a.stamped }), refused: [403], ok2xx: isCount, followUp: countMatchesList, suiteBody: countIsZero, expect: 200 }),
  probe("assistants", "assistants.get", "GET /assistants/:assistant_id", "read A's assistant", { refused: NOT_FOUND, expect: 404 }),
  probe("assistants", "assistants.delete", "DELETE /assistants/:assistant_id", "delete A's assistant", { refused: NOT_FOUND, expect: 404 }),
  probe("assistants", "assistants.delete", "DELETE /assistants/:assistant_id", "delete A's assistant with delete_threads=true", { path: (w) => `/assistants/${w.a.assistant}?delete_threads=true`, refused: NOT_FOUND, expect: 403 }),
  // On a live deployment whose cascade ignores tenants this would delete other people's threads: suite only.
  probe("assistants", "assistants.delete", "DELETE /assistants/:assistant_id", "delete own assistant with delete_threads=true (cascade ignores tenants)", { suiteOnly: true, path: (w) => `/assistants/${w.b.assistant}?delete_threads=true`, refused: [403], expect: 403 }),
  probe("assistants", "assistants.update", "PATCH /assistants/:assistant_id", "patch A's assistant", { body: () => ({ metadata: { tenant_id: "tenant-b" }, config: { configurable: { api_key: "stolen" } } }), refused: NOT_FOUND, expect: 404 }),
  probe("assistants", "assistants.graph", "GET /assistants/:assistant_id/graph", "read A's assistant graph", { refused: NOT_FOUND, expect: 404 }),
  probe("assistants", "assistants.schemas", "GET /assistants/:assistant_id/schemas", "read A's assistant schemas", { refused: NOT_FOUND, expect: 404 }),
  probe("assistants", "assistants.subgraphs", "GET /assistants/:assistant_id/subgraphs", "read A's assistant subgraphs", { refused: NOT_FOUND, expect: 404 }),
  probe("assistants", "assistants.subgraphs.namespace", "GET /assistants/:assistant_id/subgraphs/:namespace", "read A's assistant subgraph by namespace", { refused: NOT_FOUND, expect: 404 }),
  probe("assistants", "assistants.latest", "POST /assistants/:assistant_id/latest", "roll A's assistant to version 1", { body: () => ({ version: 1 }), refused: NOT_FOUND, expect: 404 }),
  probe("assistants", "assistants.versions", "POST /assistants/:assistant_id/versions", "list A's assistant versions", { body: () => ({}), refused: NOT_FOUND, expect: 404 }),
];

/** Thread, state, checkpoint and history probes. */
export const THREAD_PROBES: Probe[] = [
  probe("threads", "threads.create", "POST /threads", "create with A's thread id (if_exists do_nothing)", { body: (w) => ({ thread_id: w.a.thread, if_exists: "do_nothing" }), refused: [403, 404, 409], expect: 409 }),
  probe("threads", "threads.create", "POST /threads", "client-set tenant and owner metadata naming A", { commandOnly: true, body: (w) => ({ metadata: { ...w.a.stamped, [MARKER_KEY]: w.marker } }), refused: [400, 403, 422], ok2xx: anyBody, followUp: plantedFor("threads") }),
  probe("threads", "threads.update", "PATCH /threads/:thread_id", "patch own thread's metadata to name A", { commandOnly: true, path: (w) => `/threads/${w.b.scratch}`, body: (w) => ({ metadata: w.a.stamped }), refused: [400, 403, 422], ok2xx: anyBody, followUp: async (w, send) => ((await send("a", { method: "GET", path: `/threads/${w.b.scratch}` })).status === 200 ? "tenant A can now read B's own thread: B moved it into A's tenant" : undefined) }),
  probe("threads", "threads.search", "POST /threads/search", "search with metadata naming tenant A", { body: (w) => ({ metadata: w.a.stamped }), refused: [403], ok2xx: noItemOfA, suiteBody: isEmptyList, expect: 200 }),
  probe("threads", "threads.search", "POST /threads/search", "search by A's thread id", { body: (w) => ({ ids: [w.a.thread] }), refused: [403], ok2xx: isEmptyList, expect: 200 }),
  probe("threads", "threads.search", "POST /threads/search", "search with A's own tag metadata", { commandOnly: true, body: (w) => ({ metadata: w.a.tag }), refused: [403], ok2xx: isEmptyList }),
  probe("threads", "threads.count", "POST /threads/count", "count with metadata naming tenant A", { body: (w) => ({ metadata: w.a.stamped }), refused: [403], ok2xx: isCount, followUp: countMatchesList, suiteBody: countIsZero, expect: 200 }),
  probe("threads", "threads.state.get", "GET /threads/:thread_id/state", "read A's state", { refused: NOT_FOUND, expect: 404 }),
  probe("threads", "threads.state.update", "POST /threads/:thread_id/state", "write A's state", { body: () => ({ values: { messages: [{ role: "user", content: "injected" }] } }), refused: NOT_FOUND, expect: [403, 404] }),
  probe("threads", "threads.state.update", "POST /threads/:thread_id/state", "write A's state through own path + checkpoint.thread_id", { path: (w) => `/threads/${w.b.scratch}/state`, body: (w) => ({ values: { messages: [{ role: "user", content: "injected" }] }, checkpoint: { thread_id: w.a.thread, checkpoint_id: w.a.checkpoint } }), refused: [400, 403, 404, 422], ok2xx: anyBody, expect: 400 }),
  probe("threads", "threads.state.patch", "PATCH /threads/:thread_id/state", "patch A's state metadata", { commandOnly: true, body: () => ({ metadata: { injected: true } }), refused: [403, 404, 405] }),
  probe("threads", "threads.state.checkpoint.get", "GET /threads/:thread_id/state/:checkpoint_id", "read A's checkpoint", { refused: NOT_FOUND, expect: 404 }),
  probe("threads", "threads.state.checkpoint.get", "GET /threads/:thread_id/state/:checkpoint_id", "read A's checkpoint id under own thread", { path: (w) => `/threads/${w.b.thread}/state/${w.a.checkpoint}`, refused: NOT_FOUND, ok2xx: nullCheckpoint, expect: 200 }),
  probe("threads", "threads.state.checkpoint.post", "POST /threads/:thread_id/state/checkpoint", "read A's checkpoint (POST)", { body: (w) => ({ checkpoint: { checkpoint_id: w.a.checkpoint } }), refused: NOT_FOUND, expect: 404 }),
  probe("threads", "threads.state.checkpoint.post", "POST /threads/:thread_id/state/checkpoint", "read A's checkpoint through own path + checkpoint.thread_id", { path: (w) => `/threads/${w.b.thread}/state/checkpoint`, body: (w) => ({ checkpoint: { thread_id: w.a.thread, checkpoint_id: w.a.checkpoint } }), refused: [400, 403, 404, 422], ok2xx: nullCheckpoint, expect: 200 }),
  probe("threads", "threads.history.get", "GET /threads/:thread_id/history", "read A's history", { refused: NOT_FOUND, expect: 404 }),
  probe("threads", "threads.history.post", "POST /threads/:thread_id/history", "read A's history (POST)", { body: () => ({}), refused: NOT_FOUND, expect: 404 }),
  probe("threads", "threads.history.post", "POST /threads/:thread_id/history", "read A's history through own path + checkpoint.thread_id", { path: (w) => `/threads/${w.b.thread}/history`, body: (w) => ({ checkpoint: { thread_id: w.a.thread } }), refused: [400, 403, 404, 422], ok2xx: isEmptyList, expect: 200 }),
  probe("threads", "threads.get", "GET /threads/:thread_id", "read A's thread", { refused: NOT_FOUND, expect: 404 }),
  probe("threads", "threads.delete", "DELETE /threads/:thread_id", "delete A's thread", { refused: NOT_FOUND, expect: 404 }),
  probe("threads", "threads.update", "PATCH /threads/:thread_id", "patch A's thread into tenant B", { body: () => ({ metadata: { tenant_id: "tenant-b" } }), refused: NOT_FOUND, expect: 404 }),
  probe("threads", "threads.copy", "POST /threads/:thread_id/copy", "copy A's thread (with its checkpoints)", { body: () => ({}), refused: [403, 404, 409], expect: 409 }),
  probe("threads", "threads.prune", "POST /threads/prune", "prune A's thread", { commandOnly: true, servedBy: "threads.prune", body: (w) => ({ thread_ids: [w.a.thread] }), refused: NOT_FOUND, ok2xx: anyBody }),
  probe("threads", "threads.stream", "GET /threads/:thread_id/stream", "stream A's thread", { commandOnly: true, servedBy: "threads.stream", refused: NOT_FOUND }),
];
