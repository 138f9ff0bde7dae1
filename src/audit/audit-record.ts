import { createHmac, hash as oneShotHash } from "node:crypto";
import { z } from "zod";
import { InvalidAuditEntryError } from "./audit-errors.ts";
import { canonicalJson, canonicalSplit, joinMembers } from "./canonical-json.ts";

/** The tool-call decisions, in the package's own private copy (see {@link AUDIT_DECISIONS}). */
const DECISIONS = ["started", "finished", "allowed", "refused", "failed"] as const;

/**
 * What a tool-call record says about its call.
 *
 * Format 2 (records with a `call_id`) is write-ahead: `"started"` is written
 * before the tool runs, then one outcome with the same `call_id`:
 * `"finished"`, `"failed"` or `"refused"` (a refused call never starts, so
 * its one record is its outcome). Format 1 (older logs, entries without a
 * `call_id`) has one record per call, written after it: `"allowed"`,
 * `"refused"` or `"failed"`. Frozen: the package checks records against its
 * own copy.
 *
 * @example
 * AUDIT_DECISIONS.includes("started"); // true
 */
export const AUDIT_DECISIONS: readonly AuditDecision[] = Object.freeze([...DECISIONS]);
/** One of {@link AUDIT_DECISIONS}. */
export type AuditDecision = (typeof DECISIONS)[number];

/** The decisions a format-1 record (no `call_id`) may carry. */
const V1_DECISIONS: ReadonlySet<AuditDecision> = new Set(["allowed", "refused", "failed"]);

/** The event kinds, in the package's own private copy (see {@link AUDIT_EVENT_KINDS}). */
const EVENT_KINDS = ["decision", "offboarding"] as const;

/**
 * What an event record (format 3) is about:
 * - `"decision"`: a security decision of the package (a refusal, or an
 *   aggregate of refusals), when decision events go to the audit trail;
 * - `"offboarding"`: a tenant was offboarded (who ran it, when, the counts,
 *   the export manifest's SHA-256); the last record of that tenant's chain.
 *
 * Frozen: the package checks records against its own copy.
 *
 * @example
 * AUDIT_EVENT_KINDS.includes("offboarding"); // true
 */
export const AUDIT_EVENT_KINDS: readonly AuditEventKind[] = Object.freeze([...EVENT_KINDS]);
/** One of {@link AUDIT_EVENT_KINDS}. */
export type AuditEventKind = (typeof EVENT_KINDS)[number];

/** The bounds of an event's `data` (private copy; see {@link AUDIT_EVENT_DATA_LIMITS}). */
const DATA_MAX_BYTES = 16 * 1024;
const DATA_MAX_DEPTH = 16;

/**
 * The bounds of an event record's `data`: at most `maxBytes` bytes of
 * canonical JSON, and objects and arrays nested at most `maxDepth` deep
 * (`data` itself is depth 1). An event is a summary (ids, counts, codes),
 * never a payload.
 *
 * @example
 * AUDIT_EVENT_DATA_LIMITS.maxBytes; // 16384
 */
export const AUDIT_EVENT_DATA_LIMITS: Readonly<{ maxBytes: number; maxDepth: number }> = Object.freeze({
  maxBytes: DATA_MAX_BYTES,
  maxDepth: DATA_MAX_DEPTH,
});

/** `prev_hash` of the first record of every tenant: 64 zeros. */
export const GENESIS_HASH = "0".repeat(64);

/**
 * The tenant of a call made by a run with no (valid) user. It can never be a
 * real tenant id (those start with a letter or digit), so such calls form
 * their own chain and never mix with a tenant's.
 */
export const NO_TENANT = "_unauthenticated";

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, "a lowercase hex SHA-256");

/** A refusal's reason code: snake_case, as the decision log's closed list spells them (`tool_not_allowed`). */
const REASON_CODE = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;
/** A decision id: 1 to 128 characters of letters, digits and `_ . : -` (a UUID, a ULID). */
const DECISION_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/** A JSON value as it is stored in an event's `data`. */
export type AuditJsonValue = null | boolean | number | string | AuditJsonValue[] | { [key: string]: AuditJsonValue };

