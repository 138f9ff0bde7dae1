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
  | "ERR_PG_TRANSACTION_ROLLED_BACK";

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

  constructor(
    code: AuthErrorCode,
    status: number,
    message: string,
    headers: Record<string, string>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.code = code;
    this.status = status;
    this.headers = { "Content-Type": "text/plain; charset=utf-8", ...headers };
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
  constructor(description: string, options?: { cause?: unknown }) {
    super(
      "ERR_BEARER_INVALID_REQUEST",
      400,
      `invalid_request: ${description}`,
      { "WWW-Authenticate": challenge({ error: "invalid_request", error_description: description }) },
      options,
    );
  }
}

/** RFC 6750 §3.1 `invalid_token`: expired, revoked, malformed or otherwise invalid (401). */
export class InvalidTokenError extends AuthError {
  override name = "InvalidTokenError";
  constructor(description: string, options?: { cause?: unknown }) {
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

/** The caller is authenticated but the resource is outside its tenant (403, no challenge). */
export class TenantForbiddenError extends AuthError {
  override name = "TenantForbiddenError";
  constructor(description: string) {
    super("ERR_TENANT_FORBIDDEN", 403, `forbidden: ${description}`, {});
  }
}

/** A route the route policy refuses: 404 hides it, 403 names it, 400 names a malformed body. */
export class RouteRefusedError extends AuthError {
  override name = "RouteRefusedError";
  constructor(status: 400 | 403 | 404, description: string) {
    const message = status === 404 ? "not found" : status === 400 ? `bad request: ${description}` : `forbidden: ${description}`;
    super("ERR_ROUTE_REFUSED", status, message, {});
  }
}

/**
 * The identity provider's keys cannot be had and none were ever fetched: the
 * token may be fine, so this is 503 with `Retry-After`, not 401.
 */
export class KeysUnavailableError extends AuthError {
  override name = "KeysUnavailableError";
  constructor(retryAfterSeconds: number, options?: { cause?: unknown }) {
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
