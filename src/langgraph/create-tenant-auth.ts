import { Auth } from "@langchain/langgraph-sdk/auth";
import type { Authenticator } from "../authenticate/create-authenticator.ts";
import { AUTH_EVENTS } from "../policy/event-permission.ts";
import type { RoutePolicy } from "../policy/route-policy.ts";
import type { TenantFilter, Visibility } from "../policy/tenant-filter.ts";
import type { SystemAssistantFilter } from "../policy/system-assistants.ts";
import { TenantForbiddenError } from "../errors.ts";
import type { Principal } from "../tenant/principal.ts";
import type { RunCreationCheck } from "./create-run-check.ts";
import { resolveHost, type HostResolution, type ServerHost } from "./detect-host.ts";
import { hostLogLine } from "./host-log-line.ts";
import { readPlatformAuthSection, requireNoAuthCache } from "./platform-auth-section.ts";
import { isPlatformStudioUser, studioDecision } from "./platform-value-rules.ts";
import { handleTenantEvent, requirePrincipal, type HandlerRequest } from "./tenant-handlers.ts";
import { requireStudioAuthDisabled } from "./require-studio-auth-disabled.ts";
import type { RequestGuard } from "./create-route-guard.ts";

/** Options of {@link createTenantAuth}. */
export interface TenantAuthOptions {
  authenticator: Authenticator;
  /** `tenant` (default) or `owner`. */
  visibility?: Visibility;
  /** Runs after authentication on every request (route policy, see `createRouteGuard`). */
  guard?: RequestGuard;
  /** Runs on every `threads:create_run` after the tenant handler (see `createRunCheck`). */
  checkRun?: RunCreationCheck;
  /**
   * The server this `Auth` runs in (see `detect-host.ts`). Default: detected
   * from the process (`langgraph dev`'s command line, the platform's
   * `LANGGRAPH_AUTH` / `LANGSERVE_GRAPHS`); a `ConfigError` when it cannot be told.
   * A {@link HostResolution} (from `resolveHost`) also says where it came from, for the log line.
   */
  host?: ServerHost | HostResolution;
  /** The route policy whose operator permissions the platform handlers read. Default: nothing unlocked. */
  policy?: RoutePolicy;
  /** `AUTH_STUDIO_ACCESS` on the platform: `none` (default) or `operator` (read-only view of every tenant). */
  studioAccess?: "none" | "operator";
  /** `AUTH_SYSTEM_ASSISTANTS`: `visible` (default) or `hidden` (see `systemAssistantFilter`). */
  systemAssistants?: "visible" | "hidden";
  /** Where the start-up line goes. Default `console.info`. */
  log?: (line: string) => void;
  /** Environment read for `LANGGRAPH_AUTH` (the platform's `auth` section). Default `process.env`. */
  env?: Record<string, string | undefined>;
}

/**
 * Build the LangGraph `Auth` object: `authenticate` verifies the bearer token
 * and returns the principal; a handler on every SDK event stamps and filters
 * by tenant; a `*` handler refuses any event the SDK adds later.
 *
 * The host decides what is checked where (one line is logged at start):
 * - `dev` (and `js`): the guard reads bodies and the server's storage in
 *   `authenticate`; a `langgraph dev` server started with Studio auth enabled
 *   (no `"disable_studio_auth": true`) throws a `ConfigError`, see
 *   `requireStudioAuthDisabled`.
 * - `platform`: handlers refuse what the platform would not keep (see
 *   `platform-value-rules.ts`); a Studio user verified by LangSmith gets
 *   `studioAccess`; `auth.cache` in `LANGGRAPH_AUTH` with a guard is a
 *   `ConfigError` (a cached answer skips the guard's route decisions).
 *
 * Without `guard` and `checkRun` only what the handlers see is protected:
 * `src/auth.ts` passes both (see `createAuthFromEnv`).
 *
 * @throws {ConfigError} host unknown, Studio auth enabled on `langgraph dev`, or `auth.cache` on the platform.
 * @example
 * const policy = createRoutePolicy();
 * export const auth = createTenantAuth({
 *   authenticator: createAuthenticator({ config: readConfig() }),
 *   host: "dev",
 *   guard: createRouteGuard({ policy }),
 *   checkRun: createRunCheck({ policy }),
 * });
 */
export function createTenantAuth(options: TenantAuthOptions): Auth {
  const resolution =
    typeof options.host === "string" ? { host: options.host, source: "option" as const } : (options.host ?? resolveHost(undefined));
  if (!["dev", "js", "platform"].includes(resolution.host)) throw new TypeError('host must be "dev", "js" or "platform"');
  const host = resolution.host;
  // On the dev CLI server the header alone makes a Studio user: refuse to start (any host setting).
  requireStudioAuthDisabled();
  const env = options.env ?? process.env;
  const platformAuth = host === "platform" ? readPlatformAuthSection(env) : undefined;
  if (host === "platform" && options.guard) requireNoAuthCache(platformAuth);
  const visibility = options.visibility ?? "tenant";
  const studioAccess = options.studioAccess ?? "none";
  const { authenticator, guard } = options;
  // Promise chaining rather than an async function, and none at all on a
  // cache hit the guard decides at once: each promise costs extra while the
  // server tracks async context. Anything the guard throws still rejects.
  const auth = new Auth().authenticate((request: Request): Principal | Promise<Principal> => {
    const cached = authenticator.authenticateCached?.(request);
    if (cached !== undefined) {
      let checked: void | Promise<void>;
      try {
        checked = guard?.(request, cached);
      } catch (error) {
        return Promise.reject(error);
      }
      return checked === undefined ? cached : checked.then(() => cached);
    }
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
  const eventOptions = { host, policy: options.policy, systemAssistants: options.systemAssistants ?? "visible" };
  for (const event of AUTH_EVENTS) {
    const handler = (request: HandlerRequest): TenantFilter | SystemAssistantFilter | undefined | Promise<TenantFilter> => {
      // Platform fact: with disable_studio_auth false, LangSmith verifies Studio requests
      // and they reach the handlers as a Studio user (never through our authenticate).
      if (host === "platform" && isPlatformStudioUser(request.user)) return studioDecision(event, request.action, studioAccess);
      const filter = handleTenantEvent(request, visibility, eventOptions);
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
  (options.log ?? console.info)(
    hostLogLine({
      host,
      source: resolution.source,
      detected: "detected" in resolution ? resolution.detected : undefined,
      guard: guard !== undefined,
      checkRun: options.checkRun !== undefined,
      studioAccess,
      systemAssistants: eventOptions.systemAssistants,
      platformAuth,
    }),
  );
  return auth as unknown as Auth;
}
