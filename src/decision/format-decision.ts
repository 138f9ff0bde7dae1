import type { DecisionRecord } from "./decision-event.ts";

/**
 * Characters that could forge or hide a terminal line: C0 controls (newline,
 * carriage return, escape), DEL, C1 controls, the Unicode line and paragraph
 * separators, and the bidirectional overrides and isolates.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * A string as a readable line may show it: every character of {@link UNSAFE}
 * written as a visible `\u001b`-style escape, so a subject or an id holding
 * `\n` or `\x1b[` cannot start a second line or recolour the terminal.
 *
 * @example
 * printable("bob\nauth refused"); // "bob\\u000aauth refused"
 */
export function printable(value: string): string {
  return value.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

const short = (id: string) => (id.length > 13 ? `${id.slice(0, 8)}…` : id);

/**
 * One decision as one readable line for a terminal (`npm run dev`): outcome,
 * status, reason, route or event, caller, resources and decision id. Only
 * the event's own fields, each made {@link printable}: never a token or a
 * header, never a second line.
 *
 * @example
 * formatDecision(event);
 * // "auth refused 404 cross_tenant  threads.get (threads:read)  caller globex/bob  thread 1f0c…  decision 6a1d…"
 */
export function formatDecision(record: DecisionRecord): string {
  return printable(formatRaw(record));
}

function formatRaw(record: DecisionRecord): string {
  const caller =
    record.tenant_id === null ? (record.subject === "*" ? "callers many" : "caller unauthenticated") : `caller ${record.tenant_id}/${record.subject ?? "?"}`;
  const head = `auth ${record.outcome}${record.status === null ? "" : ` ${record.status}`}${record.reason === null ? "" : ` ${record.reason}`}`;
  if (record.type === "auth.decision.aggregate") {
    const routes = Object.entries(record.routes).map(([route, n]) => `${route}×${n}`).join(" ");
    const resources = Object.entries(record.resource_counts ?? {}).map(([id, n]) => `${id}×${n}`).join(" ");
    const target = record.target_tenant_id === null ? "" : `resources of ${record.target_tenant_id}`;
    return [
      `${head} ×${record.count} (flood bound: counted, not written one by one)`,
      `routes ${routes}`,
      caller,
      target,
      resources === "" ? "" : `resources ${resources}`,
      `decision ${record.decision_id}:1…${record.count}`,
    ].filter(Boolean).join("  ");
  }
  const where = [record.route, record.event === null ? null : record.route === null ? record.event : `(${record.event})`].filter(Boolean).join(" ");
  const resources = Object.entries(record.resources)
    .map(([key, value]) => `${key.replace(/_id$/, "")} ${Array.isArray(value) ? value.join(".") : short(value)}`)
    .join("  ");
  const target = record.target_tenant_id === null ? "" : `resource of ${record.target_tenant_id}`;
  const error = record.error_class === undefined && record.error_code === undefined ? "" : `error ${record.error_class ?? "?"}${record.error_code === undefined ? "" : ` ${record.error_code}`}`;
  return [head, where || "-", caller, target, resources, error, `decision ${record.decision_id}`].filter(Boolean).join("  ");
}
