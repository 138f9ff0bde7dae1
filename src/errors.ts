/**
 * Coded errors that the LangGraph server turns into HTTP responses.
 *
 * The server converts a thrown object into a response only when it has both
 * `status` and `headers` (anything else becomes a 500), so every error a
 * request can cause is one of these. Shape: jose's (`name`, `code`, `cause`)
 * plus auth0's HTTP fields (`status`, `headers`).
 *
 * This module imports nothing of ours: it is the bottom layer.
 */

/** Every error code this package throws for a request. */
export type AuthErrorCode =
  | "ERR_BEARER_MISSING"
  | "ERR_BEARER_INVALID_REQUEST"
  | "ERR_TOKEN_INVALID"
  | "ERR_SCOPE_INSUFFICIENT"
  | "ERR_TENANT_FORBIDDEN"
  | "ERR_ROUTE_REFUSED"
  | "ERR_KEYS_UNAVAILABLE"
  | "ERR_TENANT_ID_INVALID"
  | "ERR_TENANT_KEY_INVALID"
  | "ERR_TENANT_CONTEXT_MISSING"
  | "ERR_STORE_NAMESPACE_INVALID"
  | "ERR_OPTION_INVALID"
  | "ERR_PG_TRANSACTION_ROLLED_BACK"
  | "ERR_CHECK_FAILED";

/**
 * Why a request (or a tool call) was refused: one closed list, the same on
 * every host and in every sink. `docs/observability.md` documents each
 * code. Every {@link AuthError} carries one (`reason`); the decision log
 * (`src/decision/`) records it, and the tool guard writes it with a refused
 * tool call. Frozen: a caller can read the list, never change it.
 *
 * - authentication: `missing_token`, `invalid_request`, `invalid_token`,
 *   `expired_token`, `invalid_tenant_claim`, `key_set_unavailable`;
 * - the caller's rights: `insufficient_scope`, `no_tenant`, `cross_tenant`,
 *   `cross_owner`, `not_found`, `event_not_allowed`, `system_assistant_write`,
 *   `run_option_refused`, `store_namespace_refused`, `invalid_value`,
 *   `platform_value_refused`, `studio_access_refused`, `check_unavailable`;
 * - routes: `unknown_route`, `operator_only`, `body_too_large`, `body_too_deep`;
 * - inside a graph: `invalid_tenant_id`, `invalid_tenant_key`,
 *   `tenant_context_missing`, and the tool guard's `tool_arguments_unreadable`,
 *   `tool_run_unauthenticated`, `tool_unknown`, `tool_not_allowed`, `tool_capture_failed`;
 * - `internal_error`: a check threw something that is not a refusal (the server answers 500).
 *
 * @example
 * REFUSAL_REASONS.includes("cross_tenant"); // true
 */
export const REFUSAL_REASONS = Object.freeze([
  "missing_token",
  "invalid_request",
  "invalid_token",
  "expired_token",
  "invalid_tenant_claim",
  "key_set_unavailable",
  "insufficient_scope",
  "no_tenant",
  "cross_tenant",
  "cross_owner",
  "not_found",
  "event_not_allowed",
  "system_assistant_write",
  "run_option_refused",
  "store_namespace_refused",
  "invalid_value",
  "platform_value_refused",
  "studio_access_refused",
  "check_unavailable",
  "unknown_route",
  "operator_only",
  "body_too_large",
  "body_too_deep",
  "invalid_tenant_id",
  "invalid_tenant_key",
  "tenant_context_missing",
  "tool_arguments_unreadable",
  "tool_run_unauthenticated",
  "tool_unknown",
  "tool_not_allowed",
  "tool_capture_failed",
  "internal_error",
] as const);
/** One of {@link REFUSAL_REASONS}. */
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

const REASONS: ReadonlySet<string> = new Set(REFUSAL_REASONS);

