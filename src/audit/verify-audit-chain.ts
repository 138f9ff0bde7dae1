import { AuditRecordSchema, GENESIS_HASH, hashAuditRecord, type AuditRecord, type ChainHead, type ChainKey } from "./audit-record.ts";

/** The first record that breaks a chain, and why. */
export interface AuditChainProblem {
  /** 1-based line number in the log. */
  line: number;
  /** The record's tenant, when the line could be read at all. */
  tenant_id: string | null;
  seq: number | null;
  reason: string;
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
}

/** Options of {@link createAuditChainVerifier}. */
export interface AuditChainVerifierOptions {
  /**
   * The key of a keyed chain. With it, every record must be keyed
   * (`hash_alg: "hmac-sha256"`), so an unkeyed forgery is refused; without
   * it, a keyed record is reported as needing the key. Default: none.
   */
  key?: ChainKey | undefined;
}

/** Line-by-line checker, for logs too big to hold in memory. */
export interface AuditChainVerifier {
  /** Check the next line; returns the problem it has, if any (then stop). */
  check(line: string): AuditChainProblem | undefined;
  /** Where things stand. */
  report(): AuditChainReport;
}

/**
 * Parse one JSON line as an audit record.
 *
 * @throws {TypeError} with a short reason (not JSON, or not an audit record).
 * @example
 * const record = parseAuditLine(line); // checks the shape only; the chain is checked by the verifier
 */
export function parseAuditLine(line: string): AuditRecord {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new TypeError("the line is not JSON");
  }
  const parsed = AuditRecordSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new TypeError(`not an audit record (${issue.path.join(".") || "record"}: ${issue.message})`);
  }
  return parsed.data;
}

/**
 * Check a log line by line. Each tenant's records must form an unbroken
 * chain: `hash` recomputed from the content (an edit shows), `prev_hash`
 * equal to the tenant's previous `hash` and `seq` one more than its previous
 * (a deleted or reordered record shows). Lines of several tenants may
 * interleave. Only a trailing empty line is allowed.
 *
 * What a chain cannot show: records cut off at the end of the log (compare
 * the heads with a copy kept elsewhere), and a log rewritten from the edit
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
  let lineNumber = 0;
  let records = 0;
  let problem: AuditChainProblem | undefined;
  let pendingEmpty = false;

  const fail = (p: AuditChainProblem) => (problem = p);

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
      if (hashAuditRecord(record, key) !== record.hash) {
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
      heads.set(record.tenant_id, { seq: record.seq, hash: record.hash });
      records += 1;
      return undefined;
    },
    report: () => ({ ok: problem === undefined, records, problem, heads: new Map(heads) }),
  };
}

/**
 * Check a whole log held in memory.
 *
 * @example
 * const report = verifyAuditLog(await readFile("audit.jsonl", "utf8"));
 * if (!report.ok) console.error(`line ${report.problem!.line}: ${report.problem!.reason}`);
 */
export function verifyAuditLog(text: string, options: AuditChainVerifierOptions = {}): AuditChainReport {
  const verifier = createAuditChainVerifier(options);
  for (const line of text.split("\n")) if (verifier.check(line)) break;
  return verifier.report();
}
