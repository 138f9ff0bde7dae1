import type { Principal } from "../tenant/principal.ts";
import { PLATFORM_ROUTES } from "./platform-routes.ts";
import { isTenantNamespace, storeNamespaceHint } from "./store-namespace.ts";
import { OPERATOR_ROUTES, SERVER_ROUTES, type OperatorRoute, type RouteCheck, type ServerRoute } from "./route-table.ts";

/**
 * The route policy: a pure decision over method, path, query and the few
 * body fields that matter, made in `authenticate` before any route runs,
 * over one of the route tables (`route-table.ts` for the JS server,
 * `platform-routes.ts` for LangGraph Platform).
 */

/** What the guard passes in: the request's parts the decision reads. */
export interface RouteRequest {
  method: string;
  /** The URL's raw pathname (not decoded). */
  path: string;
  query: URLSearchParams;
  /** The parsed JSON body, when the route's `body` says it matters; `undefined` if absent or not JSON. */
  body?: unknown;
}

/** The policy's answer. */
export type RouteDecision =
  | { allow: true; route: ServerRoute; params: Record<string, string>; checks: readonly RouteCheck[] }
  | { allow: false; route: ServerRoute | undefined; status: 403 | 404; reason: string };

/** Options of {@link createRoutePolicy}. */
export interface RoutePolicyOptions {
  /**
   * Permission that unlocks each refused route group, e.g.
   * `{ truncate: "admin:truncate" }`. Default: none, every group is refused
   * for everyone. Keys: {@link OPERATOR_ROUTES}.
   */
  operatorPermissions?: Partial<Record<OperatorRoute, string>>;
  /** Extra routes (a custom `http.app`) allowed for every authenticated caller. Default none. */
  extraRoutes?: readonly Pick<ServerRoute, "method" | "path">[];
  /**
   * The server whose route table applies: `dev` and `js` (the
   * `@langchain/langgraph-api` server: {@link SERVER_ROUTES}) or `platform`
   * (LangGraph Platform: `PLATFORM_ROUTES`). Default `dev`.
   */
  host?: "dev" | "js" | "platform";
}

/** A compiled route policy. */
export interface RoutePolicy {
  /** The route table this policy decides over. */
  routes: readonly ServerRoute[];
  /** The route a method and raw path name, or `undefined`. */
  match(method: string, path: string): { route: ServerRoute; params: Record<string, string> } | undefined;
  /**
   * Decide one request for one caller. `matched` is what {@link RoutePolicy.match}
   * already returned for this method and path, so a caller that matched first
   * does not pay for the lookup twice.
   */
  decide(request: RouteRequest, principal: Principal, matched?: ReturnType<RoutePolicy["match"]>): RouteDecision;
  /** True when the caller may give runs a `webhook` (the `webhooks` operator route). */
  allowsWebhooks(principal: Principal): boolean;
  /**
   * True when the caller may make the server call LangSmith with its own key:
   * run `feedback_keys` and a chosen tracing project (the `langsmith` operator route).
   */
  allowsLangSmith(principal: Principal): boolean;
  /** True when the caller holds the permission that unlocks this operator route group. */
  unlocks(group: OperatorRoute, principal: Principal): boolean;
}

const PERMISSION_RULE = /^[\x21-\x7e]{1,200}$/;

/** The checks of a route that has none (one frozen list, not a new one per decision). */
const NO_CHECKS: readonly RouteCheck[] = Object.freeze([]);

interface Compiled {
  route: ServerRoute;
  method: string;
  segments: string[];
  /** Per segment: the parameter's name for `:name`, else `undefined` (a literal). */
  names: (string | undefined)[];
}

/** Segments as `path.split("/")` gives them: the leading "" of the root slash first. */
function compile(route: ServerRoute): Compiled {
  const segments = route.path.split("/");
  const names = segments.map((segment) => (segment.charCodeAt(0) === COLON ? segment.slice(1) : undefined));
  return { route, method: route.method, segments, names };
}

/**
 * Match like Hono's router does for these patterns: literal segments are
 * exact and case-sensitive, `:name` is one non-empty segment, no trailing
 * slash. Percent-encoded paths are never matched (see {@link createRoutePolicy}).
 */
