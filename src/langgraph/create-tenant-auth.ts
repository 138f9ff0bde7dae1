import { Auth } from "@langchain/langgraph-sdk/auth";
import type { Authenticator } from "../authenticate/create-authenticator.ts";
import { AUTH_EVENTS } from "../policy/event-permission.ts";
import type { TenantFilter, Visibility } from "../policy/tenant-filter.ts";
import { TenantForbiddenError } from "../errors.ts";
import type { Principal } from "../tenant/principal.ts";
import type { RunCreationCheck } from "./create-run-check.ts";
import { handleTenantEvent, requirePrincipal, type HandlerRequest } from "./tenant-handlers.ts";
import { requireStudioAuthDisabled } from "./require-studio-auth-disabled.ts";

/**
 * A check run after authentication on every request, with the request and the
 * caller: the place for route policy. Throw an `AuthError` to refuse.
 */
export type RequestGuard = (request: Request, principal: Principal) => void | Promise<void>;

/** Options of {@link createTenantAuth}. */
export interface TenantAuthOptions {
  authenticator: Authenticator;
  /** `tenant` (default) or `owner`. */
  visibility?: Visibility;
  /** Runs after authentication on every request (route policy, see `createRouteGuard`). */
  guard?: RequestGuard;
  /** Runs on every `threads:create_run` after the tenant handler (see `createRunCheck`). */
  checkRun?: RunCreationCheck;
}

/**
 * Build the LangGraph `Auth` object: `authenticate` verifies the bearer token
 * and returns the principal; a handler on every SDK event stamps and filters
 * by tenant; a `*` handler refuses any event the SDK adds later.
 *
 * Inside a LangGraph JS server started with Studio auth enabled (no
 * `"disable_studio_auth": true` in `langgraph.json`) it throws a
 * `ConfigError`, so the server does not start: see `requireStudioAuthDisabled`.
 *
 * Without `guard` and `checkRun` only what the handlers see is protected:
 * `POST /internal/truncate`, run webhooks, joins by run id and runs of
 * another tenant's assistant stay open. `src/auth.ts` passes both.
 *
 * @example
 * const policy = createRoutePolicy();
 * export const auth = createTenantAuth({
 *   authenticator: createAuthenticator({ config: readConfig() }),
 *   guard: createRouteGuard({ policy }),
 *   checkRun: createRunCheck({ policy }),
 * });
 */
export function createTenantAuth(options: TenantAuthOptions): Auth {
  requireStudioAuthDisabled();
  const visibility = options.visibility ?? "tenant";
  const { authenticator, guard } = options;
  // Promise chaining rather than an async function: on a cache hit the whole
  // check settles in two promise steps (each one costs extra while the server
  // tracks async context). Anything the guard throws still rejects.
  const auth = new Auth().authenticate((request: Request) => {
    let pending: Promise<Principal>;
    try {
      pending = authenticator.authenticateRequest(request);
    } catch (error) {
      return Promise.reject(error);
    }
    return pending.then((principal) => {
      const checked = guard?.(request, principal);
      return checked === undefined ? principal : checked.then(() => principal);
    });
  });
  for (const event of AUTH_EVENTS) {
    const handler = (request: HandlerRequest): TenantFilter | undefined | Promise<TenantFilter> => {
      const filter = handleTenantEvent(request, visibility);
      if (event !== "threads:create_run" || !options.checkRun) return filter;
      // create_run always has a filter (the run's thread must be the tenant's).
      const check = options.checkRun(request.value as Record<string, unknown>, requirePrincipal(request.user));
      return check.then(() => filter as TenantFilter);
    };
    // The SDK types a Promise of a filter as Promise<boolean> | Promise<Filters>; the server accepts either.
    auth.on(event, handler as never);
  }
  // Only the most specific handler runs; this one catches any event the SDK
  // adds later, so nothing falls through to the server's default of "allow".
  auth.on("*", ({ event }) => {
    throw new TenantForbiddenError(`"${event}" is not an event this deployment allows`);
  });
  return auth as unknown as Auth;
}
