import type { DecisionRecord } from "./decision-event.ts";

const short = (id: string) => (id.length > 13 ? `${id.slice(0, 8)}…` : id);

/**
 * One decision as one readable line for a terminal (`npm run dev`): outcome,
 * status, reason, route or event, caller, resources and decision id. Only
 * the event's own fields: never a token or a header.
 *
 * @example
 * formatDecision(event);
 * // "auth refused 404 cross_tenant  threads.get (threads:read)  caller globex/bob  thread 1f0c…  decision 6a1d…"
 */
export function formatDecision(record: DecisionRecord): string {
  const caller = record.tenant_id === null ? (record.subject === "*" ? "callers many" : "caller unauthenticated") : `caller ${record.tenant_id}/${record.subject ?? "?"}`;
  const head = `auth ${record.outcome}${record.status === null ? "" : ` ${record.status}`}${record.reason === null ? "" : ` ${record.reason}`}`;
  if (record.type === "auth.decision.aggregate") {
    const routes = Object.entries(record.routes).map(([route, n]) => `${route}×${n}`).join(" ");
    return `${head} ×${record.count} (flood bound: counted, not written one by one)  routes ${routes}  ${caller}  decision ${record.decision_id}:1…${record.count}`;
  }
  const where = [record.route, record.event === null ? null : record.route === null ? record.event : `(${record.event})`].filter(Boolean).join(" ");
  const resources = Object.entries(record.resources)
    .map(([key, value]) => `${key.replace(/_id$/, "")} ${Array.isArray(value) ? value.join(".") : short(value)}`)
    .join("  ");
  const target = record.target_tenant_id === null ? "" : `resource of ${record.target_tenant_id}`;
  return [head, where || "-", caller, target, resources, `decision ${record.decision_id}`].filter(Boolean).join("  ");
}
