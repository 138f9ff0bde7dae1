/**
 * `langgraph-tenant-auth/runtime`: what runs inside a graph. The tenant
 * checkpointer and store, the run's tenant, and the tool guard.
 */
export {
  createTenantCheckpointer, type TenantCheckpointerOptions, TenantCheckpointSaver,
} from "./tenant-checkpointer.ts";
export { createTenantStore, createTenantStoreForRun, TenantStore } from "./tenant-store.ts";
export { requireRunTenant, type TenantFromConfig, tenantIdOfRun } from "./run-tenant.ts";
export {
  createToolGuard, type GuardableTool, type GuardedToolNodeOptions, readRunCaller, refusalMessage, type RunCaller,
  type ToolGuard, type ToolGuardOptions,
} from "./guard-tools.ts";
