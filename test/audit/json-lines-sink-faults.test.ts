/**
 * The JSON-lines sink on a file system that fills up: writes are made short
 * or fail with ENOSPC through an injected file system (no real disk is
 * filled; json-lines-sink-full-disk.test.ts does it for real under a file
 * size limit). No append may resolve unless its whole line is on disk, the
 * sink cuts off its own partial records, and no record may be written
 * behind a torn line.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeAuditFileSystem, type AuditFileHandle, type AuditFileSystem } from "../../src/audit/audit-file.ts";
import { digestArguments, type AuditEntry, type AuditRecord } from "../../src/audit/audit-record.ts";
import { createAuditLog } from "../../src/audit/audit-log.ts";
import { canonicalJson } from "../../src/audit/canonical-json.ts";
import { createJsonLinesSink } from "../../src/audit/json-lines-sink.ts";
import { repairAuditLog } from "../../src/audit/repair-audit-log.ts";
import { verifyAuditLog } from "../../src/audit/verify-audit-chain.ts";
import { waitFor } from "./fixtures/spawn-writer.ts";

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
 * `maxPerWrite` makes every write short; `failSync` fails `datasync`
 * (with `syncCode`, `EIO` by default);
 * `failTruncate` fails `truncate` (so a partial record cannot be cut off);
 * `syncGate`, when set, holds every `datasync` until it resolves. It counts
 * writes and syncs. With `sync: true` it also has the synchronous methods
 * the real file system has (the sink's usual path), with the same faults.
 */
function fullDisk(options: { sync: boolean } = { sync: true }) {
  const disk = {
    free: Infinity, maxPerWrite: Infinity, failSync: false, syncCode: "EIO", failTruncate: false, writes: 0, syncs: 0,
    syncGate: undefined as Promise<void> | undefined,
  };
  const enospc = () => Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
  const eio = (what: string) => Object.assign(new Error(`EIO: i/o error, ${what}`), { code: "EIO" });
  const fileSystem: AuditFileSystem = {
    async open(path, flags, mode) {
      const handle = await nodeAuditFileSystem.open(path, flags, mode);
      const faulty: AuditFileHandle = {
        read: (...args) => handle.read(...args),
        stat: () => handle.stat(),
        async truncate(length) {
          if (disk.failTruncate) throw eio("ftruncate");
          await handle.truncate(length);
        },
        close: () => handle.close(),
        async datasync() {
          disk.syncs += 1;
          await disk.syncGate;
          if (disk.failSync) throw Object.assign(new Error(`${disk.syncCode}: fdatasync failed`), { code: disk.syncCode });
          await handle.datasync();
        },
        async write(buffer, offset, length, position) {
          disk.writes += 1;
          if (disk.free <= 0) throw enospc();
          const n = Math.min(length, disk.free, disk.maxPerWrite);
          const result = await handle.write(buffer, offset, n, position);
          disk.free -= result.bytesWritten;
          return result;
        },
      };
      if (!options.sync) return faulty;
      return {
        ...faulty,
        statSync: () => handle.statSync!(),
        truncateSync(length) {
          if (disk.failTruncate) throw eio("ftruncate");
          handle.truncateSync!(length);
        },
        writeSync(buffer, offset, length) {
          disk.writes += 1;
          if (disk.free <= 0) throw enospc();
          const written = handle.writeSync!(buffer, offset, Math.min(length, disk.free, disk.maxPerWrite));
          disk.free -= written;
          return written;
        },
        writeStringSync(text) {
          disk.writes += 1;
          if (disk.free <= 0) throw enospc();
          const bytes = Buffer.from(text);
          const written = handle.writeSync!(bytes, 0, Math.min(bytes.length, disk.free, disk.maxPerWrite));
          disk.free -= written;
          return written;
        },
      };
    },
  };
  return { disk, fileSystem };
}

const lines = (records: AuditRecord[]) => records.map((r) => `${canonicalJson(r)}\n`).join("");

