import { GENESIS_HASH, hashAuditRecord, type AuditRecord, type ChainHead, type ChainKey } from "./audit-record.ts";
import { parseAuditLine } from "./parse-audit-line.ts";

/**
 * How a log can end badly without any record in it being wrong: what a
 * crash, a full disk or an editor leaves behind.
 * - `missing-newline`: the last record is whole but has no `\n`.
 * - `blank-line`: the log ends with one or more empty lines.
 * - `torn-line`: the last line is part of a record (a short write).
 * - `nul-padding`: the log ends with NUL bytes (zero-filled blocks after a crash).
 */
export type AuditTailDefect = "missing-newline" | "blank-line" | "torn-line" | "nul-padding";

/** The first record that breaks a chain, and why. */
export interface AuditChainProblem {
  /** 1-based line number in the log (one past the last line for a saved head the log no longer reaches). */
  line: number;
  /** The record's tenant, when the line could be read at all. */
  tenant_id: string | null;
  seq: number | null;
  reason: string;
  /** Set when the log is only badly ended (see {@link AuditTailDefect}); absent for a broken chain. */
  defect?: AuditTailDefect | undefined;
  /** How to repair a tail defect (absent for a broken chain: that is evidence, not damage to tidy up). */
  repair?: string | undefined;
}

/** A format-2 call that has a `"started"` record and no outcome yet. */
export interface AuditUnfinishedCall {
  tenant_id: string;
  call_id: string;
  tool: string;
  /** The started record's line and position in its chain. */
  line: number;
  seq: number;
  time: string;
  user_id: string | null;
  thread_id: string | null;
  run_id: string | null;
  tool_call_id: string | null;
}

/** Outcome of checking a whole log. */
export interface AuditChainReport {
  ok: boolean;
  /** Records checked before the first problem (all of them when `ok`). */
  records: number;
  /** The first problem; `undefined` when `ok`. */
  problem: AuditChainProblem | undefined;
  /** Each tenant's chain head after the last good record. */
  heads: Map<string, ChainHead>;
  /**
   * Calls that started and never finished (still running, or the process
   * died, or the outcome could not be written), in log order. They do not make `ok` false: a
   * call that never finished is history to investigate, not a broken chain.
   */
  unfinished: AuditUnfinishedCall[];
}

/** Options of {@link createAuditChainVerifier}. */
export interface AuditChainVerifierOptions {
  /**
   * The key of a keyed chain. With it, every record must be keyed
   * (`hash_alg: "hmac-sha256"`), so an unkeyed forgery is refused; without
   * it, a keyed record is reported as needing the key. Default: none.
   */
  key?: ChainKey | undefined;
  /**
   * Heads saved earlier (from `npx langgraph-tenant-auth audit head`), by tenant. The log
   * must still reach each one: the tenant's record at that `seq` must exist
   * and have that `hash`. A log cut off at the end, or rewritten, fails.
   * Default: none.
   */
  expectHeads?: Iterable<readonly [string, ChainHead]> | undefined;
}

/** Line-by-line checker, for logs too big to hold in memory. */
export interface AuditChainVerifier {
  /** Check the next line; returns the problem it has, if any (then stop). */
  check(line: string): AuditChainProblem | undefined;
  /**
   * Take a record this process has just written (already sealed onto the
   * head this verifier reported) without parsing or re-hashing it: keeps
   * the heads and open calls of a writer in step at no cost.
   */
  trust(record: AuditRecord): void;
  /** A tenant's chain head after the last record accepted. */
  head(tenantId: string): ChainHead | undefined;
  /** Where things stand (a saved head not reached yet counts as a problem). */
  report(): AuditChainReport;
}

/**
 * Check a log line by line. Each tenant's records must form an unbroken
 * chain: `hash` recomputed from the content (an edit shows), `prev_hash`
 * equal to the tenant's previous `hash` and `seq` one more than its previous
 * (a deleted or reordered record shows). Lines of several tenants may
 * interleave. A format-2 call's outcome must follow its `"started"` record;
 * calls that started and never finished are listed in the report without
 * failing it. An empty line followed by another line is a problem; how the
 * log ends (a torn or unterminated last line) is judged by the log parser
 * (`verifyAuditLog`, `audit-log-parser.ts`), which feeds this checker.
 *
 * What a chain cannot show by itself: records cut off at the end of the log
 * (give `expectHeads`, saved elsewhere), and a log rewritten from the edit
 * onward with every hash recomputed (the Postgres sink's insert-only table
 * guards against that).
 *
 * @example
 * const verifier = createAuditChainVerifier();
 * for (const line of text.split("\n")) if (verifier.check(line)) break;
 * verifier.report(); // { ok, records, problem, heads }
 */
