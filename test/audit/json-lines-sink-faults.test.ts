/**
 * The JSON-lines sink on a file system that fills up: writes are made short
 * or fail with ENOSPC through an injected file system (no real disk is
 * filled; json-lines-sink-full-disk.test.ts does it for real under a file
 * size limit). No append may resolve unless its whole line is on disk, the
 * sink cuts off its own partial records, and no record may be written
 * behind a torn line.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeAuditFileSystem, type AuditFileSystem } from "../../src/audit/audit-file.ts";
import { digestArguments, type AuditEntry, type AuditRecord } from "../../src/audit/audit-record.ts";
import { createAuditLog } from "../../src/audit/audit-log.ts";
import { canonicalJson } from "../../src/audit/canonical-json.ts";
import { createJsonLinesSink } from "../../src/audit/json-lines-sink.ts";
import { repairAuditLog } from "../../src/audit/repair-audit-log.ts";
import { verifyAuditLog } from "../../src/audit/verify-audit-chain.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "audit-faults-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const entry = (tenant: string, i: number): AuditEntry => ({
  time: "2026-11-30T08:00:00.000Z", tenant_id: tenant, user_id: "u1", thread_id: "t1", run_id: "r1", tool: "search_docs",
  tool_call_id: `c${i}`, decision: "allowed", reason: null, duration_ms: 0.5, args_sha256: digestArguments({ i }),
});

/**
 * A real file system with a quota: `free` bytes may still be written (a
 * write beyond it is cut short, the next one fails with ENOSPC);
 * `maxPerWrite` makes every write short; `failSync` fails `datasync`;
 * `failTruncate` fails `truncate` (so a partial record cannot be cut off).
 */
function fullDisk() {
  const disk = { free: Infinity, maxPerWrite: Infinity, failSync: false, failTruncate: false };
  const fileSystem: AuditFileSystem = {
    async open(path, flags, mode) {
      const handle = await nodeAuditFileSystem.open(path, flags, mode);
      return {
        read: (...args) => handle.read(...args),
        stat: () => handle.stat(),
        async truncate(length) {
          if (disk.failTruncate) throw Object.assign(new Error("EIO: i/o error, ftruncate"), { code: "EIO" });
          await handle.truncate(length);
        },
        close: () => handle.close(),
        async datasync() {
          if (disk.failSync) throw Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" });
          await handle.datasync();
        },
        async write(buffer, offset, length, position) {
          if (disk.free <= 0) throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
          const n = Math.min(length, disk.free, disk.maxPerWrite);
          const result = await handle.write(buffer, offset, n, position);
          disk.free -= result.bytesWritten;
          return result;
        },
      };
    },
  };
  return { disk, fileSystem };
}

const lines = (records: AuditRecord[]) => records.map((r) => `${canonicalJson(r)}\n`).join("");

