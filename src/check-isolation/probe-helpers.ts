/**
 * Small builders the probe table is written with, so each row stays one line
 * of data: a probe's id comes from its route and attempt, its path from its
 * pattern and tenant A's ids.
 */
import type { FollowUp, Probe, World } from "./types.ts";

/** Metadata key of the run marker on every resource `check-isolation` creates. */
export const MARKER_KEY = "check_isolation_run";

/** `read A's thread` → `read-a-s-thread`. */
function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, 80);
}

/**
 * Fill a pattern's `:name` parameters with tenant A's ids.
 *
 * @example
 * fillPattern("/threads/:thread_id/runs/:run_id", world); // "/threads/<A's thread>/runs/<A's run>"
 */
export function fillPattern(pattern: string, w: World): string {
  const ids: Record<string, string> = {
    thread_id: w.a.thread,
    run_id: w.a.run,
    assistant_id: w.a.assistant,
    checkpoint_id: w.a.checkpoint,
    cron_id: w.a.cron ?? w.a.run,
    namespace: w.graph,
  };
  return pattern.replace(/:(\w+)/g, (_, name: string) => {
    const id = ids[name];
    if (id === undefined) throw new Error(`no id for :${name} in ${pattern}`);
    return encodeURIComponent(id);
  });
}

/** The fields a probe row gives; the rest is derived. */
type ProbeRow = Omit<Probe, "id" | "group" | "route" | "method" | "pattern" | "attempt" | "expect"> & {
  /** Default: `refused`. */
  expect?: number | number[];
};

/**
 * Build a probe row. `endpoint` is `"METHOD /pattern"`.
 *
 * @example
 * probe("threads", "threads.get", "GET /threads/:thread_id", "read A's thread", { refused: [403, 404], expect: 404 });
 */
export function probe(group: string, route: string, endpoint: string, attempt: string, row: ProbeRow): Probe {
  const [method, pattern] = endpoint.split(" ") as [Probe["method"], string];
  const expect = row.expect === undefined ? row.refused : Array.isArray(row.expect) ? row.expect : [row.expect];
  return { ...row, id: `${route}/${slug(attempt)}`, group, route, method, pattern, attempt, expect };
}

/**
 * A run request body: the given assistant, a harmless input, the run marker,
 * and `enqueue` (default; `extra` may replace it).
 *
 * @example
 * runBody(w, w.a.assistant, { if_not_exists: "create" });
 */
export function runBody(w: World, assistant: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    assistant_id: assistant,
    input: { messages: [{ role: "user", content: "from-B" }] },
    metadata: { [MARKER_KEY]: w.marker },
    // Queue behind a run an earlier probe left on the thread, so "busy" never stands in for "refused".
    multitask_strategy: "enqueue",
    ...extra,
  };
}

/** A 2xx body that is an empty JSON list. */
export const isEmptyList = (json: unknown): boolean => Array.isArray(json) && json.length === 0;
/** A 2xx body that is the count 0. */
export const countIsZero = (json: unknown): boolean => json === 0;
/** A store search answer with no items. */
export const noItems = (json: unknown): boolean => {
  const items = (json as { items?: unknown } | null)?.items;
  return Array.isArray(items) && items.length === 0;
};
/** A state answer whose checkpoint is null (a checkpoint id that is not on this thread). */
export const nullCheckpoint = (json: unknown): boolean => (json as { checkpoint?: unknown } | null)?.checkpoint === null;
/**
 * A list none of whose items carries all of A's stamped metadata (B's own
 * items may match a filter B sent: a server that replaces it with B's own filter).
 *
 * @example
 * noItemOfA([{ metadata: { owner: "bob" } }], w); // true when A's stamp is { owner: "alice" }
 */
export const noItemOfA = (json: unknown, w: World): boolean => {
  if (!Array.isArray(json)) return false;
  const stamped = Object.entries(w.a.stamped);
  // Nothing stamped: nothing to match (A's ids in the answer are still a leak).
  if (stamped.length === 0) return true;
  return json.every((item) => {
    const metadata = (item as { metadata?: Record<string, unknown> } | null)?.metadata ?? {};
    return !stamped.every(([key, value]) => metadata[key] === value);
  });
};
/** A count (checked against what B can list by a follow-up). */
export const isCount = (json: unknown): boolean => typeof json === "number";
/**
 * A 2xx whose body only says "not found" (the dev server answers a join or a
 * stream of an unknown run with 200 and an error event).
 *
 * @example
 * saysNotFound(undefined, w, 'event: error\ndata: "Run not found"'); // true
 */
export const saysNotFound = (_json: unknown, _w: World, text: string): boolean => /not found/i.test(text);
/** Any 2xx body: the answer is still scanned for A's data. */
export const anyBody = (): boolean => true;

/**
 * After a 2xx count: B lists with the same filter; a count above what B can
 * list counts items B cannot see (A's).
 *
 * @example
 * probe("threads", "threads.count", "POST /threads/count", "count", { refused: [403], ok2xx: isCount, followUp: countMatchesList });
 */
export const countMatchesList: FollowUp = async (_w, send, json, request) => {
  const list = await send("b", { method: "POST", path: request.path.replace(/\/count$/, "/search"), body: { ...(request.body as object), limit: 1000 } });
  const listed = Array.isArray(list.json) ? list.json.length : NaN;
  return json === listed ? undefined : `the count is ${String(json)} but B can list only ${listed} such items: it counts items B cannot see`;
};

/** Refusals that hide whether the resource exists. */
export const NOT_FOUND = [403, 404];
