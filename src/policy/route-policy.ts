import type { RefusalReason, ResourceIds } from "../errors.ts";
import type { Principal } from "../tenant/principal.ts";
import { PLATFORM_ROUTES } from "./platform-routes.ts";
import { isTenantNamespace, namespaceResources, refusedNamespaceReason, storeNamespaceHint } from "./store-namespace.ts";
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
  | {
      allow: false;
      route: ServerRoute | undefined;
      status: 403 | 404;
      /** What the refusal says (the error's description). */
      reason: string;
      /** Why, from `REFUSAL_REASONS` (what the decision log records). */
      reasonCode: RefusalReason;
      /** The resources the refused request named, when the decision read them (a store prefix). */
      resources?: ResourceIds;
    };

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

/**
 * A route prepared for matching. Every field is present on every record (one
 * object shape): the route tables' own objects differ in which optional
 * fields they carry, and reading a field one lacks is slow.
 */
interface Compiled {
  route: ServerRoute;
  id: string;
  method: string;
  /** `path.split("/").length`: one more than the slashes. */
  length: number;
  /** Per segment after the leading "": the literal text, or `undefined` for a `:name`. */
  literals: (string | undefined)[];
  /** Per segment after the leading "": the parameter's name, or `undefined` for a literal. */
  names: (string | undefined)[];
  operator: OperatorRoute | undefined;
  operatorRefusal: string | undefined;
  body: ServerRoute["body"];
  checks: readonly RouteCheck[];
}

function compile(route: ServerRoute): Compiled {
  const segments = route.path.split("/").slice(1);
  return {
    route,
    id: route.id,
    method: route.method,
    length: segments.length + 1,
    literals: segments.map((segment) => (segment.charCodeAt(0) === COLON ? undefined : segment)),
    names: segments.map((segment) => (segment.charCodeAt(0) === COLON ? segment.slice(1) : undefined)),
    operator: route.operator,
    operatorRefusal: route.operatorRefusal,
    body: route.body,
    checks: route.checks ?? NO_CHECKS,
  };
}

/** `path.split("/").length`, without making the parts. */
function segmentCount(path: string): number {
  let count = 1;
  for (let at = path.indexOf("/"); at !== -1; at = path.indexOf("/", at + 1)) count += 1;
  return count;
}

/**
 * Match like Hono's router does for these patterns: literal segments are
 * exact and case-sensitive, `:name` is one non-empty segment, no trailing
 * slash. Percent-encoded paths are never matched (see {@link createRoutePolicy}).
 * `path` starts with "/" and has `compiled.length` segments. Literals are
 * compared in place; only a matching route's parameters are cut out.
 */
