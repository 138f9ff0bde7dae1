/**
 * The sample app's routes (`examples/http/app.ts`) one by one, method and
 * path. The published auth ships no custom routes: this deployment lets them
 * through by setting `AUTH_CUSTOM_ROUTES` in its `langgraph.json` `env`, and
 * `test/examples/custom-routes.test.ts` checks that value names exactly
 * these routes, so the list and the variable cannot drift apart.
 */

/** The base path the sample app (`examples/http/app.ts`) is mounted at: `/custom`. */
export const CUSTOM_ROUTE_BASE = "/custom";

/**
 * The sample app's routes, for a route policy that allows exact routes.
 * Keep in step with `examples/http/app.ts` and `langgraph.json`.
 *
 * @example
 * createRoutePolicy({ extraRoutes: CUSTOM_ROUTES });
 */
export const CUSTOM_ROUTES: ReadonlyArray<{ method: "GET" | "POST"; path: string }> = [
  { method: "GET", path: `${CUSTOM_ROUTE_BASE}/tenant` },
  { method: "GET", path: `${CUSTOM_ROUTE_BASE}/notes` },
  { method: "POST", path: `${CUSTOM_ROUTE_BASE}/notes` },
];
