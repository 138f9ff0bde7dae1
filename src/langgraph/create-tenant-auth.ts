import { Auth } from "@langchain/langgraph-sdk/auth";
import type { Authenticator } from "../authenticate/create-authenticator.ts";
import { AUTH_EVENTS } from "../policy/event-permission.ts";
import type { RoutePolicy } from "../policy/route-policy.ts";
import type { TenantFilter, Visibility } from "../policy/tenant-filter.ts";
import type { SystemAssistantFilter } from "../policy/system-assistants.ts";
import { AuthError, TenantForbiddenError } from "../errors.ts";
import type { Principal } from "../tenant/principal.ts";
import type { RunCreationCheck } from "./create-run-check.ts";
import { resolveHost, type HostResolution, type ServerHost } from "./detect-host.ts";
import { hostLogLine } from "./host-log-line.ts";
import { readPlatformAuthSection, requireNoAuthCache } from "./platform-auth-section.ts";
import { isPlatformStudioUser, studioDecision } from "./platform-value-rules.ts";
import { handleTenantEvent, requirePrincipal, type HandlerRequest } from "./tenant-handlers.ts";
import { requireStudioAuthDisabled } from "./require-studio-auth-disabled.ts";
import type { RequestGuard } from "./create-route-guard.ts";
import type { DecisionLog } from "../decision/decision-log.ts";
import { decisionLogFromEnv } from "../decision/shared-decision-log.ts";
import { createAuthDecisions } from "./auth-decisions.ts";
import type { AuthMetrics } from "../metrics/create-auth-metrics.ts";
import { metricsFromEnv } from "../metrics/metrics-from-env.ts";

