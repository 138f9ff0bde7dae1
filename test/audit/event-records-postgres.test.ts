/**
 * Event records (format 3) in the Postgres sink, on a real Postgres: the
 * sink stores the canonical record text, so events and tool calls share a
 * tenant's chain there too, and the table's readers verify them together.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digestArguments, hashAuditRecord, type AuditEntry, type AuditEventEntry } from "../../src/audit/audit-record.ts";
import { createAuditLog } from "../../src/audit/audit-log.ts";
import { canonicalJson } from "../../src/audit/canonical-json.ts";
import {
  applyAuditMigration, createPostgresAuditSink, readTenantAuditRecords, verifyTenantAuditChain,
} from "../../src/pg/audit-sink.ts";
import { startPostgres, type TestPostgres } from "../support/postgres.ts";

let postgres: TestPostgres;
let owner: pg.Client;
let pool: pg.Pool;

beforeAll(async () => {
  postgres = await startPostgres();
  const db = await postgres.createDatabase("audit_events");
  owner = new pg.Client({ connectionString: db.url });
  await owner.connect();
  const appUrl = await postgres.createLoginRole("audit_events_app", db.name);
  await applyAuditMigration(owner, { appRole: "audit_events_app" });
  pool = new pg.Pool({ connectionString: appUrl, max: 2 });
  pool.on("connect", (client) => client.on("error", () => {}));
});

afterAll(async () => {
  await pool?.end();
  await owner?.end();
  await postgres?.stop();
});

const call = (tenant: string, extra: Partial<AuditEntry> = {}): AuditEntry => ({
  time: new Date().toISOString(), tenant_id: tenant, user_id: "u1", thread_id: "t1", run_id: "r1", tool: "search_docs",
  tool_call_id: "c1", decision: "allowed", reason: null, duration_ms: 0.5, args_sha256: digestArguments({}), ...extra,
});
const offboarding = (tenant: string): AuditEventEntry => ({
  kind: "offboarding", time: new Date().toISOString(), tenant_id: tenant, user_id: "ops",
  data: { counts: { threads: 1 }, manifest_sha256: "c".repeat(64) },
});

describe("event records in the Postgres sink", () => {
  it("chains events with tool calls; readTenantAuditRecords and verifyTenantAuditChain accept them; a forged event is found", async () => {
    const chainKey = "p".repeat(32);
    const log = createAuditLog({ sink: createPostgresAuditSink({ pool }), chainKey });
    await log.record(call("acme", { call_id: "a1", decision: "started" }));
    await log.recordEvent({ kind: "decision", time: new Date().toISOString(), tenant_id: "acme", user_id: null, data: { reason_code: "invalid_token", count: 2 } });
    await log.record(call("acme", { call_id: "a1", decision: "finished" }));
    const last = await log.recordEvent(offboarding("acme"));
    await log.close();

    const records = await readTenantAuditRecords(pool, "acme");
    expect(records.map((r) => [r.v, r.seq])).toEqual([[2, 0], [3, 1], [2, 2], [3, 3]]);
    expect(records.at(-1)).toEqual(last);
    expect(await verifyTenantAuditChain(pool, "acme", { key: chainKey })).toMatchObject({ ok: true, records: 4, heads: new Map([["acme", { seq: 3, hash: last.hash }]]) });

    // The owner (the table's insert-only rules aside) plants a forged event after the last record: found by its key.
    const forged = { ...last, seq: 4, prev_hash: last.hash, user_id: "forger", hash_alg: undefined };
    const planted = { ...forged, hash: hashAuditRecord(forged) };
    await owner.query("BEGIN");
    try {
      await owner.query("SELECT set_config('app.current_tenant', $1, true)", ["acme"]);
      await owner.query(
        "INSERT INTO tool_audit_records (tenant_id, seq, time, prev_hash, hash, record) VALUES ($1, $2, $3, $4, $5, $6)",
        ["acme", 4, planted.time, planted.prev_hash, planted.hash, canonicalJson(planted)],
      );
      await owner.query("COMMIT");
    } catch (error) {
      await owner.query("ROLLBACK");
      throw error;
    }
    expect(await verifyTenantAuditChain(pool, "acme", { key: chainKey })).toMatchObject({
      ok: false, records: 4, problem: { line: 5, seq: 4, reason: expect.stringMatching(/not keyed/) },
    });
  });
});
