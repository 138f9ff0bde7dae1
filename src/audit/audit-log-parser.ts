import { createReadStream } from "node:fs";
import { deepFreeze } from "../lib/deep-freeze.ts";
import {
  createAuditChainVerifier, type AuditChainProblem, type AuditChainReport, type AuditChainVerifierOptions, type AuditTailDefect,
} from "./audit-chain-verifier.ts";
import { parseAuditLine } from "./parse-audit-line.ts";
import type { AuditRecord, ChainHead } from "./audit-record.ts";

/**
 * The one definition of a well-formed JSON-lines audit log, shared by the
 * sink (before it appends), {@link verifyAuditLog} and `npx langgraph-tenant-auth audit
 * verify`, so all three give the same answer for every log.
 *
 * A well-formed log is a sequence of records, each followed by exactly one
 * `\n`, whose chains verify. Anything else at the end is a tail defect
 * ({@link AuditTailDefect}) with a repair; anything else inside is a broken
 * chain (evidence, never repaired automatically).
 */

/** The outcome of parsing a whole log. */
export interface AuditLogReport extends AuditChainReport {
  /**
   * Bytes of the well-formed prefix: the log up to the newline of its last
   * good record. Cutting the file back to this length removes a tail defect.
   */
  validBytes: number;
}

/** Incremental parser: push the log's text in chunks of any size, then `end()`. */
export interface AuditLogParser {
  /** Parse more of the log; returns the first problem inside the log, if any (then stop pushing). */
  push(chunk: string): AuditChainProblem | undefined;
  /** True when everything pushed so far verified and ends exactly at the end of a record's line. */
  readonly wellFormed: boolean;
  /** See {@link AuditLogReport.validBytes}. */
  readonly validBytes: number;
  /** A tenant's chain head after the last record verified or trusted. */
  head(tenantId: string): ChainHead | undefined;
  /** Take a line this process has just appended (see {@link AuditChainVerifier.trust}). */
  trust(record: AuditRecord, bytes: number): void;
  /** The log has ended: judge its tail. Push nothing after this; calling it again gives the same report. */
  end(): AuditLogReport;
}

const REPAIR = "npx langgraph-tenant-auth audit repair <file>";

/**
 * What each tail defect is called and how it is repaired (`<file>` stands for the log's path).
 *
 * @example
 * AUDIT_TAIL_REPAIRS["torn-line"].repair; // "cut the log back to its last whole line: npx langgraph-tenant-auth audit repair <file> …"
 */
export const AUDIT_TAIL_REPAIRS: Readonly<Record<AuditTailDefect, Readonly<{ reason: string; repair: string }>>> = deepFreeze({
  "missing-newline": {
    reason: "the last line is incomplete (no newline), though its record is whole and verifies",
    repair: `append the missing newline: ${REPAIR} (keeps the record)`,
  },
  "blank-line": {
    reason: "an empty line at the end of the log",
    repair: `cut the empty line(s): ${REPAIR}`,
  },
  "torn-line": {
    reason: "a torn last line (part of a record, no newline: a short write)",
    repair: `cut the log back to its last whole line: ${REPAIR} (the cut bytes are saved beside the log)`,
  },
  "nul-padding": {
    reason: "NUL bytes at the end of the log (zero-filled blocks left by a crash)",
    repair: `cut the log back to its last whole line: ${REPAIR} (the cut bytes are saved beside the log)`,
  },
});

/**
 * Build a log parser over the chain verifier.
 *
 * @example
 * const parser = createAuditLogParser({ key });
 * for await (const chunk of stream) if (parser.push(chunk)) break;
 * const report = parser.end(); // { ok, problem (with defect and repair for a bad tail), heads, unfinished, validBytes }
 */
export function createAuditLogParser(options: AuditChainVerifierOptions = {}): AuditLogParser {
  const verifier = createAuditChainVerifier(options);
  let rest = ""; // text after the last newline pushed
  let blanks = 0; // empty lines not followed by a record yet
  let validBytes = 0;
  let lines = 0; // whole lines handed to the verifier
  let problem: AuditChainProblem | undefined;
  let ended: AuditLogReport | undefined;

  const line = (text: string): AuditChainProblem | undefined => {
    if (text === "") {
      blanks += 1;
      return undefined;
    }
    // Empty lines followed by a record: the verifier names the first one.
    for (; blanks > 0; blanks -= 1) {
      lines += 1;
      verifier.check("");
    }
    lines += 1;
    problem = verifier.check(text);
    if (!problem) validBytes += Buffer.byteLength(text) + 1;
    return problem;
  };

  return {
    push(chunk) {
      if (problem) return problem;
      let start = 0;
      for (let at = chunk.indexOf("\n"); at !== -1; at = chunk.indexOf("\n", start)) {
        const text = start === 0 && rest !== "" ? rest + chunk.slice(0, at) : chunk.slice(start, at);
        rest = "";
        start = at + 1;
        if (line(text)) return problem;
      }
      rest += chunk.slice(start);
      return undefined;
    },
    get wellFormed() {
      return !problem && rest === "" && blanks === 0;
    },
    get validBytes() {
      return validBytes;
    },
    head: (tenantId) => verifier.head(tenantId),
    trust(record, bytes) {
      lines += 1;
      verifier.trust(record);
      validBytes += bytes;
    },
    end() {
      return (ended ??= judge());
    },
  };

  function judge(): AuditLogReport {
    const tail = (defect: AuditTailDefect, at: number): AuditLogReport => ({
      ...verifier.report(),
      ok: false,
      problem: { line: at, tenant_id: null, seq: null, defect, ...AUDIT_TAIL_REPAIRS[defect] },
      validBytes,
    });
    if (!problem && rest !== "") {
      if (rest.includes("\u0000")) return tail("nul-padding", lines + 1);
      let whole = true;
      try {
        parseAuditLine(rest);
      } catch {
        whole = false;
      }
      if (!whole) return tail("torn-line", lines + 1);
      // A whole record without its newline: check it as the next line, so
      // its chain is judged exactly as if the newline were there.
      if (!line(rest)) {
        validBytes -= 1; // its newline is what is missing
        return tail("missing-newline", lines);
      }
    } else if (!problem && blanks > 0) {
      return tail("blank-line", lines + 1);
    }
    return { ...verifier.report(), validBytes };
  }
}

/**
 * Check a whole log held in memory: the chains, saved heads (`expectHeads`)
 * and how the log ends, exactly as the sink and `npx langgraph-tenant-auth audit verify` do.
 *
 * @example
 * const report = verifyAuditLog(await readFile("audit.jsonl", "utf8"));
 * if (!report.ok) console.error(`line ${report.problem!.line}: ${report.problem!.reason}`);
 */
export function verifyAuditLog(text: string, options: AuditChainVerifierOptions = {}): AuditLogReport {
  const parser = createAuditLogParser(options);
  parser.push(text);
  return parser.end();
}

/**
 * Check a log file without holding it in memory (same verdict as
 * {@link verifyAuditLog} on its text).
 *
 * @throws the file cannot be read (for example `ENOENT`).
 * @example
 * const report = await verifyAuditLogFile("audit.jsonl", { key: process.env.AUDIT_CHAIN_KEY });
 */
export async function verifyAuditLogFile(file: string, options: AuditChainVerifierOptions = {}): Promise<AuditLogReport> {
  const parser = createAuditLogParser(options);
  const input = createReadStream(file, { encoding: "utf8" });
  try {
    for await (const chunk of input) if (parser.push(chunk as string)) break;
  } finally {
    input.destroy();
  }
  return parser.end();
}
