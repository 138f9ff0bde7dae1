/**
 * Hono middleware for a deployment's own routes (`langgraph.json` `http.app`).
 * The LangGraph server authenticates those requests but runs no `.on`
 * handler for them, so they get no tenant filter and no permission check
 * unless the route asks for one: this middleware gives them the same
 * principal the handlers see, and the same refusals.
 *
 * Built on the framework-neutral `authenticateRequest(request)`; this file is
 * the only one that imports Hono.
 */
import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes, routePath } from "hono/route";
import type { Authenticator } from "../authenticate/create-authenticator.ts";
import { decisionCaller, decisionErrorOf, type DecisionHost } from "../decision/decision-event.ts";
import type { DecisionLog } from "../decision/decision-log.ts";
import { exposeHeaders } from "../decision/expose-headers.ts";
import { decisionLogFromEnv } from "../decision/shared-decision-log.ts";
import { AuthError, CheckFailedError, InsufficientScopeError, InvalidOptionError, MissingTenantContextError } from "../errors.ts";
import type { AuthMetrics } from "../metrics/create-auth-metrics.ts";
import { metricsFromEnv } from "../metrics/metrics-from-env.ts";
import type { Principal } from "../tenant/principal.ts";
import { isTenantId } from "../tenant/tenant-id.ts";

/** Hono environment of routes behind {@link createTenantMiddleware}: `c.get("principal")`. */
export interface TenantEnv {
  Variables: { principal: Principal };
}

/** Options of {@link createTenantMiddleware}. */
export interface TenantMiddlewareOptions {
  /** The authenticator (the same one the LangGraph `Auth` uses, ideally). */
  authenticator: Pick<Authenticator, "authenticateRequest">;
  /** Permissions every request through this middleware must carry. Default `[]`. */
  permissions?: readonly string[];
  /**
   * Where every decision goes (see `src/decision/`). Default: the process's
   * decision log for `AUTH_DECISION_LOG*` (the one the `Auth` of the same
   * process uses: one flood bound, one writer).
   */
  decisions?: DecisionLog;
  /**
   * The `host` its events name: the server the app runs in (`dev`, `js`,
   * `platform`), or `app` (default) when it is not said.
   */
  host?: DecisionHost;
  /**
   * Where the metrics go (see `src/metrics/`): decisions, the middleware's
   * `authenticate` duration, and the authenticator's token cache and key
   * sets. Default: the process's (`metricsFromEnv(process.env)`), which
   * record nothing when no OpenTelemetry SDK is registered.
   */
  metrics?: AuthMetrics;
}

/** The decision log and host of the middleware that authenticated a request, for `requirePermissions` after it. */
const recorders = new WeakMap<Request, { decisions: DecisionLog; host: DecisionHost }>();

/** Request methods as events name them: the standard ones; anything else is `OTHER` (a method is client data too). */
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/**
 * The custom route a request is, as its events name it: `METHOD pattern`,
 * the pattern the app registered (`POST /api/reports/:id`), never the raw
 * path, which carries client data (ids, anything a caller puts there). The
 * route is the last one Hono matched with a method (the endpoint), else the
 * pattern this middleware was mounted on (`/api/*`: no endpoint matched, or
 * one registered with `all`). Printable, at most 200 characters.
 */
function routeOf(c: Context): string {
  const method = METHODS.has(c.req.method) ? c.req.method : "OTHER";
  let pattern: string;
  try {
    const routes = matchedRoutes(c);
    pattern = routes.findLast((route) => route.method !== "ALL")?.path ?? routePath(c);
  } catch {
    pattern = "";
  }
  const route = `${method} ${pattern}`;
  return pattern !== "" && /^[\x21-\x7e ]{1,200}$/.test(route) ? route : `${method} <unknown>`;
}

/**
 * Record a refusal and answer it: the `AuthError`'s status, headers and body,
 * with its decision id (header and body) readable by a browser.
 */
function refuse(
  c: Context,
  error: AuthError,
  decisions: DecisionLog,
  host: DecisionHost,
  principal: Principal | undefined,
  outcome: "refused" | "error" = "refused",
  thrown?: unknown,
): Response {
  const id = decisions.record({
    host,
    source: "middleware",
    outcome,
    status: error.status,
    reason: error.reason,
    route: routeOf(c),
    resources: error.resources,
    caller: decisionCaller(principal),
    // What was thrown, by class and code only (never its message), as the Auth's events say it.
    ...(outcome === "error" ? { error: decisionErrorOf(thrown) } : {}),
  });
  if (id === undefined || !error.sendsDecisionId) return authErrorResponse(error);
  // An app's CORS middleware that ran first set its exposed headers on the
  // response being built; Hono merges them over ours, so the names go there too.
  c.res.headers.set("Access-Control-Expose-Headers", exposeHeaders(c.res.headers.get("Access-Control-Expose-Headers")));
  return authErrorResponse(error.withDecisionId(id));
}

/** Our error as the HTTP answer the LangGraph server would give: status, headers, plain-text body. */
export function authErrorResponse(error: AuthError): Response {
  return new Response(error.message, { status: error.status, headers: error.headers });
}

function checkPermissions(permissions: readonly string[], what: string): void {
  if (!Array.isArray(permissions) || permissions.some((p) => typeof p !== "string" || p.trim() === "")) {
    throw new TypeError(`${what} must be a list of non-empty permission names`);
  }
}

