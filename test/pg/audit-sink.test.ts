/**
 * The Postgres audit sink on a real Postgres: the application role may only
 * insert and read its own tenant's records; chains stay intact with writers
 * in two pools (two processes, as far as Postgres can tell).
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NO_TENANT, digestArguments, type AuditEntry } from "../../src/audit/audit-record.ts";
import { AuditWriteError, createAuditLog } from "../../src/audit/audit-log.ts";
import { InvalidTenantIdError } from "../../src/errors.ts";
import {
  applyAuditMigration, createPostgresAuditSink, readTenantAuditRecords, verifyTenantAuditChain,
} from "../../src/pg/audit-sink.ts";
import { startPostgres, type TestPostgres } from "../support/postgres.ts";

let postgres: TestPostgres;
let owner: pg.Client;
let appUrl: string;
const pools: pg.Pool[] = [];
const appPool = () => {
  const pool = new pg.Pool({ connectionString: appUrl, max: 4 });
  // pool.end() can resolve before a socket is closed; the server's shutdown
  // notice to such a connection is no test failure. An idle client's error
  // is re-emitted on the pool (pg-pool's idle listener), so both listen.
  pool.on("connect", (client) => client.on("error", () => {}));
  pool.on("error", () => {});
  pools.push(pool);
  return pool;
};

beforeAll(async () => {
  postgres = await startPostgres();
  const db = await postgres.createDatabase("audit");
  owner = new pg.Client({ connectionString: db.url });
  await owner.connect();
  appUrl = await postgres.createLoginRole("audit_app", db.name);
  await applyAuditMigration(owner, { appRole: "audit_app" });
  await applyAuditMigration(owner, { appRole: "audit_app" }); // idempotent
});

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  await owner?.end();
  await postgres?.stop();
});

const entry = (tenant: string, i: number, time = new Date().toISOString()): AuditEntry => ({
  time, tenant_id: tenant, user_id: `u${i}`, thread_id: "t1", run_id: "r1", tool: "search_docs", tool_call_id: `c${i}`,
  decision: "allowed", reason: null, duration_ms: 0.25, args_sha256: digestArguments({ i }),
});

/** Run `sql` as the application role with a tenant bound, in a transaction that is rolled back. */
async function asApp<T>(tenant: string | null, sql: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: appUrl });
  await client.connect();
  try {
    await client.query("BEGIN");
    if (tenant) await client.query("SELECT set_config('app.current_tenant', $1, true)", [tenant]);
    return await client.query(sql, values);
  } finally {
    await client.query("ROLLBACK").catch(() => {});
    await client.end();
  }
}

