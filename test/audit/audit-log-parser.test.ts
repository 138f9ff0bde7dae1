/**
 * One definition of a well-formed log: the sink, `verifyAuditLog`, the file
 * reader and `npm run audit -- verify` give the same answer for every tail
 * defect, and `npx langgraph-tenant-auth audit repair` fixes each one.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuditLogParser, verifyAuditLogFile } from "../../src/audit/audit-log-parser.ts";
import { digestArguments, sealAuditRecord, type AuditEntry, type AuditRecord } from "../../src/audit/audit-record.ts";
import { createAuditLog } from "../../src/audit/audit-log.ts";
import { canonicalJson } from "../../src/audit/canonical-json.ts";
import { createJsonLinesSink } from "../../src/audit/json-lines-sink.ts";
import { parseAuditLine, verifyAuditLog } from "../../src/audit/verify-audit-chain.ts";
import { auditCli } from "../support/audit-cli.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "audit-parser-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const entry = (tenant: string, extra: Partial<AuditEntry> = {}): AuditEntry => ({
  time: "2026-11-30T08:00:00.000Z", tenant_id: tenant, user_id: "u1", thread_id: "t1", run_id: "r1", tool: "refund",
  tool_call_id: "c1", decision: "allowed", reason: null, duration_ms: 0, args_sha256: digestArguments({}), ...extra,
});

function chain(entries: AuditEntry[]): AuditRecord[] {
  const heads = new Map<string, AuditRecord>();
  return entries.map((e) => {
    const record = sealAuditRecord(e, heads.get(e.tenant_id));
    heads.set(e.tenant_id, record);
    return record;
  });
}
const text = (records: AuditRecord[]) => records.map((r) => `${canonicalJson(r)}\n`).join("");

const intact = text(chain([entry("acme"), entry("globex"), entry("acme")]));
const DEFECTS = {
  "missing-newline": { content: intact.slice(0, -1), line: 3, repaired: intact },
  "blank-line": { content: `${intact}\n`, line: 4, repaired: intact },
  "two blank lines": { content: `${intact}\n\n`, line: 4, repaired: intact },
  "torn-line": { content: `${intact}{"args_sha256":"e3b0c4`, line: 4, repaired: intact },
  "nul-padding": { content: `${intact}${"\u0000".repeat(512)}`, line: 4, repaired: intact },
  "torn line, then NUL padding": { content: `${intact}{"v":2,"se${"\u0000".repeat(100)}`, line: 4, repaired: intact },
} as const;

describe("one parser for every reader of a log", () => {
  it.each(Object.entries(DEFECTS))("%s: the same verdict from verifyAuditLog, the file reader, the sink and the CLI; repair fixes it", async (name, { content, line, repaired }) => {
    const file = join(dir, `${name.replaceAll(" ", "-")}.jsonl`);
    await writeFile(file, content);
    const inMemory = verifyAuditLog(content);
    const defect = name.includes("NUL") ? "nul-padding" : name.includes("blank") ? "blank-line" : name;
    expect(inMemory).toMatchObject({ ok: false, problem: { line, defect, repair: expect.stringContaining("npx langgraph-tenant-auth audit repair") } });
    expect(await verifyAuditLogFile(file)).toEqual(inMemory);

    const sink = createAuditLog({ sink: createJsonLinesSink({ file }) });
    await expect(sink.record(entry("acme"))).rejects.toThrow(`broken at line ${line}: ${inMemory.problem!.reason}`);
    await sink.close();
    expect(await readFile(file, "utf8")).toBe(content);

    const cli = await auditCli({}, "verify", file);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain(`BROKEN at line ${line}: ${inMemory.problem!.reason}`);
    expect(cli.stderr).toContain(`repair: ${inMemory.problem!.repair!.replace("<file>", file)}`);

    const fixed = await auditCli({}, "repair", file);
    expect(fixed).toMatchObject({ code: 0, stdout: expect.stringContaining(`${file}: ${defect}: `) });
    expect(await readFile(file, "utf8")).toBe(repaired);
    expect(verifyAuditLog(repaired)).toMatchObject({ ok: true, records: 3 });
  });

  it("accepts the well-formed log everywhere, and reads it the same whatever the chunks", async () => {
    const file = join(dir, "intact.jsonl");
    await writeFile(file, intact);
    const report = verifyAuditLog(intact);
    expect(report).toMatchObject({ ok: true, records: 3, validBytes: Buffer.byteLength(intact) });
    expect(await verifyAuditLogFile(file)).toEqual(report);
    expect(verifyAuditLog("")).toMatchObject({ ok: true, records: 0 });
    const samples = [intact, ...Object.values(DEFECTS).map((d) => d.content), `${intact.slice(0, 50)}\n${intact}`];
    fc.assert(
      fc.property(fc.constantFrom(...samples), fc.array(fc.nat(), { maxLength: 6 }), (sample, cuts) => {
        const parser = createAuditLogParser();
        let from = 0;
        for (const cut of [...cuts.map((c) => c % (sample.length + 1))].sort((a, b) => a - b)) {
          parser.push(sample.slice(from, Math.max(from, cut)));
          from = Math.max(from, cut);
        }
        parser.push(sample.slice(from));
        expect(parser.end()).toEqual(verifyAuditLog(sample));
      }),
    );
  });

  it("never repairs a chain broken inside the log", async () => {
    const file = join(dir, "broken-inside.jsonl");
    const [, b, c] = intact.split("\n"); // acme's first record deleted
    await writeFile(file, `${b}\n${c}\n`);
    const result = await auditCli({}, "repair", file);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/broken at line 2, not only at its end .*it is evidence/);
    expect(await readFile(file, "utf8")).toBe(`${b}\n${c}\n`);
  });
});

describe("write-ahead calls in the chain", () => {
  const call = (decision: AuditEntry["decision"], call_id: string, tenant = "acme") => entry(tenant, { decision, call_id });

  it("links a call's outcome to its start and lists calls that never finished, without failing the chain", () => {
    const records = chain([call("started", "k1"), call("started", "k2"), call("finished", "k1"), call("refused", "k3"), call("started", "k1", "globex")]);
    expect(records.map((r) => r.v)).toEqual([2, 2, 2, 2, 2]);
    const report = verifyAuditLog(text(records));
    expect(report).toMatchObject({ ok: true, records: 5 });
    expect(report.unfinished.map((u) => [u.tenant_id, u.call_id, u.line, u.seq])).toEqual([["acme", "k2", 2, 1], ["globex", "k1", 5, 0]]);
  });

  it("refuses an outcome that never started, a second start, and a started call that is then refused", () => {
    expect(verifyAuditLog(text(chain([call("finished", "k1")]))).problem).toMatchObject({ line: 1, reason: expect.stringMatching(/never started/) });
    expect(verifyAuditLog(text(chain([call("started", "k1"), call("started", "k1")]))).problem).toMatchObject({ line: 2, reason: expect.stringMatching(/started twice/) });
    expect(verifyAuditLog(text(chain([call("started", "k1"), call("refused", "k1")]))).problem).toMatchObject({ line: 2, reason: expect.stringMatching(/then was refused/) });
  });

  it("keeps each format's vocabulary apart, and reads format-1 logs as before", () => {
    const [started] = chain([call("started", "k1")]);
    expect(() => parseAuditLine(JSON.stringify({ ...started, decision: "allowed" }))).toThrow(/format 2 says "finished"/);
    const { call_id: _, ...noCall } = started!;
    expect(() => parseAuditLine(JSON.stringify(noCall))).toThrow(/needs a call_id/);
    expect(() => parseAuditLine(JSON.stringify({ ...noCall, v: 1 }))).toThrow(/format 1 has no "started"/);
    expect(() => parseAuditLine(JSON.stringify({ ...started, v: 1, decision: "allowed" }))).toThrow(/format-1 record has no call_id/);
    const old = chain([entry("acme"), entry("acme", { decision: "failed", reason: "the tool threw Error" })]);
    expect(old.map((r) => r.v)).toEqual([1, 1]);
    expect(verifyAuditLog(text(old))).toMatchObject({ ok: true, records: 2, unfinished: [] });
  });
});

describe("saved heads", () => {
  const records = chain([entry("acme"), entry("globex"), entry("acme"), entry("acme")]);
  const heads = (tenant: string, at: AuditRecord) => [[tenant, { seq: at.seq, hash: at.hash }]] as const;

  it("passes while the log reaches a saved head, and fails when it was cut off or rewritten", () => {
    expect(verifyAuditLog(text(records), { expectHeads: heads("acme", records[2]!) })).toMatchObject({ ok: true });
    expect(verifyAuditLog(text(records.slice(0, 2)), { expectHeads: heads("acme", records[2]!) }).problem).toMatchObject({
      line: 3, tenant_id: "acme", seq: 1, reason: expect.stringMatching(/log ends at seq 0: records were cut off the end/),
    });
    expect(verifyAuditLog(text(records.slice(0, 1)), { expectHeads: heads("globex", records[1]!) }).problem?.reason).toMatch(/with no record of it/);
    // Rewritten from seq 1 on with every hash recomputed: the chain verifies, the saved head does not.
    const rewritten = chain([entry("acme"), entry("globex"), entry("acme", { tool: "search_docs" }), entry("acme")]);
    expect(verifyAuditLog(text(rewritten))).toMatchObject({ ok: true });
    expect(verifyAuditLog(text(rewritten), { expectHeads: heads("acme", records[2]!) }).problem).toMatchObject({
      line: 3, seq: 1, reason: expect.stringMatching(/not the one whose head was saved .*rewritten/),
    });
  });
});
