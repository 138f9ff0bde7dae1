import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { canonicalJson } from "../../src/audit/canonical-json.ts";
import {
  GENESIS_HASH, digestArguments, hashAuditRecord, sealAuditRecord, type AuditEntry, type AuditRecord, type AuditToolCallRecord,
} from "../../src/audit/audit-record.ts";
import { createAuditLog } from "../../src/audit/audit-log.ts";
import type { AuditSink } from "../../src/audit/audit-sink.ts";
import { verifyAuditLog } from "../../src/audit/verify-audit-chain.ts";

function entry(tenant: string, tool: string, extra: Partial<AuditEntry> = {}): AuditEntry {
  return {
    time: "2026-11-27T10:00:00.000Z", tenant_id: tenant, user_id: "u1", thread_id: "t1", run_id: "r1",
    tool, tool_call_id: "c1", decision: "allowed", reason: null, duration_ms: 1.5, args_sha256: digestArguments({}), ...extra,
  };
}

/** A log of `n` records over two interleaved tenants. */
function sampleLog(n = 6): AuditToolCallRecord[] {
  const heads = new Map<string, AuditRecord>();
  const out: AuditToolCallRecord[] = [];
  for (let i = 0; i < n; i++) {
    const tenant = i % 2 === 0 ? "acme" : "globex";
    const record = sealAuditRecord(entry(tenant, `tool_${i}`), heads.get(tenant));
    heads.set(tenant, record);
    out.push(record);
  }
  return out;
}
const text = (records: AuditRecord[]) => records.map((r) => `${canonicalJson(r)}\n`).join("");

describe("canonicalJson", () => {
  it("sorts keys, drops undefined members and gives the same bytes for the same value", () => {
    expect(canonicalJson({ b: 1, a: [true, null, "x"], c: undefined, d: { z: 1, y: 2 } })).toBe('{"a":[true,null,"x"],"b":1,"d":{"y":2,"z":1}}');
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const reordered = JSON.parse(JSON.stringify(value), (_k, v) =>
          v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v);
        expect(canonicalJson(reordered)).toBe(canonicalJson(value));
        expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });

  it("refuses values with no faithful JSON form", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const bad of [Number.NaN, Infinity, 1n, () => 1, Symbol("s"), cyclic, [undefined]]) {
      expect(() => canonicalJson(bad)).toThrow(TypeError);
    }
  });
});

describe("sealAuditRecord", () => {
  it("links each tenant's records: seq, prev_hash and a hash over everything else", () => {
    const [a0, , a1] = sampleLog(3);
    expect(a0!.seq).toBe(0);
    expect(a0!.prev_hash).toBe(GENESIS_HASH);
    expect(a1!.seq).toBe(1);
    expect(a1!.prev_hash).toBe(a0!.hash);
    const { hash, ...rest } = a1!;
    expect(hash).toBe(createHash("sha256").update(canonicalJson(rest)).digest("hex"));
    expect(hashAuditRecord(a1!)).toBe(hash);
  });

  it("digests arguments independently of key order", () => {
    expect(digestArguments({ a: 1, b: [2] })).toBe(digestArguments({ b: [2], a: 1 }));
    expect(digestArguments({ a: 1 })).not.toBe(digestArguments({ a: 2 }));
  });
});

describe("verifyAuditLog", () => {
  it("accepts an intact log of interleaved tenants", () => {
    const report = verifyAuditLog(text(sampleLog()));
    expect(report).toMatchObject({ ok: true, records: 6, problem: undefined });
    expect([...report.heads.keys()].sort()).toEqual(["acme", "globex"]);
  });

  it("names the edited record", () => {
    const records = sampleLog();
    records[2] = { ...records[2]!, decision: "refused" };
    expect(verifyAuditLog(text(records)).problem).toMatchObject({ line: 3, tenant_id: "acme", seq: 1, reason: expect.stringMatching(/edited/) });
  });

  it("names the record after a deleted one", () => {
    const records = sampleLog();
    records.splice(2, 1); // acme seq 1
    expect(verifyAuditLog(text(records)).problem).toMatchObject({ line: 4, tenant_id: "acme", seq: 2, reason: expect.stringMatching(/deleted, reordered/) });
  });

  it("names the first record of two swapped ones", () => {
    const records = sampleLog();
    [records[2], records[4]] = [records[4]!, records[2]!];
    expect(verifyAuditLog(text(records)).problem).toMatchObject({ line: 3, tenant_id: "acme", seq: 2 });
  });

  it("notices a deleted first record and a record with its hash recomputed after an edit", () => {
    const records = sampleLog();
    expect(verifyAuditLog(text(records.slice(2))).problem).toMatchObject({ line: 1, reason: expect.stringMatching(/earlier records were deleted/) });
    const edited = { ...records[2]!, tool: "refund" };
    records[2] = { ...edited, hash: hashAuditRecord(edited) };
    // The edit itself now passes, but the next record of the tenant no longer links to it.
    expect(verifyAuditLog(text(records)).problem).toMatchObject({ line: 5, tenant_id: "acme", seq: 2 });
  });

  it("refuses lines that are not records, and empty lines inside the log", () => {
    const lines = text(sampleLog(2)).split("\n");
    expect(verifyAuditLog(["{not json", ...lines].join("\n")).problem).toMatchObject({ line: 1, reason: "the line is not JSON" });
    expect(verifyAuditLog([lines[0], "", lines[1], ""].join("\n")).problem).toMatchObject({ line: 2, reason: expect.stringMatching(/empty line/) });
    expect(verifyAuditLog(`{"v":1}\n`).problem?.reason).toMatch(/not an audit record/);
    const extra = { ...sampleLog(1)[0]!, smuggled: true };
    expect(verifyAuditLog(`${JSON.stringify(extra)}\n`).problem?.reason).toMatch(/not an audit record/);
  });
});