describe("createPostgresAuditSink", () => {
  it("keeps every tenant's chain intact with overlapping writers in two pools", async () => {
    const a = createAuditLog({ sink: createPostgresAuditSink({ pool: appPool() }) });
    const b = createAuditLog({ sink: createPostgresAuditSink({ pool: appPool() }) });
    await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).record(entry(i % 4 < 2 ? "acme" : "globex", i))));
    const pool = appPool();
    for (const tenant of ["acme", "globex"]) {
      const report = await verifyTenantAuditChain(pool, tenant);
      expect(report).toMatchObject({ ok: true, records: 20 });
      expect(report.heads.get(tenant)?.seq).toBe(19);
    }
  });

  it("shows a tenant only its own records, and nothing with no tenant bound", async () => {
    const records = await readTenantAuditRecords(appPool(), "acme");
    expect(records.length).toBeGreaterThanOrEqual(20);
    expect(new Set(records.map((r) => r.tenant_id))).toEqual(new Set(["acme"]));
    const seen = await asApp("acme", "SELECT DISTINCT tenant_id FROM tool_audit_records");
    expect(seen.rows).toEqual([{ tenant_id: "acme" }]);
    expect((await asApp(null, "SELECT count(*)::int AS n FROM tool_audit_records")).rows).toEqual([{ n: 0 }]);
  });

  it("lets the application role insert only into its bound tenant, and never change or delete", async () => {
    await expect(
      asApp("acme", "INSERT INTO tool_audit_records (tenant_id, seq, time, prev_hash, hash, record) VALUES ('globex', 999, now(), $1, $1, '{}')", ["0".repeat(64)]),
    ).rejects.toThrow(/row-level security/);
    await expect(asApp("acme", "UPDATE tool_audit_records SET record = '{}'")).rejects.toThrow(/permission denied/);
    await expect(asApp("acme", "DELETE FROM tool_audit_records")).rejects.toThrow(/permission denied/);
    await expect(asApp("acme", "TRUNCATE tool_audit_records")).rejects.toThrow(/permission denied/);
  });

  it("refuses changes even from the owner (append-only triggers)", async () => {
    await owner.query("BEGIN");
    await owner.query("SELECT set_config('app.current_tenant', 'acme', true)");
    await expect(owner.query("UPDATE tool_audit_records SET time = now()")).rejects.toThrow(/append-only \(UPDATE refused\)/);
    await owner.query("ROLLBACK");
  });

  it("finds a record edited behind the triggers' back", async () => {
    await owner.query("BEGIN");
    await owner.query("ALTER TABLE tool_audit_records DISABLE TRIGGER tool_audit_records_no_change");
    await owner.query(
      "UPDATE tool_audit_records SET record = replace(record, '\"decision\":\"allowed\"', '\"decision\":\"refused\"') WHERE tenant_id = 'globex' AND seq = 5",
    );
    const pool = appPool();
    // Verified inside the same transaction would need the owner's session; commit, check, then restore.
    await owner.query("ALTER TABLE tool_audit_records ENABLE TRIGGER tool_audit_records_no_change");
    await owner.query("COMMIT");
    const report = await verifyTenantAuditChain(pool, "globex");
    expect(report.ok).toBe(false);
    expect(report.problem).toMatchObject({ line: 6, tenant_id: "globex", seq: 5, reason: expect.stringMatching(/edited/) });
    expect((await verifyTenantAuditChain(pool, "acme")).ok).toBe(true);
  });

  it("filters by time and refuses an invalid tenant id", async () => {
    const pool = appPool();
    const log = createAuditLog({ sink: createPostgresAuditSink({ pool }) });
    await log.record(entry("initech", 1, "2026-01-01T00:00:00.000Z"));
    await log.record(entry("initech", 2, "2026-06-01T00:00:00.000Z"));
    const since = await readTenantAuditRecords(pool, "initech", { since: new Date("2026-03-01T00:00:00Z") });
    expect(since.map((r) => r.user_id)).toEqual(["u2"]);
    await expect(readTenantAuditRecords(pool, "a::b")).rejects.toThrow(InvalidTenantIdError);
  });

  it("answers a bad tenant with a coded 400 before any SQL, at write time too (not a TypeError, which would be a 500)", async () => {
    let checkouts = 0;
    const counting = { connect: () => ((checkouts += 1), appPool().connect()) };
    const sink = createPostgresAuditSink({ pool: counting });
    for (const tenant of ["a::b", "", "acme' --", "é"]) {
      for (const call of [
        () => sink.append(tenant, () => { throw new Error("never sealed"); }),
        () => readTenantAuditRecords(counting, tenant),
        () => verifyTenantAuditChain(counting, tenant),
      ]) {
        const error = await call().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidTenantIdError);
        expect(error).toMatchObject({ code: "ERR_TENANT_ID_INVALID", status: 400 });
      }
    }
    expect(checkouts).toBe(0);
  });

  it("refuses a sealed record of another tenant with a coded write error, and stores nothing", async () => {
    const pool = appPool();
    const sink = createPostgresAuditSink({ pool });
    const forged = await createAuditLog({ sink: { append: async (_t, seal) => seal(undefined) } }).record(entry("globex", 1));
    const before = (await readTenantAuditRecords(pool, "acme")).length;
    const error = await sink.append("acme", () => forged).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuditWriteError);
    expect(error).toMatchObject({ code: "ERR_AUDIT_WRITE", message: expect.stringMatching(/another tenant/) });
    expect((await readTenantAuditRecords(pool, "acme")).length).toBe(before);
  });

  it("refuses to store a record of a run without a user (it has no tenant to be bound to)", async () => {
    const log = createAuditLog({ sink: createPostgresAuditSink({ pool: appPool() }) });
    await expect(log.record(entry(NO_TENANT, 1))).rejects.toMatchObject({ code: "ERR_AUDIT_WRITE", message: expect.stringMatching(/no authenticated user/) });
  });

  it("sends the application role's name only as a bound value, never in SQL text", async () => {
    const sent: { text: string; values?: unknown[] }[] = [];
    const recording = {
      query: (text: string, values?: unknown[]) => {
        sent.push(values === undefined ? { text } : { text, values });
        return owner.query(text, values);
      },
    };
    await applyAuditMigration(recording, { appRole: "audit_app" });
    expect(sent.filter((q) => q.text.includes("audit_app"))).toEqual([]);
    expect(sent.filter((q) => q.values?.includes("audit_app")).map((q) => q.text)).toEqual([
      "SELECT rolsuper, rolbypassrls, rolname = current_user AS is_current FROM pg_roles WHERE rolname = $1",
      "SELECT set_config('tenant_auth.app_role', $1, true)",
    ]);
    const grants = await owner.query(
      "SELECT privilege_type FROM information_schema.role_table_grants WHERE grantee = 'audit_app' AND table_name = 'tool_audit_records' ORDER BY 1",
    );
    expect(grants.rows.map((r) => r.privilege_type)).toEqual(["INSERT", "SELECT"]);
    expect((await owner.query("SELECT current_setting('tenant_auth.app_role', true) AS r")).rows[0].r ?? "").toBe("");
  });

  it("refuses an application role that would skip RLS or own the table", async () => {
    await expect(applyAuditMigration(owner, { appRole: "postgres" })).rejects.toThrow(/superuser or has BYPASSRLS/);
    await expect(applyAuditMigration(owner, { appRole: 'x"; DROP TABLE tool_audit_records; --' })).rejects.toThrow(/must be a role name/);
    await expect(applyAuditMigration(owner, { appRole: "no_such_role" })).rejects.toThrow(/does not exist/);
    const app = new pg.Client({ connectionString: appUrl });
    await app.connect();
    await expect(applyAuditMigration(app, { appRole: "audit_app" })).rejects.toThrow(/not as options\.appRole/);
    await app.end();
  });

  it("surfaces a write the database refuses", async () => {
    const url = new URL(appUrl);
    url.password = "wrong";
    const pool = new pg.Pool({ connectionString: url.toString(), max: 1 });
    pool.on("connect", (client) => client.on("error", () => {}));
    pool.on("error", () => {});
    pools.push(pool);
    const log = createAuditLog({ sink: createPostgresAuditSink({ pool }) });
    await expect(log.ready()).rejects.toMatchObject({ code: "ERR_AUDIT_WRITE" });
    await expect(log.record(entry("acme", 1))).rejects.toMatchObject({ code: "ERR_AUDIT_WRITE", cause: expect.objectContaining({ message: expect.stringMatching(/password/) }) });
  });
});
