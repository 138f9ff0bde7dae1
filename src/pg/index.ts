/**
 * The `./pg` subpath: Postgres row-level security for tenant-scoped state.
 * Type-only imports of `pg`: the caller brings its own pool.
 */
export { type ConnectablePool, withTenant } from "./with-tenant.ts";
export { DISCARD_SESSION_SQL, resetTenantState, TENANT_SETTING } from "./session-reset.ts";
export { enableCleanCheckout } from "./clean-checkout.ts";
export { createTenantScopedPool, type TenantScopedPool } from "./tenant-scoped-pool.ts";
export { listMigrations, migrate, type MigrateOptions, type MigrateResult, TENANT_TABLES } from "./migrate.ts";
export { eraseTenant, type EraseTenantResult, type TenantTable } from "./erase-tenant.ts";
export {
  applyAuditMigration, createPostgresAuditSink, type PgPoolLike, type PgQueryable, type PostgresAuditSinkOptions,
  readTenantAuditRecords, verifyTenantAuditChain,
} from "./audit-sink.ts";
