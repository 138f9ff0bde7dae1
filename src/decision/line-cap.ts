/**
 * The line cap: no decision event is more than 4 KiB as a JSON line, so each
 * is one `write` that concurrent writers cannot interleave on a pipe
 * (PIPE_BUF is 4096 on Linux), and a client cannot make one line huge.
 * Every field is bounded already (ids 128 characters, 10 namespace labels,
 * a subject of 256); what can still pass the cap (a route of your own
 * routes, escapes, an aggregate's 16 routes and 16 resources) is cut
 * deterministically and the event marked `truncated: true`.
 */
import type { DecisionAggregate, DecisionEvent, DecisionRecord, DecisionResources } from "./decision-event.ts";

/** The most bytes of one event's JSON line, its newline included: 4096. */
export const MAX_DECISION_LINE_BYTES = 4096;

const lineBytes = (record: DecisionRecord): number => Buffer.byteLength(JSON.stringify(record), "utf8") + 1;

/** At most `max` code points of `value`, then `…` when it was longer. */
function cut(value: string, max: number): string {
  if (value.length <= max) return value;
  const points = Array.from(value);
  return points.length <= max ? value : `${points.slice(0, max).join("")}…`;
}

const cutOrNull = (value: string | null, max: number) => (value === null ? null : cut(value, max));

/** Counts with each key cut after its `kind:` prefix; keys cut to one are added up. */
function cutCounts(counts: Record<string, number>, max: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, n] of Object.entries(counts)) {
    const colon = key.indexOf(":");
    const short = colon < 0 ? cut(key, max) : `${key.slice(0, colon + 1)}${cut(key.slice(colon + 1), max)}`;
    out[short] = (out[short] ?? 0) + n;
  }
  return out;
}

function cutResources(resources: DecisionResources, max: number, labels: number): DecisionResources {
  const out: DecisionResources = {};
  for (const key of ["thread_id", "assistant_id", "run_id", "cron_id"] as const) {
    const id = resources[key];
    if (id !== undefined) out[key] = cut(id, max);
  }
  if (resources.namespace !== undefined) out.namespace = resources.namespace.slice(0, labels).map((label) => cut(label, max));
  return out;
}

function shorten(record: DecisionRecord, max: number, labels: number): DecisionRecord {
  const common = {
    tenant_id: cutOrNull(record.tenant_id, max),
    subject: cutOrNull(record.subject, max),
    target_tenant_id: cutOrNull(record.target_tenant_id, max),
    truncated: true as const,
  };
  if (record.type === "auth.decision.aggregate") {
    const aggregate: DecisionAggregate = {
      ...record,
      ...common,
      routes: cutCounts(record.routes, max),
      resource_counts: cutCounts(record.resource_counts, max),
      target_counts: cutCounts(record.target_counts, max),
    };
    return aggregate;
  }
  const event: DecisionEvent = {
    ...record,
    ...common,
    route: cutOrNull(record.route, max),
    event: cutOrNull(record.event, max),
    resources: cutResources(record.resources, max, labels),
  };
  return event;
}

/**
 * The record as a sink writes it: itself when its JSON line (with the
 * newline) is at most {@link MAX_DECISION_LINE_BYTES}; else a copy with its
 * free-text fields (caller, target, route, event, resource ids, the
 * aggregate's route and resource keys) cut to 64, then 16 characters (at most
 * 4, then 2, namespace labels), then, as a last resort, the aggregate's
 * route, resource and target counts folded under `*`; marked `truncated: true`. Counts never change.
 *
 * @example
 * capDecisionLine(event); // the event, or a truncated copy within 4 KiB
 */
export function capDecisionLine(record: DecisionRecord): DecisionRecord {
  if (lineBytes(record) <= MAX_DECISION_LINE_BYTES) return record;
  for (const [max, labels] of [[64, 4], [16, 2]] as const) {
    const short = shorten(record, max, labels);
    if (lineBytes(short) <= MAX_DECISION_LINE_BYTES) return short;
  }
  const last = shorten(record, 16, 1);
  if (last.type === "auth.decision.aggregate") {
    last.routes = { "*": last.count };
    const fold = (counts: Record<string, number>): Record<string, number> =>
      Object.keys(counts).length === 0 ? {} : { "*": Object.values(counts).reduce((a, b) => a + b, 0) };
    last.resource_counts = fold(last.resource_counts);
    last.target_counts = fold(last.target_counts);
  }
  return last;
}
