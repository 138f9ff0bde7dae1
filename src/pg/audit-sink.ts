import { readFile } from "node:fs/promises";
import type pg from "pg";
import type { AuditRecord, ChainHead } from "../audit/audit-record.ts";
import type { AuditSink } from "../audit/audit-sink.ts";
import { canonicalJson } from "../audit/canonical-json.ts";
import {
  createAuditChainVerifier, parseAuditLine, type AuditChainReport, type AuditChainVerifierOptions,
} from "../audit/verify-audit-chain.ts";
import { NO_TENANT } from "../audit/audit-record.ts";
import { AuditWriteError } from "../audit/audit-log.ts";
import { InvalidOptionError, InvalidTenantIdError } from "../errors.ts";
import { isTenantId } from "../tenant/tenant-id.ts";
import { withTenant, type ConnectablePool } from "./with-tenant.ts";

/** The smallest part of a `pg.Pool` the sink uses (a pool, or a test double). */
export type PgPoolLike = ConnectablePool;

/** Something that runs SQL (a `pg.Client`, a pool client). */
export interface PgQueryable {
  query(sql: string, values?: unknown[]): Promise<pg.QueryResult>;
}

const MIGRATION_URL = new URL("./audit-migration.sql", import.meta.url);

const ROLE_RULE = /^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/;
const SET_APP_ROLE_SQL = "SELECT set_config('tenant_auth.app_role', $1, true)";

/**
 * Apply `audit-migration.sql` (idempotent, one transaction): the
 * `tool_audit_records` table, its RLS policies, grants to `appRole` (SELECT,
 * INSERT only) and the append-only triggers. Run it as the table owner, on
 * a client (a `pg.Client` or `await pool.connect()`), not a pool: the
 * transaction needs one connection.
 *
 * @throws {TypeError} `appRole` is malformed, does not exist, is a superuser
 * or has BYPASSRLS (either would skip row-level security), or is the role
 * running the migration (it would own the table).
 * @example
 * await applyAuditMigration(ownerClient, { appRole: "app_user" });
 */
export async function applyAuditMigration(client: PgQueryable, options: { appRole: string }): Promise<void> {
  const appRole = options?.appRole;
  if (typeof appRole !== "string" || !ROLE_RULE.test(appRole)) {
    throw new TypeError("applyAuditMigration: options.appRole must be a role name (letters, digits, _ $ -; at most 63)");
  }
  const { rows } = await client.query(
    "SELECT rolsuper, rolbypassrls, rolname = current_user AS is_current FROM pg_roles WHERE rolname = $1",
    [appRole],
  );
  const role = rows[0] as { rolsuper: boolean; rolbypassrls: boolean; is_current: boolean } | undefined;
  if (!role) throw new TypeError(`applyAuditMigration: options.appRole "${appRole}" does not exist`);
  if (role.rolsuper || role.rolbypassrls) {
    throw new TypeError(`applyAuditMigration: options.appRole "${appRole}" is a superuser or has BYPASSRLS, so RLS would not apply`);
  }
  if (role.is_current) {
    throw new TypeError("applyAuditMigration: run it as the table owner, not as options.appRole (an owner can change its rows)");
  }
  const sql = await readFile(MIGRATION_URL, "utf8");
  // The role reaches Postgres as the bound parameter $1 and is quoted there
  // by format('%I') (see the file): it is never part of the SQL text. One
  // transaction, so the setting cannot outlive it.
  await client.query("BEGIN");
  try {
    await client.query(SET_APP_ROLE_SQL, [appRole]);
    await client.query(sql);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}

/** Options of {@link createPostgresAuditSink}. */
export interface PostgresAuditSinkOptions {
  /** Pool of the application role (insert-only on the table, subject to RLS). */
  pool: PgPoolLike;
}

/**
 * Records of runs without a user (tenant `_unauthenticated`) are not stored
 * here: the table is tenant-scoped by RLS and that marker is no tenant. The
 * write fails, so such a run fails loudly instead of being recorded
 * nowhere (the LangGraph server always sets a user; a run without one is a
 * misconfiguration or a direct graph call).
 */
function requireAuditTenant(tenantId: string): void {
  if (tenantId === NO_TENANT) {
    throw new AuditWriteError("the Postgres audit sink stores tenant records only: this run has no authenticated user");
  }
  // A caller's mistake, not the sink's failure: a coded 400, before any SQL.
  if (!isTenantId(tenantId)) throw new InvalidTenantIdError();
}

/**
 * An audit sink writing to the `tool_audit_records` table (see
 * `audit-migration.sql`). Each append is one `withTenant` transaction bound
 * to the record's tenant: a transaction-scoped advisory lock on the tenant
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
      return withTenant(pool, tenantId, async (client) => {
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
        if (record.tenant_id !== tenantId) throw new AuditWriteError("the sealed record belongs to another tenant than the chain it was sealed onto");
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
 * @throws {InvalidTenantIdError} `tenantId` breaks the tenant id rule (400), before any SQL.
 * @throws {InvalidOptionError} `options.since` is not a valid `Date` (500, naming it), before any SQL.
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
  const since = options?.since;
  if (since !== undefined && !(since instanceof Date && !Number.isNaN(since.getTime()))) {
    throw new InvalidOptionError("since", "readTenantAuditRecords takes a valid Date");
  }
  return withTenant(pool, tenantId, async (client) => {
    const { rows } = await client.query<{ record: string }>(
      "SELECT record FROM tool_audit_records WHERE tenant_id = $1 AND ($2::timestamptz IS NULL OR time >= $2) ORDER BY seq",
      [tenantId, since?.toISOString() ?? null],
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
  return withTenant(pool, tenantId, async (client) => {
    const { rows } = await client.query<{ record: string }>(
      "SELECT record FROM tool_audit_records WHERE tenant_id = $1 ORDER BY seq",
      [tenantId],
    );
    const verifier = createAuditChainVerifier(options);
    for (const row of rows) if (verifier.check(row.record)) break;
    return verifier.report();
  });
}
