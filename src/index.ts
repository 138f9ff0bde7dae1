/**
 * `langgraph-tenant-auth`: the framework-neutral core. Importing it loads no
 * `@langchain/*`, `hono` or `pg` (test/entry-points/core-imports.test.ts
 * checks): errors, configuration, bearer extraction, token verification,
 * principal and tenant rules, pure policy (event permissions, filters, route
 * tables and engine, tool policy), request parsing, `createAuthenticator`,
 * audit, the decision log, and the metrics (which load `@opentelemetry/api`
 * only when the parts are built, and only if it is installed).
 *
 * Every name is listed: a module's new export is public only once added
 * here. Every exported value is a function, a class or deeply frozen data
 * (no `RegExp`, no zod schema): a caller can read a rule, never rewrite it
 * (test/entry-points/frozen-exports.test.ts tries). The adapters have their own entry points: `./langgraph` (the `Auth`
 * and its pieces), `./runtime` (checkpointer, store, tool guard), `./pg`,
 * `./hono`, and `./auth` (the ready `Auth` instance).
 */
export {
  AuthError, type AuthErrorCode, type AuthErrorOptions, ConfigError, DECISION_ID_HEADER, InsufficientScopeError,
  InvalidRequestError, InvalidTenantIdError, InvalidTenantKeyError, InvalidTokenError, isRefusalReason,
  KeysUnavailableError, MissingTenantContextError, MissingTokenError, quoteHeaderValue, REALM, REFUSAL_REASONS,
  type RefusalReason, type ResourceIds, RouteRefusedError, TenantForbiddenError,
} from "./errors.ts";
export { InvalidOptionError, InvalidStoreNamespaceError } from "./errors.ts";
export { CheckFailedError, TransactionRolledBackError } from "./errors.ts";
export {
  type Algorithm, type AuthConfig, CONFIG_VARIABLES, DEFAULT_ALGORITHMS, readConfig, SUPPORTED_ALGORITHMS,
  TENANT_ID_PATTERN_SOURCE,
} from "./config/read-config.ts";
export { isLoopbackHost, isSecureOrLoopbackUrl } from "./config/is-loopback-url.ts";
export { toVerificationConfig, type VerificationConfig } from "./config/verification-env.ts";
export {
  PROVIDER_NAMES, type ProviderName, type ProviderSettings, readProviderSettings, type RequiredClaim,
} from "./config/provider-variables.ts";
export {
  DEFAULT_TOKEN_CACHE_MAX_AGE_SECONDS, DEFAULT_TOKEN_CACHE_MAX_ENTRIES, type TokenCacheConfig, toTokenCacheConfig,
} from "./config/token-cache-config.ts";
export { CUSTOM_ROUTE_METHODS, type CustomRoute } from "./config/custom-routes-variable.ts";
export {
  DECISION_LOG_MODES, DECISION_LOG_SINKS, type DecisionLogConfig, type DecisionLogMode,
  type DecisionLogSinkName, DEFAULT_DECISION_LOG_BURST, DEFAULT_DECISION_LOG_WINDOW_SECONDS, readDecisionLogConfig,
  toDecisionLogConfig,
} from "./config/decision-log-config.ts";
export { type MetricsConfig, readMetricsConfig, toMetricsConfig } from "./config/metrics-config.ts";
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
export { type InspectedToken, inspectToken, type InspectTokenOptions } from "./verify/inspect-token.ts";
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
export {
  isInTenant, outsideReason, tenantFilter, type TenantFilter, tenantOf, tenantStamp, type Visibility,
} from "./policy/tenant-filter.ts";
export {
  isTenantNamespace, namespaceResources, refusedNamespaceReason, requireTenantNamespace, storeNamespaceHint,
} from "./policy/store-namespace.ts";
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
  createToolPolicy, type Named, readToolCaller, TOOL_NAME_PATTERN_SOURCE, type ToolPolicy, type ToolPolicyConfig,
} from "./policy/tool-policy.ts";
export { dropCredentialHeaders, isCredentialHeaderName } from "./policy/credential-headers.ts";
export {
  type Authenticator, type AuthenticatorOptions, type AuthenticatorStats, createAuthenticator, type KeySetStats,
} from "./authenticate/create-authenticator.ts";
export { type TokenCacheStats } from "./authenticate/principal-verifier.ts";
export { canonicalJson } from "./audit/canonical-json.ts";
export {
  AUDIT_DECISIONS, AUDIT_EVENT_DATA_LIMITS, AUDIT_EVENT_KINDS, type AuditDecision, type AuditEntry, type AuditEventEntry,
  type AuditEventKind, type AuditEventRecord, type AuditJsonValue, type AuditRecord, type AuditToolCallRecord,
  type ChainHead, type ChainKey, checkAuditRecord, digestArguments, GENESIS_HASH, hashAuditRecord, NO_TENANT, requireChainKey,
  sealAuditEvent, sealAuditRecord, type UnsealedAuditRecord,
} from "./audit/audit-record.ts";
export {
  type AuditErrorCode, AuditShortWriteError, InvalidAuditEntryError, InvalidAuditLineError, InvalidAuditQueryError,
  InvalidChainHeadError, NoJsonFormError,
} from "./audit/audit-errors.ts";
export { type AuditSink } from "./audit/audit-sink.ts";
export { type AuditLog, type AuditLogOptions, AuditWriteError, createAuditLog } from "./audit/audit-log.ts";
export {
  type AuditWriteStats, type AuditWriteTally, createAuditWriteTally, type TalliedAuditLog, tallyAuditWrites,
} from "./audit/audit-write-stats.ts";
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
export {
  AUDIT_RECORD_KINDS, type AuditQuery, type AuditRecordKind, auditRecordCount, auditTargetCounts, matchesAuditQuery,
} from "./audit/query-audit-log.ts";
export {
  buildDecisionEvent, type DecisionAggregate, type DecisionCaller, decisionCaller, type DecisionEvent, type DecisionHost,
  type DecisionInput, type DecisionOutcome, type DecisionRecord, type DecisionResources, decisionResources,
  type DecisionSource, decisionTarget, type DecisionError, decisionErrorOf, decisionKeyTarget,
} from "./decision/decision-event.ts";
export { capDecisionLine, MAX_DECISION_LINE_BYTES } from "./decision/line-cap.ts";
export {
  createDecisionLog, type DecisionCount, type DecisionCounter, type DecisionLog, type DecisionLogOptions, type DecisionObserver,
  type SetTimer,
} from "./decision/decision-log.ts";
export { type DecisionSink } from "./decision/decision-sink.ts";
export { createStderrDecisionSink, type StderrDecisionSinkOptions } from "./decision/stderr-decision-sink.ts";
export { type AuditDecisionSinkOptions, createAuditDecisionSink } from "./decision/audit-decision-sink.ts";
export {
  createFloodBound, DEFAULT_FLOOD_BURST, DEFAULT_FLOOD_MAX_KEYS, DEFAULT_FLOOD_MAX_KEYS_PER_CALLER, DEFAULT_FLOOD_MAX_TARGETS_PER_CALLER, DEFAULT_FLOOD_WINDOW_MS, type FloodBound,
  type FloodBoundOptions, type FloodVerdict,
} from "./decision/flood-bound.ts";
export { decisionLogFromEnv, sharedDecisionLog } from "./decision/shared-decision-log.ts";
export { formatDecision } from "./decision/format-decision.ts";
export { exposeHeaders, REFUSAL_EXPOSED_HEADERS } from "./decision/expose-headers.ts";
export {
  METRIC_DEFINITIONS, METER_NAME, METRIC_ATTRIBUTES, METRIC_PREFIX, type MetricDefinition, type MetricInstrument,
} from "./metrics/metric-names.ts";
export {
  type AuditWriter, type AuthenticateTimer, type AuthMetrics, type AuthMetricsOptions, createAuthMetrics, NO_METRICS,
} from "./metrics/create-auth-metrics.ts";
export {
  type BatchObservableResultLike, type HistogramLike, type InstrumentOptionsLike, type MeterLike, type MetricAttributesLike,
  type ObservableLike,
} from "./metrics/meter-like.ts";
export { type OtelApiLoader, registeredMeter } from "./metrics/registered-meter.ts";
export { metricsFromEnv } from "./metrics/metrics-from-env.ts";
