import { createHash, createHmac } from "node:crypto";
import { z } from "zod";
import { canonicalJson } from "./canonical-json.ts";

/**
 * What a record says about its tool call.
 *
 * Format 2 (records with a `call_id`) is write-ahead: `"started"` is written
 * before the tool runs, then one outcome with the same `call_id`:
 * `"finished"`, `"failed"` or `"refused"` (a refused call never starts, so
 * its one record is its outcome). Format 1 (older logs, entries without a
 * `call_id`) has one record per call, written after it: `"allowed"`,
 * `"refused"` or `"failed"`.
 */
export const AUDIT_DECISIONS = Object.freeze(["started", "finished", "allowed", "refused", "failed"] as const);
/** One of {@link AUDIT_DECISIONS}. */
export type AuditDecision = (typeof AUDIT_DECISIONS)[number];

/** The decisions a format-1 record (no `call_id`) may carry. */
const V1_DECISIONS: ReadonlySet<AuditDecision> = new Set(["allowed", "refused", "failed"]);

/** `prev_hash` of the first record of every tenant: 64 zeros. */
export const GENESIS_HASH = "0".repeat(64);

/**
 * The tenant of a call made by a run with no (valid) user. It can never be a
 * real tenant id (those start with a letter or digit), so such calls form
 * their own chain and never mix with a tenant's.
 */
export const NO_TENANT = "_unauthenticated";

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, "a lowercase hex SHA-256");

/**
 * One tool invocation, as written to every sink (snake_case wire format).
 * `hash` is SHA-256 over the canonical JSON of every other field
 * ({@link hashAuditRecord}), and `prev_hash` is the `hash` of the previous
 * record of the same tenant ({@link GENESIS_HASH} for its first), so an
 * edited, deleted or reordered record breaks the chain.
 */
export const AuditRecordSchema = z.strictObject({
  /** Format version: 1 (one record per call), 2 (write-ahead: `call_id`, started then outcome). */
  v: z.union([z.literal(1), z.literal(2)]),
  /** Position in the tenant's chain, from 0. */
  seq: z.number().int().min(0),
  /** When the record was written (format 1: when the call finished), ISO 8601 UTC with milliseconds. */
  time: z.iso.datetime(),
  tenant_id: z.string().min(1).max(128),
  user_id: z.string().nullable(),
  thread_id: z.string().nullable(),
  run_id: z.string().nullable(),
  /** The tool name the model asked for (possibly one that does not exist). */
  tool: z.string().max(256),
  tool_call_id: z.string().max(256).nullable(),
  /**
   * Format 2 only: links a call's `"started"` record to its outcome. Unique
   * per call within a tenant (the guard uses a random UUID).
   */
  call_id: z.string().min(1).max(128).optional(),
  decision: z.enum(AUDIT_DECISIONS),
  /** Why a call was refused or failed (never the arguments or a secret). */
  reason: z.string().max(1000).nullable(),
  duration_ms: z.number().min(0),
  /** SHA-256 of the canonical JSON of the arguments. */
  args_sha256: sha256Hex,
  /** The arguments after the redaction hook; absent unless configured. */
  args: z.unknown().optional(),
  /** Present only in keyed chains: `hash` is an HMAC-SHA256 under the chain key. */
  hash_alg: z.literal("hmac-sha256").optional(),
  prev_hash: sha256Hex,
  hash: sha256Hex,
}).superRefine((record, context) => {
  // Each format has its own vocabulary, so a record cannot claim to be of one
  // format while carrying the other's fields.
  if (record.v === 2 && record.call_id === undefined) {
    context.addIssue({ code: "custom", path: ["call_id"], message: "a format-2 record needs a call_id" });
  }
  if (record.v === 2 && record.decision === "allowed") {
    context.addIssue({ code: "custom", path: ["decision"], message: 'format 2 says "finished", not "allowed"' });
  }
  if (record.v === 1 && record.call_id !== undefined) {
    context.addIssue({ code: "custom", path: ["call_id"], message: "a format-1 record has no call_id" });
  }
  if (record.v === 1 && !V1_DECISIONS.has(record.decision)) {
    context.addIssue({ code: "custom", path: ["decision"], message: `format 1 has no "${record.decision}" records` });
  }
});

