/**
 * Sealing runs twice per guarded tool call, so it has two fast paths: a
 * native serialization of flat tool-call records, and a quick yes
 * (`isPlainToolCallRecord`) before the record schema. Neither may change
 * what is written or accepted: the serialization must equal canonicalJson,
 * and the quick yes must only say yes where the schema does.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  auditRecordLine, checkAuditRecord, digestArguments, hashAuditRecord, isPlainToolCallRecord, sealAuditRecord, type AuditEntry,
} from "../../src/audit/audit-record.ts";
import { canonicalJson } from "../../src/audit/canonical-json.ts";

const hex = fc.stringMatching(/^[0-9a-f]{64}$/);
const text = (max: number) => fc.oneof(fc.string({ maxLength: max }), fc.string({ minLength: max - 2, maxLength: max + 2 }), fc.string({ maxLength: 8, unit: "grapheme" }));
const anyValue = fc.oneof(fc.string({ maxLength: 4 }), fc.integer(), fc.double(), fc.constant(null), fc.constant(undefined), fc.boolean(), fc.constant({}), fc.constant(["x"]));
const time = fc.oneof(
  fc.date({ min: new Date(-62_167_219_200_000), max: new Date(253_402_300_799_999), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom("2026-02-29T00:00:00.000Z", "2026-12-06T24:00:00.000Z", "2026-12-06T09:00:60.000Z", "2026-12-06T09:00:00Z", "2026-12-06 09:00:00.000Z", "+012026-01-01T00:00:00.000Z"),
  fc.string({ maxLength: 30 }),
);

/** Values for each field: in bounds, at the bounds, just past them, and of the wrong type. */
const fieldValues = {
  v: fc.oneof(fc.constantFrom(1, 2, 3), anyValue),
  seq: fc.oneof(fc.nat(), fc.integer(), fc.double(), fc.constant(2 ** 53), anyValue),
  time,
  tenant_id: fc.oneof(text(128), anyValue),
  user_id: fc.oneof(fc.string({ maxLength: 8 }), fc.constant(null), anyValue),
  thread_id: fc.oneof(fc.string({ maxLength: 8 }), fc.constant(null), anyValue),
  run_id: fc.oneof(fc.string({ maxLength: 8 }), fc.constant(null), anyValue),
  tool: fc.oneof(text(256), anyValue),
  tool_call_id: fc.oneof(text(256), fc.constant(null), anyValue),
  call_id: fc.oneof(text(128), fc.constant(undefined), anyValue),
  decision: fc.oneof(fc.constantFrom("started", "finished", "allowed", "refused", "failed"), anyValue),
  reason: fc.oneof(text(1000), fc.constant(null), anyValue),
  reason_code: fc.oneof(fc.constant(undefined), fc.constantFrom("tool_not_allowed", "ToolNotAllowed", "a_", "x".repeat(65)), anyValue),
  decision_id: fc.oneof(fc.constant(undefined), fc.constantFrom("01JEXAMPLE", "", "a b", "x".repeat(129)), anyValue),
  duration_ms: fc.oneof(fc.double(), fc.nat(), anyValue),
  args_sha256: fc.oneof(hex, fc.string({ maxLength: 64 }), anyValue),
  hash_alg: fc.oneof(fc.constant(undefined), fc.constantFrom("hmac-sha256", "sha256")),
  prev_hash: fc.oneof(hex, anyValue),
  hash: fc.oneof(hex, anyValue),
  args: fc.oneof(fc.constant(undefined), fc.jsonValue()),
  smuggled: anyValue,
} as const;
const fieldName = fc.constantFrom(...(Object.keys(fieldValues) as (keyof typeof fieldValues)[]));

