import { InvalidAuditEntryError } from "./audit-errors.ts";
import {
  AUDIT_EVENT_KINDS, requireChainKey, sealAuditEvent, sealAuditRecord, type AuditEntry, type AuditEventEntry, type AuditRecord,
  type ChainHead, type ChainKey,
} from "./audit-record.ts";
import type { AuditSink } from "./audit-sink.ts";

/**
 * A record could not be written: the tool call it describes must not pass
 * unnoticed. Not an `AuthError`: the server answers it with a 500 and the
 * run fails, which is the point.
 *
 * @example
 * try { await audit.record(entry); } catch (error) { if (error instanceof AuditWriteError) alertOnCall(error.cause); throw error; }
 */
export class AuditWriteError extends Error {
  override name = "AuditWriteError";
  readonly code = "ERR_AUDIT_WRITE" as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Options of {@link createAuditLog}. */
export interface AuditLogOptions {
  /** Where records go. */
  sink: AuditSink;
  /**
   * Key the chain with HMAC-SHA256 (at least 32 bytes). Give a JSON-lines
   * sink the same key, and `verify` too. Default: none (plain SHA-256).
   */
  chainKey?: ChainKey | undefined;
}

/** The tamper-evident audit trail of tool calls and events. */
export interface AuditLog {
  /**
   * Seal a tool-call `entry` onto its tenant's chain and store it. Calls for
   * one tenant run one after another in call order (a chain has one head);
   * tenants do not wait for each other.
   *
   * @throws {AuditWriteError} the record was not stored: the sink failed, or
   * the entry cannot be sealed (`cause` is then an `InvalidAuditEntryError`).
   */
  record(entry: AuditEntry): Promise<AuditRecord>;
  /**
   * Seal an event (a format-3 record: a security decision, an offboarding)
   * onto its tenant's chain and store it, in the same per-tenant order as
   * {@link AuditLog.record} and with the same errors. Events and tool calls
   * of a tenant share one chain, so `verify` checks them together.
   *
   * @throws {AuditWriteError} the record was not stored: the sink failed, or
   * the entry cannot be sealed (`cause` is then an `InvalidAuditEntryError`:
   * an unknown kind, or `data` that is not a small plain JSON object).
   * @example
   * await audit.recordEvent({
   *   kind: "offboarding", time: new Date().toISOString(), tenant_id: "acme", user_id: "alice",
   *   data: { counts: { threads: 12 }, manifest_sha256: "9f86d0…" },
   * });
   */
  recordEvent(entry: AuditEventEntry): Promise<AuditRecord>;
  /**
   * Resolve when the sink can write. Call it before running a tool, so a
   * broken sink stops the call before anything happens.
   *
   * @throws {AuditWriteError}
   */
  ready(): Promise<void>;
  /** Wait for pending records, then close the sink. */
  close(): Promise<void>;
}

/**
 * Build the audit log over a sink.
 *
 * @example
 * const audit = createAuditLog({ sink: createJsonLinesSink({ file: process.env.AUDIT_LOG_FILE }) });
 * await audit.record({ time: new Date().toISOString(), tenant_id: "acme", ... });
 */
export function createAuditLog(options: AuditLogOptions): AuditLog {
  const sink = options?.sink;
  if (!sink || typeof sink.append !== "function") {
    throw new TypeError("createAuditLog: options.sink must be an AuditSink (an object with append())");
  }
  const key = options.chainKey === undefined ? undefined : requireChainKey(options.chainKey, "createAuditLog: options.chainKey");
  // The last pending write of each tenant: the next one starts after it
  // settles, so two overlapping calls never seal onto the same head.
  const tails = new Map<string, Promise<unknown>>();

  /**
   * What a record is, in an error message: never a value a caller controls
   * beyond the tool name the guard already bounds, or a known event kind.
   */
  function describe(entry: unknown, event: boolean): string {
    if (!event) return `the audit record of a "${String((entry as Partial<AuditEntry> | undefined)?.tool).slice(0, 256)}" call`;
    const kind = (entry as Partial<AuditEventEntry> | undefined)?.kind;
    return `the audit event${AUDIT_EVENT_KINDS.includes(kind!) ? ` "${kind}"` : ""}`;
  }

  /** Store one record of `tenant` after the tenant's pending ones. */
  function append(tenant: string, entry: unknown, event: boolean, seal: (head: ChainHead | undefined) => AuditRecord): Promise<AuditRecord> {
    const previous = tails.get(tenant);
    let started: Promise<AuditRecord>;
    if (previous) {
      const run = () => sink.append(tenant, seal);
      started = previous.then(run, run);
    } else {
      // Nothing pending for the tenant (the common case): hand the record
      // to the sink now, without waiting a turn.
      try {
        started = sink.append(tenant, seal);
      } catch (error) {
        started = Promise.reject(error);
      }
    }
    // Settled: forget the tail (idle tenants hold no memory), and give every failure its code.
    const write: Promise<AuditRecord> = started.then(
      (record) => {
        if (tails.get(tenant) === write) tails.delete(tenant);
        return record;
      },
      (error: unknown) => {
        if (tails.get(tenant) === write) tails.delete(tenant);
        throw error instanceof AuditWriteError ? error : new AuditWriteError(`${describe(entry, event)} could not be written`, { cause: error });
      },
    );
    tails.set(tenant, write);
    return write;
  }

  /** The tenant of an entry; a rejected write (never a thrown `TypeError`) for an entry without one. */
  function tenantOf(entry: unknown, event: boolean): string | Promise<never> {
    const tenant = (entry as { tenant_id?: unknown } | null | undefined)?.tenant_id;
    if (typeof tenant === "string" && tenant !== "") return tenant;
    return Promise.reject(new AuditWriteError(`${describe(entry, event)} could not be written`, {
      cause: new InvalidAuditEntryError("tenant_id", "the audit entry has no tenant_id"),
    }));
  }

  return {
    record(entry) {
      const tenant = tenantOf(entry, false);
      return typeof tenant === "string" ? append(tenant, entry, false, (head) => sealAuditRecord(entry, head, key)) : tenant;
    },
    recordEvent(entry) {
      const tenant = tenantOf(entry, true);
      return typeof tenant === "string" ? append(tenant, entry, true, (head) => sealAuditEvent(entry, head, key)) : tenant;
    },
    ready() {
      // Not an async function: called before every guarded tool call, and a
      // sink that can write answers at once.
      let ready: Promise<void> | undefined;
      try {
        ready = sink.ready?.();
      } catch (error) {
        ready = Promise.reject(error);
      }
      return (ready ?? Promise.resolve()).catch((error: unknown) => {
        throw error instanceof AuditWriteError ? error : new AuditWriteError("the audit sink cannot write", { cause: error });
      });
    },
    async close() {
      await Promise.allSettled([...tails.values()]);
      await sink.close?.();
    },
  };
}
