import { InvalidAuditQueryError } from "./audit-errors.ts";
import type { AuditRecord } from "./audit-record.ts";

/** Which records `query` returns. */
export interface AuditQuery {
  /** Only this tenant's records (required: a query never spans tenants). */
  tenant: string;
  /** Only records at or after this instant. Default: from the first record. */
  since?: Date | undefined;
  /** Only records before this instant. Default: up to the last record. */
  until?: Date | undefined;
}

/**
 * True when a record matches a query.
 *
 * @throws {InvalidAuditQueryError} the query has no tenant or an invalid date.
 * @example
 * records.filter((r) => matchesAuditQuery(r, { tenant: "acme", since: new Date("2026-01-01") }));
 */
export function matchesAuditQuery(record: AuditRecord, query: AuditQuery): boolean {
  if (typeof query?.tenant !== "string" || query.tenant === "") throw new InvalidAuditQueryError("query.tenant is required");
  for (const key of ["since", "until"] as const) {
    const value = query[key];
    if (value !== undefined && (!(value instanceof Date) || Number.isNaN(value.getTime()))) {
      throw new InvalidAuditQueryError(`query.${key} must be a valid Date`);
    }
  }
  if (record.tenant_id !== query.tenant) return false;
  const time = Date.parse(record.time);
  if (query.since && time < query.since.getTime()) return false;
  if (query.until && time >= query.until.getTime()) return false;
  return true;
}
