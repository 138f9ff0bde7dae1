/**
 * The JSON-lines sink on a really full disk: a child process runs the real
 * sink on the real file system under a file size limit (RLIMIT_FSIZE, what
 * `ulimit -f` sets), which the test lowers and raises while the child runs
 * (`prlimit --pid`, util-linux). Past the limit a write is cut short, then
 * fails with EFBIG (Node ignores SIGXFSZ; the child checks it).
 *
 * What must hold: every append the disk cannot take is rejected and leaves
 * the file exactly as it was (the sink cuts its own partial bytes off); the
 * lock file never stays behind, even when it cannot be written itself; a
 * second writer keeps appending meanwhile; when space returns, the child's
 * appends go on by themselves; the file always verifies, and holds exactly
 * the acknowledged records, in order.
 */
import { execFile } from "node:child_process";
import { readFile, rm, stat, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digestArguments, type AuditEntry, type AuditRecord } from "../../src/audit/audit-record.ts";
import { createAuditLog } from "../../src/audit/audit-log.ts";
import { canonicalJson } from "../../src/audit/canonical-json.ts";
import { createJsonLinesSink } from "../../src/audit/json-lines-sink.ts";
import { verifyAuditLog } from "../../src/audit/verify-audit-chain.ts";
import { spawnWriter, waitFor, type Writer } from "./fixtures/spawn-writer.ts";

const run = promisify(execFile);

let dir: string;
const children: Writer[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "audit-full-disk-"));
});
afterAll(async () => {
  for (const child of children) child.child.kill("SIGKILL");
  await rm(dir, { recursive: true, force: true });
});

type Result = { ok: true; record: AuditRecord } | { ok: false; code: string; message: string; cause: string | undefined };

/** The child's sink, driven line by line; `results(n)` waits for the next n results. */
async function startChild(file: string, fsync: boolean) {
  const writer = spawnWriter(["serve", file, fsync ? "1" : "0"]);
  children.push(writer);
  const ready = await waitFor(() => /^ready (.*)$/m.exec(writer.output())?.[1], { giveUp: writer.exited, describe: writer.output });
  const { pid, sigxfszIgnored } = JSON.parse(ready) as { pid: number; sigxfszIgnored: boolean };
  let seen = 0;
  const send = async (command: string, expected: number): Promise<Result[]> => {
    writer.child.stdin!.write(`${command}\n`);
    const all = await waitFor(() => {
      const lines = [...writer.output().matchAll(/^result (.*)$/gm)].map((m) => JSON.parse(m[1]!) as Result);
      return lines.length >= seen + expected ? lines : undefined;
    }, { giveUp: writer.exited, describe: writer.output });
    const fresh = all.slice(seen, seen + expected);
    seen += expected;
    return fresh;
  };
  /** Set the child's file size limit (soft; bytes), or lift it. */
  const limit = (bytes: number | "unlimited") => run("prlimit", ["--pid", String(pid), `--fsize=${bytes}:`]);
  return { writer, pid, sigxfszIgnored, send, limit };
}

const lines = (records: AuditRecord[]) => records.map((r) => `${canonicalJson(r)}\n`).join("");

const entry = (tenant: string, i: number): AuditEntry => ({
  time: new Date().toISOString(), tenant_id: tenant, user_id: "parent", thread_id: "t1", run_id: "r1", tool: "search_docs",
  tool_call_id: `p${i}`, decision: "allowed", reason: null, duration_ms: 0, args_sha256: digestArguments({ p: i }),
});

