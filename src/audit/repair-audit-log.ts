import { writeFile } from "node:fs/promises";
import { nodeAuditFileSystem, readIntoParser, writeWhole, type AuditFileHandle, type AuditFileSystem } from "./audit-file.ts";
import { createAuditLogParser, type AuditLogReport } from "./audit-log-parser.ts";
import type { ChainKey } from "./audit-record.ts";
import { acquireFileLock } from "./file-lock.ts";
import type { AuditTailDefect } from "./audit-chain-verifier.ts";

/** What {@link repairAuditLog} did. */
export interface AuditLogRepair {
  /** `none`: the log was well formed; `newline`: the missing final newline was added; `cut`: the tail was cut off. */
  action: "none" | "newline" | "cut";
  /** The tail defect repaired (absent for `none`). */
  defect?: AuditTailDefect | undefined;
  /** Bytes removed from the end (for `cut`). */
  cutBytes: number;
  /** Where the removed bytes were saved (for `cut`): `<file>.cut-<time>`, mode 0600. */
  savedTo?: string | undefined;
  /** The log verified again after the repair. */
  after: AuditLogReport;
}

/** Options of {@link repairAuditLog}. */
export interface RepairAuditLogOptions {
  /** The chain key of a keyed log. Default: none. */
  key?: ChainKey | undefined;
  /** Files to open. Default {@link nodeAuditFileSystem}. */
  fileSystem?: AuditFileSystem | undefined;
  /** How long to wait for the writers' lock (`<file>.lock`). Default 10 000 ms. */
  lockTimeoutMs?: number | undefined;
  /** Clock for the saved tail's name. Default `() => new Date()`. */
  clock?: (() => Date) | undefined;
}

/**
 * The log is broken inside (not just at its end): there is nothing safe to repair.
 *
 * @example
 * try { await repairAuditLog(file); } catch (error) { if (error instanceof AuditLogNotRepairableError) console.error(error.report.problem); }
 */
export class AuditLogNotRepairableError extends Error {
  override name = "AuditLogNotRepairableError";
  readonly code = "ERR_AUDIT_NOT_REPAIRABLE" as const;
  /** The verification that found the problem. */
  readonly report: AuditLogReport;
  constructor(message: string, report: AuditLogReport) {
    super(message);
    this.report = report;
  }
}

async function parse(handle: AuditFileHandle, key: ChainKey | undefined): Promise<AuditLogReport> {
  const parser = createAuditLogParser({ key });
  await readIntoParser(handle, parser, 0, (await handle.stat()).size);
  return parser.end();
}

/**
 * Repair an open log whose writers' lock the caller holds. Used by
 * {@link repairAuditLog} and by the sink's `repair: true`.
 *
 * @throws {AuditLogNotRepairableError} the chain is broken inside the log.
 * @example
 * const done = await repairOpenAuditLog(handle, "audit.jsonl", {});
 */
export async function repairOpenAuditLog(handle: AuditFileHandle, file: string, options: RepairAuditLogOptions): Promise<AuditLogRepair> {
  const before = await parse(handle, options.key);
  if (before.ok) return { action: "none", cutBytes: 0, after: before };
  const problem = before.problem!;
  if (!problem.defect) {
    throw new AuditLogNotRepairableError(
      `${file} is broken at line ${problem.line}, not only at its end (${problem.reason}); it is evidence: keep it, start a new log`,
      before,
    );
  }
  let result: Omit<AuditLogRepair, "after">;
  if (problem.defect === "missing-newline") {
    await writeWhole(handle, Buffer.from("\n"), (await handle.stat()).size);
    result = { action: "newline", defect: problem.defect, cutBytes: 0 };
  } else {
    const { size } = await handle.stat();
    const cut = Buffer.alloc(size - before.validBytes);
    await handle.read(cut, 0, cut.length, before.validBytes);
    // The cut bytes are kept: a torn record may still tell an investigator something.
    const savedTo = `${file}.cut-${(options.clock?.() ?? new Date()).toISOString().replace(/[:.]/g, "-")}`;
    await writeFile(savedTo, cut, { mode: 0o600, flag: "wx" });
    await handle.truncate(before.validBytes);
    result = { action: "cut", defect: problem.defect, cutBytes: cut.length, savedTo };
  }
  await handle.datasync();
  return { ...result, after: await parse(handle, options.key) };
}

/**
 * Repair a JSON-lines log's tail defect (see `AUDIT_TAIL_REPAIRS`): add a
 * missing final newline (the record is whole and verifies), or cut the log
 * back to its last whole line (a torn line, NUL padding, empty lines),
 * saving the cut bytes beside it. Takes the writers' lock, so it is safe
 * while sinks run; a sink that stopped after a failed write must then be
 * reopened. A chain broken inside the log is never "repaired".
 *
 * @throws {AuditLogNotRepairableError} the chain is broken inside the log.
 * @example
 * const { action, savedTo } = await repairAuditLog("audit.jsonl");
 */
export async function repairAuditLog(file: string, options: RepairAuditLogOptions = {}): Promise<AuditLogRepair> {
  const release = await acquireFileLock(`${file}.lock`, { timeoutMs: options.lockTimeoutMs });
  try {
    const handle = await (options.fileSystem ?? nodeAuditFileSystem).open(file, "r+", 0o600);
    try {
      return await repairOpenAuditLog(handle, file, options);
    } finally {
      await handle.close();
    }
  } finally {
    await release();
  }
}
