/**
 * Probes of the server's system assistants (the default assistant per graph:
 * id `uuid5(graph_id)`, metadata `created_by: "system"`). Tenant B may find
 * and read them the way LangGraph clients do, may never change them, and
 * must see none of tenant A's assistants in the same requests.
 *
 * How the judge treats "not visible": a deployment may hide system
 * assistants from tenants (this package with `AUTH_SYSTEM_ASSISTANTS=hidden`,
 * or the docs' owner-only `Auth`). That gives B nothing of A's, so a 403 or
 * 404, an empty list or a zero count is a pass on every deployment. Only the
 * suite holds this package (default `visible`) to its exact answers
 * (`expect`, `suiteBody`). What is a leak anywhere: A's ids, stamps or
 * secrets in an answer, a count above what B can list, and an accepted change
 * of a system assistant.
 */
import { MARKER_KEY, NOT_FOUND, anyBody, countMatchesList, isCount, isEmptyList, noItemOfA, probe } from "./probe-helpers.ts";
import { systemAssistantId } from "../policy/run-assistant.ts";
import type { Probe, World } from "./types.ts";

const SYSTEM = { created_by: "system" } as const;
const systemPath = (w: World, tail = "") => `/assistants/${systemAssistantId(w.graph)}${tail}`;

interface AssistantItem {
  assistant_id?: unknown;
  graph_id?: unknown;
  metadata?: { created_by?: unknown } | null;
}
const idsOf = (json: unknown): unknown[] => (Array.isArray(json) ? json.map((x) => (x as AssistantItem | null)?.assistant_id) : []);
/** A system assistant: `created_by: "system"` and the id `uuid5(graph_id)`. */
const isSystem = (item: unknown): boolean => {
  const a = item as AssistantItem | null;
  return a?.metadata?.created_by === "system" && typeof a.graph_id === "string" && a.assistant_id === systemAssistantId(a.graph_id);
};

/**
 * This package's answer to a search for system assistants: system assistants
 * only, the graph's among them, none of B's own.
 *
 * @example
 * onlySystemAssistants([{ assistant_id: uuid5("echo"), graph_id: "echo", metadata: { created_by: "system" } }], w); // true when w.graph is "echo"
 */
export const onlySystemAssistants = (json: unknown, w: World): boolean =>
  Array.isArray(json) && json.length > 0 && json.every(isSystem) && idsOf(json).includes(systemAssistantId(w.graph)) && !idsOf(json).includes(w.b.assistant);

/**
 * This package's answer to a search without `created_by: "system"`: exactly
 * B's own assistant (the only one B has when the suite sends the table).
 *
 * @example
 * onlyOwnAssistant([{ assistant_id: w.b.assistant }], w); // true
 */
export const onlyOwnAssistant = (json: unknown, w: World): boolean => Array.isArray(json) && idsOf(json).length === 1 && idsOf(json)[0] === w.b.assistant;

