import { RouteRefusedError } from "../errors.ts";
import type { RoutePolicy } from "../policy/route-policy.ts";
import { requestTarget } from "../request/request-target.ts";
import type { Principal } from "../tenant/principal.ts";
import type { RequestGuard } from "./create-route-guard.ts";

/** Options of {@link createPlatformRouteGuard}. */
export interface PlatformRouteGuardOptions {
  /** A policy built with `host: "platform"` (the platform's route table). */
  policy: RoutePolicy;
}

/**
 * The route guard for LangGraph Platform, run in `authenticate`.
 *
 * Platform fact (docs/platform-contract.md#the-worker-clientmts): the worker
 * calls `authenticate` with
 * `new Request(x-langgraph-auth-url, { method: x-langgraph-auth-method, headers })`:
 * there is no body, and no storage can be read. So this guard decides on
 * method, path and query alone: a route missing from the platform table is
 * refused (404), an operator route without its permission is refused (404,
 * or 403 with the reason for a cron without a thread), `?delete_threads=true`
 * without its permission is refused (403). Those statuses reach the platform's
 * client (an `authenticate` error keeps its status there). Everything
 * that depends on a body is decided by the handlers on the `value` the
 * platform passes them (see `createRunCheck`, `platformValueRules`).
 *
 * @throws {TypeError} the policy is not the platform's (its routes read bodies or storage).
 * @example
 * const policy = createRoutePolicy({ host: "platform" });
 * createTenantAuth({ authenticator, host: "platform", guard: createPlatformRouteGuard({ policy }) });
 */
export function createPlatformRouteGuard(options: PlatformRouteGuardOptions): RequestGuard {
  const { policy } = options;
  if (!policy || typeof policy.decide !== "function") throw new TypeError("createPlatformRouteGuard: options.policy is required");
  // A route that needs a body or storage cannot be checked here: refuse such a policy at start.
  const unreadable = policy.routes.find((route) => route.body !== undefined || (route.checks?.length ?? 0) > 0);
  if (unreadable) {
    throw new TypeError(`createPlatformRouteGuard: route ${unreadable.id} needs a body or storage; build the policy with host: "platform"`);
  }
  return (request: Request, principal: Principal) => {
    const target = requestTarget(request.url);
    if (target === undefined) throw new RouteRefusedError(404, "no such route", "unknown_route");
    const decision = policy.decide({ method: request.method, path: target.path, query: target.query }, principal);
    if (!decision.allow) throw new RouteRefusedError(decision.status, decision.reason, decision.reasonCode);
  };
}