const validEntry = fc.record({
  time: fc.date({ min: new Date(0), max: new Date(253_402_300_799_999), noInvalidDate: true }).map((d) => d.toISOString()),
  tenant_id: fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,20}$/),
  user_id: fc.oneof(fc.string({ maxLength: 20, unit: "grapheme" }), fc.constant(null)),
  thread_id: fc.oneof(fc.string({ maxLength: 20 }), fc.constant(null)),
  run_id: fc.oneof(fc.string({ maxLength: 20 }), fc.constant(null)),
  tool: fc.string({ maxLength: 40, unit: "grapheme" }),
  tool_call_id: fc.oneof(fc.string({ maxLength: 20 }), fc.constant(null)),
  call_id: fc.oneof(fc.uuid(), fc.constant(undefined)),
  decision: fc.constantFrom("refused", "failed"),
  reason: fc.oneof(fc.string({ maxLength: 50, unit: "grapheme" }), fc.constant(null)),
  duration_ms: fc.oneof(fc.nat(), fc.double({ min: 0, max: 1e9, noNaN: true })),
  args_sha256: hex,
  args: fc.oneof(fc.constant(undefined), fc.jsonValue()),
}) as fc.Arbitrary<AuditEntry>;

/** Tool-call records as sealed, then up to three fields replaced by any of the values above (or removed). */
const record = fc.tuple(validEntry, fc.boolean(), fc.array(fieldName.chain((name) => fieldValues[name].map((value) => [name, value] as const)), { maxLength: 3 }))
  .map(([entry, keyed, changes]) => {
    const r: Record<string, unknown> = { ...sealAuditRecord(entry, undefined, keyed ? "k".repeat(32) : undefined) };
    for (const [name, value] of changes) {
      if (value === undefined) delete r[name];
      else r[name] = value;
    }
    return r;
  });

describe("the fast paths of sealing", () => {
  it("isPlainToolCallRecord says yes only where the record schema does", () => {
    let yes = 0;
    fc.assert(
      fc.property(record, (r) => {
        if (!isPlainToolCallRecord(r)) return;
        yes += 1;
        const checked = checkAuditRecord(r);
        expect(checked, JSON.stringify(r)).toHaveProperty("record");
      }),
      { numRuns: 5000 },
    );
    expect(yes).toBeGreaterThan(0); // the property saw records on the fast path
  });

  it("a record as the guard writes it takes the fast path", () => {
    const guardRecord = sealAuditRecord({
      time: new Date().toISOString(), tenant_id: "acme", user_id: "u1", thread_id: "t1", run_id: "r1", tool: "search_docs",
      tool_call_id: "call_1", call_id: "8b7c1f3e-0d3a-4c1e-9a5b-2f6e7d8c9b0a", decision: "started", reason: null, duration_ms: 0,
      args_sha256: digestArguments({ q: 1 }),
    }, undefined);
    expect(isPlainToolCallRecord(guardRecord)).toBe(true);
    // What the quick yes remembers between calls (the last time and digest found valid) never lets a bad value through.
    for (const [field, bad] of [["time", ""], ["time", undefined], ["time", "2026-02-30T00:00:00.000Z"], ["args_sha256", ""], ["args_sha256", undefined], ["prev_hash", "0"]] as const) {
      expect(isPlainToolCallRecord(guardRecord)).toBe(true);
      expect(isPlainToolCallRecord({ ...guardRecord, [field]: bad }), `${field}: ${String(bad)}`).toBe(false);
    }
    expect(isPlainToolCallRecord({ ...guardRecord, decision: "refused", reason_code: "tool_not_allowed", decision_id: "d-1" })).toBe(true);
  });

  it("writes exactly canonicalJson, and hashes what a verifier hashes, with and without arguments and keys", () => {
    fc.assert(
      fc.property(validEntry, fc.boolean(), (entry, keyed) => {
        const key = keyed ? "k".repeat(32) : undefined;
        const sealed = sealAuditRecord(entry, undefined, key);
        expect(auditRecordLine(sealed)).toBe(canonicalJson(sealed));
        expect(hashAuditRecord(sealed, key)).toBe(sealed.hash);
        const reread = checkAuditRecord(JSON.parse(auditRecordLine(sealed)));
        expect(reread).toHaveProperty("record");
        expect(canonicalJson((reread as { record: unknown }).record)).toBe(auditRecordLine(sealed));
      }),
      { numRuns: 2000 },
    );
  });
});