/**
 * True for a code of {@link REFUSAL_REASONS}.
 *
 * @example
 * isRefusalReason("cross_tenant"); // true
 */
export function isRefusalReason(value: unknown): value is RefusalReason {
  return typeof value === "string" && REASONS.has(value);
}

/**
 * The reason an error of each code carries when its thrower names none.
 * Classes that serve several reasons (`TenantForbiddenError`,
 * `RouteRefusedError`) are given one explicitly wherever this package throws
 * them (test/decision/refusal-paths.test.ts checks every `new` of them in
 * `src/` statically, and fails when a code of the list is produced by no
 * refusal path).
 */
const DEFAULT_REASON: Readonly<Record<AuthErrorCode, RefusalReason>> = Object.freeze({
  ERR_BEARER_MISSING: "missing_token",
  ERR_BEARER_INVALID_REQUEST: "invalid_request",
  ERR_TOKEN_INVALID: "invalid_token",
  ERR_SCOPE_INSUFFICIENT: "insufficient_scope",
  ERR_TENANT_FORBIDDEN: "cross_tenant",
  ERR_ROUTE_REFUSED: "unknown_route",
  ERR_KEYS_UNAVAILABLE: "key_set_unavailable",
  ERR_TENANT_ID_INVALID: "invalid_tenant_id",
  ERR_TENANT_KEY_INVALID: "invalid_tenant_key",
  ERR_TENANT_CONTEXT_MISSING: "tenant_context_missing",
  ERR_STORE_NAMESPACE_INVALID: "invalid_value",
  ERR_OPTION_INVALID: "internal_error",
  ERR_PG_TRANSACTION_ROLLED_BACK: "internal_error",
  ERR_CHECK_FAILED: "internal_error",
});

/**
 * The response header that carries a refusal's `decision_id` (also appended
 * to the body as ` (decision_id: …)`), so a support ticket can be matched to
 * the decision log. Browsers may read it: refusals name it in
 * `Access-Control-Expose-Headers`.
 */
export const DECISION_ID_HEADER = "X-Decision-Id";

/**
 * The ids of the resources a request named, as a refusal records them
 * (`decision_id`, thread, assistant, run, cron, store namespace). Set by the
 * rule that looked at them; never a body, a header or a token.
 */
export interface ResourceIds {
  thread_id?: string;
  assistant_id?: string;
  run_id?: string;
  cron_id?: string;
  namespace?: readonly string[];
  /**
   * The tenant those resources belong to, where the rule looked it up (a
   * cross-tenant refusal): recorded as the event's `target_tenant_id`.
   */
  tenant_id?: string;
  /**
   * True when `tenant_id` was looked up in storage (the resource's own
   * metadata), not read from what the client sent (a store namespace's first
   * label). Only a looked-up tenant keys the decision log's flood bound, so a
   * client cannot mint keys by varying what it writes. Default false.
   */
  tenant_looked_up?: boolean;
}

/** Options every {@link AuthError} takes. */
export interface AuthErrorOptions {
  cause?: unknown;
  /** Why the request was refused. Default: the one of the error's code. */
  reason?: RefusalReason;
  /** The resources the refused request named, for the decision log. */
  resources?: ResourceIds;
  /**
   * Default true. False for a refusal whose answer must be the server's own
   * answer for something that exists nowhere (byte for byte): it is recorded,
   * but its `decision_id` is not sent back, since an id would tell the two apart.
   */
  sendsDecisionId?: boolean;
}

/** The realm named in every `WWW-Authenticate` challenge. */
export const REALM = "langgraph";

/**
 * Quote a value for an RFC 7235 auth-param: backslash and double quote are
 * escaped, control characters dropped, so a claim value can never break the
 * header or inject another parameter.
 */
export function quoteHeaderValue(value: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = value.replace(/[\u0000-\u001f\u007f]/g, "").replace(/[\\"]/g, "\\$&");
  return `"${clean}"`;
}

function challenge(params: Record<string, string | undefined>): string {
  const parts = [`realm=${quoteHeaderValue(REALM)}`];
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined) parts.push(`${key}=${quoteHeaderValue(value)}`);
  }
  return `Bearer ${parts.join(", ")}`;
}