describe("createJsonLinesSink on a file system that fills up", () => {
  it("cuts its own partial record off at once, rejects that append, and goes on by itself when space returns", async () => {
    const file = join(dir, "full.jsonl");
    const { disk, fileSystem } = fullDisk();
    const messages: string[] = [];
    const log = createAuditLog({ sink: createJsonLinesSink({ file, fileSystem, fsync: true, log: (m) => messages.push(m) }) });
    const acknowledged: AuditRecord[] = [];
    for (let i = 0; i < 3; i++) acknowledged.push(await log.record(entry(i % 2 ? "globex" : "acme", i)));

    disk.free = 30; // the next record only half fits
    await expect(log.record(entry("acme", 3))).rejects.toMatchObject({
      code: "ERR_AUDIT_WRITE", message: expect.stringMatching(/failed write \(ENOSPC\): the record was not written \(any partial bytes were cut off\); the next append tries again/),
    });
    // The 30 bytes written were cut off: the file ends at its last acknowledged record.
    expect(disk.free).toBe(0);
    expect(await readFile(file, "utf8")).toBe(lines(acknowledged));
    await expect(log.ready()).resolves.toBeUndefined();

    // Still full: every append is rejected, the file stays whole, and the sink says so once.
    for (let i = 4; i < 7; i++) await expect(log.record(entry(i % 2 ? "globex" : "acme", i))).rejects.toMatchObject({ code: "ERR_AUDIT_WRITE" });
    expect(await readFile(file, "utf8")).toBe(lines(acknowledged));
    expect(messages).toEqual([expect.stringMatching(/failed write \(ENOSPC\)/)]);

    disk.free = Infinity; // space freed: the next append goes on, after the last acknowledged record
    acknowledged.push(await log.record(entry("acme", 7)));
    expect(acknowledged.at(-1)).toMatchObject({ seq: 2, prev_hash: acknowledged[2]!.hash });
    expect(messages.at(-1)).toMatch(/is written again after 4 failed append\(s\)/);
    await log.close();
    expect(await readFile(file, "utf8")).toBe(lines(acknowledged));
    expect(verifyAuditLog(await readFile(file, "utf8"))).toMatchObject({ ok: true, records: 4 });

    // And a new writer continues it.
    const reopened = createAuditLog({ sink: createJsonLinesSink({ file, fileSystem }) });
    acknowledged.push(await reopened.record(entry("globex", 8)));
    await reopened.close();
    expect(await readFile(file, "utf8")).toBe(lines(acknowledged));
  });

  it("when its partial record cannot be cut off: stops until repaired, and loses no acknowledged record", async () => {
    const file = join(dir, "uncuttable.jsonl");
    const { disk, fileSystem } = fullDisk();
    const messages: string[] = [];
    const log = createAuditLog({ sink: createJsonLinesSink({ file, fileSystem, fsync: true, log: (m) => messages.push(m) }) });
    const acknowledged: AuditRecord[] = [];
    for (let i = 0; i < 3; i++) acknowledged.push(await log.record(entry(i % 2 ? "globex" : "acme", i)));

    disk.free = 30;
    disk.failTruncate = true;
    await expect(log.record(entry("acme", 3))).rejects.toMatchObject({
      code: "ERR_AUDIT_WRITE", message: expect.stringMatching(/failed write \(ENOSPC\) and its partial record could not be cut off \(EIO\)/),
    });
    const torn = await readFile(file, "utf8");
    expect(torn.length).toBe(lines(acknowledged).length + 30);

    disk.free = Infinity; // space freed: the sink still refuses, so nothing lands behind the torn line
    disk.failTruncate = false;
    await expect(log.record(entry("globex", 4))).rejects.toMatchObject({ code: "ERR_AUDIT_WRITE", message: expect.stringMatching(/broken at line 4: a torn last line .*npm run audit -- repair/) });
    await expect(log.ready()).rejects.toMatchObject({ code: "ERR_AUDIT_WRITE" });
    expect(await readFile(file, "utf8")).toBe(torn);
    expect(messages).toEqual([expect.stringMatching(/failed write \(ENOSPC\) and its partial record could not be cut off.*npm run audit -- repair/)]);

    // Every reader agrees: the acknowledged records, then a torn line.
    expect(verifyAuditLog(torn)).toMatchObject({ ok: false, records: 3, problem: { line: 4, defect: "torn-line" } });

    const repaired = await repairAuditLog(file, { fileSystem });
    expect(repaired).toMatchObject({ action: "cut", defect: "torn-line", cutBytes: 30, after: { ok: true, records: 3 } });
    expect(await readFile(repaired.savedTo!, "utf8")).toBe(torn.slice(-30));
    expect(await readFile(file, "utf8")).toBe(lines(acknowledged));

    // The file ends at the last acknowledged record again: the same sink resumes.
    acknowledged.push(await log.record(entry("acme", 5)));
    await log.close();
    expect(messages.at(-1)).toMatch(/is whole again after its last acknowledged record: appending resumes/);
    expect(acknowledged.at(-1)).toMatchObject({ seq: 2, prev_hash: acknowledged[2]!.hash });
    expect(await readFile(file, "utf8")).toBe(lines(acknowledged));
    expect(verifyAuditLog(await readFile(file, "utf8"))).toMatchObject({ ok: true, records: 4 });
  });

  it("stops every writer of a shared file at a torn line another writer could not cut off; after the repair all of them go on", async () => {
    const file = join(dir, "shared-torn.jsonl");
    const { disk, fileSystem } = fullDisk();
    const tearing = createAuditLog({ sink: createJsonLinesSink({ file, fileSystem, log: () => {} }) });
    const other = createAuditLog({ sink: createJsonLinesSink({ file, log: () => {} }) });
    const acknowledged = [await tearing.record(entry("acme", 0)), await other.record(entry("acme", 1))];
    disk.free = 25;
    disk.failTruncate = true;
    await expect(tearing.record(entry("acme", 2))).rejects.toMatchObject({ code: "ERR_AUDIT_WRITE" });
    disk.free = Infinity;
    disk.failTruncate = false;
    await expect(other.record(entry("acme", 3))).rejects.toThrow(/broken at line 3: a torn last line .*npm run audit -- repair .*shared-torn\.jsonl/);
    await expect(other.ready()).rejects.toThrow(/broken at line 3/);

    await repairAuditLog(file);
    acknowledged.push(await other.record(entry("acme", 4)), await tearing.record(entry("acme", 5)));
    await Promise.all([tearing.close(), other.close()]);
    expect(acknowledged.map((r) => r.seq)).toEqual([0, 1, 2, 3]);
    expect(await readFile(file, "utf8")).toBe(lines(acknowledged));
  });

  it("repairs the tail when reopened with repair: true, and says so", async () => {
    const file = join(dir, "reopen-repair.jsonl");
    const { disk, fileSystem } = fullDisk();
    const log = createAuditLog({ sink: createJsonLinesSink({ file, fileSystem, log: () => {} }) });
    const first = await log.record(entry("acme", 0));
    disk.free = 10;
    disk.failTruncate = true;
    await expect(log.record(entry("acme", 1))).rejects.toMatchObject({ code: "ERR_AUDIT_WRITE" });
    await log.close();
    disk.free = Infinity;
    disk.failTruncate = false;

    const plain = createAuditLog({ sink: createJsonLinesSink({ file, fileSystem }) });
    await expect(plain.ready()).rejects.toThrow(/broken at line 2: a torn last line/);
    const messages: string[] = [];
    const repairing = createAuditLog({ sink: createJsonLinesSink({ file, fileSystem, repair: true, log: (m) => messages.push(m) }) });
    const next = await repairing.record(entry("acme", 2));
    await repairing.close();
    expect(next).toMatchObject({ seq: 1, prev_hash: first.hash });
    expect(messages).toEqual([expect.stringMatching(/repaired .* \(torn-line\): cut 10 byte\(s\), saved to /)]);
    expect(verifyAuditLog(await readFile(file, "utf8"))).toMatchObject({ ok: true, records: 2 });
  });

  it("continues after short writes that the file system completes, and resolves only with the whole line", async () => {
    const file = join(dir, "short.jsonl");
    const { disk, fileSystem } = fullDisk();
    disk.maxPerWrite = 7;
    const log = createAuditLog({ sink: createJsonLinesSink({ file, fileSystem }) });
    const written = await Promise.all([0, 1, 2, 3].map((i) => log.record(entry(i % 2 ? "globex" : "acme", i))));
    await log.close();
    expect(await readFile(file, "utf8")).toBe(lines(written));
  });

  it("stops when the sync fails (the record is whole but unacknowledged) until reopened", async () => {
    const file = join(dir, "fault-sync.jsonl");
    const { disk, fileSystem } = fullDisk();
    const log = createAuditLog({ sink: createJsonLinesSink({ file, fileSystem, fsync: true, log: () => {} }) });
    await log.record(entry("acme", 0));
    disk.failSync = true;
    await expect(log.record(entry("acme", 1))).rejects.toMatchObject({ code: "ERR_AUDIT_WRITE", message: expect.stringMatching(/EIO/) });
    disk.failSync = false;
    await expect(log.record(entry("acme", 2))).rejects.toMatchObject({ message: expect.stringMatching(/could not be synced to disk \(EIO\).*until the sink is reopened/) });
    await expect(log.ready()).rejects.toMatchObject({ message: expect.stringMatching(/until the sink is reopened/) });
    await log.close();
    // The whole record is there (it may or may not have reached the disk); a reopened sink continues after it.
    const report = verifyAuditLog(await readFile(file, "utf8"));
    expect(report).toMatchObject({ ok: true, records: 2 });
    const reopened = createAuditLog({ sink: createJsonLinesSink({ file, fileSystem }) });
    expect(await reopened.record(entry("acme", 3))).toMatchObject({ seq: 2 });
    await reopened.close();
  });

  it("resumes by itself after a write that failed before its first byte, once space is freed", async () => {
    const file = join(dir, "fault-full.jsonl");
    const { disk, fileSystem } = fullDisk();
    const messages: string[] = [];
    const log = createAuditLog({ sink: createJsonLinesSink({ file, fileSystem, log: (m) => messages.push(m) }) });
    const kept = await log.record(entry("acme", 0));
    disk.free = 0;
    await expect(log.record(entry("acme", 1))).rejects.toMatchObject({ code: "ERR_AUDIT_WRITE", message: expect.stringMatching(/ENOSPC/) });
    expect(await readFile(file, "utf8")).toBe(lines([kept]));
    disk.free = Infinity;
    const next = await log.record(entry("acme", 2));
    await log.close();
    expect(next).toMatchObject({ seq: 1, prev_hash: kept.hash });
    expect(await readFile(file, "utf8")).toBe(lines([kept, next]));
    expect(messages).toEqual([expect.stringMatching(/ENOSPC/), expect.stringMatching(/written again after 1 failed append/)]);
  });
});
