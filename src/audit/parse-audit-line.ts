import { InvalidAuditLineError } from "./audit-errors.ts";
import { checkAuditRecord, type AuditRecord } from "./audit-record.ts";

/**
 * Parse one JSON line as an audit record of any format (the shape only: the
 * chain is checked by the chain verifier, `audit-chain-verifier.ts`, which
 * sits above this parser).
 *
 * @throws {InvalidAuditLineError} with a short reason (not JSON, or not an
 * audit record, naming the field), never the line itself.
 * @example
 * const record = parseAuditLine(line);
 */
export function parseAuditLine(line: string): AuditRecord {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new InvalidAuditLineError("the line is not JSON");
  }
  const checked = checkAuditRecord(value);
  if ("problem" in checked) throw new InvalidAuditLineError(`not an audit record (${checked.field}: ${checked.problem})`);
  return checked.record;
}