/**
 * Base class of every request error. `message` is what the HTTP body says, so
 * it never contains a token or a secret.
 */
export class AuthError extends Error {
  override name = "AuthError";
  readonly code: AuthErrorCode;
  readonly status: number;
  readonly headers: Record<string, string>;
  /** Why, from {@link REFUSAL_REASONS}: what the decision log records. */
  readonly reason: RefusalReason;
  /** The resources the request named, when the rule that refused knows them. */
  readonly resources?: ResourceIds;
  /** Set on the copy {@link AuthError.withDecisionId} returns. */
  readonly decisionId?: string;
  /** False when the answer must look like the server's own for a missing resource (see {@link AuthErrorOptions}). */
  readonly sendsDecisionId: boolean;

  constructor(
    code: AuthErrorCode,
    status: number,
    message: string,
    headers: Record<string, string>,
    options?: AuthErrorOptions,
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = status;
    this.headers = { "Content-Type": "text/plain; charset=utf-8", ...headers };
    const reason = options?.reason ?? DEFAULT_REASON[code];
    if (!isRefusalReason(reason)) throw new TypeError(`AuthError: "${String(reason)}" is not one of REFUSAL_REASONS`);
    this.reason = reason;
    if (options?.resources !== undefined) this.resources = options.resources;
    this.sendsDecisionId = options?.sendsDecisionId ?? true;
  }

  /**
   * A copy of this error that names its decision: the id in the
   * {@link DECISION_ID_HEADER} header and at the end of the message (the
   * body the server answers with; on LangGraph Platform, where headers of an
   * `authenticate` error are lost and a handler's error becomes a 403 with
   * its message, the message is what reaches the client). The original is
   * left as it was.
   *
   * @example
   * throw error.withDecisionId("2b0c9a6e-…"); // body: "… (decision_id: 2b0c9a6e-…)"
   */
  withDecisionId(decisionId: string): this {
    const copy = Object.assign(Object.create(Object.getPrototypeOf(this) as object) as this, this);
    for (const key of ["stack", "cause"] as const) {
      const own = Object.getOwnPropertyDescriptor(this, key);
      if (own) Object.defineProperty(copy, key, own);
    }
    Object.defineProperty(copy, "message", {
      value: `${this.message} (decision_id: ${decisionId})`,
      writable: true,
      configurable: true,
      enumerable: false,
    });
    const writable = copy as { headers: Record<string, string>; decisionId?: string };
    writable.headers = { ...this.headers, [DECISION_ID_HEADER]: decisionId };
    writable.decisionId = decisionId;
    return copy;
  }
}

/** RFC 6750 §3: a request with no credentials gets a bare challenge, no error code. */
export class MissingTokenError extends AuthError {
  override name = "MissingTokenError";
  constructor(message = "authentication required: send Authorization: Bearer <token>") {
    super("ERR_BEARER_MISSING", 401, message, { "WWW-Authenticate": challenge({}) });
  }
}

/** RFC 6750 §3.1 `invalid_request`: malformed or ambiguous request (400). */
export class InvalidRequestError extends AuthError {
  override name = "InvalidRequestError";
  constructor(description: string, options?: AuthErrorOptions) {
    super(
      "ERR_BEARER_INVALID_REQUEST",
      400,
      `invalid_request: ${description}`,
      { "WWW-Authenticate": challenge({ error: "invalid_request", error_description: description }) },
      options,
    );
  }
}

/**
 * RFC 6750 §3.1 `invalid_token`: expired, revoked, malformed or otherwise
 * invalid (401). Reason `invalid_token` unless given: `expired_token`,
 * `invalid_tenant_claim`.
 */