/** System assistant probes, sent as tenant B. */
export const SYSTEM_ASSISTANT_PROBES: Probe[] = [
  // Searches that ask for system assistants: answered with system assistants only, on a visible deployment.
  probe("system-assistants", "assistants.search", "POST /assistants/search", "search system assistants (metadata created_by=system)", { body: () => ({ metadata: SYSTEM, limit: 100 }), refused: [403], ok2xx: noItemOfA, suiteBody: onlySystemAssistants, expect: 200 }),
  probe("system-assistants", "assistants.search", "POST /assistants/search", "search the graph's system assistant (graph_id + created_by=system)", { body: (w) => ({ graph_id: w.graph, metadata: SYSTEM }), refused: [403], ok2xx: noItemOfA, suiteBody: (json, w) => JSON.stringify(idsOf(json)) === JSON.stringify([systemAssistantId(w.graph)]), expect: 200 }),
  probe("system-assistants", "assistants.search", "POST /assistants/search", "search system assistants with metadata naming tenant A", { body: (w) => ({ metadata: { ...SYSTEM, ...w.a.stamped } }), refused: [403], ok2xx: noItemOfA, suiteBody: isEmptyList, expect: 200 }),
  probe("system-assistants", "assistants.search", "POST /assistants/search", "search with created_by spelled System (not the system filter)", { body: () => ({ metadata: { created_by: "System" } }), refused: [403], ok2xx: noItemOfA, suiteBody: isEmptyList, expect: 200 }),
  probe("system-assistants", "assistants.count", "POST /assistants/count", "count system assistants (metadata created_by=system)", { body: () => ({ metadata: SYSTEM }), refused: [403], ok2xx: isCount, followUp: countMatchesList, suiteBody: (json) => typeof json === "number" && json > 0, expect: 200 }),
  // Without that metadata: the tenant's own assistants, never A's, never the system's.
  probe("system-assistants", "assistants.search", "POST /assistants/search", "plain search (no filter) shows no assistant of A", { body: () => ({ limit: 100 }), refused: [403], ok2xx: noItemOfA, suiteBody: onlyOwnAssistant, expect: 200 }),
  probe("system-assistants", "assistants.search", "POST /assistants/search", "plain search of the graph shows no assistant of A", { body: (w) => ({ graph_id: w.graph }), refused: [403], ok2xx: noItemOfA, suiteBody: onlyOwnAssistant, expect: 200 }),
  probe("system-assistants", "assistants.count", "POST /assistants/count", "plain count (no filter) counts no assistant of A", { body: () => ({}), refused: [403], ok2xx: isCount, followUp: countMatchesList, suiteBody: (json) => json === 1, expect: 200 }),
  // Reads of the graph's system assistant: allowed (nothing of A's), or refused on a deployment that hides them.
  probe("system-assistants", "assistants.get", "GET /assistants/:assistant_id", "read the graph's system assistant", { path: (w) => systemPath(w), refused: NOT_FOUND, ok2xx: anyBody, suiteBody: (json, w) => isSystem(json) && (json as AssistantItem).graph_id === w.graph, expect: 200 }),
  probe("system-assistants", "assistants.graph", "GET /assistants/:assistant_id/graph", "read the system assistant's graph", { path: (w) => systemPath(w, "/graph"), refused: NOT_FOUND, ok2xx: anyBody, expect: 200 }),
  probe("system-assistants", "assistants.schemas", "GET /assistants/:assistant_id/schemas", "read the system assistant's schemas", { servedBy: "assistants.schemas", path: (w) => systemPath(w, "/schemas"), refused: NOT_FOUND, ok2xx: anyBody, expect: 200 }),
  probe("system-assistants", "assistants.subgraphs", "GET /assistants/:assistant_id/subgraphs", "read the system assistant's subgraphs", { path: (w) => systemPath(w, "/subgraphs"), refused: NOT_FOUND, ok2xx: anyBody, expect: 200 }),
  probe("system-assistants", "assistants.versions", "POST /assistants/:assistant_id/versions", "list the system assistant's versions", { path: (w) => systemPath(w, "/versions"), body: () => ({}), refused: NOT_FOUND, ok2xx: anyBody, suiteBody: (json, w) => Array.isArray(json) && json.length > 0 && idsOf(json).every((id) => id === systemAssistantId(w.graph)), expect: 200 }),
  // Changes: refused (404, as if it did not exist). The command's rows change nothing even where they are let through.
  probe("system-assistants", "assistants.update", "PATCH /assistants/:assistant_id", "update the system assistant (a patch that sets no field)", { path: (w) => systemPath(w), body: () => ({}), refused: NOT_FOUND, expect: 404 }),
  probe("system-assistants", "assistants.latest", "POST /assistants/:assistant_id/latest", "set the system assistant's latest version (to the current one)", { path: (w) => systemPath(w, "/latest"), body: (w) => ({ version: w.system?.version ?? 1 }), refused: NOT_FOUND, expect: 404 }),
  // A leaking deployment would keep the rename, or lose its system assistant until restart: suite only.
  probe("system-assistants", "assistants.update", "PATCH /assistants/:assistant_id", "rename the system assistant", { suiteOnly: true, path: (w) => systemPath(w), body: () => ({ name: "mine now" }), refused: NOT_FOUND, expect: 404 }),
  probe("system-assistants", "assistants.delete", "DELETE /assistants/:assistant_id", "delete the system assistant", { suiteOnly: true, path: (w) => systemPath(w), refused: NOT_FOUND, expect: 404 }),
  // A tenant's own assistant may not pose as a system one (it would show in every tenant's system search).
  probe("system-assistants", "assistants.update", "PATCH /assistants/:assistant_id", "patch own assistant to created_by=system", { path: (w) => `/assistants/${w.b.assistant}`, body: (w) => ({ metadata: { ...SYSTEM, [MARKER_KEY]: w.marker } }), refused: [400, 403, 422], expect: 403 }),
];