/**
 * Why `value` is not an event's `data`, or `undefined` when it is: a plain
 * object (no class instance, no `Date`, no array) of JSON values only
 * (strings, finite numbers, booleans, `null`, plain arrays and objects;
 * `undefined` members are left out, as JSON does), within
 * {@link AUDIT_EVENT_DATA_LIMITS}. Names the path of the first bad member,
 * never its value.
 */
function eventDataProblem(value: unknown): { path: string; message: string } | undefined {
  const walk = (item: unknown, path: string, depth: number, inArray: boolean): { path: string; message: string } | undefined => {
    if (item === null || typeof item === "string" || typeof item === "boolean") return undefined;
    if (typeof item === "number") return Number.isFinite(item) ? undefined : { path, message: "a non-finite number has no JSON form" };
    if (item === undefined) return inArray ? { path, message: "undefined in an array has no JSON form" } : undefined;
    if (typeof item !== "object") return { path, message: `a ${typeof item} has no JSON form` };
    if (depth > DATA_MAX_DEPTH) return { path, message: `nested deeper than ${DATA_MAX_DEPTH} levels` };
    if (Array.isArray(item)) {
      if (Object.getPrototypeOf(item) !== Array.prototype) return { path, message: "not a plain array" };
      for (let i = 0; i < item.length; i++) {
        const problem = walk(item[i], `${path}[${i}]`, depth + 1, true);
        if (problem) return problem;
      }
      return undefined;
    }
    const prototype = Object.getPrototypeOf(item);
    if (prototype !== Object.prototype && prototype !== null) return { path, message: "not a plain JSON object (a class instance or a Date)" };
    for (const key of Object.keys(item)) {
      const problem = walk((item as Record<string, unknown>)[key], `${path}.${key}`, depth + 1, false);
      if (problem) return problem;
    }
    return undefined;
  };
  if (value === null || typeof value !== "object" || Array.isArray(value)) return { path: "data", message: "must be a plain JSON object" };
  const problem = walk(value, "data", 1, false);
  if (problem) return problem;
  if (Buffer.byteLength(canonicalJson(value)) > DATA_MAX_BYTES) return { path: "data", message: `larger than ${DATA_MAX_BYTES} bytes of JSON` };
  return undefined;
}

/** The fields every record has, whatever its format. */
const common = {
  /** Position in the tenant's chain, from 0. */
  seq: z.number().int().min(0),
  tenant_id: z.string().min(1).max(128),
  user_id: z.string().nullable(),
  /** Present only in keyed chains: `hash` is an HMAC-SHA256 under the chain key. */
  hash_alg: z.literal("hmac-sha256").optional(),
  prev_hash: sha256Hex,
  hash: sha256Hex,
};

function toolCallRecordSchema() {
  return z.strictObject({
    /** Format version: 1 (one record per call), 2 (write-ahead: `call_id`, started then outcome). */
    v: z.union([z.literal(1), z.literal(2)]),
    ...common,
    /** When the record was written (format 1: when the call finished), ISO 8601 UTC with milliseconds. */
    time: z.iso.datetime(),
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
    decision: z.enum(DECISIONS),
    /** Why a call was refused or failed (never the arguments or a secret). */
    reason: z.string().max(1000).nullable(),
    /** Format 2, `"refused"` only: the refusal's reason code from the decision log's list (`tool_not_allowed`). */
    reason_code: z.string().max(64).regex(REASON_CODE, "a snake_case reason code").optional(),
    /** Format 2, `"refused"` only: the id of the refusal's decision event. */
    decision_id: z.string().regex(DECISION_ID, "1 to 128 letters, digits, _ . : -").optional(),
    duration_ms: z.number().min(0),
    /** SHA-256 of the canonical JSON of the arguments. */
    args_sha256: sha256Hex,
    /** The arguments after the redaction hook; absent unless configured. */
    args: z.unknown().optional(),
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
    for (const field of ["reason_code", "decision_id"] as const) {
      if (record[field] !== undefined && (record.v !== 2 || record.decision !== "refused")) {
        context.addIssue({ code: "custom", path: [field], message: `only a format-2 "refused" record has a ${field}` });
      }
    }
  });
}