function matchPath(compiled: Compiled, segments: string[]): Record<string, string> | undefined {
  if (compiled.segments.length !== segments.length) return undefined;
  for (let i = 1; i < segments.length; i += 1) {
    const pattern = compiled.segments[i]!;
    const actual = segments[i]!;
    if (actual === "") return undefined;
    if (pattern.charCodeAt(0) !== COLON && pattern !== actual) return undefined;
  }
  // Only a matching route pays for its params object.
  const params: Record<string, string> = {};
  for (let i = 1; i < segments.length; i += 1) {
    const name = compiled.names[i];
    if (name !== undefined) params[name] = segments[i]!;
  }
  return params;
}

const COLON = 0x3a;

/** True when some path matches both patterns: same length, and each segment equal or a `:param` on either side. */
function patternsOverlap(a: string, b: string): boolean {
  const x = a.split("/");
  const y = b.split("/");
  if (x.length !== y.length) return false;
  return x.every((s, i) => s === y[i] || s.charCodeAt(0) === COLON || y[i]!.charCodeAt(0) === COLON);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** A run body's `webhook` field, set to anything but null/undefined/"" counts. */
function hasWebhook(body: unknown): boolean {
  return isRecord(body) && body.webhook !== undefined && body.webhook !== null && body.webhook !== "";
}

function refuse(route: ServerRoute | undefined, status: 403 | 404, reason: string): RouteDecision {
  return { allow: false, route, status, reason };
}

/**
 * Build the route policy.
 *
 * Refused by default: `POST /internal/truncate` (wipes every tenant), the
 * cron routes (the JS server answers 500 "Not implemented"), the protocol
 * routes, a run `webhook` (the server fetches that URL itself), LangSmith
 * options of a run (`feedback_keys`, `langsmith_tracer`: the server calls
 * LangSmith with its own key; checked by the run check) and
 * `DELETE /assistants/:id?delete_threads=true` (its cascade ignores tenants).
 * Store search and namespace listing must name a prefix starting with the
 * caller's tenant. A path containing `%` is refused: Hono decodes it before
 * routing, so `/internal/%74runcate` would otherwise reach a route this
 * policy never saw.
 *
 * @throws {TypeError} an unknown key or an invalid permission in `operatorPermissions`.
 * @example
 * const policy = createRoutePolicy({ operatorPermissions: { truncate: "admin:truncate" } });
 * policy.decide({ method: "POST", path: "/internal/truncate", query: new URLSearchParams() }, principal);
 */
export function createRoutePolicy(options: RoutePolicyOptions = {}): RoutePolicy {
  const operatorPermissions: Partial<Record<OperatorRoute, string>> = {};
  for (const [key, permission] of Object.entries(options.operatorPermissions ?? {})) {
    if (!(OPERATOR_ROUTES as readonly string[]).includes(key)) {
      throw new TypeError(`operatorPermissions: "${key}" is not one of ${OPERATOR_ROUTES.join(", ")}`);
    }
    if (typeof permission !== "string" || !PERMISSION_RULE.test(permission)) {
      throw new TypeError(`operatorPermissions.${key} must be a permission name (printable ASCII, no spaces)`);
    }
    operatorPermissions[key as OperatorRoute] = permission;
  }
  const extra: ServerRoute[] = (options.extraRoutes ?? []).map((r, i) => {
    if (!["GET", "POST", "PUT", "PATCH", "DELETE"].includes(r.method) || typeof r.path !== "string" || !r.path.startsWith("/")) {
      throw new TypeError(`extraRoutes[${i}] needs a method (GET, POST, PUT, PATCH, DELETE) and a path starting with "/"`);
    }
    return { id: `extra.${i}`, method: r.method, path: r.path, protection: "handler" };
  });
  const host = options.host ?? "dev";
  if (host !== "dev" && host !== "js" && host !== "platform") throw new TypeError('host must be "dev", "js" or "platform"');
  const table = host === "platform" ? PLATFORM_ROUTES : SERVER_ROUTES;
  // Extra routes are mounted before the built-in ones (server.mjs), so they
  // win: one that overlaps a server route would let every caller through to
  // it (POST /internal/truncate). Fail at start instead.
  extra.forEach((e, i) => {
    const shadowed = table.find((r) => r.method === e.method && patternsOverlap(r.path, e.path));
    if (shadowed) {
      throw new TypeError(
        `extraRoutes[${i}]: "${e.method} ${e.path}" overlaps the server's route "${shadowed.method} ${shadowed.path}"; list only the app's own routes`,
      );
    }
  });
  const routes = [...extra, ...table];
  const compiled = routes.map(compile);

  const unlocked = (group: OperatorRoute, principal: Principal): boolean => {
    const permission = operatorPermissions[group];
    return permission !== undefined && principal.permissions.includes(permission);
  };

  // Routes by method, segment count and first segment, in mounting order: a
  // request is compared only with the few routes it could match. A route
  // whose first segment is a parameter could match any first segment: it is
  // listed under every first segment of its shape (in its place), and under
  // "" for first segments no literal route has.
  const byShape = new Map<string, Map<string, Compiled[]>[]>();
  for (const c of compiled) {
    let byLength = byShape.get(c.method);
    if (byLength === undefined) byShape.set(c.method, (byLength = []));
    byLength[c.segments.length] ??= new Map();
  }
  for (const [method, byLength] of byShape) {
    byLength.forEach((byFirst, length) => {
      const shaped = compiled.filter((c) => c.method === method && c.segments.length === length);
      const firsts = new Set(shaped.map((c) => (c.names[1] === undefined ? c.segments[1]! : "")));
      firsts.add("");
      for (const first of firsts) {
        byFirst.set(first, shaped.filter((c) => c.names[1] !== undefined || (first !== "" && c.segments[1] === first)));
      }
    });
  }

  const match: RoutePolicy["match"] = (method, path) => {
    // Hono answers HEAD with the GET route. The Fetch standard upper-cases
    // the common methods already, so most requests skip toUpperCase.
    const upper = method === "GET" || method === "POST" ? method : method.toUpperCase();
    const m = upper === "HEAD" ? "GET" : upper;
    if (path.includes("%")) return undefined;
    if (!path.startsWith("/")) return undefined;
    const segments = path.split("/");
    const byFirst = byShape.get(m)?.[segments.length];
    if (byFirst === undefined) return undefined;
    const candidates = byFirst.get(segments[1]!) ?? byFirst.get("")!;
    for (const c of candidates) {
      const params = matchPath(c, segments);
      if (params) return { route: c.route, params };
    }
    return undefined;
  };

  return {
    routes,
    match,
    allowsWebhooks: (principal) => unlocked("webhooks", principal),
    allowsLangSmith: (principal) => unlocked("langsmith", principal),
    unlocks: unlocked,
    decide(request, principal, matched) {
      const found = matched ?? match(request.method, request.path);
      if (!found) return refuse(undefined, 404, "no such route");
      const { route, params } = found;
      if (route.operator && !unlocked(route.operator, principal)) {
        // 404 hides what is not offered at all; the permission name is not disclosed.
        return route.operatorRefusal === undefined ? refuse(route, 404, `${route.id} is not available`) : refuse(route, 403, route.operatorRefusal);
      }
      if (route.id === "assistants.delete" && request.query.get("delete_threads") === "true" && !unlocked("delete-threads", principal)) {
        return refuse(route, 403, "delete_threads=true deletes threads of every tenant that name this assistant; delete threads one by one");
      }
      switch (route.body) {
        case "run":
          if (hasWebhook(request.body) && !unlocked("webhooks", principal)) return refuse(route, 403, "run webhooks are not allowed");
          break;
        case "run-batch":
          if (Array.isArray(request.body) && request.body.some(hasWebhook) && !unlocked("webhooks", principal)) {
            return refuse(route, 403, "run webhooks are not allowed");
          }
          break;
        case "store-search":
        case "store-namespaces": {
          // Absent or non-JSON bodies are left to the server's validator (400).
          if (!isRecord(request.body)) break;
          const prefix = route.body === "store-search" ? request.body.namespace_prefix : request.body.prefix;
          // Same words as the store handler, which checks the same thing again.
          if (!isTenantNamespace(prefix, principal)) return refuse(route, 403, storeNamespaceHint(principal.tenant_id));
          break;
        }
        default:
          break;
      }
      return { allow: true, route, params, checks: route.checks ?? NO_CHECKS };
    },
  };
}
