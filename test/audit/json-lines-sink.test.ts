import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digestArguments, type AuditEntry } from "../../src/audit/audit-record.ts";
import { createAuditLog } from "../../src/audit/audit-log.ts";
import { createJsonLinesSink } from "../../src/audit/json-lines-sink.ts";
import { verifyAuditLog } from "../../src/audit/verify-audit-chain.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "audit-jsonl-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const entry = (tenant: string, tool = "search_docs"): AuditEntry => ({
  time: new Date().toISOString(), tenant_id: tenant, user_id: "u1", thread_id: "t1", run_id: "r1", tool,
  tool_call_id: "c1", decision: "allowed", reason: null, duration_ms: 0.5, args_sha256: digestArguments({ q: 1 }),
});

describe("createJsonLinesSink", () => {
  it("appends one canonical line per record to a private file and continues the chains after a restart", async () => {
    const file = join(dir, "restart.jsonl");
    const first = createAuditLog({ sink: createJsonLinesSink({ file }) });
    await Promise.all([first.record(entry("acme")), first.record(entry("globex")), first.record(entry("acme"))]);
    await first.close();
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    const second = createAuditLog({ sink: createJsonLinesSink({ file, fsync: true }) });
    const next = await second.record(entry("acme", "refund"));
    await second.close();
    expect(next.seq).toBe(2);

    const text = await readFile(file, "utf8");
    expect(text.trimEnd().split("\n")).toHaveLength(4);
    expect(verifyAuditLog(text)).toMatchObject({ ok: true, records: 4 });
  });

  it("opens again on the next append when the file could not be opened (its folder did not exist yet)", async () => {
    const folder = join(dir, "made-later");
    const file = join(folder, "audit.jsonl");
    const lines: string[] = [];
    const log = createAuditLog({ sink: createJsonLinesSink({ file, log: (line) => void lines.push(line) }) });
    await expect(log.record(entry("acme"))).rejects.toMatchObject({ code: "ERR_AUDIT_WRITE" });
    await expect(log.ready()).rejects.toMatchObject({ code: "ERR_AUDIT_WRITE" });
    await mkdir(folder);
    const written = await log.record(entry("acme"));
    await log.close();
    expect(written.seq).toBe(0);
    expect(verifyAuditLog(await readFile(file, "utf8"))).toMatchObject({ ok: true, records: 1 });
  });

  it("keeps the chains intact under many overlapping writes", async () => {
    const file = join(dir, "busy.jsonl");
    const log = createAuditLog({ sink: createJsonLinesSink({ file }) });
    await Promise.all(Array.from({ length: 200 }, (_, i) => log.record(entry(`t${i % 7}`))));
    await log.close();
    expect(verifyAuditLog(await readFile(file, "utf8"))).toMatchObject({ ok: true, records: 200 });
  });

  it("keeps one chain per tenant when two sinks share a file and each has a burst in flight", async () => {
    const file = join(dir, "two-sinks.jsonl");
    const a = createAuditLog({ sink: createJsonLinesSink({ file }) });
    const b = createAuditLog({ sink: createJsonLinesSink({ file }) });
    await Promise.all(Array.from({ length: 300 }, (_, i) => (i % 2 ? a : b).record(entry(`t${i % 5}`))));
    await Promise.all([a.close(), b.close()]);
    const report = verifyAuditLog(await readFile(file, "utf8"));
    expect(report).toMatchObject({ ok: true, records: 300 });
    expect(report.heads.get("t0")?.seq).toBe(59);
  });

  it("refuses to append to a tampered file, naming the broken line, and leaves it as it was", async () => {
    const file = join(dir, "tampered.jsonl");
    const log = createAuditLog({ sink: createJsonLinesSink({ file }) });
    for (let i = 0; i < 3; i++) await log.record(entry("acme"));
    await log.close();
    const lines = (await readFile(file, "utf8")).split("\n");
    lines.splice(1, 1);
    const tampered = lines.join("\n");
    await writeFile(file, tampered);

    const reopened = createAuditLog({ sink: createJsonLinesSink({ file }) });
    await expect(reopened.ready()).rejects.toThrow(/broken at line 2/);
    await expect(reopened.record(entry("acme"))).rejects.toMatchObject({ code: "ERR_AUDIT_WRITE", message: expect.stringMatching(/line 2/) });
    expect(await readFile(file, "utf8")).toBe(tampered);
  });

  it("refuses to glue a record onto a torn last line or after trailing empty lines", async () => {
    const file = join(dir, "torn.jsonl");
    const log = createAuditLog({ sink: createJsonLinesSink({ file }) });
    await log.record(entry("acme"));
    await log.close();
    const intact = await readFile(file, "utf8");
    for (const [content, reason] of [
      [intact.slice(0, -1), /line 1: the last line is incomplete .*append the missing newline/],
      [intact.slice(0, 40), /line 1: a torn last line .*cut the log back to its last whole line/],
      [`${intact}\n`, /line 2: an empty line at the end .*cut the empty line/],
      [`${intact}\u0000\u0000\u0000\u0000`, /line 2: NUL bytes at the end/],
    ] as const) {
      await writeFile(file, content);
      const reopened = createAuditLog({ sink: createJsonLinesSink({ file }) });
      await expect(reopened.record(entry("acme"))).rejects.toThrow(reason);
      expect(await readFile(file, "utf8")).toBe(content);
    }
  });

  it("continues a keyed chain only with its key", async () => {
    const file = join(dir, "keyed.jsonl");
    const chainKey = randomBytes(32);
    const first = createAuditLog({ sink: createJsonLinesSink({ file, chainKey }), chainKey });
    await first.record(entry("acme"));
    await first.close();
    const again = createAuditLog({ sink: createJsonLinesSink({ file, chainKey }), chainKey });
    expect((await again.record(entry("acme"))).seq).toBe(1);
    await again.close();
    expect(verifyAuditLog(await readFile(file, "utf8"), { key: chainKey })).toMatchObject({ ok: true, records: 2 });

    const keyless = createAuditLog({ sink: createJsonLinesSink({ file }) });
    await expect(keyless.ready()).rejects.toThrow(/line 1: the record is keyed/);
  });

  it("writes to a stream (stdout by default) and surfaces a failing stream", async () => {
    const stream = new PassThrough();
    let out = "";
    stream.on("data", (chunk: Buffer) => (out += chunk.toString()));
    const log = createAuditLog({ sink: createJsonLinesSink({ stream }) });
    await log.record(entry("acme"));
    await log.record(entry("acme"));
    expect(verifyAuditLog(out)).toMatchObject({ ok: true, records: 2 });

    const broken = new PassThrough();
    broken.destroy();
    const failing = createAuditLog({ sink: createJsonLinesSink({ stream: broken }) });
    await expect(failing.record(entry("acme"))).rejects.toMatchObject({ code: "ERR_AUDIT_WRITE" });
  });

  it("refuses an empty file option", () => {
    expect(() => createJsonLinesSink({ file: " " })).toThrow(/options\.file/);
  });
});
