/**
 * Event records (format 3) share each tenant's hash chain with the tool-call
 * records (formats 1 and 2): sealed, chained, verified and stored alike, so
 * an offboarding record or a decision event is as tamper-evident as a tool
 * call, and `audit verify` checks them together.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidAuditEntryError } from "../../src/audit/audit-errors.ts";
import {
  AUDIT_EVENT_DATA_LIMITS, AUDIT_EVENT_KINDS, AuditRecordSchema, GENESIS_HASH, checkAuditRecord, digestArguments, hashAuditRecord,
  sealAuditEvent, sealAuditRecord, type AuditEntry, type AuditEventEntry, type AuditRecord, type ChainHead,
} from "../../src/audit/audit-record.ts";
import { AuditWriteError, createAuditLog } from "../../src/audit/audit-log.ts";
import { canonicalJson } from "../../src/audit/canonical-json.ts";
import { createJsonLinesSink } from "../../src/audit/json-lines-sink.ts";
import { verifyAuditLogFile } from "../../src/audit/audit-log-parser.ts";
import { parseAuditLine, verifyAuditLog } from "../../src/audit/verify-audit-chain.ts";
import { auditCli } from "../support/audit-cli.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "audit-events-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const TIME = "2026-12-06T09:00:00.000Z";
const call = (tenant: string, extra: Partial<AuditEntry> = {}): AuditEntry => ({
  time: TIME, tenant_id: tenant, user_id: "u1", thread_id: "t1", run_id: "r1", tool: "search_docs",
  tool_call_id: "c1", decision: "allowed", reason: null, duration_ms: 0.5, args_sha256: digestArguments({}), ...extra,
});
const event = (tenant: string, extra: Partial<AuditEventEntry> = {}): AuditEventEntry => ({
  kind: "decision", time: TIME, tenant_id: tenant, user_id: "u1",
  data: { decision_id: "d-1", reason_code: "cross_tenant", status: 404, route: "threads:read", resources: { thread_id: "th_1" } }, ...extra,
});

/** Seal a list of entries (tool calls and events) in order, one chain per tenant. */
function chain(entries: (AuditEntry | AuditEventEntry)[], key?: string): AuditRecord[] {
  const heads = new Map<string, ChainHead>();
  return entries.map((e) => {
    const head = heads.get(e.tenant_id);
    const record = "kind" in e ? sealAuditEvent(e, head, key) : sealAuditRecord(e, head, key);
    heads.set(e.tenant_id, record);
    return record;
  });
}
const text = (records: AuditRecord[]) => records.map((r) => `${canonicalJson(r)}\n`).join("");

/** Acme and globex, interleaved: format 1, a format-2 call with an event between its records, a refusal with its codes, an unfinished call. */
function mixedLog(key?: string): AuditRecord[] {
  return chain([
    call("acme"), // v1
    call("globex", { call_id: "g1", decision: "started" }),
    call("acme", { call_id: "a1", decision: "started" }),
    event("acme"), // v3 between a call's started and its outcome
    call("acme", { call_id: "a1", decision: "finished" }),
    event("globex", { kind: "offboarding", user_id: "ops", data: { counts: { threads: 2 }, manifest_sha256: "a".repeat(64) } }),
    call("acme", { call_id: "a2", decision: "refused", reason: "the policy does not allow this tool", reason_code: "tool_not_allowed", decision_id: "01JEXAMPLE" }),
    event("acme", { user_id: null, data: { reason_code: "invalid_token", count: 3 } }),
  ], key);
}

