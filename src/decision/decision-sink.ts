import type { AuditWriteStats } from "../audit/audit-write-stats.ts";
import type { DecisionRecord } from "./decision-event.ts";

/**
 * Where decision events are written: standard error (`stderr-decision-sink.ts`)
 * or the audit trail. A sink's errors never change a decision.
 */
export interface DecisionSink {
  /** Write one event or aggregate. */
  write(record: DecisionRecord): void;
  /** Wait for pending writes and release the sink. */
  close?(): Promise<void>;
  /** A sink that writes to the audit trail: its records written and refused (see `audit-write-stats.ts`). */
  auditStats?(): AuditWriteStats;
}
