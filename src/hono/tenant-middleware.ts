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
import type { Authenticator } from "../authenticate/create-authenticator.ts";
import { AuthError, InsufficientScopeError, InvalidOptionError, MissingTenantContextError } from "../errors.ts";
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
 * 503 keys unavailable); anything else propagates to Hono's error handler.
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
  return async (c, next) => {
    let principal: Principal;
    try {
      principal = requirePrincipal(await options.authenticator.authenticateRequest(c.req.raw));
      requireAll(principal, required);
    } catch (error) {
      if (error instanceof AuthError) return authErrorResponse(error);
      throw error;
    }
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
      if (error instanceof AuthError) return authErrorResponse(error);
      throw error;
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
