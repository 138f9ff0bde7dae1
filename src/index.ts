/**
 * `langgraph-tenant-auth`: the framework-neutral core. Importing it loads no
 * `@langchain/*`, `hono` or `pg` (test/entry-points/core-imports.test.ts
 * checks): errors, configuration, bearer extraction, token verification,
 * principal and tenant rules, pure policy (event permissions, filters, route
 * tables and engine, tool policy), request parsing, `createAuthenticator`,
 * and audit.
 *
 * Every name is listed: a module's new export is public only once added
 * here. The adapters have their own entry points: `./langgraph` (the `Auth`
 * and its pieces), `./runtime` (checkpointer, store, tool guard), `./pg`,
 * `./hono`, and `./auth` (the ready `Auth` instance).
 */
export {
  AuthError, type AuthErrorCode, ConfigError, InsufficientScopeError, InvalidRequestError, InvalidTenantIdError,
  InvalidTenantKeyError, InvalidTokenError, KeysUnavailableError, MissingTenantContextError, MissingTokenError,
  quoteHeaderValue, REALM, RouteRefusedError, TenantForbiddenError,
} from "./errors.ts";
export {
  type Algorithm, type AuthConfig, CONFIG_VARIABLES, DEFAULT_ALGORITHMS, readConfig, SUPPORTED_ALGORITHMS,
  TENANT_ID_PATTERN,
} from "./config/read-config.ts";
export { isLoopbackHost, isSecureOrLoopbackUrl } from "./config/is-loopback-url.ts";
export {
  issuerListVariable, toVerificationConfig, VERIFICATION_ENV, type VerificationConfig,
} from "./config/verification-env.ts";
export {
  PROVIDER_NAMES, type ProviderName, type ProviderSettings, ProviderVariables, readProviderSettings,
  type RequiredClaim,
} from "./config/provider-variables.ts";
export {
  DEFAULT_TOKEN_CACHE_MAX_AGE_SECONDS, DEFAULT_TOKEN_CACHE_MAX_ENTRIES, type TokenCacheConfig, TokenCacheEnvSchema,
  toTokenCacheConfig,
} from "./config/token-cache-config.ts";
export { CUSTOM_ROUTE_METHODS, type CustomRoute, customRoutesVariable } from "./config/custom-routes-variable.ts";
export {
  DEFAULT_MAX_TOKEN_BYTES, extractBearerToken, type ExtractBearerTokenOptions, isBearerTokenSyntax, peekBearerToken,
} from "./bearer/extract-bearer-token.ts";
export { type FetchLike, type KeySetChange, type KeyStore } from "./verify/key-store.ts";
export { discoveryUrl, resolveJwksUrl, type ResolveJwksUrlOptions } from "./verify/resolve-jwks-url.ts";
export {
  createRemoteKeyStore, type KeyStoreStats, type RemoteKeyStore, type RemoteKeyStoreOptions,
} from "./verify/create-remote-key-store.ts";
export {
  createTokenVerifier, createVerifiedTokenReader, toAuthError, type TokenVerifier, type TokenVerifierOptions,
  type VerifiedToken, type VerifiedTokenReader,
} from "./verify/verify-access-token.ts";
export { DEFAULT_MAX_DOCUMENT_BYTES, fetchJson, type FetchJsonOptions } from "./verify/fetch-json.ts";
export {
  hasDuplicateMember, type InspectedToken, inspectToken, type InspectTokenOptions,
} from "./verify/inspect-token.ts";
export {
  createTokenCache, type TokenCache, type TokenCacheOptions, verifiedKid, type VerifiedTokenFacts,
} from "./verify/token-cache.ts";
export { isTenantId } from "./tenant/tenant-id.ts";
export { readClaim } from "./tenant/read-claim.ts";
export {
  type ClaimCheck, type ClaimMapping, DEFAULT_CLAIM_MAPPING, type Principal, type TenantResolution, toPrincipal,
} from "./tenant/principal.ts";
export {
  entraIssuerForms, PROVIDER_PRESETS, type ProviderPreset, type ResolvedProvider, resolveProviderMapping,
} from "./tenant/provider-presets.ts";
export {
  isKeyOfTenant, isResourceId, MAX_RESOURCE_ID_LENGTH, parseTenantKey, TENANT_KEY_SEPARATOR, tenantKey,
  type TenantKeyParts,
} from "./tenant/tenant-key.ts";
export { currentTenantId, withTenantContext } from "./tenant/tenant-context.ts";
export {
  NAMESPACE_LABEL_ESCAPE, tenantIdFromNamespaceLabel, tenantNamespaceLabel,
} from "./tenant/tenant-namespace-label.ts";
export { requestTarget } from "./request/request-target.ts";
export { createJsonNestingScanner, DEFAULT_MAX_JSON_DEPTH, type JsonNestingScanner } from "./request/json-nesting.ts";
export {
  AUTH_EVENTS, type AuthEvent, type Permission, PERMISSIONS, requiredPermission,
} from "./policy/event-permission.ts";
export { isInTenant, tenantFilter, type TenantFilter, tenantStamp, type Visibility } from "./policy/tenant-filter.ts";
export { isTenantNamespace, requireTenantNamespace, storeNamespaceHint } from "./policy/store-namespace.ts";
export {
  OPERATOR_ROUTES, type OperatorRoute, type RouteCheck, type RouteProtection, SERVER_ROUTES, type ServerRoute,
} from "./policy/route-table.ts";
export {
  createRoutePolicy, type RouteDecision, type RoutePolicy, type RoutePolicyOptions, type RouteRequest,
} from "./policy/route-policy.ts";
export { PLATFORM_ROUTES, type PlatformRoute } from "./policy/platform-routes.ts";
export {
  GRAPH_NAMESPACE, isRunnableAssistant, isSystemAssistant, isUuidV5, requireRunnableAssistant, type StoredAssistant,
  systemAssistantId, uuid5,
} from "./policy/run-assistant.ts";
export {
  SYSTEM_ASSISTANT_FILTER, systemAssistantFilter, type SystemAssistantFilter, type SystemAssistantsSetting,
} from "./policy/system-assistants.ts";
export {
  createToolPolicy, type Named, readToolCaller, TOOL_NAME_PATTERN, type ToolPolicy, type ToolPolicyConfig,
  ToolPolicySchema,
} from "./policy/tool-policy.ts";
export { dropCredentialHeaders, isCredentialHeaderName } from "./policy/credential-headers.ts";
export {
  type Authenticator, type AuthenticatorOptions, createAuthenticator,
} from "./authenticate/create-authenticator.ts";
export { canonicalJson } from "./audit/canonical-json.ts";
export {
  AUDIT_DECISIONS, AUDIT_EVENT_DATA_LIMITS, AUDIT_EVENT_KINDS, type AuditDecision, type AuditEntry, type AuditEventEntry,
  type AuditEventKind, type AuditEventRecord, type AuditJsonValue, type AuditRecord, AuditRecordSchema, type AuditToolCallRecord,
  type ChainHead, type ChainKey, checkAuditRecord, digestArguments, GENESIS_HASH, hashAuditRecord, NO_TENANT, requireChainKey,
  sealAuditEvent, sealAuditRecord, type UnsealedAuditRecord,
} from "./audit/audit-record.ts";
export {
  type AuditErrorCode, AuditShortWriteError, InvalidAuditEntryError, InvalidAuditLineError, InvalidAuditQueryError,
  InvalidChainHeadError, NoJsonFormError,
} from "./audit/audit-errors.ts";
export { type AuditSink } from "./audit/audit-sink.ts";
export { type AuditLog, type AuditLogOptions, AuditWriteError, createAuditLog } from "./audit/audit-log.ts";
export { createJsonLinesSink, type JsonLinesSinkOptions } from "./audit/json-lines-sink.ts";
export { parseAuditLine } from "./audit/parse-audit-line.ts";
export {
  type AuditChainProblem, type AuditChainReport, type AuditChainVerifier, type AuditChainVerifierOptions,
  type AuditTailDefect, type AuditUnfinishedCall, createAuditChainVerifier,
} from "./audit/audit-chain-verifier.ts";
export {
  AUDIT_TAIL_REPAIRS, createAuditLogParser, type AuditLogParser, type AuditLogReport, verifyAuditLog, verifyAuditLogFile,
} from "./audit/audit-log-parser.ts";
export {
  type AuditFileHandle, type AuditFileSystem, nodeAuditFileSystem, readIntoParser, writeWhole,
} from "./audit/audit-file.ts";
export { formatChainHeads, isChainHeadLine, parseChainHeads } from "./audit/chain-heads.ts";
export {
  acquireFileLock, type FileLockHolder, type FileLockOptions, type FileLockRelease, FileLockTimeoutError, isFileLockWanted,
} from "./audit/file-lock.ts";
export {
  AuditLogNotRepairableError, type AuditLogRepair, repairAuditLog, type RepairAuditLogOptions, repairOpenAuditLog,
} from "./audit/repair-audit-log.ts";
export { type AuditQuery, matchesAuditQuery } from "./audit/query-audit-log.ts";