function matchPath(compiled: Compiled, path: string): Record<string, string> | undefined {
  const { literals } = compiled;
  let from = 1;
  for (let i = 0; i < literals.length; i += 1) {
    const next = path.indexOf("/", from);
    const end = next === -1 ? path.length : next;
    if (end === from) return undefined;
    const literal = literals[i];
    if (literal !== undefined && (end - from !== literal.length || !path.startsWith(literal, from))) return undefined;
    from = end + 1;
  }
  const params: Record<string, string> = {};
  from = 1;
  for (let i = 0; i < literals.length; i += 1) {
    const next = path.indexOf("/", from);
    const end = next === -1 ? path.length : next;
    const name = compiled.names[i];
    if (name !== undefined) params[name] = path.slice(from, end);
    from = end + 1;
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

function refuse(route: ServerRoute | undefined, status: 403 | 404, reason: string, reasonCode: RefusalReason, resources?: ResourceIds): RouteDecision {
  return resources === undefined ? { allow: false, route, status, reason, reasonCode } : { allow: false, route, status, reason, reasonCode, resources };
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
    return Object.freeze({ id: `extra.${i}`, method: r.method, path: r.path, protection: "handler" as const });
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
  // Frozen like the tables: a decision hands out these very route objects.
  const routes: readonly ServerRoute[] = Object.freeze([...extra, ...table]);
  const compiled = routes.map(compile);

  const unlocked = (group: OperatorRoute, principal: Principal): boolean => {
    const permission = operatorPermissions[group];
    return permission !== undefined && principal.permissions.includes(permission);
  };

  // Routes by method, segment count and the first character of the path
  // after "/", in mounting order: a request is compared only with the few
  // routes it could match, and nothing is cut out of its path to find them.
  // A route whose first segment is a parameter could match any first
  // character: it is listed in every bucket of its shape (in its place), and
  // alone under OTHER for characters no literal route starts with.
  const OTHER = 128;
  const byShape = new Map<string, Compiled[][][]>();
  for (const c of compiled) {
    let byLength = byShape.get(c.method);
    if (byLength === undefined) byShape.set(c.method, (byLength = []));
    byLength[c.length] ??= [];
  }
  for (const [method, byLength] of byShape) {
    byLength.forEach((byFirst, length) => {
      const shaped = compiled.filter((c) => c.method === method && c.length === length);
      const anyFirst = (c: Compiled) => c.literals[0] === undefined;
      for (let code = 0; code <= OTHER; code += 1) {
        byFirst[code] = shaped.filter((c) => anyFirst(c) || (code < OTHER && c.literals[0]!.charCodeAt(0) === code));
      }
    });
  }
  /** The route record a match names (each table route is compiled once). */
  const compiledOf = new Map<ServerRoute, Compiled>(compiled.map((c) => [c.route, c]));

  const match: RoutePolicy["match"] = (method, path) => {
    // Hono answers HEAD with the GET route. The Fetch standard upper-cases
    // the common methods already, so most requests skip toUpperCase.
    const upper = method === "GET" || method === "POST" ? method : method.toUpperCase();
    const m = upper === "HEAD" ? "GET" : upper;
    if (path.includes("%")) return undefined;
    if (!path.startsWith("/")) return undefined;
    const byFirst = byShape.get(m)?.[segmentCount(path)];
    if (byFirst === undefined) return undefined;
    const first = path.charCodeAt(1);
    const candidates = byFirst[first < OTHER ? first : OTHER]!;
    for (const c of candidates) {
      const params = matchPath(c, path);
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
      if (!found) return refuse(undefined, 404, "no such route", "unknown_route");
      const { route, params } = found;
      const c = compiledOf.get(route);
      if (c === undefined) return refuse(undefined, 404, "no such route", "unknown_route");
      if (c.operator && !unlocked(c.operator, principal)) {
        // 404 hides what is not offered at all; the permission name is not disclosed.
        return c.operatorRefusal === undefined
          ? refuse(route, 404, `${c.id} is not available`, "operator_only")
          : refuse(route, 403, c.operatorRefusal, "operator_only");
      }
      if (c.id === "assistants.delete" && request.query.get("delete_threads") === "true" && !unlocked("delete-threads", principal)) {
        return refuse(route, 403, "delete_threads=true deletes threads of every tenant that name this assistant; delete threads one by one", "operator_only");
      }
      switch (c.body) {
        case "run":
          if (hasWebhook(request.body) && !unlocked("webhooks", principal)) return refuse(route, 403, "run webhooks are not allowed", "run_option_refused");
          break;
        case "run-batch":
          if (Array.isArray(request.body) && request.body.some(hasWebhook) && !unlocked("webhooks", principal)) {
            return refuse(route, 403, "run webhooks are not allowed", "run_option_refused");
          }
          break;
        case "store-search":
        case "store-namespaces": {
          // Absent or non-JSON bodies are left to the server's validator (400).
          if (!isRecord(request.body)) break;
          const prefix = c.body === "store-search" ? request.body.namespace_prefix : request.body.prefix;
          // Same words as the store handler, which checks the same thing again.
          if (!isTenantNamespace(prefix, principal)) {
            return refuse(route, 403, storeNamespaceHint(principal.tenant_id), refusedNamespaceReason(prefix), namespaceResources(prefix));
          }
          break;
        }
        default:
          break;
      }
      return { allow: true, route, params, checks: c.checks };
    },
  };
}
