/**
 * Write-ahead audit through a real crash: a child process runs the real tool
 * guard and JSON-lines sink, its tool blocks, and the test kills it with
 * SIGKILL once the "started" record is on disk.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digestArguments, type AuditEntry, type AuditRecord } from "../../src/audit/audit-record.ts";
import { createAuditLog } from "../../src/audit/audit-log.ts";
import { createJsonLinesSink } from "../../src/audit/json-lines-sink.ts";
import { parseAuditLine, verifyAuditLog } from "../../src/audit/verify-audit-chain.ts";
import { auditCli } from "../support/audit-cli.ts";
import { spawnWriter, waitFor } from "./fixtures/spawn-writer.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "audit-wal-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const entry = (tenant: string): AuditEntry => ({
  time: new Date().toISOString(), tenant_id: tenant, user_id: "u1", thread_id: "t1", run_id: "r1", tool: "search_docs",
  tool_call_id: "c1", decision: "allowed", reason: null, duration_ms: 0.5, args_sha256: digestArguments({ q: 1 }),
});

/** The whole records in the file (a torn last line is not one). */
async function records(file: string): Promise<AuditRecord[]> {
  const text = await readFile(file, "utf8").catch(() => "");
  return text.split("\n").slice(0, -1).map(parseAuditLine);
}

/** A pid that certainly belongs to no running process: one that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await once(child, "exit");
  return child.pid!;
}

describe("write-ahead audit (JSON lines)", () => {
  it("keeps the started record of a process killed while its tool runs; verify names the call; the next writer continues the chain", async () => {
    const file = join(dir, "killed.jsonl");
    const before = createAuditLog({ sink: createJsonLinesSink({ file }) });
    await before.record(entry("acme"));
    await before.close();

    const writer = spawnWriter(["block", file]);
    const started = await waitFor(async () => (await records(file)).find((r) => r.decision === "started"), {
      giveUp: writer.exited,
      describe: writer.output,
    });
    writer.child.kill("SIGKILL");
    expect(await writer.exited).toBe("SIGKILL");

    expect(started).toMatchObject({
      v: 2, seq: 1, tenant_id: "acme", user_id: "kim", thread_id: "thread-kill", run_id: "run-kill", tool: "wait_for_ever",
      tool_call_id: "call_kill", args_sha256: digestArguments({ reason: "killed mid-call" }),
    });
    const report = verifyAuditLog(await readFile(file, "utf8"));
    expect(report).toMatchObject({ ok: true, records: 2 });
    expect(report.unfinished).toEqual([
      expect.objectContaining({ tenant_id: "acme", call_id: started.call_id, tool: "wait_for_ever", line: 2, seq: 1, run_id: "run-kill" }),
    ]);

    const cli = await auditCli({}, "verify", file);
    expect(cli).toMatchObject({ code: 0, stdout: expect.stringContaining("UNFINISHED: 1 call(s) started and never finished") });
    expect(cli.stdout).toContain(`call ${started.call_id}: "wait_for_ever" started ${started.time}`);
    expect(cli.stdout).toMatch(/OK: 2 record\(s\), 1 tenant chain\(s\) intact/);

    const after = createAuditLog({ sink: createJsonLinesSink({ file }) });
    const next = await after.record(entry("acme"));
    await after.close();
    expect(next).toMatchObject({ seq: 2, prev_hash: started.hash });
    expect(verifyAuditLog(await readFile(file, "utf8"))).toMatchObject({ ok: true, records: 3, unfinished: [expect.objectContaining({ call_id: started.call_id })] });
  });

  it("takes over the lock file of a writer that died holding it", async () => {
    const file = join(dir, "stale-lock.jsonl");
    await writeFile(`${file}.lock`, JSON.stringify({ pid: await deadPid(), host: hostname(), since: new Date().toISOString() }));
    const log = createAuditLog({ sink: createJsonLinesSink({ file }) });
    await expect(log.record(entry("acme"))).resolves.toMatchObject({ seq: 0 });
    await log.close();
    await expect(stat(`${file}.lock`)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("says so when the lock file cannot be made", async () => {
    const file = join(dir, "odd-lock.jsonl");
    await mkdir(`${file}.lock`);
    const log = createAuditLog({ sink: createJsonLinesSink({ file }) });
    await expect(log.record(entry("acme"))).rejects.toMatchObject({
      code: "ERR_AUDIT_WRITE",
      message: expect.stringMatching(/lock file .*odd-lock\.jsonl\.lock cannot be created \(EISDIR\)/),
    });
  });

  it("waits for a live writer's lock and names it when it is not let go", async () => {
    const file = join(dir, "live-lock.jsonl");
    await writeFile(`${file}.lock`, JSON.stringify({ pid: process.pid, host: hostname(), since: "2026-11-30T00:00:00.000Z" }));
    const log = createAuditLog({ sink: createJsonLinesSink({ file, lockTimeoutMs: 50 }) });
    await expect(log.record(entry("acme"))).rejects.toMatchObject({
      code: "ERR_AUDIT_WRITE",
      message: expect.stringMatching(/locked by another writer/),
      cause: expect.objectContaining({ message: expect.stringMatching(new RegExp(`held by pid ${process.pid} .*delete .*live-lock\\.jsonl\\.lock`)) }),
    });
    expect(await readFile(file, "utf8")).toBe("");
    // Once the holder lets go, the same sink writes.
    await rm(`${file}.lock`);
    await expect(log.record(entry("acme"))).resolves.toMatchObject({ seq: 0 });
    await log.close();
  });
});
