/**
 * Public surface. Each line re-exports one module; adapters that pull in an
 * optional library live behind their own subpath (see package.json exports).
 */
export * from "./errors.ts";
export * from "./config/read-config.ts";
export * from "./config/is-loopback-url.ts";
export * from "./bearer/extract-bearer-token.ts";
export * from "./verify/key-store.ts";
export * from "./verify/resolve-jwks-url.ts";
export * from "./verify/create-remote-key-store.ts";
export * from "./verify/verify-access-token.ts";
export * from "./tenant/tenant-id.ts";
export * from "./tenant/read-claim.ts";
export * from "./tenant/principal.ts";
export * from "./policy/event-permission.ts";
export * from "./policy/tenant-filter.ts";
export * from "./policy/store-namespace.ts";
export * from "./authenticate/create-authenticator.ts";
export * from "./langgraph/tenant-handlers.ts";
export * from "./langgraph/create-tenant-auth.ts";
export * from "./config/verification-env.ts";
export * from "./verify/fetch-json.ts";
export * from "./verify/inspect-token.ts";
export * from "./policy/route-policy.ts";
export * from "./policy/request-target.ts";
export * from "./policy/run-assistant.ts";
export * from "./langgraph/server-storage.ts";
export * from "./langgraph/create-route-guard.ts";
export * from "./langgraph/create-run-check.ts";
export * from "./config/provider-variables.ts";
export * from "./tenant/provider-presets.ts";
export * from "./policy/custom-route-prefixes.ts";
export * from "./tenant/tenant-key.ts";
export * from "./tenant/tenant-context.ts";
export * from "./langgraph/run-tenant.ts";
export * from "./langgraph/tenant-checkpointer.ts";
export * from "./langgraph/tenant-store.ts";
export * from "./pg/with-tenant.ts";
export * from "./pg/clean-checkout.ts";
export * from "./pg/tenant-scoped-pool.ts";
export * from "./pg/migrate.ts";
export * from "./policy/tool-policy.ts";
export * from "./audit/canonical-json.ts";
export * from "./audit/audit-record.ts";
export * from "./audit/audit-sink.ts";
export * from "./audit/audit-log.ts";
export * from "./audit/json-lines-sink.ts";
export * from "./audit/verify-audit-chain.ts";
export {
  AUDIT_TAIL_REPAIRS, createAuditLogParser, verifyAuditLogFile, type AuditLogParser, type AuditLogReport,
} from "./audit/audit-log-parser.ts";
export * from "./audit/audit-file.ts";
export * from "./audit/chain-heads.ts";
export * from "./audit/file-lock.ts";
export * from "./audit/repair-audit-log.ts";
export * from "./audit/query-audit-log.ts";
export * from "./langgraph/guard-tools.ts";
export * from "./policy/json-nesting.ts";
export * from "./langgraph/require-studio-auth-disabled.ts";
export * from "./policy/credential-headers.ts";
export * from "./config/token-cache-config.ts";
export * from "./verify/token-cache.ts";
