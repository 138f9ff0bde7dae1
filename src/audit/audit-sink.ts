import type { AuditRecord, ChainHead } from "./audit-record.ts";

/**
 * Where audit records go. A sink owns the chain heads of the records it
 * stores, because only it knows what is really stored (a file written by an
 * earlier process, a table written by other replicas).
 *
 * `append` must, atomically for the tenant: read the tenant's chain head,
 * call `seal(head)` exactly once, store the record it returns, and resolve
 * with it. It rejects when the record was not stored: a lost audit record
 * must surface, never vanish. When `seal` throws (an entry that cannot be
 * sealed), nothing is stored and `append` rejects with that error.
 *
 * A sink stores records of every format (tool calls and events) alike: it
 * reads only the fields every record has (`tenant_id`, `seq`, `time`,
 * `prev_hash`, `hash`).
 *
 * @example
 * const sink: AuditSink = createJsonLinesSink({ file: "audit.jsonl" });
 */
export interface AuditSink {
  append(tenantId: string, seal: (head: ChainHead | undefined) => AuditRecord): Promise<AuditRecord>;
  /** Resolve when the sink can write (file open, database reachable); reject otherwise. */
  ready?(): Promise<void>;
  /** Flush and release what the sink holds. */
  close?(): Promise<void>;
}