describe.each([{ sync: true }, { sync: false }])("createJsonLinesSink on a file system that fills up (synchronous writes: $sync)", ({ sync }) => {
  it("cuts its own partial record off at once, rejects that append, and goes on by itself when space returns", async () => {
    const file = join(dir, `full-${sync}.jsonl`);
    const { disk, fileSystem } = fullDisk({ sync });
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
    const file = join(dir, `uncuttable-${sync}.jsonl`);
    const { disk, fileSystem } = fullDisk({ sync });
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
    await expect(log.record(entry("globex", 4))).rejects.toMatchObject({ code: "ERR_AUDIT_WRITE", message: expect.stringMatching(/broken at line 4: a torn last line .*npx langgraph-tenant-auth audit repair/) });
    await expect(log.ready()).rejects.toMatchObject({ code: "ERR_AUDIT_WRITE" });
    expect(await readFile(file, "utf8")).toBe(torn);
    expect(messages).toEqual([expect.stringMatching(/failed write \(ENOSPC\) and its partial record could not be cut off.*npx langgraph-tenant-auth audit repair/)]);

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
    const file = join(dir, `shared-torn-${sync}.jsonl`);
    const { disk, fileSystem } = fullDisk({ sync });
    const tearing = createAuditLog({ sink: createJsonLinesSink({ file, fileSystem, log: () => {} }) });
    const other = createAuditLog({ sink: createJsonLinesSink({ file, log: () => {} }) });
    const acknowledged = [await tearing.record(entry("acme", 0)), await other.record(entry("acme", 1))];
    disk.free = 25;
    disk.failTruncate = true;
    await expect(tearing.record(entry("acme", 2))).rejects.toMatchObject({ code: "ERR_AUDIT_WRITE" });
    disk.free = Infinity;
    disk.failTruncate = false;
    await expect(other.record(entry("acme", 3))).rejects.toThrow(/broken at line 3: a torn last line .*npx langgraph-tenant-auth audit repair .*shared-torn-(true|false)\.jsonl/);
    await expect(other.ready()).rejects.toThrow(/broken at line 3/);

    await repairAuditLog(file);
    acknowledged.push(await other.record(entry("acme", 4)), await tearing.record(entry("acme", 5)));
    await Promise.all([tearing.close(), other.close()]);
    expect(acknowledged.map((r) => r.seq)).toEqual([0, 1, 2, 3]);
    expect(await readFile(file, "utf8")).toBe(lines(acknowledged));
  });

  it("repairs the tail when reopened with repair: true, and says so", async () => {
    const file = join(dir, `reopen-repair-${sync}.jsonl`);
    const { disk, fileSystem } = fullDisk({ sync });
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
    const file = join(dir, `short-${sync}.jsonl`);
    const { disk, fileSystem } = fullDisk({ sync });
    disk.maxPerWrite = 7;
    const log = createAuditLog({ sink: createJsonLinesSink({ file, fileSystem }) });
    const written = await Promise.all([0, 1, 2, 3].map((i) => log.record(entry(i % 2 ? "globex" : "acme", i))));
    await log.close();
    expect(await readFile(file, "utf8")).toBe(lines(written));
  });

  it("stops when the sync fails (the record is whole but unacknowledged) until reopened", async () => {
    const file = join(dir, `fault-sync-${sync}.jsonl`);
    const { disk, fileSystem } = fullDisk({ sync });
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

  /** A sink with `fsync` that acknowledged one record; from then on its syncs fail with ENOSPC. */
  async function syncingOntoAFullDisk(name: string) {
    const file = join(dir, name);
    const { disk, fileSystem } = fullDisk({ sync });
    const messages: string[] = [];
    const log = createAuditLog({ sink: createJsonLinesSink({ file, fileSystem, fsync: true, log: (m) => messages.push(m) }) });
    const kept = await log.record(entry("acme", 0));
    disk.failSync = true;
    disk.syncCode = "ENOSPC";
    return { file, disk, log, messages, kept };
  }

  it("heals a sync that fails for want of space: the record is cut off, and appends go on by themselves", async () => {
    const { file, disk, log, messages, kept } = await syncingOntoAFullDisk(`fault-sync-full-${sync}.jsonl`);
    await expect(log.record(entry("acme", 1))).rejects.toMatchObject({
      code: "ERR_AUDIT_WRITE",
      message: expect.stringMatching(/had a failed sync \(ENOSPC\): the record was not written \(any partial bytes were cut off\); the next append tries again/),
    });
    // Cut back to the last acknowledged record.
    expect(await readFile(file, "utf8")).toBe(lines([kept]));
    await expect(log.record(entry("globex", 2))).rejects.toMatchObject({ message: expect.stringMatching(/ENOSPC/) });
    expect(await readFile(file, "utf8")).toBe(lines([kept]));
    disk.failSync = false;
    const next = await log.record(entry("acme", 3));
    const other = await log.record(entry("globex", 4));
    await log.close();
    expect(next).toMatchObject({ seq: 1, prev_hash: kept.hash });
    expect(other).toMatchObject({ seq: 0 });
    expect(await readFile(file, "utf8")).toBe(lines([kept, next, other]));
    expect(verifyAuditLog(await readFile(file, "utf8"))).toMatchObject({ ok: true, records: 3 });
    expect(messages).toEqual([expect.stringMatching(/failed sync \(ENOSPC\)/), expect.stringMatching(/written again after 2 failed append/)]);
  });

  it("after a sync that failed for want of space and a cut that failed too, goes on only once the file is whole", async () => {
    const { file, disk, log, messages, kept } = await syncingOntoAFullDisk(`fault-sync-full-cut-${sync}.jsonl`);
    disk.failTruncate = true;
    await expect(log.record(entry("acme", 1))).rejects.toMatchObject({
      message: expect.stringMatching(/had a failed sync \(ENOSPC\) and its partial record could not be cut off \(EIO\).*until repaired/),
    });
    disk.failSync = false;
    disk.failTruncate = false;
    // The unacknowledged record was written whole: the file is whole after the last acknowledged record, so it goes on after it.
    const next = await log.record(entry("acme", 2));
    await log.close();
    expect(next).toMatchObject({ seq: 2 });
    const text = await readFile(file, "utf8");
    expect(text.startsWith(lines([kept]))).toBe(true);
    expect(verifyAuditLog(text)).toMatchObject({ ok: true, records: 3 });
    expect(messages).toEqual([expect.stringMatching(/could not be cut off/), expect.stringMatching(/whole again after its last acknowledged record: appending resumes/)]);
  });

  it("resumes by itself after a write that failed before its first byte, once space is freed", async () => {
    const file = join(dir, `fault-full-${sync}.jsonl`);
    const { disk, fileSystem } = fullDisk({ sync });
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

  it.each([false, true])("group commit (fsync %s): appends waiting together share one write; a failed group is cut back whole and every append of it rejected", async (fsync) => {
    const file = join(dir, `group-${sync}-${fsync}.jsonl`);
    const { disk, fileSystem } = fullDisk({ sync });
    const messages: string[] = [];
    const log = createAuditLog({ sink: createJsonLinesSink({ file, fileSystem, fsync, log: (m) => messages.push(m) }) });
    const acknowledged = [await log.record(entry("acme", 0))];
    await log.close(); // a new sink below: its first appends wait for the file and the lock together

    const grouped = createAuditLog({ sink: createJsonLinesSink({ file, fileSystem, fsync, log: (m) => messages.push(m) }) });
    const size = Buffer.byteLength(lines(acknowledged));
    disk.free = Math.floor(size * 1.5); // the group of four takes more than that
    disk.writes = 0;
    const tenants = ["acme", "globex", "initech", "umbrella"];
    const failed = await Promise.allSettled(tenants.map((tenant, i) => grouped.record(entry(tenant, 10 + i))));
    expect(failed.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected", "rejected"]);
    const reasons = failed.map((r) => (r as PromiseRejectedResult).reason as Error);
    expect(new Set(reasons).size).toBe(1); // one error: the group's
    expect(reasons[0]).toMatchObject({ code: "ERR_AUDIT_WRITE", message: expect.stringMatching(/failed write \(ENOSPC\).*cut off/) });
    expect(disk.writes).toBe(2); // one write of the group (cut short), one more that found no space
    expect(await readFile(file, "utf8")).toBe(lines(acknowledged));

    disk.free = Infinity;
    disk.writes = 0;
    disk.syncs = 0;
    const written = await Promise.all(tenants.map((tenant, i) => grouped.record(entry(tenant, 20 + i))));
    expect(disk.writes).toBe(1);
    if (fsync) expect(disk.syncs).toBe(1);
    acknowledged.push(...written);
    expect(written.map((r) => r.seq)).toEqual([1, 0, 0, 0]);
    await grouped.close();
    expect(await readFile(file, "utf8")).toBe(lines(acknowledged));
    expect(verifyAuditLog(await readFile(file, "utf8"))).toMatchObject({ ok: true, records: 5 });
    expect(messages).toEqual([expect.stringMatching(/failed write \(ENOSPC\)/), expect.stringMatching(/written again after 4 failed append\(s\)/)]);
  });

  it("fsync: an append resolves only after the sync of its group; the records arriving meanwhile share the next write and sync", async () => {
    const file = join(dir, `group-sync-${sync}.jsonl`);
    const { disk, fileSystem } = fullDisk({ sync });
    const log = createAuditLog({ sink: createJsonLinesSink({ file, fileSystem, fsync: true }) });
    await log.record(entry("acme", 0));
    let open!: () => void;
    disk.syncGate = new Promise<void>((resolve) => (open = resolve));
    disk.writes = 0;
    disk.syncs = 0;
    const settled: string[] = [];
    const first = log.record(entry("acme", 1)).then((r) => (settled.push("acme"), r));
    await waitFor(() => disk.syncs === 1);
    // The first append is written and its sync is held: it is not acknowledged.
    // These three arrive meanwhile: they wait for it, then go together.
    const rest = ["globex", "initech", "umbrella"].map((tenant, i) => log.record(entry(tenant, 2 + i)).then((r) => (settled.push(tenant), r)));
    await new Promise((resolve) => setImmediate(resolve));
    expect(disk.writes).toBe(1);
    expect(disk.syncs).toBe(1);
    expect(settled).toEqual([]);
    open();
    const records = [await first, ...(await Promise.all(rest))];
    expect(settled[0]).toBe("acme");
    expect(disk.writes).toBe(2);
    expect(disk.syncs).toBe(2);
    await log.close();
    expect(verifyAuditLog(await readFile(file, "utf8"))).toMatchObject({ ok: true, records: 5, heads: expect.any(Map) });
    expect(records.map((r) => r.tenant_id)).toEqual(["acme", "globex", "initech", "umbrella"]);
  });
});

describe("the lock across a burst of appends", () => {
  it("is kept while appends follow each other, let go once they stop, and never taken twice", async () => {
    const file = join(dir, "linger.jsonl");
    const log = createAuditLog({ sink: createJsonLinesSink({ file }) });
    await log.record(entry("acme", 0));
    // Held right after the append, for the next one of the burst ... (read synchronously: the lock is
    // let go only by a timer 2 ms after the append, which an asynchronous read on a busy machine can outlast)
    expect(JSON.parse(readFileSync(`${file}.lock`, "utf8"))).toMatchObject({ pid: process.pid });
    // ... and let go by itself when none follows, without close().
    await waitFor(() => stat(`${file}.lock`).then(() => false, (error: NodeJS.ErrnoException) => error.code === "ENOENT"));
    await log.close();
  });

  it("a writer waiting for the lock gets it while the holder keeps appending (no starvation)", async () => {
    const file = join(dir, "handoff.jsonl");
    const busy = createAuditLog({ sink: createJsonLinesSink({ file }) });
    const other = createAuditLog({ sink: createJsonLinesSink({ file }) });
    await busy.record(entry("acme", 0));
    let otherDone = false;
    const otherWrite = other.record(entry("globex", 1)).then((r) => ((otherDone = true), r));
    // The holder appends one record after another, never idle long enough to let go on its own.
    let busyRecords = 1;
    while (!otherDone && busyRecords < 5000) {
      await busy.record(entry("acme", busyRecords));
      busyRecords += 1;
    }
    expect(otherDone).toBe(true);
    expect(busyRecords).toBeLessThan(5000);
    await otherWrite;
    await Promise.all([busy.close(), other.close()]);
    expect(verifyAuditLog(await readFile(file, "utf8"))).toMatchObject({ ok: true, records: busyRecords + 1 });
    await expect(stat(`${file}.lock`)).rejects.toMatchObject({ code: "ENOENT" });
  });
});
