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
export * from "./policy/route-policy.ts";
export * from "./policy/run-assistant.ts";
export * from "./langgraph/server-storage.ts";
export * from "./langgraph/create-route-guard.ts";
export * from "./langgraph/create-run-check.ts";
export * from "./config/provider-variables.ts";
export * from "./tenant/provider-presets.ts";
export * from "./policy/custom-route-prefixes.ts";
export * from "./policy/json-nesting.ts";
export * from "./langgraph/require-studio-auth-disabled.ts";
export * from "./policy/credential-headers.ts";
