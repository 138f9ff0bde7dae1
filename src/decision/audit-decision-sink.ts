/**
 * The `audit` sink: decision events as event records (`kind: "decision"`,
 * format 3) in the tamper-evident audit trail, on the chain of the tenant of
 * the verified caller, so a tenant's security decisions and tool calls share
 * one verifiable record. An event with no verified tenant (a missing or
 * invalid token) goes to the chain of `NO_TENANT` (`_unauthenticated`).
 */
import { NO_TENANT } from "../audit/audit-record.ts";
import type { AuditLog } from "../audit/audit-log.ts";
import { createAuditWriteTally } from "../audit/audit-write-stats.ts";
import type { DecisionRecord } from "./decision-event.ts";
import type { DecisionSink } from "./decision-sink.ts";

/** Options of {@link createAuditDecisionSink}. */
export interface AuditDecisionSinkOptions {
  /** The audit trail the events are appended to. */
  audit: AuditLog;
  /**
   * Where an event goes when the audit trail refuses it (a stopped sink, the
   * Postgres sink's refusal of a record with no tenant): it must not be lost.
   * Default: none (dropped).
   */
  fallback?: DecisionSink;
  /** Close the audit log when this sink is closed (it was opened for it). Default false. */
  ownsAudit?: boolean;
}

/**
 * The event record's `data`: the event without the fields the record itself
 * carries (`time`, `tenant_id`, `subject` as `user_id`).
 */
function dataOf(record: DecisionRecord): Record<string, unknown> {
  const { time: _time, tenant_id: _tenant, subject: _subject, ...data } = record;
  return data;
}

/**
 * Build the audit sink. Tool-guard events are not appended again: the tool
 * guard's own `refused` record carries their `reason_code` and `decision_id`.
 *
 * @example
 * createDecisionLog({ sink: createAuditDecisionSink({ audit, fallback: createStderrDecisionSink() }) });
 */
export function createAuditDecisionSink(options: AuditDecisionSinkOptions): DecisionSink {
  const { audit, fallback } = options;
  if (!audit || typeof audit.recordEvent !== "function") throw new TypeError("createAuditDecisionSink: options.audit must be an AuditLog");
  const pending = new Set<Promise<unknown>>();
  const tally = createAuditWriteTally();
  return {
    write(record) {
      if (record.source === "tool_guard") return;
      const subject = record.subject === "*" ? null : record.subject;
      const appended = audit
        .recordEvent({ kind: "decision", time: record.time, tenant_id: record.tenant_id ?? NO_TENANT, user_id: subject, data: dataOf(record) })
        .then(
          () => tally.written(),
          () => {
            tally.failed();
            try {
              fallback?.write(record);
            } catch {
              // nowhere left to write it
            }
          },
        )
        .finally(() => pending.delete(appended));
      pending.add(appended);
    },
    auditStats: () => tally.stats(),
    async close() {
      await Promise.allSettled([...pending]);
      if (options.ownsAudit) await audit.close();
    },
  };
}
