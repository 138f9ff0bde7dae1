import type { TENANT_TABLES } from "./migrate.ts";
import { withTenant, type ConnectablePool } from "./with-tenant.ts";

/** A table this package puts under row-level security (see `migrate`). */
export type TenantTable = (typeof TENANT_TABLES)[number];

/** What {@link eraseTenant} deleted. */
export interface EraseTenantResult {
  /** Rows deleted, per table (0 where the tenant had none, as on a second run). */
  deleted: Record<TenantTable, number>;
}

// One constant text per table; the tenant only ever the bound parameter $1.
// The WHERE repeats what row-level security already enforces (the policy of
// each table, from migrate), so that a table whose RLS were ever switched
// off still loses only this tenant's rows. The checkpointer tables key rows
// by `{tenant}::{thread}`: split_part(…, '::', 1) is exactly the tenant
// (a tenant id holds no ':'), never LIKE, where '_' is a wildcard.
const ERASE_SQL: readonly (readonly [TenantTable, string])[] = Object.freeze([
  Object.freeze(["checkpoint_writes", "DELETE FROM checkpoint_writes WHERE split_part(thread_id, '::', 1) = $1"] as const),
  Object.freeze(["checkpoint_blobs", "DELETE FROM checkpoint_blobs WHERE split_part(thread_id, '::', 1) = $1"] as const),
  Object.freeze(["checkpoints", "DELETE FROM checkpoints WHERE split_part(thread_id, '::', 1) = $1"] as const),
  Object.freeze(["tenant_resources", "DELETE FROM tenant_resources WHERE tenant_id = $1"] as const),
]);

/**
 * Delete every row of `tenantId` from every table this package puts under
 * row-level security: `tenant_resources` and the checkpointer tables
 * (`checkpoints`, `checkpoint_blobs`, `checkpoint_writes`, whose rows it
 * owns by the `{tenant}::{thread}` key). For offboarding a tenant or a GDPR
 * Article 17 erasure on self-hosted Postgres.
 *
 * It runs in ONE {@link withTenant} transaction, so it binds the tenant
 * exactly as every other call does: `set_config('app.current_tenant', $1,
 * true)`, the tenant a bound parameter, on a connection cleaned of whatever
 * an earlier borrower left (a session-level tenant of someone else
 * included). Row-level security itself therefore keeps every other
 * tenant's rows out of reach; each DELETE also names the tenant in its
 * WHERE. All tables or none: a failure rolls everything back.
 *
 * Idempotent: a second call deletes nothing and returns zeros. Run it with
 * the application's pool (the role `migrate` granted DELETE to).
 *
 * Not erased: the audit trail (`tool_audit_records`) is append-only and
 * kept by design (retention is the operator's legal decision; see
 * docs/postgres-rls.md#erasing-a-tenant), and anything outside these tables
 * (a LangGraph store, your own tables, backups, logs).
 *
 * @throws {InvalidTenantIdError} `tenantId` breaks the tenant id rule (400), before any SQL.
 * @throws whatever Postgres throws (a missing table: run `migrate` first), after the rollback.
 * @example
 * const { deleted } = await eraseTenant(appPool, "acme");
 * // { checkpoint_writes: 12, checkpoint_blobs: 30, checkpoints: 9, tenant_resources: 4 }
 */
export async function eraseTenant(pool: ConnectablePool, tenantId: string): Promise<EraseTenantResult> {
  return withTenant(pool, tenantId, async (client) => {
    const deleted = {} as Record<TenantTable, number>;
    for (const [table, sql] of ERASE_SQL) {
      deleted[table] = (await client.query(sql, [tenantId])).rowCount ?? 0;
    }
    return { deleted };
  });
}