/**
 * Authenticate the request, put the principal in the context and check the
 * required permissions. Failures answer with the `AuthError`'s status,
 * `WWW-Authenticate` and body (401 no or bad token, 403 insufficient scope,
 * 503 keys unavailable); anything else the authenticator throws is answered
 * as the coded 500 `CheckFailedError` (recorded with outcome `error`), its
 * message never shown nor handed to Hono's error handler.
 * A route behind it always sees a principal with a valid tenant: one without
 * (a custom authenticator's) is refused 403 (`MissingTenantContextError`),
 * and something that is not a principal at all answers 500
 * (`InvalidOptionError`, the authenticator's fault), never a crash in the route.
 *
 * @throws {TypeError} at construction: no authenticator, or a bad `permissions` list.
 * @example
 * const app = new Hono<TenantEnv>();
 * app.use("/custom/*", createTenantMiddleware({ authenticator }));
 * app.get("/custom/tenant", (c) => c.json({ tenant: c.get("principal").tenant_id }));
 */
export function createTenantMiddleware(options: TenantMiddlewareOptions): MiddlewareHandler<TenantEnv> {
  if (!options?.authenticator || typeof options.authenticator.authenticateRequest !== "function") {
    throw new TypeError("createTenantMiddleware: options.authenticator must have authenticateRequest(request)");
  }
  const required = options.permissions ?? [];
  checkPermissions(required, "createTenantMiddleware: options.permissions");
  const decisions = options.decisions ?? decisionLogFromEnv(process.env);
  const host = options.host ?? "app";
  const recorder = { decisions, host };
  const metrics = options.metrics ?? metricsFromEnv(process.env);
  metrics.observeDecisions(decisions);
  metrics.observeAuthenticator(options.authenticator);
  // `undefined` without metrics: then the clock is not read.
  const timer = metrics.authenticateTimer(host);
  return async (c, next) => {
    const startedAt = timer === undefined ? 0 : performance.now();
    let principal: Principal | undefined;
    try {
      principal = requirePrincipal(await options.authenticator.authenticateRequest(c.req.raw));
      requireAll(principal, required);
    } catch (error) {
      if (error instanceof AuthError) {
        const answer = refuse(c, error, decisions, host, principal);
        if (timer !== undefined) timer(startedAt, "refused");
        return answer;
      }
      // Converted in one place, as the Auth's wrappers do: the original (a
      // custom authenticator's plain Error, say) is kept as `cause`, never
      // shown to the client nor handed to Hono's error handler to log.
      const answer = refuse(c, new CheckFailedError({ cause: error }), decisions, host, principal, "error", error);
      if (timer !== undefined) timer(startedAt, "error");
      return answer;
    }
    if (decisions.recordsAllowed) {
      decisions.record({ host, source: "middleware", outcome: "allowed", status: null, reason: null, route: routeOf(c), caller: decisionCaller(principal) });
    } else if (decisions.countsAllowed) {
      // Only counted (the metrics): no route to work out.
      decisions.record({ host, source: "middleware", outcome: "allowed", status: null, reason: null, caller: decisionCaller(principal) });
    }
    if (timer !== undefined) timer(startedAt, "allowed");
    recorders.set(c.req.raw, recorder);
    c.set("principal", principal);
    await next();
  };
}

/**
 * A route-level check after {@link createTenantMiddleware}: 403
 * `insufficient_scope` naming the first missing permission.
 *
 * @throws {TypeError} at construction: no permission, or an empty name.
 * @example
 * app.post("/custom/reports", requirePermissions("store:write"), handler);
 */
export function requirePermissions(...permissions: string[]): MiddlewareHandler<TenantEnv> {
  checkPermissions(permissions, "requirePermissions");
  if (permissions.length === 0) throw new TypeError("requirePermissions needs at least one permission");
  return async (c, next) => {
    const principal = principalOf(c);
    try {
      if (!principal) throw new InsufficientScopeError(permissions[0]!, "the request was not authenticated by the tenant middleware");
      requireAll(principal, permissions);
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      // Recorded by the log of the middleware that authenticated the request (the process's, without one).
      const { decisions, host } = recorders.get(c.req.raw) ?? { decisions: decisionLogFromEnv(process.env), host: "app" as const };
      return refuse(c, error, decisions, host, principal);
    }
    await next();
  };
}

/** What the authenticator resolved to, checked before any route relies on it. */
function requirePrincipal(value: unknown): Principal {
  const principal = value as Partial<Principal> | null;
  if (principal === null || typeof principal !== "object" || typeof principal.identity !== "string" || principal.identity === "" ||
    !Array.isArray(principal.permissions) || !principal.permissions.every((p) => typeof p === "string")) {
    throw new InvalidOptionError("authenticator", "authenticateRequest must resolve to a principal (identity, tenant_id, permissions)");
  }
  if (!isTenantId(principal.tenant_id)) throw new MissingTenantContextError("the authenticated caller has no valid tenant");
  return principal as Principal;
}

function principalOf(c: Context<TenantEnv>): Principal | undefined {
  return c.get("principal") as Principal | undefined;
}

function requireAll(principal: Principal, permissions: readonly string[]): void {
  for (const permission of permissions) {
    if (!principal.permissions.includes(permission)) throw new InsufficientScopeError(permission);
  }
}