/** One audit record. */
export type AuditRecord = z.infer<typeof AuditRecordSchema>;

/**
 * A record before it is sealed into its tenant's chain. With a `call_id` it
 * is sealed as format 2, without one as format 1.
 */
export type AuditEntry = Omit<AuditRecord, "v" | "seq" | "hash_alg" | "prev_hash" | "hash">;

/**
 * A secret for keyed chains (HMAC-SHA256): at least 32 bytes. Without it,
 * whoever can write the log can also recompute every later hash after an
 * edit; with it, they also need the key. Keep it outside the log's host.
 */
export type ChainKey = string | Uint8Array;

/**
 * Check a chain key.
 *
 * @throws {TypeError} naming `option` when the key is not a string or bytes of at least 32 bytes.
 * @example
 * requireChainKey(process.env.AUDIT_CHAIN_KEY, "AUDIT_CHAIN_KEY");
 */
export function requireChainKey(key: unknown, option: string): ChainKey {
  const length = typeof key === "string" ? Buffer.byteLength(key) : key instanceof Uint8Array ? key.byteLength : -1;
  if (length < 32) throw new TypeError(`${option} must be a secret of at least 32 bytes`);
  return key as ChainKey;
}

/** Where a chain stands: the last record's position and hash. */
export interface ChainHead {
  seq: number;
  hash: string;
}

/**
 * SHA-256 (hex) of the canonical JSON of a value.
 *
 * @example
 * digestArguments({ invoice_id: "inv_1" }); // 64 hex characters, independent of key order
 */
export function digestArguments(args: unknown): string {
  return createHash("sha256").update(canonicalJson(args ?? null)).digest("hex");
}

/**
 * The hash of a record: SHA-256 over the canonical JSON of every field but
 * `hash` (so `prev_hash` and `seq` are covered and the chain is linked);
 * HMAC-SHA256 under `key` for a keyed chain.
 *
 * @example
 * hashAuditRecord(record) === record.hash; // true for an unedited, unkeyed record
 */
export function hashAuditRecord(record: Omit<AuditRecord, "hash"> | AuditRecord, key?: ChainKey): string {
  const { hash: _hash, ...rest } = record as AuditRecord;
  const digest = key === undefined ? createHash("sha256") : createHmac("sha256", key);
  return digest.update(canonicalJson(rest)).digest("hex");
}

/**
 * Seal an entry onto a chain: sets `seq` and `prev_hash` from the head
 * (`undefined` for a tenant's first record) and computes `hash`.
 *
 * @example
 * const first = sealAuditRecord(entry, undefined); // seq 0, prev_hash GENESIS_HASH
 * const second = sealAuditRecord(next, first);     // seq 1, prev_hash first.hash
 */
export function sealAuditRecord(entry: AuditEntry, head: ChainHead | undefined, key?: ChainKey): AuditRecord {
  // Fields are picked one by one (not spread) so nothing extra on `entry`
  // can slip into the record or override `seq` and `prev_hash`.
  const unsealed: Omit<AuditRecord, "hash"> = {
    v: entry.call_id !== undefined ? 2 : 1,
    seq: head ? head.seq + 1 : 0,
    time: entry.time,
    tenant_id: entry.tenant_id,
    user_id: entry.user_id,
    thread_id: entry.thread_id,
    run_id: entry.run_id,
    tool: entry.tool,
    tool_call_id: entry.tool_call_id,
    ...(entry.call_id !== undefined ? { call_id: entry.call_id } : {}),
    decision: entry.decision,
    reason: entry.reason,
    duration_ms: entry.duration_ms,
    args_sha256: entry.args_sha256,
    ...(entry.args !== undefined ? { args: entry.args } : {}),
    ...(key !== undefined ? { hash_alg: "hmac-sha256" as const } : {}),
    prev_hash: head ? head.hash : GENESIS_HASH,
  };
  return { ...unsealed, hash: hashAuditRecord(unsealed, key) };
}
