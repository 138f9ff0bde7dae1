import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digestArguments } from "../../src/audit/audit-record.ts";
import { createAuditLog } from "../../src/audit/audit-log.ts";
import { createJsonLinesSink } from "../../src/audit/json-lines-sink.ts";
import { runAuditCli } from "../../src/audit-cli/run-audit-cli.ts";
import { auditCli } from "../support/audit-cli.ts";
import { textSink } from "../support/text-sink.ts";

/** Run `npm run audit -- ...args` (the same command line, without npm's banner). */
const audit = (...args: string[]) => auditCli({}, ...args);

/** The same command in this process (faster; the child-process tests above prove the command line). */
async function inProcess(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = textSink();
  const stderr = textSink();
  const code = await runAuditCli(args, env, { stdout: stdout.stream, stderr: stderr.stream });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

let dir: string;
let file: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "audit-cli-"));
  file = join(dir, "audit.jsonl");
  const log = createAuditLog({ sink: createJsonLinesSink({ file }) });
  const times = ["2026-01-01T00:00:00.000Z", "2026-02-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z"];
  for (const [i, time] of times.entries()) {
    for (const tenant of ["acme", "globex"]) {
      await log.record({
        time, tenant_id: tenant, user_id: `user-${i}`, thread_id: "t", run_id: "r", tool: "search_docs", tool_call_id: `c${i}`,
        decision: "allowed", reason: null, duration_ms: 1, args_sha256: digestArguments({ i }),
      });
    }
  }
  await log.close();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the audit command (npm run audit, npx langgraph-tenant-auth audit)", () => {
  it("verify: accepts an intact log and exits 0", async () => {
    const result = await audit("verify", file);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/OK: 6 record\(s\), 2 tenant chain\(s\)/);
  });

  it("verify: names the first broken record and exits 1", async () => {
    const lines = (await readFile(file, "utf8")).split("\n");
    const tampered = join(dir, "tampered.jsonl");
    lines[2] = lines[2]!.replace('"user_id":"user-1"', '"user_id":"someone-else"');
    await writeFile(tampered, lines.join("\n"));
    const result = await audit("verify", tampered);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/BROKEN at line 3 \(tenant "acme", seq 1\): .*edited/);
  });

  it("verify: a missing file or argument is a usage error (exit 2)", async () => {
    expect((await audit("verify")).code).toBe(2);
    const missing = await audit("verify", join(dir, "nope.jsonl"));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/ENOENT/);
  });

  it("verify --key-env: checks a keyed chain with the key from the environment", async () => {
    const keyed = join(dir, "keyed.jsonl");
    const chainKey = "s".repeat(40);
    const log = createAuditLog({ sink: createJsonLinesSink({ file: keyed, chainKey }), chainKey });
    await log.record({
      time: new Date().toISOString(), tenant_id: "acme", user_id: "u", thread_id: null, run_id: null, tool: "refund",
      tool_call_id: null, decision: "refused", reason: "no", duration_ms: 0, args_sha256: digestArguments({}),
    });
    await log.close();
    const ok = await auditCli({ TEST_CHAIN_KEY: chainKey }, "verify", keyed, "--key-env", "TEST_CHAIN_KEY");
    expect(ok).toMatchObject({ code: 0, stdout: expect.stringMatching(/OK: 1 record/) });
    expect((await audit("verify", keyed, "--key-env", "UNSET_CHAIN_KEY_VARIABLE")).code).toBe(2);
  });

  it("head: prints each tenant's head; verify --expect-head passes while the log reaches it and fails once it is cut off", async () => {
    const result = await audit("head", file);
    expect(result.code).toBe(0);
    const heads = result.stdout.trim().split("\n");
    expect(heads).toEqual([expect.stringMatching(/^acme 2 [0-9a-f]{64}$/), expect.stringMatching(/^globex 2 [0-9a-f]{64}$/)]);
    const saved = join(dir, "heads.txt");
    await writeFile(saved, result.stdout);
    expect(await audit("verify", file, "--expect-head", saved)).toMatchObject({ code: 0, stdout: expect.stringMatching(/reaches all 2 saved head/) });

    // The last record (globex seq 2) cut off: the chains still verify on their own, the saved head does not.
    const cut = join(dir, "cut.jsonl");
    await writeFile(cut, (await readFile(file, "utf8")).split("\n").slice(0, 5).join("\n") + "\n");
    expect((await audit("verify", cut)).code).toBe(0);
    const truncated = await audit("verify", cut, "--expect-head", saved);
    expect(truncated.code).toBe(1);
    expect(truncated.stderr).toMatch(/BROKEN at line 6 \(tenant "globex", seq 2\): a head at seq 2 .* log ends at seq 1: records were cut off the end/);
    // A single head given as a value.
    expect((await audit("verify", cut, "--expect-head", heads[0]!)).code).toBe(0);
    expect((await audit("verify", cut, "--expect-head", heads[1]!)).code).toBe(1);
    expect((await audit("verify", cut, "--expect-head", join(dir, "no-such-heads.txt"))).code).toBe(2);
  });

  it("head: refuses a log that does not verify, and reads the key from AUDIT_CHAIN_KEY when set", async () => {
    const torn = join(dir, "torn-head.jsonl");
    await writeFile(torn, (await readFile(file, "utf8")).slice(0, -10));
    expect(await audit("head", torn)).toMatchObject({ code: 1, stderr: expect.stringMatching(/torn last line[\s\S]*repair: .*npx langgraph-tenant-auth audit repair/) });

    const keyed = join(dir, "keyed-head.jsonl");
    const chainKey = "h".repeat(40);
    const log = createAuditLog({ sink: createJsonLinesSink({ file: keyed, chainKey }), chainKey });
    const record = await log.record({
      time: new Date().toISOString(), tenant_id: "acme", user_id: "u", thread_id: null, run_id: null, tool: "refund",
      tool_call_id: null, decision: "refused", reason: "no", duration_ms: 0, args_sha256: digestArguments({}),
    });
    await log.close();
    expect(await auditCli({ AUDIT_CHAIN_KEY: chainKey }, "head", keyed)).toMatchObject({ code: 0, stdout: `acme 0 ${record.hash}\n` });
    expect(await auditCli({ AUDIT_CHAIN_KEY: "" }, "head", keyed)).toMatchObject({ code: 1, stderr: expect.stringMatching(/verify it with the chain key/) });
  });

  it("query: prints one tenant's records since a date", async () => {
    const result = await audit("query", "--tenant", "acme", "--since", "2026-02-01T00:00:00Z", "--file", file);
    expect(result.code).toBe(0);
    const records = result.stdout.trim().split("\n").map((l) => JSON.parse(l) as { tenant_id: string; user_id: string });
    expect(records.map((r) => [r.tenant_id, r.user_id])).toEqual([["acme", "user-1"], ["acme", "user-2"]]);
  });

  it("query: refuses a missing tenant or a bad date", async () => {
    expect((await audit("query", "--file", file)).code).toBe(2);
    expect((await audit("query", "--tenant", "acme", "--since", "yesterday", "--file", file)).code).toBe(2);
  });

  it("export: writes one tenant's records, verifies its chain, and names the log's own line of a broken record", async () => {
    const out = join(dir, "acme-trail.jsonl");
    const done = await inProcess({}, "export", "--tenant", "acme", "--file", file, "--out", out);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stderr).toMatch(/exported 3 record\(s\) of tenant "acme"[\s\S]*OK: the chain of tenant "acme" is intact: 3 record\(s\), head 2 [0-9a-f]{64}/);
    const lines = (await readFile(file, "utf8")).split("\n").filter(Boolean);
    expect(await readFile(out, "utf8")).toBe(`${lines.filter((l) => JSON.parse(l).tenant_id === "acme").join("\n")}\n`);
    // Never overwrites: a second export to the same file is refused before anything is read.
    expect(await inProcess({}, "export", "--tenant", "acme", "--file", file, "--out", out)).toMatchObject({ code: 2, stderr: expect.stringMatching(/EEXIST/) });

    // acme's second record edited (line 3 of the log): exit 1, at the log's line 3; globex's export is still whole.
    const tampered = join(dir, "export-tampered.jsonl");
    const edited = [...lines];
    edited[2] = edited[2]!.replace('"user_id":"user-1"', '"user_id":"someone-else"');
    await writeFile(tampered, `${edited.join("\n")}\n`);
    const broken = await inProcess({}, "export", "--tenant", "acme", "--file", tampered);
    expect(broken.code).toBe(1);
    expect(broken.stdout.split("\n").filter(Boolean)).toHaveLength(3);
    expect(broken.stderr).toMatch(/BROKEN at line 3 \(tenant "acme", seq 1\)/);
    expect((await inProcess({}, "export", "--tenant", "globex", "--file", tampered)).code).toBe(0);
  });

  it("export: a line that is not JSON may be the tenant's, so the trail is not called whole; reads AUDIT_LOG_FILE by default", async () => {
    const torn = join(dir, "export-torn.jsonl");
    await writeFile(torn, `${(await readFile(file, "utf8")).trimEnd()}\n{"v":2,"seq":3,"tena\n`);
    const result = await inProcess({ AUDIT_LOG_FILE: torn }, "export", "--tenant", "globex");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/UNREADABLE line 7 .*not JSON/);
    expect(result.stdout.split("\n").filter(Boolean)).toHaveLength(3);
    expect(await inProcess({}, "export", "--file", file)).toMatchObject({ code: 2, stderr: expect.stringMatching(/export needs --tenant/) });
    expect((await inProcess({ AUDIT_LOG_FILE: join(dir, "absent.jsonl") }, "export", "--tenant", "acme")).code).toBe(2);
  });

  it("export and query never read standard input silently: without --file or AUDIT_LOG_FILE a usage error, with --file - standard input", async () => {
    const content = await readFile(file, "utf8");
    // A standard input that would answer: without "-" it must not be read.
    const withStdin = async (env: NodeJS.ProcessEnv, ...args: string[]) => {
      const stdout = textSink();
      const stderr = textSink();
      const stdin = Readable.from([content]);
      const code = await runAuditCli(args, env, { stdout: stdout.stream, stderr: stderr.stream, stdin });
      return { code, stdout: stdout.text(), stderr: stderr.text(), read: stdin.readableEnded };
    };
    for (const command of [["export", "--tenant", "acme"], ["query", "--tenant", "acme"]]) {
      const refused = await withStdin({ AUDIT_LOG_FILE: "" }, ...command);
      expect(refused, command[0]).toMatchObject({ code: 2, read: false, stdout: "" });
      expect(refused.stderr).toContain(`audit: ${command[0]} needs the log: --file <file> (or AUDIT_LOG_FILE), or --file - to read standard input`);
      const piped = await withStdin({}, ...command, "--file", "-");
      expect(piped.code, piped.stderr).toBe(0);
      expect(piped.stdout.trim().split("\n")).toHaveLength(3);
    }
  });

  it("export and verify: an event record (an offboarding) is on the tenant's chain as its last record", async () => {
    const events = join(dir, "events.jsonl");
    const log = createAuditLog({ sink: createJsonLinesSink({ file: events }) });
    await log.record({
      time: "2026-01-01T00:00:00.000Z", tenant_id: "acme", user_id: "u", thread_id: "t", run_id: "r", tool: "search_docs",
      tool_call_id: "c", decision: "allowed", reason: null, duration_ms: 1, args_sha256: digestArguments({}),
    });
    await log.recordEvent({ kind: "offboarding", time: "2026-01-02T00:00:00.000Z", tenant_id: "acme", user_id: "alice", data: { deleted: { threads: 2 } } });
    await log.close();
    expect(await inProcess({}, "verify", events)).toMatchObject({ code: 0, stdout: expect.stringMatching(/OK: 2 record\(s\), 1 tenant chain/) });
    const exported = await inProcess({}, "export", "--tenant", "acme", "--file", events);
    expect(exported.code).toBe(0);
    const last = JSON.parse(exported.stdout.trim().split("\n").at(-1)!) as { v: number; kind: string; seq: number; user_id: string };
    expect(last).toMatchObject({ v: 3, kind: "offboarding", seq: 1, user_id: "alice" });
  });

  it("--help lists every subcommand; no subcommand or an unknown one is a usage error", async () => {
    const help = await inProcess({}, "--help");
    expect(help.code).toBe(0);
    for (const sub of ["verify", "head", "repair", "query", "export"]) expect(help.stdout).toContain(`audit ${sub}`);
    expect((await inProcess({})).code).toBe(2);
    const unknown = await inProcess({}, "vacuum");
    expect(unknown).toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown audit command: give verify, head, repair, query or export/) });
    expect(unknown.stderr).not.toContain("vacuum");
    // The Postgres table needs its variable, and the package's optional pg (loaded only then).
    expect(await inProcess({}, "verify", "--database-env", "NO_SUCH_DATABASE_VARIABLE", "--tenant", "acme")).toMatchObject({ code: 2, stderr: expect.stringMatching(/NO_SUCH_DATABASE_VARIABLE is not set/) });
  });
});
