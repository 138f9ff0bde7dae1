/**
 * The audit layer's coded errors (jose's shape: `name`, a stable `code`
 * from {@link AuditErrorCode}, `cause`). None is an `AuthError`: an audit
 * failure is the deployment's fault, not the request's, so the server
 * answers it with a 500 and the run fails, which is the point.
 *
 * Three older classes keep their modules: `AuditWriteError`
 * (`audit-log.ts`), `AuditLogNotRepairableError` (`repair-audit-log.ts`)
 * and `FileLockTimeoutError` (`file-lock.ts`). Options given to a factory
 * (`createAuditLog`, `createJsonLinesSink`, a chain key) are still checked
 * at construction with a `TypeError` naming the option.
 */

/** Every code the audit layer throws. */
export type AuditErrorCode =
  | "ERR_AUDIT_WRITE"
  | "ERR_AUDIT_INVALID_ENTRY"
  | "ERR_AUDIT_NOT_REPAIRABLE"
  | "ERR_FILE_LOCK_TIMEOUT"
  | "ERR_AUDIT_LINE_INVALID"
  | "ERR_AUDIT_HEAD_INVALID"
  | "ERR_AUDIT_QUERY_INVALID"
  | "ERR_AUDIT_NO_JSON_FORM"
  | "ERR_AUDIT_SHORT_WRITE";

/**
 * An entry cannot be sealed into a record that would verify: a field has the
 * wrong shape (for example a `reason_code` that is not snake_case), an event
 * kind outside `AUDIT_EVENT_KINDS`, or event `data` that is not a plain JSON
 * object within `AUDIT_EVENT_DATA_LIMITS`. Nothing was written. The message
 * names the field, never its value.
 *
 * @example
 * try { sealAuditEvent(entry, head); } catch (error) { if (error instanceof InvalidAuditEntryError) console.error(error.field); }
 */
export class InvalidAuditEntryError extends Error {
  override name = "InvalidAuditEntryError";
  readonly code = "ERR_AUDIT_INVALID_ENTRY" as const;
  /** The path of the first bad field (`"data.counts"`), or `"entry"` for the entry itself. */
  readonly field: string;
  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.field = field;
  }
}

/**
 * A log line is not an audit record: not JSON, or not of any record format.
 * The message is a short reason naming the field, never the line.
 *
 * @example
 * try { parseAuditLine(line); } catch (error) { if (error instanceof InvalidAuditLineError) console.error(error.message); }
 */
export class InvalidAuditLineError extends Error {
  override name = "InvalidAuditLineError";
  readonly code = "ERR_AUDIT_LINE_INVALID" as const;
}

/**
 * Saved chain heads (`<tenant> <seq> <hash>` lines) could not be read; the
 * message names the line.
 *
 * @example
 * try { parseChainHeads(text); } catch (error) { if (error instanceof InvalidChainHeadError) console.error(error.message); }
 */
export class InvalidChainHeadError extends Error {
  override name = "InvalidChainHeadError";
  readonly code = "ERR_AUDIT_HEAD_INVALID" as const;
}

/**
 * An audit query is malformed (no tenant, an invalid date); the message names the field.
 *
 * @example
 * try { matchesAuditQuery(record, query); } catch (error) { if (error instanceof InvalidAuditQueryError) respond(400, error.message); }
 */
export class InvalidAuditQueryError extends Error {
  override name = "InvalidAuditQueryError";
  readonly code = "ERR_AUDIT_QUERY_INVALID" as const;
}

/**
 * A value has no faithful JSON form, so it cannot be hashed or written: a
 * non-finite number, a `bigint`, a function, a symbol, `undefined` in an
 * array, a cycle, or nesting too deep to walk.
 *
 * @example
 * try { canonicalJson(value); } catch (error) { if (error instanceof NoJsonFormError) refuse(error.message); }
 */
export class NoJsonFormError extends Error {
  override name = "NoJsonFormError";
  readonly code = "ERR_AUDIT_NO_JSON_FORM" as const;
}

/**
 * A file stopped taking bytes part way through a write (it accepted none of
 * the rest, without an error of its own); part of the bytes may be in the
 * file.
 *
 * @example
 * try { await writeWhole(handle, bytes); } catch (error) { if (error instanceof AuditShortWriteError) await handle.truncate(start); }
 */
export class AuditShortWriteError extends Error {
  override name = "AuditShortWriteError";
  readonly code = "ERR_AUDIT_SHORT_WRITE" as const;
}