describe("sealAuditEvent", () => {
  it("seals a format-3 record onto the same chain as tool calls: seq, prev_hash and a hash over every other field", () => {
    const first = sealAuditRecord(call("acme"), undefined);
    const second = sealAuditEvent(event("acme"), first);
    expect(second).toEqual({
      v: 3, seq: 1, time: TIME, tenant_id: "acme", user_id: "u1", kind: "decision", data: event("acme").data, prev_hash: first.hash, hash: second.hash,
    });
    expect(hashAuditRecord(second)).toBe(second.hash);
    expect(sealAuditEvent(event("acme"), undefined)).toMatchObject({ seq: 0, prev_hash: GENESIS_HASH });
    expect(sealAuditEvent(event("acme"), undefined, "k".repeat(32))).toMatchObject({ hash_alg: "hmac-sha256" });
  });

  it("keeps a copy of data: changing the caller's object afterwards changes nothing, and the record reads back equal", () => {
    const data = { counts: { threads: 2 }, ids: ["a"] };
    const record = sealAuditEvent({ ...event("acme"), data }, undefined);
    data.counts.threads = 99;
    data.ids.push("b");
    expect(record.data).toEqual({ counts: { threads: 2 }, ids: ["a"] });
    expect(hashAuditRecord(record)).toBe(record.hash);
    expect(parseAuditLine(canonicalJson(record))).toEqual(record);
  });

  it("refuses an unknown kind and data that is not a small plain JSON object, naming the field and never its value", () => {
    class Counts { threads = 1; }
    const deep: Record<string, unknown> = {};
    let at = deep;
    for (let i = 0; i < AUDIT_EVENT_DATA_LIMITS.maxDepth; i++) at = (at.next = {}) as Record<string, unknown>;
    const cases: [unknown, string][] = [
      [{ ...event("acme"), kind: "login" }, "kind"],
      [{ ...event("acme"), data: ["a"] }, "data"],
      [{ ...event("acme"), data: null }, "data"],
      [{ ...event("acme"), data: "secret-canary" }, "data"],
      [{ ...event("acme"), data: { when: new Date() } }, "data.when"],
      [{ ...event("acme"), data: { counts: new Counts() } }, "data.counts"],
      [{ ...event("acme"), data: { run: () => 1 } }, "data.run"],
      [{ ...event("acme"), data: { n: Number.NaN } }, "data.n"],
      [{ ...event("acme"), data: { big: 1n } }, "data.big"],
      [{ ...event("acme"), data: { list: [1, undefined] } }, "data.list[1]"],
      [{ ...event("acme"), data: deep }, `data${".next".repeat(AUDIT_EVENT_DATA_LIMITS.maxDepth)}`],
      [{ ...event("acme"), data: { blob: "x".repeat(AUDIT_EVENT_DATA_LIMITS.maxBytes) } }, "data"],
      [{ ...event("acme"), time: "yesterday" }, "time"],
      [{ ...event("acme"), tenant_id: "" }, "tenant_id"],
      [{ ...event("acme"), decision: "refused" }, ""], // picked fields only: extra members never reach the record
      [null, "entry"],
    ];
    for (const [entry, field] of cases) {
      if (field === "") {
        expect(sealAuditEvent(entry as AuditEventEntry, undefined)).not.toHaveProperty("decision");
        continue;
      }
      let thrown: unknown;
      try {
        sealAuditEvent(entry as AuditEventEntry, undefined);
      } catch (error) {
        thrown = error;
      }
      expect(thrown, field).toBeInstanceOf(InvalidAuditEntryError);
      expect(thrown, field).toMatchObject({ code: "ERR_AUDIT_INVALID_ENTRY", field, message: expect.stringContaining(field) });
      expect((thrown as Error).message).not.toContain("secret-canary");
    }
    // Undefined members are left out, as JSON does, and data up to the limit is fine.
    expect(sealAuditEvent({ ...event("acme"), data: { a: 1, b: undefined } }, undefined).data).toEqual({ a: 1 });
    expect(sealAuditEvent({ ...event("acme"), data: { blob: "x".repeat(AUDIT_EVENT_DATA_LIMITS.maxBytes - 20) } }, undefined).v).toBe(3);
  });

  it("exports frozen kinds and limits; changing the exported schema changes nothing the package accepts", () => {
    expect(AUDIT_EVENT_KINDS).toEqual(["decision", "offboarding"]);
    expect(Object.isFrozen(AUDIT_EVENT_KINDS)).toBe(true);
    expect(Object.isFrozen(AUDIT_EVENT_DATA_LIMITS)).toBe(true);
    expect(() => (AUDIT_EVENT_KINDS as string[]).push("login")).toThrow(TypeError);
    const schema = AuditRecordSchema as unknown as { safeParse: unknown };
    const original = schema.safeParse;
    schema.safeParse = () => ({ success: true, data: {} });
    try {
      expect(checkAuditRecord({ v: 3 })).toMatchObject({ problem: expect.any(String) });
    } finally {
      schema.safeParse = original;
    }
  });
});

