/**
 * The audit command and offboard's audit destination on a real Postgres (the
 * sink's table, read and written as the application role under row-level
 * security): the offboarding record lands as the tenant's last record,
 * `audit export --database-env` writes that tenant's trail and verifies it,
 * and `audit verify --database-env` still passes.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAuditCli } from "../../src/audit-cli/run-audit-cli.ts";
import { createAuditLog } from "../../src/audit/audit-log.ts";
import { digestArguments } from "../../src/audit/audit-record.ts";
import { openAuditLog } from "../../src/cli-kit/audit-destination.ts";
import { recordOffboarding } from "../../src/offboard/offboarding-record.ts";
import { applyAuditMigration, createPostgresAuditSink } from "../../src/pg/audit-sink.ts";
import { startPostgres, type TestPostgres } from "../support/postgres.ts";
import { textSink } from "../support/text-sink.ts";

let postgres: TestPostgres;
let appUrl: string;
const env = () => ({ AUDIT_DATABASE_URL: appUrl });

async function audit(...args: string[]) {
  const stdout = textSink();
  const stderr = textSink();
  const code = await runAuditCli(args, env(), { stdout: stdout.stream, stderr: stderr.stream });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

beforeAll(async () => {
  postgres = await startPostgres();
  const db = await postgres.createDatabase("audit_cli");
  const owner = new pg.Client({ connectionString: db.url });
  await owner.connect();
  appUrl = await postgres.createLoginRole("audit_cli_app", db.name);
  await applyAuditMigration(owner, { appRole: "audit_cli_app" });
  await owner.end();
  const pool = new pg.Pool({ connectionString: appUrl, max: 2 });
  pool.on("error", () => {}); // an idle client told to go at shutdown is no failure
  const log = createAuditLog({ sink: createPostgresAuditSink({ pool }) });
  for (const tenant of ["acme.eu", "globex", "acme.eu"]) {
    await log.record({
      time: new Date().toISOString(), tenant_id: tenant, user_id: "u", thread_id: null, run_id: null, tool: "search_docs",
      tool_call_id: null, decision: "allowed", reason: null, duration_ms: 1, args_sha256: digestArguments({ tenant }),
    });
  }
  await log.close();
  await pool.end();
}, 180_000);

afterAll(async () => {
  await postgres?.stop();
});

describe("audit on the Postgres sink's table", () => {
  it("offboard's destination appends the offboarding as the tenant's last record; export and verify read it back", async () => {
    const { log, close } = await openAuditLog({ databaseUrl: appUrl, describe: "the Postgres audit table", key: undefined });
    await log.ready();
    const record = await recordOffboarding(log, {
      phase: "finished",
      tenant: "acme.eu",
      subject: "alice",
      url: "https://agents.example.com",
      startedAt: new Date().toISOString(),
      deleted: { crons: 1, runs: 1, threads: 4, assistants: 2, store: 6 },
      alreadyGone: { crons: 0, runs: 0, threads: 0, assistants: 0, store: 0 },
      manifestSha256: "a".repeat(64),
      settleSeconds: 10,
    });
    await close();
    expect(record).toMatchObject({ v: 3, kind: "offboarding", seq: 2, tenant_id: "acme.eu", user_id: "alice" });

    const exported = await audit("export", "--tenant", "acme.eu", "--database-env", "AUDIT_DATABASE_URL");
    expect(exported.code, exported.stderr).toBe(0);
    const lines = exported.stdout.trim().split("\n").map((line) => JSON.parse(line) as { seq: number; kind?: string; hash: string });
    expect(lines.map((l) => l.seq)).toEqual([0, 1, 2]);
    expect(lines.at(-1)).toMatchObject({ kind: "offboarding", hash: record.hash });
    expect(exported.stderr).toMatch(/OK: the chain of tenant "acme\.eu" is intact: 3 record\(s\), head 2 [0-9a-f]{64}/);

    expect(await audit("verify", "--database-env", "AUDIT_DATABASE_URL", "--tenant", "acme.eu")).toMatchObject({ code: 0, stdout: expect.stringMatching(/OK: 3 record\(s\)/) });
    // Row-level security: globex's export holds globex's one record only.
    const globex = await audit("export", "--tenant", "globex", "--database-env", "AUDIT_DATABASE_URL");
    expect(globex.stdout.trim().split("\n")).toHaveLength(1);
  });

  it("an unreachable database is an error in words (exit 2), never a crash", async () => {
    const result = await runAuditCli(["export", "--tenant", "acme.eu", "--database-env", "BAD_URL"], { BAD_URL: "postgres://nobody@127.0.0.1:1/none" }, { stdout: textSink().stream, stderr: textSink().stream });
    expect(result).toBe(2);
  });
});