describe("the JSON-lines sink under a file size limit (a full disk)", () => {
  it.each([false, true])("fsync %s: rejects what does not fit, leaves a whole file and no lock behind, and goes on when space returns", async (fsync) => {
    const file = join(dir, `full-${fsync ? "fsync" : "plain"}.jsonl`);
    const parent = createAuditLog({ sink: createJsonLinesSink({ file }) });
    const acknowledged: AuditRecord[] = [await parent.record(entry("acme", 0)), await parent.record(entry("globex", 1))];
    const child = await startChild(file, fsync);
    expect(child.sigxfszIgnored).toBe(true);
    const fileIsAcknowledged = async () => {
      const text = await readFile(file, "utf8");
      expect(text).toBe(lines(acknowledged));
      expect(verifyAuditLog(text)).toMatchObject({ ok: true, records: acknowledged.length });
      // A writer keeps the lock for a moment after its last append; then nobody holds it.
      await waitFor(() => stat(`${file}.lock`).then(() => false, (error: NodeJS.ErrnoException) => error.code === "ENOENT"), {
        describe: () => `${file}.lock is still there`, limitMs: 10_000,
      });
    };

    // The child writes while there is room.
    for (const result of await child.send("append 2 acme", 2)) {
      expect(result).toMatchObject({ ok: true });
      acknowledged.push((result as { record: AuditRecord }).record);
    }
    await fileIsAcknowledged();

    // 100 more bytes fit: the next record is cut short, then refused with EFBIG; later ones fit not at all.
    await child.limit((await stat(file)).size + 100);
    const full = await child.send("append 3 acme", 3);
    expect(full).toEqual(Array(3).fill({
      ok: false, code: "ERR_AUDIT_WRITE", cause: "EFBIG",
      message: expect.stringMatching(/had a failed write \(EFBIG\): the record was not written \(any partial bytes were cut off\); the next append tries again/),
    }));
    await fileIsAcknowledged();

    // A burst at once: every record of it is refused; nothing of it stays in the file.
    expect((await child.send("burst 6", 6)).map((r) => [r.ok, !r.ok && r.cause])).toEqual(Array(6).fill([false, "EFBIG"]));
    await fileIsAcknowledged();

    // The other writer, not limited, appends meanwhile: the lock is free and the chains go on.
    acknowledged.push(await parent.record(entry("acme", 2)));
    await fileIsAcknowledged();

    // So full that not even the lock file can be written: refused, and no lock file stays behind.
    await child.limit(10);
    expect(await child.send("append 2 globex", 2)).toEqual(Array(2).fill({
      ok: false, code: "ERR_AUDIT_WRITE", cause: "EFBIG",
      message: expect.stringMatching(/lock file .*\.lock cannot be written \(EFBIG: the disk is full\); the next append tries again/),
    }));
    await fileIsAcknowledged();
    acknowledged.push(await parent.record(entry("globex", 3)));

    // Space freed half way: the same sink goes on by itself, after the other writer's records.
    await child.limit("unlimited");
    const resumed = await child.send("append 3 acme", 3);
    expect(resumed.map((r) => r.ok)).toEqual([true, true, true]);
    const acmeBefore = acknowledged.filter((r) => r.tenant_id === "acme").at(-1)!;
    expect((resumed[0] as { record: AuditRecord }).record).toMatchObject({ seq: acmeBefore.seq + 1, prev_hash: acmeBefore.hash });
    for (const result of resumed) acknowledged.push((result as { record: AuditRecord }).record);
    for (const result of await child.send("burst 3", 3)) {
      expect(result.ok).toBe(true);
      acknowledged.push((result as { record: AuditRecord }).record);
    }
    acknowledged.push(await parent.record(entry("acme", 4)));
    await parent.close();
    child.writer.child.stdin!.write("close\n");
    expect(await child.writer.exited).toBe(0);
    await fileIsAcknowledged();
    expect(acknowledged.length).toBe(2 + 2 + 1 + 1 + 3 + 3 + 1);
    // It said so: once when writing failed, once when it wrote again.
    expect(child.writer.output()).toMatch(/audit: the audit log .* had a failed write \(EFBIG\)/);
    expect(child.writer.output()).toMatch(/audit: the audit log .* is written again after \d+ failed append\(s\)/);
  });
});