describe("tool-call records: reason_code and decision_id of a refusal", () => {
  it("accepts them on a format-2 refusal and refuses a bad shape or another decision", () => {
    const refused = call("acme", { call_id: "x1", decision: "refused", reason: "no", reason_code: "tool_not_allowed", decision_id: "0b6e3c1e-7d1c-4c57-9d55-0f1f5e0c7a11" });
    expect(sealAuditRecord(refused, undefined)).toMatchObject({ v: 2, reason_code: "tool_not_allowed", decision_id: "0b6e3c1e-7d1c-4c57-9d55-0f1f5e0c7a11" });
    for (const [bad, field] of [
      [{ ...refused, reason_code: "ToolNotAllowed" }, "reason_code"],
      [{ ...refused, reason_code: "tool-not-allowed" }, "reason_code"],
      [{ ...refused, reason_code: "_tool" }, "reason_code"],
      [{ ...refused, decision_id: "" }, "decision_id"],
      [{ ...refused, decision_id: "id with spaces" }, "decision_id"],
      [{ ...refused, decision_id: "x".repeat(129) }, "decision_id"],
      [{ ...refused, decision: "started" }, "reason_code"],
      [{ ...refused, call_id: undefined }, "reason_code"], // format 1
    ] as const) {
      expect(() => sealAuditRecord(bad as AuditEntry, undefined), JSON.stringify(bad)).toThrow(InvalidAuditEntryError);
      expect(() => sealAuditRecord(bad as AuditEntry, undefined)).toThrow(new RegExp(`^the audit entry cannot be sealed: ${field}`));
    }
  });
});