function eventRecordSchema() {
  return z.strictObject({
    /** Format version 3: an event record (no tool call). */
    v: z.literal(3),
    ...common,
    /** When the event happened, ISO 8601 UTC with milliseconds. */
    time: z.iso.datetime(),
    kind: z.enum(EVENT_KINDS),
    /** What the event says: a plain JSON object within {@link AUDIT_EVENT_DATA_LIMITS}. */
    data: z.custom<{ [key: string]: AuditJsonValue }>((value) => eventDataProblem(value) === undefined, {
      error: (issue) => eventDataProblem(issue.input)?.message ?? "must be a plain JSON object",
    }),
  });
}

function auditRecordSchema() {
  return z.discriminatedUnion("v", [toolCallRecordSchema(), eventRecordSchema()]);
}

/**
 * One audit record, as written to every sink (snake_case wire format), in
 * one of three formats told apart by `v`:
 * - 1 and 2, tool-call records (see {@link AUDIT_DECISIONS});
 * - 3, event records: `{ v, seq, time, tenant_id, user_id, kind, data,
 *   hash_alg?, prev_hash, hash }` (see {@link AUDIT_EVENT_KINDS}).
 *
 * All formats chain alike: `hash` is SHA-256 over the canonical JSON of every
 * other field ({@link hashAuditRecord}), and `prev_hash` is the `hash` of the
 * previous record of the same tenant ({@link GENESIS_HASH} for its first),
 * so an edited, deleted or reordered record breaks the chain.
 *
 * The package parses with its own copy of this schema: changing this
 * object changes nothing the package accepts.
 *
 * @example
 * AuditRecordSchema.safeParse(JSON.parse(line)).success;
 */
export const AuditRecordSchema = auditRecordSchema();

/** The package's own copy of {@link AuditRecordSchema}. */
const RECORD_SCHEMA = auditRecordSchema();

type ToolCallFields = z.infer<ReturnType<typeof toolCallRecordSchema>>;
type EventFields = z.infer<ReturnType<typeof eventRecordSchema>>;
/** The fields of `T` that a record of the other format never has (read as `undefined`). */
type Absent<T> = { [K in keyof T]?: never };

/**
 * A tool-call record (format 1 or 2). The event fields (`kind`, `data`) are
 * typed as absent, so code reading `record.decision` of any
 * {@link AuditRecord} compiles and gets `undefined` for an event; narrow on
 * `v` to get the fields of one format.
 */
export type AuditToolCallRecord = ToolCallFields & Absent<Omit<EventFields, keyof ToolCallFields>>;
/** An event record (format 3); the tool-call fields are typed as absent (see {@link AuditToolCallRecord}). */
export type AuditEventRecord = EventFields & Absent<Omit<ToolCallFields, keyof EventFields>>;
/** One audit record: a tool call (`v` 1 or 2) or an event (`v` 3). */
export type AuditRecord = AuditToolCallRecord | AuditEventRecord;
/** A record before its `hash` is computed. */
export type UnsealedAuditRecord = Omit<AuditToolCallRecord, "hash"> | Omit<AuditEventRecord, "hash">;

/**
 * Check a value against the record schema (the package's own copy).
 *
 * @returns the record, or the first problem: the path of the bad field and why (never its value).
 * @example
 * const checked = checkAuditRecord(JSON.parse(line));
 * if ("problem" in checked) console.error(checked.problem);
 */
export function checkAuditRecord(value: unknown): { record: AuditRecord } | { field: string; problem: string } {
  const parsed = RECORD_SCHEMA.safeParse(value);
  if (parsed.success) return { record: parsed.data as AuditRecord };
  const issue = parsed.error.issues[0]!;
  return { field: issue.path.join(".") || "record", problem: issue.message };
}

/**
 * A tool-call record before it is sealed into its tenant's chain. With a
 * `call_id` it is sealed as format 2, without one as format 1.
 * `reason_code` and `decision_id` belong to format-2 `"refused"` records.
 */
export type AuditEntry = Omit<ToolCallFields, "v" | "seq" | "hash_alg" | "prev_hash" | "hash">;

/**
 * An event before it is sealed into its tenant's chain (as format 3).
 * `data` must be a plain JSON object within {@link AUDIT_EVENT_DATA_LIMITS};
 * the record holds a copy of it.
 */
