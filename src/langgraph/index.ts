/**
 * `langgraph-tenant-auth/langgraph`: the server-facing side. The `Auth` the
 * LangGraph server runs (`createTenantAuth`, `createAuthFromEnv`), its event
 * handlers, the route guards and run check, the server-storage reader, the
 * Studio and platform checks, and host detection.
 */
export { createTenantAuth, type TenantAuthOptions } from "./create-tenant-auth.ts";
export { createAuthFromEnv, type EnvAuthOptions } from "./create-env-auth.ts";
export {
  type HandlerRequest, handleTenantEvent, requirePrincipal, type TenantEventOptions,
} from "./tenant-handlers.ts";
export { createRouteGuard, type RequestGuard, type RouteGuardOptions } from "./create-route-guard.ts";
export { createPlatformRouteGuard, type PlatformRouteGuardOptions } from "./create-platform-route-guard.ts";
export {
  checkRunOptions, createRunCheck, namesLangSmithProject, type RunCheckOptions, type RunCreationCheck, type RunOptionsInput,
} from "./create-run-check.ts";
export {
  importServerContextStorage, readServerStorage, type ServerStorage, type ServerStorageSource, type StoredRun,
  type StoredThread,
} from "./server-storage.ts";
export {
  readServerAuthOptions, requireStudioAuthDisabled, type ServerAuthOptions,
} from "./require-studio-auth-disabled.ts";
export { detectHost, type HostResolution, isLangGraphCliServer, resolveHost, type ServerHost } from "./detect-host.ts";
export { type HostLogInput, hostLogLine } from "./host-log-line.ts";
export { type PlatformAuthSection, readPlatformAuthSection, requireNoAuthCache } from "./platform-auth-section.ts";
export {
  isPlatformStudioUser, requireCronTiedToThread, requireMergeSafeUpdate,
  requireStampableMetadata, studioDecision,
} from "./platform-value-rules.ts";