describe("keyed chains (HMAC-SHA256)", () => {
  const key = "k".repeat(32);
  function keyedLog(n = 4): AuditToolCallRecord[] {
    let head: AuditRecord | undefined;
    return Array.from({ length: n }, (_, i) => (head = sealAuditRecord(entry("acme", `tool_${i}`), head, key)));
  }

  it("verifies with the key and asks for it without", () => {
    const records = keyedLog();
    expect(records[0]!.hash_alg).toBe("hmac-sha256");
    expect(verifyAuditLog(text(records), { key })).toMatchObject({ ok: true, records: 4 });
    expect(verifyAuditLog(text(records)).problem).toMatchObject({ line: 1, reason: expect.stringMatching(/verify it with the chain key/) });
    expect(verifyAuditLog(text(records), { key: "x".repeat(32) }).problem).toMatchObject({ line: 1, reason: expect.stringMatching(/edited/) });
  });

  it("catches an edit whose hashes were all recomputed without the key", () => {
    const records = keyedLog();
    // The forger edits record 1 and re-seals it and everything after it with plain SHA-256 ...
    let head: AuditRecord | undefined = records[0];
    const forged = [records[0]!, ...records.slice(1).map((r, i) => (head = sealAuditRecord({ ...r, decision: i === 0 ? "refused" : r.decision }, head)))];
    expect(verifyAuditLog(text(forged)).ok).toBe(false);
    expect(verifyAuditLog(text(forged), { key }).problem).toMatchObject({ line: 2, reason: expect.stringMatching(/not keyed/) });
    // ... or keyed with a guessed key.
    head = records[0];
    const guessed = [records[0]!, ...records.slice(1).map((r) => (head = sealAuditRecord({ ...r, decision: "refused" }, head, "g".repeat(32))))];
    expect(verifyAuditLog(text(guessed), { key }).problem).toMatchObject({ line: 2, reason: expect.stringMatching(/edited/) });
  });

  it("refuses a short key", () => {
    expect(() => createAuditLog({ sink: { append: async () => { throw new Error("unused"); } }, chainKey: "short" })).toThrow(/chainKey must be a secret of at least 32 bytes/);
  });
});

describe("createAuditLog", () => {
  /** A sink that keeps records in memory and yields between reading the head and storing. */
  function slowSink(): AuditSink & { stored: AuditRecord[] } {
    const stored: AuditRecord[] = [];
    const heads = new Map<string, { seq: number; hash: string }>();
    return {
      stored,
      async append(tenant, seal) {
        const head = heads.get(tenant);
        await new Promise((r) => setTimeout(r, Math.random() * 3));
        const record = seal(head);
        heads.set(tenant, { seq: record.seq, hash: record.hash });
        stored.push(record);
        return record;
      },
    };
  }

  it("keeps every tenant's chain intact when calls overlap", async () => {
    const sink = slowSink();
    const log = createAuditLog({ sink });
    await Promise.all(Array.from({ length: 60 }, (_, i) => log.record(entry(["acme", "globex", "initech"][i % 3]!, `tool_${i}`))));
    const report = verifyAuditLog(text(sink.stored));
    expect(report.ok).toBe(true);
    expect(report.records).toBe(60);
    expect(report.heads.get("acme")?.seq).toBe(19);
  });

  it("surfaces a failed write and goes on with the next record", async () => {
    let fail = true;
    const inner = slowSink();
    const log = createAuditLog({
      sink: {
        append: (tenant, seal) => {
          if (fail) {
            fail = false;
            return Promise.reject(new Error("disk full"));
          }
          return inner.append(tenant, seal);
        },
      },
    });
    await expect(log.record(entry("acme", "refund"))).rejects.toMatchObject({ code: "ERR_AUDIT_WRITE", cause: { message: "disk full" } });
    await expect(log.record(entry("acme", "refund"))).resolves.toMatchObject({ seq: 0 });
  });

  it("refuses a missing sink", () => {
    expect(() => createAuditLog({} as never)).toThrow(/options\.sink/);
  });
});
