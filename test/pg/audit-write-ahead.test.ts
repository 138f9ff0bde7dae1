/**
 * Write-ahead audit through a real crash with the Postgres sink: a child
 * process runs the real tool guard on the application role, its tool
 * blocks, and the test kills it with SIGKILL once the "started" row is
 * committed.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digestArguments } from "../../src/audit/audit-record.ts";
import { createAuditLog } from "../../src/audit/audit-log.ts";
import { createPostgresAuditSink, readTenantAuditRecords, applyAuditMigration, verifyTenantAuditChain } from "../../src/pg/audit-sink.ts";
import { startPostgres, type TestPostgres } from "../support/postgres.ts";
import { spawnWriter, waitFor } from "../audit/fixtures/spawn-writer.ts";
import { auditCli } from "../support/audit-cli.ts";

let postgres: TestPostgres;
let appUrl: string;
let pool: pg.Pool;

beforeAll(async () => {
  postgres = await startPostgres();
  const db = await postgres.createDatabase("audit_wal");
  const owner = new pg.Client({ connectionString: db.url });
  await owner.connect();
  appUrl = await postgres.createLoginRole("audit_wal_app", db.name);
  await applyAuditMigration(owner, { appRole: "audit_wal_app" });
  await owner.end();
  pool = new pg.Pool({ connectionString: appUrl, max: 2 });
  // The server's shutdown notice to an idle connection (afterAll) is no test failure.
  pool.on("connect", (client) => client.on("error", () => {}));
  pool.on("error", () => {});
});

afterAll(async () => {
  await pool?.end();
  await postgres?.stop();
});

describe("write-ahead audit (Postgres sink)", () => {
  it("keeps the started row of a process killed while its tool runs; verify names the call; the next writer continues the chain", async () => {
    const writer = spawnWriter(["block-pg", "acme"], { AUDIT_DATABASE_URL: appUrl });
    const started = await waitFor(async () => (await readTenantAuditRecords(pool, "acme")).find((r) => r.decision === "started"), {
      giveUp: writer.exited,
      describe: writer.output,
    });
    writer.child.kill("SIGKILL");
    expect(await writer.exited).toBe("SIGKILL");

    expect(started).toMatchObject({ v: 2, seq: 0, tenant_id: "acme", user_id: "kim", tool: "wait_for_ever", run_id: "run-kill" });
    const report = await verifyTenantAuditChain(pool, "acme");
    expect(report).toMatchObject({ ok: true, records: 1 });
    expect(report.unfinished).toEqual([expect.objectContaining({ tenant_id: "acme", call_id: started.call_id, tool: "wait_for_ever", seq: 0, thread_id: "thread-kill" })]);

    const log = createAuditLog({ sink: createPostgresAuditSink({ pool }) });
    const next = await log.record({
      time: new Date().toISOString(), tenant_id: "acme", user_id: "u2", thread_id: null, run_id: null, tool: "search_docs",
      tool_call_id: null, decision: "refused", reason: "no", duration_ms: 0, args_sha256: digestArguments({}), call_id: "after-crash",
    });
    expect(next).toMatchObject({ seq: 1, prev_hash: started.hash });
    const after = await verifyTenantAuditChain(pool, "acme");
    expect(after).toMatchObject({ ok: true, records: 2, unfinished: [expect.objectContaining({ call_id: started.call_id })] });

    // The command line reads the table the same way, as the application role.
    const env = { TEST_AUDIT_DATABASE_URL: appUrl };
    const cli = await auditCli(env, "verify", "--database-env", "TEST_AUDIT_DATABASE_URL", "--tenant", "acme");
    expect(cli).toMatchObject({ code: 0, stdout: expect.stringMatching(/UNFINISHED: 1 call\(s\)[\s\S]*OK: 2 record\(s\), 1 tenant chain/) });
    expect(cli.stdout).toContain(`call ${started.call_id}: "wait_for_ever"`);
    const head = await auditCli(env, "head", "--database-env", "TEST_AUDIT_DATABASE_URL", "--tenant", "acme");
    expect(head).toMatchObject({ code: 0, stdout: `acme 1 ${next.hash}\n` });
    const ahead = `acme 2 ${next.hash}`;
    const missing = await auditCli(env, "verify", "--database-env", "TEST_AUDIT_DATABASE_URL", "--tenant", "acme", "--expect-head", ahead);
    expect(missing).toMatchObject({ code: 1, stderr: expect.stringMatching(/records were cut off the end/) });
    expect((await auditCli(env, "verify", "--database-env", "TEST_AUDIT_DATABASE_URL")).code).toBe(2);
  });
});
