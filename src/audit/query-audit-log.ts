import { InvalidAuditQueryError } from "./audit-errors.ts";
import { AUDIT_EVENT_KINDS, type AuditEventKind, type AuditRecord } from "./audit-record.ts";

/** What `query --kind` names: a tool-call record (formats 1 and 2), or an event record of that kind. */
export type AuditRecordKind = "tool_call" | AuditEventKind;

/**
 * The kinds {@link AuditQuery.kind} accepts (frozen).
 *
 * @example
 * AUDIT_RECORD_KINDS.includes("decision"); // true
 */
export const AUDIT_RECORD_KINDS: readonly AuditRecordKind[] = Object.freeze(["tool_call", ...AUDIT_EVENT_KINDS]);

/**
 * Which records `query` returns. Every field given must match (they are
 * ANDed). A record is on the chain of one tenant: for a decision event, the
 * caller's verified tenant (`_unauthenticated` when there was none); so a
 * query names the chain (`tenant`), the tenant a decision was an attempt
 * against (`targetTenant`), or says it spans every chain (`allTenants`).
 */
export interface AuditQuery {
  /** Only the records on this tenant's chain (a decision's caller's tenant). */
  tenant?: string | undefined;
  /**
   * Only decision events whose named resource belonged to this tenant
   * (`data.target_tenant_id`, or an aggregate's `data.target_counts`: the
   * cross-tenant attempts against it, on any caller's chain).
   */
  targetTenant?: string | undefined;
  /** Search every tenant's chain (an operator's query): needed when neither `tenant` nor `targetTenant` is given. */
  allTenants?: boolean | undefined;
  /** Only records at or after this instant. Default: from the first record. */
  since?: Date | undefined;
  /** Only records before this instant. Default: up to the last record. */
  until?: Date | undefined;
  /** A reason code: a tool-call record's `reason_code`, a decision event's `data.reason`. */
  reason?: string | undefined;
  /** The subject: every record's `user_id` (a decision's caller, from a verified token). */
  subject?: string | undefined;
  /**
   * An id the record names: a tool call's `thread_id` or `run_id`; a decision
   * event's `resources` (`thread_id`, `assistant_id`, `run_id`, `cron_id`, or
   * a store namespace written with dots, `acme.notes`); an aggregate's
   * `resource_counts` (the ids it counted by name).
   */
  resource?: string | undefined;
  /** `tool_call`, or an event kind (`decision`, `offboarding`). */
  kind?: AuditRecordKind | undefined;
}

const NO_CHAIN = "query.tenant is required (or query.targetTenant, or query.allTenants: true to search every chain)";
const STRINGS = ["tenant", "targetTenant", "reason", "subject", "resource"] as const;

function checkQuery(query: AuditQuery): void {
  if (query === null || typeof query !== "object") throw new InvalidAuditQueryError(NO_CHAIN);
  for (const key of STRINGS) {
    const value = query[key];
    if (value !== undefined && (typeof value !== "string" || value === "")) throw new InvalidAuditQueryError(`query.${key} must be a non-empty string`);
  }
  if (query.tenant === undefined && query.targetTenant === undefined && query.allTenants !== true) {
    throw new InvalidAuditQueryError(NO_CHAIN);
  }
  for (const key of ["since", "until"] as const) {
    const value = query[key];
    if (value !== undefined && (!(value instanceof Date) || Number.isNaN(value.getTime()))) {
      throw new InvalidAuditQueryError(`query.${key} must be a valid Date`);
    }
  }
  if (query.kind !== undefined && !AUDIT_RECORD_KINDS.includes(query.kind)) {
    throw new InvalidAuditQueryError(`query.kind must be one of ${AUDIT_RECORD_KINDS.join(", ")}`);
  }
}

/** A decision event's `data`, as far as a query reads it. */
interface DecisionData {
  reason?: unknown;
  target_tenant_id?: unknown;
  resources?: { thread_id?: unknown; assistant_id?: unknown; run_id?: unknown; cron_id?: unknown; namespace?: unknown };
  /** An aggregate's counts per resource (`thread:<id>`, `namespace:<a.b>`, `*` for the rest). */
  resource_counts?: unknown;
  /** An aggregate's counts per target tenant (`*` for the rest). */
  target_counts?: unknown;
  count?: unknown;
}

