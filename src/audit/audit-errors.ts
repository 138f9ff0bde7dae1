/**
 * The audit layer's coded errors (jose's shape: `name`, a stable `code`
 * from {@link AuditErrorCode}, `cause`). None is an `AuthError`: an audit
 * failure is the deployment's fault, not the request's, so the server
 * answers it with a 500 and the run fails, which is the point.
 */

/** Every code the audit layer throws. */
export type AuditErrorCode = "ERR_AUDIT_INVALID_ENTRY";

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