export class InvalidTokenError extends AuthError {
  override name = "InvalidTokenError";
  constructor(description: string, options?: AuthErrorOptions) {
    super(
      "ERR_TOKEN_INVALID",
      401,
      `invalid_token: ${description}`,
      { "WWW-Authenticate": challenge({ error: "invalid_token", error_description: description }) },
      options,
    );
  }
}

/** RFC 6750 §3.1 `insufficient_scope`: the token lacks the permission the request needs (403). */
export class InsufficientScopeError extends AuthError {
  override name = "InsufficientScopeError";
  readonly scope: string;
  constructor(scope: string, description = `the "${scope}" permission is required`) {
    super("ERR_SCOPE_INSUFFICIENT", 403, `insufficient_scope: ${description}`, {
      "WWW-Authenticate": challenge({ error: "insufficient_scope", error_description: description, scope }),
    });
    this.scope = scope;
  }
}

/**
 * The caller is authenticated but may not do this (403, no challenge): the
 * resource is outside its tenant (`cross_tenant`, the default), or another
 * rule refused (`run_option_refused`, `system_assistant_write`,
 * `event_not_allowed`, …): name the reason wherever it is not `cross_tenant`.
 */
export class TenantForbiddenError extends AuthError {
  override name = "TenantForbiddenError";
  constructor(description: string, reason: RefusalReason = "cross_tenant", options?: Omit<AuthErrorOptions, "reason">) {
    super("ERR_TENANT_FORBIDDEN", 403, `forbidden: ${description}`, {}, { ...options, reason });
  }
}

/**
 * A route the route policy refuses: 404 hides it, 403 names it, 400 names a
 * malformed body. Reason `unknown_route` unless given (`operator_only`,
 * `body_too_large`, `body_too_deep`, `not_found`, `cross_tenant`, …).
 */
export class RouteRefusedError extends AuthError {
  override name = "RouteRefusedError";
  constructor(status: 400 | 403 | 404, description: string, reason: RefusalReason = "unknown_route", options?: Omit<AuthErrorOptions, "reason">) {
    const message = status === 404 ? "not found" : status === 400 ? `bad request: ${description}` : `forbidden: ${description}`;
    super("ERR_ROUTE_REFUSED", status, message, {}, { ...options, reason });
  }
}

/**
 * The identity provider's keys cannot be had and none were ever fetched: the
 * token may be fine, so this is 503 with `Retry-After`, not 401.
 */
export class KeysUnavailableError extends AuthError {
  override name = "KeysUnavailableError";
  constructor(retryAfterSeconds: number, options?: AuthErrorOptions) {
    super(
      "ERR_KEYS_UNAVAILABLE",
      503,
      "temporarily_unavailable: the identity provider's signing keys cannot be fetched",
      { "Retry-After": String(Math.max(1, Math.ceil(retryAfterSeconds))) },
      options,
    );
  }
}

/**
 * A configuration mistake found at start-up. It is a `TypeError` (the caller's
 * mistake, not a request's) whose message names every bad variable at once.
 */
export class ConfigError extends TypeError {
  override name = "ConfigError";
  readonly code = "ERR_CONFIG_INVALID" as const;
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid auth configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.problems = problems;
  }
}

/**
 * A tenant id that breaks the tenant id rule (`src/tenant/tenant-id.ts`):
 * empty, too long, a separator, whitespace, a unicode look-alike… (400).
 * The offending value is never echoed: it may be attacker-built.
 */
export class InvalidTenantIdError extends AuthError {
  override name = "InvalidTenantIdError";
  constructor(description = "the tenant id is not a valid tenant id") {
    super("ERR_TENANT_ID_INVALID", 400, `invalid_tenant: ${description}`, {});
  }
}

/**
 * A `{tenant}::{resource}` key, or a resource id meant for one, that is
 * malformed: empty part, a `::` inside the resource id, control or look-alike
 * characters (400).
 */
