/**
 * The `./pg` subpath: Postgres row-level security for tenant-scoped state.
 * Type-only imports of `pg`: the caller brings its own pool.
 */
export * from "./with-tenant.ts";
export * from "./clean-checkout.ts";
export * from "./tenant-scoped-pool.ts";
export * from "./migrate.ts";
export * from "./audit-sink.ts";