export interface AuditEventEntry {
  kind: AuditEventKind;
  /** When the event happened, ISO 8601 UTC with milliseconds (`new Date().toISOString()`). */
  time: string;
  /** The tenant whose chain gets the event ({@link NO_TENANT} when no verified tenant is known). */
  tenant_id: string;
  /** The subject, from a verified token only; `null` when none is known. */
  user_id: string | null;
  data: Readonly<Record<string, unknown>>;
}

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
  return oneShotHash("sha256", canonicalJson(args ?? null), "hex");
}

/**
 * The hash of a record (any format): SHA-256 over the canonical JSON of
 * every field but `hash` (so `prev_hash` and `seq` are covered and the chain
 * is linked); HMAC-SHA256 under `key` for a keyed chain.
 *
 * @example
 * hashAuditRecord(record) === record.hash; // true for an unedited, unkeyed record
 */
export function hashAuditRecord(record: UnsealedAuditRecord | AuditRecord, key?: ChainKey): string {
  const { before, after } = canonicalSplit(record as Record<string, unknown>, "hash");
  return digestText(joinMembers(before, after), key);
}

function digestText(text: string, key: ChainKey | undefined): string {
  // crypto.hash: one call, no Hash object (node 20.12+; engines asks 20.16).
  return key === undefined ? oneShotHash("sha256", text, "hex") : createHmac("sha256", key).update(text).digest("hex");
}

/**
 * The record sealed last and its canonical line (the text that was hashed,
 * with its hash). A sink asks for the line right after sealing, so one slot
 * is enough, and it holds no memory for records long written.
 */
let lastSealed: { record: AuditRecord; line: string } | undefined;

/**
 * The canonical JSON of a record, as a sink stores it (without the final
 * newline). For the record sealed last it is the text computed while
 * sealing (so a record is serialized once); otherwise `canonicalJson(record)`.
 *
 * @example
 * await file.write(`${auditRecordLine(record)}\n`);
 */
export function auditRecordLine(record: AuditRecord): string {
  return lastSealed?.record === record ? lastSealed.line : canonicalJson(record);
}

/** The keys a tool-call record may have (without `args` and `hash`). */
const FLAT_KEYS = [
  "v", "seq", "time", "tenant_id", "user_id", "thread_id", "run_id", "tool", "tool_call_id", "call_id", "decision", "reason",
  "reason_code", "decision_id", "duration_ms", "args_sha256", "hash_alg", "prev_hash",
];
/** What a flat record's JSON holds in place of its hash until it is known. */
const HASH_PLACEHOLDER = '"hash":"",';

/**
 * The canonical members of a flat tool-call record (no `args`, every value a
 * string, a number, a boolean or null), split where `hash` goes. Its keys
 * were added in sorted order, with an empty `hash` in its place (as
 * {@link sealAuditRecord} builds it), so one native `JSON.stringify`, which
 * follows the key order, writes exactly its canonical JSON. No string value
 * can hold the placeholder: its quotes would be escaped.
 */