export class InvalidTenantKeyError extends AuthError {
  override name = "InvalidTenantKeyError";
  constructor(description: string) {
    super("ERR_TENANT_KEY_INVALID", 400, `invalid_tenant_key: ${description}`, {});
  }
}

/**
 * Tenant-scoped state was touched with no tenant to scope it to (no
 * `configurable.langgraph_auth_user.tenant_id` in the run's config, no bound
 * tenant): refused rather than run unscoped (403, fail closed).
 */
export class MissingTenantContextError extends AuthError {
  override name = "MissingTenantContextError";
  constructor(description = "no tenant in the run's config (configurable.langgraph_auth_user.tenant_id)") {
    super("ERR_TENANT_CONTEXT_MISSING", 403, `forbidden: ${description}`, {});
  }
}

// Caller mistakes found while serving a request: a function that runs per
// request throws these, never a plain TypeError (which the server would
// answer with a bare 500, or on the platform with its raw message). Options
// given once to a factory at start-up stay TypeErrors naming the option.

/**
 * A store namespace a graph handed to the tenant store that LangGraph's
 * stores refuse: not a list, an empty label, a label that is not a string or
 * holds `.`, `:` or NUL (400). The labels are never echoed.
 */
export class InvalidStoreNamespaceError extends AuthError {
  override name = "InvalidStoreNamespaceError";
  constructor(description = "a store namespace must be a list of non-empty string labels without \".\", \":\" or NUL", options?: { cause?: unknown }) {
    super("ERR_STORE_NAMESPACE_INVALID", 400, `invalid_namespace: ${description}`, {}, options);
  }
}

/**
 * An option or argument that the deployment's own code passed to a function
 * that runs per request is invalid: a tool guard's `callId` that returns no
 * id, the tools handed to `guard.invoke`, the store handed to
 * `createTenantStoreForRun`, a `tenantFromConfig` that is not a function.
 * The request is not at fault, so the status is 500; the error is coded so
 * the server answers with this message, which names the option and nothing
 * of the request.
 */
export class InvalidOptionError extends AuthError {
  override name = "InvalidOptionError";
  /** The option or argument at fault, e.g. `callId`. */
  readonly option: string;
  constructor(option: string, problem: string, options?: { cause?: unknown }) {
    super("ERR_OPTION_INVALID", 500, `server_error: the deployment passed an invalid "${option}": ${problem}`, {}, options);
    this.option = option;
  }
}

/**
 * A tenant transaction (`withTenant`) whose callback swallowed an SQL error:
 * Postgres had aborted the transaction, so `COMMIT` could only roll it back
 * and nothing the callback wrote was saved (500: the application's failure,
 * not the client's). The message names no SQL, table or value.
 */
export class TransactionRolledBackError extends AuthError {
  override name = "TransactionRolledBackError";
  constructor(description = "the database transaction had failed and was rolled back; nothing of it was saved") {
    super("ERR_PG_TRANSACTION_ROLLED_BACK", 500, `server_error: ${description}`, {});
  }
}

/**
 * A check of a request (`authenticate`, the route guard, a `.on` handler, the
 * run check) threw something that is not one of this package's errors: a
 * bug, a storage failure, a custom authenticator's plain `Error`. The `Auth`'s
 * wrappers convert it into this one (500, reason `internal_error`), so that
 * the server never answers with the original: on LangGraph Platform a handler
 * error that is not an `HTTPException` is shown to the caller with its raw
 * message, and one whose `name` is empty passes as an allow. The original is
 * kept as `cause` and never shown or logged; the message is always the same.
 *
 * @example
 * throw new CheckFailedError({ cause: error }); // 500 "server_error: the authorization check failed; the request was refused"
 */
export class CheckFailedError extends AuthError {
  override name = "CheckFailedError";
  constructor(options?: { cause?: unknown }) {
    super("ERR_CHECK_FAILED", 500, "server_error: the authorization check failed; the request was refused", {}, options);
  }
}