/** An aggregate's count of refusals against `tenant` (its `target_counts`), `undefined` when it has none. */
function countAgainst(data: DecisionData | undefined, tenant: string): number | undefined {
  const counts = data?.target_counts;
  if (counts === undefined || counts === null || typeof counts !== "object" || !Object.hasOwn(counts, tenant)) return undefined;
  const n = (counts as Record<string, unknown>)[tenant];
  return typeof n === "number" && Number.isInteger(n) && n > 0 ? n : undefined;
}

const decisionData = (record: AuditRecord): DecisionData | undefined =>
  record.v === 3 && record.kind === "decision" ? (record.data as DecisionData) : undefined;

/** The ids a record names (see {@link AuditQuery.resource}). */
function namedIds(record: AuditRecord): unknown[] {
  if (record.v !== 3) return [record.thread_id, record.run_id];
  const data = decisionData(record);
  const counts = data?.resource_counts;
  if (counts !== undefined && counts !== null && typeof counts === "object") {
    // An aggregate: the ids after each key's `kind:` (the `*` of the rest names none).
    return Object.keys(counts).flatMap((key) => (key.includes(":") ? [key.slice(key.indexOf(":") + 1)] : []));
  }
  const resources = data?.resources;
  if (resources === undefined || resources === null || typeof resources !== "object") return [];
  const { namespace } = resources;
  return [resources.thread_id, resources.assistant_id, resources.run_id, resources.cron_id, Array.isArray(namespace) ? namespace.join(".") : undefined];
}

/**
 * True when a record matches a query.
 *
 * @throws {InvalidAuditQueryError} the query names no chain (`tenant`, `targetTenant` or `allTenants`), or has an invalid field.
 * @example
 * records.filter((r) => matchesAuditQuery(r, { tenant: "acme", since: new Date("2026-01-01") }));
 * records.filter((r) => matchesAuditQuery(r, { targetTenant: "acme", reason: "cross_tenant" }));
 */
export function matchesAuditQuery(record: AuditRecord, query: AuditQuery): boolean {
  checkQuery(query);
  if (query.tenant !== undefined && record.tenant_id !== query.tenant) return false;
  const time = Date.parse(record.time);
  if (query.since && time < query.since.getTime()) return false;
  if (query.until && time >= query.until.getTime()) return false;
  if (query.kind !== undefined && (record.v === 3 ? record.kind : "tool_call") !== query.kind) return false;
  if (query.subject !== undefined && record.user_id !== query.subject) return false;
  const decision = decisionData(record);
  if (query.targetTenant !== undefined && decision?.target_tenant_id !== query.targetTenant && countAgainst(decision, query.targetTenant) === undefined) {
    return false;
  }
  if (query.reason !== undefined && (record.v === 3 ? decision?.reason : record.reason_code) !== query.reason) return false;
  if (query.resource !== undefined && !namedIds(record).includes(query.resource)) return false;
  return true;
}

/**
 * How many decisions a record stands for: an aggregate of the flood bound
 * (`data.count`) counts its refusals, every other record counts one. With
 * `targetTenant`, an aggregate counts only its refusals against that tenant
 * (`data.target_counts`), when it counted them per tenant.
 *
 * @example
 * lines.map(parseAuditLine).reduce((n, r) => n + auditRecordCount(r), 0);
 * auditRecordCount(record, "acme"); // the refusals against acme only
 */
export function auditRecordCount(record: AuditRecord, targetTenant?: string): number {
  const data = decisionData(record);
  if (targetTenant !== undefined) {
    const against = countAgainst(data, targetTenant);
    if (against !== undefined) return against;
  }
  const count = data?.count;
  return typeof count === "number" && Number.isInteger(count) && count > 0 ? count : 1;
}

/**
 * The counts of a record per target tenant, for grouping by target: an
 * aggregate with `data.target_counts` gives one entry per tenant (and `*`);
 * any other record one entry, its `target_tenant_id` (`-` when none) with
 * {@link auditRecordCount}.
 *
 * @example
 * auditTargetCounts(record); // [["acme", 39], ["initech", 1]]
 */
export function auditTargetCounts(record: AuditRecord): [string, number][] {
  const data = decisionData(record);
  const counts = data?.target_counts;
  if (counts !== null && typeof counts === "object" && Object.keys(counts).length > 0) {
    return Object.entries(counts as Record<string, unknown>).flatMap(([tenant, n]) => (typeof n === "number" && Number.isInteger(n) && n > 0 ? [[tenant, n] as [string, number]] : []));
  }
  return [[String(data?.target_tenant_id ?? "-"), auditRecordCount(record)]];
}