describe("verifying a log of tool calls and events", () => {
  it("verifies a chain mixing formats 1, 2 and 3; pairs only format-2 calls; lists the unfinished call", () => {
    const records = mixedLog();
    expect(records.map((r) => r.v)).toEqual([1, 2, 2, 3, 2, 3, 2, 3]);
    const report = verifyAuditLog(text(records));
    expect(report).toMatchObject({ ok: true, records: 8, problem: undefined });
    expect(report.heads.get("acme")).toEqual({ seq: 5, hash: records[7]!.hash });
    // The offboarding event is the last record of globex's chain.
    expect(report.heads.get("globex")).toEqual({ seq: 1, hash: records[5]!.hash });
    expect(report.unfinished).toEqual([expect.objectContaining({ tenant_id: "globex", call_id: "g1", line: 2 })]);
  });

  it("names a forged event record: edited, edited with its hash recomputed, deleted, or carrying tool-call fields", () => {
    const records = mixedLog();
    const edited = [...records];
    edited[3] = { ...records[3]!, data: { ...records[3]!.data, reason_code: "unknown_route" } } as AuditRecord;
    expect(verifyAuditLog(text(edited))).toMatchObject({
      ok: false, records: 3, problem: { line: 4, tenant_id: "acme", seq: 2, reason: expect.stringMatching(/edited/) },
    });

    // Re-hashed after the edit: that record passes, the next acme record no longer links to it.
    const rehashed = [...records];
    const forged = { ...records[3]!, user_id: "someone-else" } as AuditRecord;
    rehashed[3] = { ...forged, hash: hashAuditRecord(forged) } as AuditRecord;
    expect(verifyAuditLog(text(rehashed))).toMatchObject({ records: 4, problem: { line: 5, tenant_id: "acme", seq: 3, reason: expect.stringMatching(/deleted, reordered or edited/) } });

    const deleted = records.filter((_, i) => i !== 5); // globex's offboarding event, its last record: the chain cannot tell ...
    expect(verifyAuditLog(text(deleted)).ok).toBe(true);
    // ... but a saved head can.
    const globexHead = verifyAuditLog(text(records)).heads.get("globex")!;
    expect(verifyAuditLog(text(deleted), { expectHeads: [["globex", globexHead]] }).problem).toMatchObject({ tenant_id: "globex", seq: 1, reason: expect.stringMatching(/cut off the end/) });
    const deletedInside = records.filter((_, i) => i !== 3);
    expect(verifyAuditLog(text(deletedInside)).problem).toMatchObject({ line: 4, tenant_id: "acme", seq: 3 });

    // An event with a tool call's fields (or the other way round) is not a record, even with a matching hash.
    const hybrid = { ...records[3]!, decision: "refused" } as unknown as AuditRecord;
    const hybridLog = [...records];
    hybridLog[3] = { ...hybrid, hash: hashAuditRecord(hybrid) } as AuditRecord;
    expect(verifyAuditLog(text(hybridLog)).problem).toMatchObject({ line: 4, reason: expect.stringMatching(/not an audit record \(record: Unrecognized key/) });
    const unknownKind = { ...records[3]!, kind: "login" } as unknown as AuditRecord;
    expect(verifyAuditLog(text([...records.slice(0, 3), { ...unknownKind, hash: hashAuditRecord(unknownKind) } as AuditRecord])).problem)
      .toMatchObject({ line: 4, reason: expect.stringMatching(/not an audit record \(kind:/) });
  });

  it("keyed chains: events verify with the key, and a forged event re-sealed without it is the record found", () => {
    const key = "k".repeat(32);
    const records = mixedLog(key);
    expect(records.every((r) => r.hash_alg === "hmac-sha256")).toBe(true);
    expect(verifyAuditLog(text(records), { key })).toMatchObject({ ok: true, records: 8 });

    // Re-seal acme's event (line 4, seq 2) and everything after it in acme's chain with plain SHA-256.
    const forged = [...records];
    let head: ChainHead = records[2]!;
    for (const i of [3, 4, 6, 7]) {
      const r = records[i]!;
      forged[i] = r.v === 3
        ? sealAuditEvent({ kind: r.kind, time: r.time, tenant_id: r.tenant_id, user_id: "forger", data: r.data }, head)
        : sealAuditRecord({ ...r } as AuditEntry, head);
      head = forged[i]!;
    }
    expect(verifyAuditLog(text(forged), { key })).toMatchObject({
      ok: false, records: 3, problem: { line: 4, tenant_id: "acme", seq: 2, reason: expect.stringMatching(/not keyed/) },
    });
    // Or keyed with a guessed key.
    const guessed = [...records];
    guessed[3] = sealAuditEvent({ ...event("acme"), user_id: "forger" }, records[2]!, "g".repeat(32));
    expect(verifyAuditLog(text(guessed), { key })).toMatchObject({ records: 3, problem: { line: 4, seq: 2, reason: expect.stringMatching(/edited/) } });
  });
});

describe("AuditLog.recordEvent", () => {
  it("writes events and tool calls of a tenant in call order onto one chain; the offboarding event is the tenant's last record and verify passes", async () => {
    const file = join(dir, "mixed.jsonl");
    const log = createAuditLog({ sink: createJsonLinesSink({ file }) });
    const written = await Promise.all([
      log.record(call("acme", { call_id: "a1", decision: "started" })),
      log.recordEvent(event("acme")),
      log.record(call("globex")),
      log.record(call("acme", { call_id: "a1", decision: "finished" })),
      log.recordEvent(event("globex", { user_id: null })),
    ]);
    expect(written.map((r) => [r.tenant_id, r.v, r.seq])).toEqual([["acme", 2, 0], ["acme", 3, 1], ["globex", 1, 0], ["acme", 2, 2], ["globex", 3, 1]]);
    const offboarded = await log.recordEvent({
      kind: "offboarding", time: new Date().toISOString(), tenant_id: "acme", user_id: "ops@acme",
      data: { counts: { threads: 3, assistants: 2, crons: 1, store_items: 7 }, manifest_sha256: "b".repeat(64) },
    });
    await log.close();
    expect(offboarded).toMatchObject({ v: 3, kind: "offboarding", seq: 3, prev_hash: written[3]!.hash });

    const report = await verifyAuditLogFile(file);
    expect(report).toMatchObject({ ok: true, records: 6, unfinished: [] });
    expect(report.heads.get("acme")).toEqual({ seq: 3, hash: offboarded.hash });
    const lastAcme = (await readFile(file, "utf8")).trimEnd().split("\n").map(parseAuditLine).filter((r) => r.tenant_id === "acme").at(-1);
    expect(lastAcme).toEqual(offboarded);
    const cli = await auditCli({}, "verify", file);
    expect(cli).toMatchObject({ code: 0, stdout: expect.stringMatching(/OK: 6 record\(s\), 2 tenant chain\(s\) intact/) });
    expect(cli.stdout).toContain(`acme: 4 record(s), head ${offboarded.hash}`);

    // A reopened sink continues the chain after the event.
    const again = createAuditLog({ sink: createJsonLinesSink({ file }) });
    expect(await again.record(call("acme"))).toMatchObject({ seq: 4, prev_hash: offboarded.hash });
    await again.close();
  });

  it("keyed: events continue a keyed file and verify only with the key", async () => {
    const file = join(dir, "keyed-events.jsonl");
    const chainKey = "q".repeat(32);
    const log = createAuditLog({ sink: createJsonLinesSink({ file, chainKey }), chainKey });
    await log.record(call("acme"));
    expect(await log.recordEvent(event("acme"))).toMatchObject({ v: 3, seq: 1, hash_alg: "hmac-sha256" });
    await log.close();
    expect(await verifyAuditLogFile(file, { key: chainKey })).toMatchObject({ ok: true, records: 2 });
    expect((await verifyAuditLogFile(file)).problem).toMatchObject({ line: 1, reason: expect.stringMatching(/verify it with the chain key/) });
  });

  it("rejects an event that cannot be sealed with a coded error, writes nothing, and goes on with the next record", async () => {
    const file = join(dir, "bad-event.jsonl");
    const log = createAuditLog({ sink: createJsonLinesSink({ file }) });
    const first = await log.record(call("acme"));
    const bad = log.recordEvent({ ...event("acme"), data: { at: new Date() } });
    const next = log.recordEvent(event("acme"));
    await expect(bad).rejects.toBeInstanceOf(AuditWriteError);
    await expect(bad).rejects.toMatchObject({
      code: "ERR_AUDIT_WRITE", message: 'the audit event "decision" could not be written', cause: { code: "ERR_AUDIT_INVALID_ENTRY", field: "data.at" },
    });
    expect(await next).toMatchObject({ seq: 1, prev_hash: first.hash });
    // No entry, or one without a tenant: a rejected promise with a coded error, never a thrown TypeError.
    for (const entry of [undefined, null, {}, { ...event("acme"), tenant_id: 7 }]) {
      const write = log.recordEvent(entry as never);
      await expect(write).rejects.toMatchObject({ code: "ERR_AUDIT_WRITE", cause: { code: "ERR_AUDIT_INVALID_ENTRY", field: "tenant_id" } });
      await expect(log.record(entry as never)).rejects.toMatchObject({ code: "ERR_AUDIT_WRITE", cause: { code: "ERR_AUDIT_INVALID_ENTRY" } });
    }
    await log.close();
    expect(await verifyAuditLogFile(file)).toMatchObject({ ok: true, records: 2 });
  });
});
