/**
 * Path prefixes served by the deployment's own routes (`langgraph.json`
 * `http.app`), not by the LangGraph server. The route policy imports this
 * list to let these paths through; everything under them must be protected by
 * the Hono tenant middleware (`src/hono/tenant-middleware.ts`), because the
 * server authenticates custom routes but never runs its `.on` handlers for
 * them.
 *
 * The prefix ends in `/` so `/custom` never matches `/customers`.
 *
 * @example
 * CUSTOM_ROUTE_PREFIXES.some((prefix) => new URL(request.url).pathname.startsWith(prefix));
 */
export const CUSTOM_ROUTE_PREFIXES: readonly string[] = ["/custom/"];

/** The base path the sample app (`examples/http/app.ts`) is mounted at: `/custom`. */
export const CUSTOM_ROUTE_BASE = "/custom";

/**
 * True when `pathname` is under one of {@link CUSTOM_ROUTE_PREFIXES}.
 *
 * @example
 * isCustomRoute("/custom/tenant"); // true
 * isCustomRoute("/threads");       // false
 */
export function isCustomRoute(pathname: string): boolean {
  return CUSTOM_ROUTE_PREFIXES.some((prefix) => pathname.startsWith(prefix));
}

/**
 * The sample app's routes one by one (method and path), for a route policy
 * that allows exact routes rather than prefixes. Keep in step with
 * `examples/http/app.ts`.
 *
 * @example
 * createRoutePolicy({ extraRoutes: CUSTOM_ROUTES });
 */
export const CUSTOM_ROUTES: ReadonlyArray<{ method: "GET" | "POST"; path: string }> = [
  { method: "GET", path: `${CUSTOM_ROUTE_BASE}/tenant` },
  { method: "GET", path: `${CUSTOM_ROUTE_BASE}/notes` },
  { method: "POST", path: `${CUSTOM_ROUTE_BASE}/notes` },
];