export function createAuditChainVerifier(options: AuditChainVerifierOptions = {}): AuditChainVerifier {
  const { key } = options;
  const heads = new Map<string, ChainHead>();
  const expected = new Map<string, ChainHead & { reached: boolean }>();
  for (const [tenant, head] of options.expectHeads ?? []) expected.set(tenant, { ...head, reached: false });
  // Open format-2 calls by tenant and call_id (a Map keeps log order).
  const open = new Map<string, AuditUnfinishedCall>();
  let lineNumber = 0;
  let records = 0;
  let problem: AuditChainProblem | undefined;
  let pendingEmpty = false;

  const fail = (p: AuditChainProblem) => (problem = p);

  /**
   * Follow a record's call; a reason when its call makes no sense. Only
   * format 2 pairs records (started, then an outcome): format 1 has one
   * record per call, and events (format 3) are no calls.
   */
  function followCall(record: AuditRecord, line: number): string | undefined {
    if (record.v !== 2 || record.call_id === undefined) return undefined;
    const id = `${record.tenant_id}\u0000${record.call_id}`;
    const started = open.get(id);
    if (record.decision === "started") {
      if (started) return `call ${record.call_id} started twice (first at line ${started.line})`;
      open.set(id, {
        tenant_id: record.tenant_id, call_id: record.call_id, tool: record.tool, line, seq: record.seq, time: record.time,
        user_id: record.user_id, thread_id: record.thread_id, run_id: record.run_id, tool_call_id: record.tool_call_id,
      });
      return undefined;
    }
    if (started) {
      open.delete(id);
      if (record.decision === "refused") return `call ${record.call_id} started, then was refused (a refusal comes instead of a start)`;
      return undefined;
    }
    // A refused call never starts: its one record is complete. Any other
    // outcome without a start means the start is missing.
    return record.decision === "refused" ? undefined : `call ${record.call_id} has an outcome but never started (its "started" record is missing)`;
  }

  function reachHead(record: AuditRecord): string | undefined {
    const saved = expected.get(record.tenant_id);
    if (!saved || saved.seq !== record.seq) return undefined;
    saved.reached = true;
    return saved.hash === record.hash
      ? undefined
      : `the record at seq ${record.seq} is not the one whose head was saved (hash ${saved.hash.slice(0, 12)}…): the log was rewritten`;
  }

  function accept(record: AuditRecord): void {
    heads.set(record.tenant_id, { seq: record.seq, hash: record.hash });
    records += 1;
  }

  return {
    check(line) {
      if (problem) return problem;
      lineNumber += 1;
      if (pendingEmpty) {
        // An empty line followed by more lines: something was cut out.
        return fail({ line: lineNumber - 1, tenant_id: null, seq: null, reason: "an empty line inside the log" });
      }
      if (line === "") {
        pendingEmpty = true;
        return undefined;
      }
      let record: AuditRecord;
      try {
        record = parseAuditLine(line);
      } catch (error) {
        return fail({ line: lineNumber, tenant_id: null, seq: null, reason: (error as Error).message });
      }
      const at = { line: lineNumber, tenant_id: record.tenant_id, seq: record.seq };
      if (key !== undefined && record.hash_alg !== "hmac-sha256") {
        return fail({ ...at, reason: "the record is not keyed, but the chain key was given (a forged or foreign record)" });
      }
      if (key === undefined && record.hash_alg !== undefined) {
        return fail({ ...at, reason: "the record is keyed (hmac-sha256): verify it with the chain key" });
      }
      let hash: string;
      try {
        hash = hashAuditRecord(record, key);
      } catch (error) {
        // Arguments nested deeper than a hash can walk: no writer of this
        // package seals such a record, so it was put there by hand.
        return fail({ ...at, reason: `the record cannot be hashed (${(error as Error).message})` });
      }
      if (hash !== record.hash) {
        return fail({ ...at, reason: "the record's hash does not match its content (the record was edited)" });
      }
      const head = heads.get(record.tenant_id);
      const expectedSeq = head ? head.seq + 1 : 0;
      const expectedPrev = head ? head.hash : GENESIS_HASH;
      if (record.prev_hash !== expectedPrev || record.seq !== expectedSeq) {
        return fail({
          ...at,
          reason: head
            ? `expected seq ${expectedSeq} linked to the hash of seq ${head.seq} of tenant "${record.tenant_id}" (a record before it was deleted, reordered or edited)`
            : `expected the first record of tenant "${record.tenant_id}" (seq 0, genesis prev_hash): earlier records were deleted`,
        });
      }
      const wrong = reachHead(record) ?? followCall(record, lineNumber);
      if (wrong) return fail({ ...at, reason: wrong });
      accept(record);
      return undefined;
    },
    head: (tenantId) => heads.get(tenantId),
    trust(record) {
      lineNumber += 1;
      reachHead(record);
      followCall(record, lineNumber);
      accept(record);
    },
    report() {
      let found = problem;
      if (!found) {
        for (const [tenant, saved] of expected) {
          if (saved.reached) continue;
          const head = heads.get(tenant);
          found = {
            line: lineNumber + 1, tenant_id: tenant, seq: saved.seq,
            reason: `a head at seq ${saved.seq} of tenant "${tenant}" was saved, but the log ends ${head ? `at seq ${head.seq}` : "with no record of it"}: records were cut off the end`,
          };
          break;
        }
      }
      return { ok: found === undefined, records, problem: found, heads: new Map(heads), unfinished: [...open.values()] };
    },
  };
}
