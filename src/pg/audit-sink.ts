import { readFile } from "node:fs/promises";
import pg from "pg";
import type { AuditRecord, ChainHead } from "../audit/audit-record.ts";
import type { AuditSink } from "../audit/audit-sink.ts";
import { canonicalJson } from "../audit/canonical-json.ts";
import {
  createAuditChainVerifier, parseAuditLine, type AuditChainReport, type AuditChainVerifierOptions,
} from "../audit/verify-audit-chain.ts";
import { NO_TENANT } from "../audit/audit-record.ts";
import { isTenantId } from "../tenant/tenant-id.ts";

/** The smallest part of a `pg.Pool` the sink uses (a pool, or a test double). */
export interface PgPoolLike {
  connect(): Promise<pg.PoolClient>;
}

/** Something that runs SQL (a `pg.Client`, a pool client). */
export interface PgQueryable {
  query(sql: string, values?: unknown[]): Promise<pg.QueryResult>;
}

const MIGRATION_URL = new URL("./audit-migration.sql", import.meta.url);

/**
 * Apply `audit-migration.sql` (idempotent): the `tool_audit_records` table,
 * its RLS policies, grants to `appRole` (SELECT, INSERT only) and the
 * append-only triggers. Run it as the table owner, not as `appRole`.
 *
 * @throws {TypeError} `appRole` is empty.
 * @example
 * await applyAuditMigration(ownerClient, { appRole: "app_user" });
 */
export async function applyAuditMigration(client: PgQueryable, options: { appRole: string }): Promise<void> {
  if (typeof options?.appRole !== "string" || options.appRole === "") {
    throw new TypeError("applyAuditMigration: options.appRole must name the application role");
  }
  const sql = (await readFile(MIGRATION_URL, "utf8")).replaceAll(':"app_role"', pg.escapeIdentifier(options.appRole));
  await client.query(sql);
}

/** Options of {@link createPostgresAuditSink}. */
export interface PostgresAuditSinkOptions {
  /** Pool of the application role (insert-only on the table, subject to RLS). */
  pool: PgPoolLike;
}

function requireAuditTenant(tenantId: string): void {
  if (tenantId !== NO_TENANT && !isTenantId(tenantId)) throw new TypeError("not a valid tenant id");
}

/**
 * Run `fn` in a transaction bound to one tenant: `set_config` with
 * `is_local = true` (the setting ends with the transaction, so a pooled
 * connection never carries it to another tenant), commit or roll back,
 * `release()` in `finally`.
 */
async function inTenantTransaction<T>(pool: PgPoolLike, tenantId: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: unknown;
  try {
    await client.query("BEGIN");
    try {
      await client.query("SELECT set_config('app.current_tenant', $1, true)", [tenantId]);
      const result = await fn(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch((rollbackError: unknown) => (broken = rollbackError));
      throw error;
    }
  } finally {
    // A connection whose rollback failed is destroyed, not reused.
    client.release(broken instanceof Error ? broken : undefined);
  }
}

/**
 * An audit sink writing to the `tool_audit_records` table (see
 * `audit-migration.sql`). Each append is one transaction bound to the
 * record's tenant: a transaction-scoped advisory lock on the tenant
 * serializes writers across processes, the head is read under RLS, and the
 * primary key (tenant_id, seq) refuses a fork. Any failure rejects.
 *
 * @example
 * const audit = createAuditLog({ sink: createPostgresAuditSink({ pool: new pg.Pool({ connectionString }) }) });
 */
export function createPostgresAuditSink(options: PostgresAuditSinkOptions): AuditSink {
  const pool = options?.pool;
  if (!pool || typeof pool.connect !== "function") throw new TypeError("createPostgresAuditSink: options.pool must be a pg Pool");
  return {
    async append(tenantId, seal) {
      requireAuditTenant(tenantId);
      return inTenantTransaction(pool, tenantId, async (client) => {
        // Serializes appends of one tenant across processes until commit. The
        // two-key form with a fixed first key (0x6175, "au") keeps these
        // locks apart from the application's own advisory locks.
        await client.query("SELECT pg_advisory_xact_lock(24949, hashtext($1))", [tenantId]);
        const last = await client.query<{ seq_text: string; hash: string }>(
          // Ordered by the bigint column, not the text alias ("9" > "10").
          "SELECT seq::text AS seq_text, hash FROM tool_audit_records WHERE tenant_id = $1 ORDER BY tool_audit_records.seq DESC LIMIT 1",
          [tenantId],
        );
        const row = last.rows[0];
        const head: ChainHead | undefined = row ? { seq: Number(row.seq_text), hash: row.hash } : undefined;
        const record: AuditRecord = seal(head);
        if (record.tenant_id !== tenantId) throw new TypeError("the sealed record belongs to another tenant");
        await client.query(
          "INSERT INTO tool_audit_records (tenant_id, seq, time, prev_hash, hash, record) VALUES ($1, $2, $3, $4, $5, $6)",
          [tenantId, record.seq, record.time, record.prev_hash, record.hash, canonicalJson(record)],
        );
        return record;
      });
    },
    async ready() {
      const client = await pool.connect();
      try {
        await client.query("SELECT 1 FROM tool_audit_records LIMIT 0");
      } finally {
        client.release();
      }
    },
  };
}

/**
 * One tenant's records, in chain order, read under that tenant's RLS.
 *
 * @example
 * const records = await readTenantAuditRecords(pool, "acme", { since: new Date("2026-01-01") });
 */
export async function readTenantAuditRecords(
  pool: PgPoolLike,
  tenantId: string,
  options: { since?: Date } = {},
): Promise<AuditRecord[]> {
  requireAuditTenant(tenantId);
  return inTenantTransaction(pool, tenantId, async (client) => {
    const { rows } = await client.query<{ record: string }>(
      "SELECT record FROM tool_audit_records WHERE tenant_id = $1 AND ($2::timestamptz IS NULL OR time >= $2) ORDER BY seq",
      [tenantId, options.since?.toISOString() ?? null],
    );
    return rows.map((r) => parseAuditLine(r.record));
  });
}

/**
 * Verify one tenant's chain in the table (as {@link createAuditChainVerifier}
 * does for a file; `line` is the 1-based position in the chain).
 *
 * @example
 * const report = await verifyTenantAuditChain(pool, "acme", { key: process.env.AUDIT_CHAIN_KEY });
 */
export async function verifyTenantAuditChain(
  pool: PgPoolLike,
  tenantId: string,
  options: AuditChainVerifierOptions = {},
): Promise<AuditChainReport> {
  requireAuditTenant(tenantId);
  return inTenantTransaction(pool, tenantId, async (client) => {
    const { rows } = await client.query<{ record: string }>(
      "SELECT record FROM tool_audit_records WHERE tenant_id = $1 ORDER BY seq",
      [tenantId],
    );
    const verifier = createAuditChainVerifier(options);
    for (const row of rows) if (verifier.check(row.record)) break;
    return verifier.report();
  });
}
