/**
 * What an audit trail's writer has seen of its writes: records written,
 * writes refused, and whether the trail refuses writes right now. Plain
 * counters, read by the metrics (`src/metrics/`); nothing here changes a
 * write or its error.
 */
import type { AuditLog } from "./audit-log.ts";

/** The counters of {@link AuditWriteTally}. */
export interface AuditWriteStats {
  /** Records the sink stored. */
  written: number;
  /** Records the sink refused (a full disk, a stopped or broken file, a database error, an entry that cannot be sealed). */
  failed: number;
  /**
   * True while the trail refuses writes: the last append (or `ready()` check)
   * was refused and none has succeeded since. A JSON-lines sink that stopped
   * on a torn tail or a failed sync stays so until it is repaired or
   * reopened; a full disk, until an append succeeds again.
   */
  stopped: boolean;
}

/** Counts one writer's appends. */
export interface AuditWriteTally {
  /** A record was stored. */
  written(): void;
  /** A record was refused. */
  failed(): void;
  /** A readiness check answered: `true` clears `stopped`, `false` sets it. */
  ready(ok: boolean): void;
  /** A copy of the counters. */
  stats(): AuditWriteStats;
}

/**
 * Build a tally.
 *
 * @example
 * const tally = createAuditWriteTally();
 * audit.recordEvent(entry).then(() => tally.written(), () => tally.failed());
 */
export function createAuditWriteTally(): AuditWriteTally {
  let written = 0;
  let failed = 0;
  let stopped = false;
  return {
    written() {
      written += 1;
      stopped = false;
    },
    failed() {
      failed += 1;
      stopped = true;
    },
    ready(ok) {
      stopped = !ok;
    },
    stats: () => ({ written, failed, stopped }),
  };
}

/** An audit log that counts its writes (see {@link tallyAuditWrites}). */
export interface TalliedAuditLog extends AuditLog {
  /** The counters of this log's writes. */
  writeStats(): AuditWriteStats;
}

const tallied = new WeakSet<AuditLog>();

/**
 * An audit log that writes through `audit` and counts: every `record` and
 * `recordEvent` that resolves or rejects, and every `ready()` check. Its
 * answers and errors are `audit`'s own. Wrapping a tallied log again gives
 * it back unchanged.
 *
 * @param tally Where the counts go. Default: a new one.
 * @example
 * const counted = tallyAuditWrites(createAuditLog({ sink }));
 * await counted.record(entry);
 * counted.writeStats(); // { written: 1, failed: 0, stopped: false }
 */
export function tallyAuditWrites(audit: AuditLog, tally: AuditWriteTally = createAuditWriteTally()): TalliedAuditLog {
  if (tallied.has(audit)) return audit as TalliedAuditLog;
  const count = <T>(pending: Promise<T>): Promise<T> =>
    pending.then(
      (value) => {
        tally.written();
        return value;
      },
      (error: unknown) => {
        tally.failed();
        throw error;
      },
    );
  const log: TalliedAuditLog = {
    record: (entry) => count(audit.record(entry)),
    recordEvent: (entry) => count(audit.recordEvent(entry)),
    ready: () =>
      audit.ready().then(
        () => tally.ready(true),
        (error: unknown) => {
          tally.ready(false);
          throw error;
        },
      ),
    close: () => audit.close(),
    writeStats: () => tally.stats(),
  };
  tallied.add(log);
  return log;
}