function flatSplit(unsealed: Record<string, unknown>): { before: string; after: string } {
  const json = JSON.stringify(unsealed);
  const at = json.indexOf(HASH_PLACEHOLDER);
  return { before: json.slice(1, at - 1), after: json.slice(at + HASH_PLACEHOLDER.length, -1) };
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const ISO_MILLIS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const TOOL_CALL_KEYS: ReadonlySet<string> = new Set([...FLAT_KEYS, "hash", "args"]);
const nullableString = (value: unknown, max = Infinity) => value === null || (typeof value === "string" && value.length <= max);

/**
 * A quick yes for the tool-call records the guard writes: true only when
 * the record surely passes the record schema (a subset of what the schema
 * accepts, checked by a property test); anything else is left to the
 * schema, which gives the verdict and names the field. Sealing runs twice
 * per guarded call, and the schema's generic walk is its largest cost.
 *
 * @example
 * isPlainToolCallRecord(sealAuditRecord(entry, head)); // true for what the guard writes
 */
export function isPlainToolCallRecord(record: Readonly<Record<string, unknown>>): boolean {
  for (const key in record) if (!TOOL_CALL_KEYS.has(key)) return false;
  return hasPlainToolCallFields(record) && typeof record.hash === "string" && SHA256_HEX.test(record.hash);
}

/**
 * The fields of {@link isPlainToolCallRecord} but the key set and `hash`
 * (which sealing computes): every value of the right type and within its
 * bounds, and so a string, a number, a boolean or null (`args` aside).
 */
function hasPlainToolCallFields(record: Readonly<Record<string, unknown>>): boolean {
  const { v, decision, call_id: callId, time } = record;
  if (v !== 1 && v !== 2) return false;
  if (v === 2 ? typeof callId !== "string" || callId.length < 1 || callId.length > 128 || decision === "allowed" : callId !== undefined) return false;
  if (!(v === 2 ? DECISIONS.includes(decision as AuditDecision) : V1_DECISIONS.has(decision as AuditDecision))) return false;
  if (record.reason_code !== undefined || record.decision_id !== undefined) {
    if (v !== 2 || decision !== "refused") return false;
    if (record.reason_code !== undefined && !(typeof record.reason_code === "string" && record.reason_code.length <= 64 && REASON_CODE.test(record.reason_code))) return false;
    if (record.decision_id !== undefined && !(typeof record.decision_id === "string" && DECISION_ID.test(record.decision_id))) return false;
  }
  if (time !== lastPlainTime) {
    if (!(typeof time === "string" && ISO_MILLIS.test(time))) return false;
    const instant = Date.parse(time);
    if (Number.isNaN(instant) || new Date(instant).toISOString() !== time) return false; // a real instant (no 24:00, no Feb 30)
    lastPlainTime = time; // the records of one call (and of a busy millisecond) share it
  }
  const seq = record.seq;
  if (!(typeof seq === "number" && Number.isSafeInteger(seq) && seq >= 0)) return false;
  const tenant = record.tenant_id;
  if (!(typeof tenant === "string" && tenant.length >= 1 && tenant.length <= 128)) return false;
  if (!nullableString(record.user_id) || !nullableString(record.thread_id) || !nullableString(record.run_id)) return false;
  if (!(typeof record.tool === "string" && record.tool.length <= 256) || !nullableString(record.tool_call_id, 256)) return false;
  if (!nullableString(record.reason, 1000)) return false;
  const duration = record.duration_ms;
  if (!(typeof duration === "number" && Number.isFinite(duration) && duration >= 0)) return false;
  if (record.hash_alg !== undefined && record.hash_alg !== "hmac-sha256") return false;
  const { args_sha256: argsDigest, prev_hash: prev } = record;
  if (argsDigest !== lastPlainDigest) {
    if (!(typeof argsDigest === "string" && SHA256_HEX.test(argsDigest))) return false;
    lastPlainDigest = argsDigest; // a call's started and outcome records share it
  }
  return typeof prev === "string" && SHA256_HEX.test(prev);
}

/** The last `time` and `args_sha256` found plain (strings, so equal means equally valid); at first a value no record holds. */
const NONE_YET: unknown = Symbol("none yet");
let lastPlainTime: unknown = NONE_YET;
let lastPlainDigest: unknown = NONE_YET;

/** Hash an unsealed record after checking it would verify: nothing unverifiable is ever written. */
function seal<R extends AuditRecord>(unsealed: Omit<R, "hash">, key: ChainKey | undefined): R {
  // One serialization: the members are hashed, then the line is the same
  // members with the hash's member put in its sorted place.
  const fields = unsealed as Record<string, unknown>;
  // A tool-call record built by sealAuditRecord (its `hash` placeholder in
  // place) whose fields pass the quick check surely passes the schema; one
  // without `args` is then also flat, and serialized natively.
  const plain = fields.hash === "" && fields.v !== 3 && hasPlainToolCallFields(fields);
  const { before, after } = plain && fields.args === undefined ? flatSplit(fields) : canonicalSplit(fields, "hash");
  const hash = digestText(joinMembers(before, after), key);
  // `unsealed` is this module's own fresh object: it becomes the record.
  const record = unsealed as R;
  (record as { hash: string }).hash = hash;
  if (!plain) {
    const checked = checkAuditRecord(record);
    if ("problem" in checked) {
      throw new InvalidAuditEntryError(checked.field, `the audit entry cannot be sealed: ${checked.field}: ${checked.problem}`);
    }
  }
  lastSealed = { record, line: joinMembers(before, `"hash":"${hash}"`, after) };
  return record;
}

function requireEntry(entry: unknown): asserts entry is Record<string, unknown> {
  if (entry === null || typeof entry !== "object") throw new InvalidAuditEntryError("entry", "the audit entry must be an object");
}

/**
 * Seal a tool-call entry onto a chain: sets `seq` and `prev_hash` from the
 * head (`undefined` for a tenant's first record) and computes `hash`. The
 * record is checked against the record schema first, so an entry that
 * would not verify is never written.
 *
 * @throws {InvalidAuditEntryError} the entry has a field of the wrong shape.
 * @example
 * const first = sealAuditRecord(entry, undefined); // seq 0, prev_hash GENESIS_HASH
 * const second = sealAuditRecord(next, first);     // seq 1, prev_hash first.hash
 */
export function sealAuditRecord(entry: AuditEntry, head: ChainHead | undefined, key?: ChainKey): AuditToolCallRecord {
  requireEntry(entry);
  // Fields are picked one by one (not spread) so nothing extra on `entry`
  // can slip into the record or override `seq` and `prev_hash`. They are
  // added in canonical (sorted) order, with an empty `hash` in its place,
  // so a flat record is serialized natively (see flatSplit).
  const unsealed: Record<string, unknown> = {};
  if (entry.args !== undefined) unsealed.args = entry.args;
  unsealed.args_sha256 = entry.args_sha256;
  if (entry.call_id !== undefined) unsealed.call_id = entry.call_id;
  unsealed.decision = entry.decision;
  if (entry.decision_id !== undefined) unsealed.decision_id = entry.decision_id;
  unsealed.duration_ms = entry.duration_ms;
  unsealed.hash = "";
  if (key !== undefined) unsealed.hash_alg = "hmac-sha256";
  unsealed.prev_hash = head ? head.hash : GENESIS_HASH;
  unsealed.reason = entry.reason;
  if (entry.reason_code !== undefined) unsealed.reason_code = entry.reason_code;
  unsealed.run_id = entry.run_id;
  unsealed.seq = head ? head.seq + 1 : 0;
  unsealed.tenant_id = entry.tenant_id;
  unsealed.thread_id = entry.thread_id;
  unsealed.time = entry.time;
  unsealed.tool = entry.tool;
  unsealed.tool_call_id = entry.tool_call_id;
  unsealed.user_id = entry.user_id;
  unsealed.v = entry.call_id !== undefined ? 2 : 1;
  return seal<AuditToolCallRecord>(unsealed as Omit<AuditToolCallRecord, "hash">, key);
}

/**
 * Seal an event entry onto a chain as a format-3 record, exactly as
 * {@link sealAuditRecord} seals a tool call: same `seq`, `prev_hash` and
 * `hash` rules, so events and tool calls share one chain per tenant. The
 * record holds a copy of `data` (later changes to the caller's object change
 * nothing).
 *
 * @throws {InvalidAuditEntryError} an unknown `kind`, a bad field, or `data`
 * that is not a plain JSON object within {@link AUDIT_EVENT_DATA_LIMITS}.
 * @example
 * const record = sealAuditEvent({
 *   kind: "offboarding", time: new Date().toISOString(), tenant_id: "acme", user_id: "alice",
 *   data: { threads: 12, assistants: 2, manifest_sha256: "9f86d0…" },
 * }, head);
 */
export function sealAuditEvent(entry: AuditEventEntry, head: ChainHead | undefined, key?: ChainKey): AuditEventRecord {
  requireEntry(entry);
  const problem = eventDataProblem(entry.data);
  if (problem) throw new InvalidAuditEntryError(problem.path, `the audit event cannot be sealed: ${problem.path}: ${problem.message}`);
  return seal<AuditEventRecord>({
    v: 3,
    seq: head ? head.seq + 1 : 0,
    time: entry.time,
    tenant_id: entry.tenant_id,
    user_id: entry.user_id,
    kind: entry.kind,
    // A JSON copy: plain, detached from the caller's object, and exactly
    // what a reader of the stored line gets back.
    data: JSON.parse(canonicalJson(entry.data)) as { [key: string]: AuditJsonValue },
    ...(key !== undefined ? { hash_alg: "hmac-sha256" as const } : {}),
    prev_hash: head ? head.hash : GENESIS_HASH,
  }, key);
}
