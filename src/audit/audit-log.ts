import { requireChainKey, sealAuditRecord, type AuditEntry, type AuditRecord, type ChainKey } from "./audit-record.ts";
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

/** The tamper-evident audit trail of tool calls. */
export interface AuditLog {
  /**
   * Seal `entry` onto its tenant's chain and store it. Calls for one tenant
   * run one after another in call order (a chain has one head); tenants do
   * not wait for each other.
   *
   * @throws {AuditWriteError} the sink did not store the record.
   */
  record(entry: AuditEntry): Promise<AuditRecord>;
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

  return {
    record(entry) {
      const tenant = entry.tenant_id;
      const previous = tails.get(tenant) ?? Promise.resolve();
      const write = previous
        .catch(() => undefined)
        .then(() => sink.append(tenant, (head) => sealAuditRecord(entry, head, key)))
        .catch((error: unknown) => {
          throw error instanceof AuditWriteError
            ? error
            : new AuditWriteError(`the audit record of a "${entry.tool}" call could not be written`, { cause: error });
        });
      tails.set(tenant, write);
      // Forget a settled tail so idle tenants hold no memory.
      const forget = () => {
        if (tails.get(tenant) === write) tails.delete(tenant);
      };
      write.then(forget, forget);
      return write;
    },
    async ready() {
      try {
        await sink.ready?.();
      } catch (error) {
        throw error instanceof AuditWriteError ? error : new AuditWriteError("the audit sink cannot write", { cause: error });
      }
    },
    async close() {
      await Promise.allSettled([...tails.values()]);
      await sink.close?.();
    },
  };
}