/** Options of {@link createTenantAuth}. */
export interface TenantAuthOptions {
  /**
   * Verifies the request's token. It, `guard` and `checkRun` refuse with the
   * package's `AuthError`s; anything else they throw is an internal error
   * (`CheckFailedError`, 500), never shown to the caller.
   */
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
  /**
   * Environment read for `LANGGRAPH_AUTH` (the platform's `auth` section)
   * and, without `decisions`, for `AUTH_DECISION_LOG*`. Default `process.env`.
   */
  env?: Record<string, string | undefined>;
  /**
   * Where every decision goes (see `src/decision/`). Default: the process's
   * decision log for `AUTH_DECISION_LOG*` of `env` (refusals, on standard error).
   */
  decisions?: DecisionLog;
  /**
   * Where the metrics go (see `src/metrics/`): decisions, `authenticate`'s
   * duration, the token cache and key sets of `authenticator`. Default: the
   * process's, into the OpenTelemetry SDK the application registered
   * (`metricsFromEnv(env)`), which record nothing when none is registered.
   */
  metrics?: AuthMetrics;
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
 * Every decision is recorded here, in the wrappers around `authenticate` and
 * each handler (the guard and the run check only throw coded errors): a
 * refusal becomes one event of `decisions` and its error carries the
 * `decision_id` (`X-Decision-Id` header, end of the message); see
 * `auth-decisions.ts` and docs/observability.md. Anything else thrown by the
 * authenticator, the guard, a handler or the run check is converted there
 * into a `CheckFailedError` (500, a fixed message, the original as `cause`),
 * so no host ever shows a raw error to the caller or lets one pass as an allow.
 *
 * The returned `Auth` is frozen, its handlers too (STYLE item 17): the
 * server reads them from the object at every request, so a later
 * `auth.on("*", () => true)` or `auth.authenticate(...)` by a plugin or a
 * careless line would otherwise open every event; it throws a `TypeError`
 * instead. Compose before: pass a `guard`, a `checkRun`, an `authenticator`.
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
  const decisions = options.decisions ?? decisionLogFromEnv(env);
  const record = createAuthDecisions({ decisions, host, policy: options.policy, visibility });
  const metrics = options.metrics ?? metricsFromEnv(env);
  metrics.observeDecisions(decisions);
  metrics.observeAuthenticator(authenticator);
  // `undefined` without metrics: then the clock is not read.
  const timer = metrics.authenticateTimer(host);
  /**
   * A refusal, recorded (and timed), as the rejection `authenticate` returns:
   * at once, or once the decision record has looked up the resource the
   * refused request named (see `refusedRequest`).
   */
  const refused = (error: unknown, request: Request, principal: Principal | undefined, startedAt: number): Promise<never> => {
    const thrown = record.refusedRequest(error, request, principal);
    const timed = (): void => {
      if (timer !== undefined) timer(startedAt, error instanceof AuthError ? "refused" : "error");
    };
    if (thrown instanceof Promise) {
      return thrown.then((settled) => {
        timed();
        throw settled;
      });
    }
    timed();
    return Promise.reject(thrown);
  };
  const allowed = (request: Request, principal: Principal, startedAt: number): Principal => {
    if (record.allowedRecorded) record.allowedRequest(request, principal);
    if (timer !== undefined) timer(startedAt, "allowed");
    return principal;
  };
  /**
   * The guard and the decision record once the caller is known: the
   * principal at once when the guard decided synchronously, else a promise.
   * A refusal throws what the server must see (recorded, with its decision id).
   */
  const guarded = (request: Request, principal: Principal, startedAt: number): Principal | Promise<Principal> => {
    let checked: void | Promise<void>;
    try {
      checked = guard?.(request, principal);
    } catch (error) {
      return refused(error, request, principal, startedAt);
    }
    if (checked === undefined) return allowed(request, principal, startedAt);
    return checked.then(
      () => allowed(request, principal, startedAt),
      (error: unknown) => refused(error, request, principal, startedAt),
    );
  };
  // Promise chaining rather than an async function, and none at all on a
  // cache hit the guard decides at once: each promise costs extra while the
  // server tracks async context. Anything the guard throws still rejects, recorded.
  const auth = new Auth().authenticate((request: Request): Principal | Promise<Principal> => {
    const startedAt = timer === undefined ? 0 : performance.now();
    let cached: Principal | undefined;
    try {
      cached = authenticator.authenticateCached?.(request);
    } catch (error) {
      // Not ours (which never throws here): a custom authenticator's, converted like any other.
      return refused(error, request, undefined, startedAt);
    }
    if (cached !== undefined) {
      try {
        return guarded(request, cached, startedAt);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    let pending: Promise<Principal>;
    try {
      pending = authenticator.authenticateRequest(request);
    } catch (error) {
      return refused(error, request, undefined, startedAt);
    }
    return pending.then(
      (principal) => guarded(request, principal, startedAt),
      (error: unknown) => refused(error, request, undefined, startedAt),
    );
  });
  const eventOptions = { host, policy: options.policy, systemAssistants: options.systemAssistants ?? "visible" };
  for (const event of AUTH_EVENTS) {
    const decide = (request: HandlerRequest): TenantFilter | SystemAssistantFilter | undefined | Promise<TenantFilter> => {
      // Platform fact: with disable_studio_auth false, LangSmith verifies Studio requests
      // and they reach the handlers as a Studio user (never through our authenticate).
      if (host === "platform" && isPlatformStudioUser(request.user)) return studioDecision(event, request.action, studioAccess);
      const filter = handleTenantEvent(request, visibility, eventOptions);
      if (event !== "threads:create_run" || !options.checkRun) return filter;
      // create_run always has a filter (the run's thread must be the tenant's).
      const check = options.checkRun(request.value as Record<string, unknown>, requirePrincipal(request.user));
      return check.then(() => filter as TenantFilter);
    };
    // The one place a handler's decision is recorded.
    const handler = (request: HandlerRequest): ReturnType<typeof decide> => {
      let decided: ReturnType<typeof decide>;
      try {
        decided = decide(request);
      } catch (error) {
        throw record.refusedEvent(error, request);
      }
      if (decided instanceof Promise) {
        return decided.then(
          (filter) => {
            record.allowedEvent(request);
            return filter;
          },
          (error: unknown) => {
            throw record.refusedEvent(error, request);
          },
        );
      }
      record.allowedEvent(request);
      return decided;
    };
    // The SDK types a Promise of a filter as Promise<boolean> | Promise<Filters>; the server accepts either.
    auth.on(event, handler as never);
  }
  // Only the most specific handler runs; this one catches any event the SDK
  // adds later, so nothing falls through to the server's default of "allow".
  auth.on("*", (request) => {
    throw record.refusedEvent(
      new TenantForbiddenError(`"${request.event}" is not an event this deployment allows`, "event_not_allowed"),
      request as HandlerRequest,
    );
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
  return freezeAuth(auth) as unknown as Auth;
}

/**
 * Freeze an `Auth` once its handlers are registered: the handler table the
 * server reads (`~handlerCache`, its `callbacks`) and the instance itself,
 * so neither `on`/`authenticate` nor an assignment can replace a handler.
 */
function freezeAuth<A extends object>(auth: A): A {
  const cache = (auth as { "~handlerCache"?: { callbacks?: object } })["~handlerCache"];
  if (cache?.callbacks) Object.freeze(cache.callbacks);
  if (cache) Object.freeze(cache);
  return Object.freeze(auth);
}
