import { z } from "zod";
import { deepFreeze } from "../lib/deep-freeze.ts";

/** The methods a custom route may name (frozen). */
export const CUSTOM_ROUTE_METHODS = deepFreeze(["GET", "POST", "PUT", "PATCH", "DELETE"] as const);

/** One route of the app's own `http.app`, as `AUTH_CUSTOM_ROUTES` names it. */
export interface CustomRoute {
  method: (typeof CUSTOM_ROUTE_METHODS)[number];
  /** A Hono pattern: literal segments and `:name` parameters, e.g. `/custom/notes/:id`. */
  path: string;
}

// One segment: a literal of URL-safe characters, or a `:name` parameter. No
// `%` (the route policy never matches encoded paths), no `*`, `?` or regex
// groups: a pattern wider than the app's routes would let other paths through.
const SEGMENT = /^(?:[A-Za-z0-9._~-]{1,100}|:[A-Za-z_][A-Za-z0-9_]{0,63})$/;

/** Why `entry` is not `METHOD /path`, or `undefined` when it is. */
function problemOf(entry: string): string | undefined {
  const parts = entry.split(/\s+/);
  if (parts.length !== 2) return `"${entry}" is not METHOD /path`;
  const [method, path] = parts as [string, string];
  if (!(CUSTOM_ROUTE_METHODS as readonly string[]).includes(method)) {
    return `"${entry}": the method must be one of ${CUSTOM_ROUTE_METHODS.join(", ")}`;
  }
  const segments = path.split("/");
  if (segments[0] !== "" || segments.length < 2 || !segments.slice(1).every((s) => SEGMENT.test(s))) {
    return `"${entry}": the path must start with "/" and hold only literal segments ([A-Za-z0-9._~-]) and :name parameters, with no empty segment or trailing "/"`;
  }
  return undefined;
}

/**
 * `AUTH_CUSTOM_ROUTES`: the routes of the app's own `http.app` (comma-separated
 * `METHOD /path` pairs) that the route policy lets through to the app, whose
 * own middleware must guard them (`langgraph-tenant-auth/hono`). The server
 * authenticates custom routes but runs no `.on` handler for them. Every other
 * path the server does not serve stays refused (404).
 *
 * A route that is also one of the LangGraph server's is refused when the
 * policy is built (`createRoutePolicy`), so this list can never open a
 * built-in route. Default: none.
 *
 * @example
 * // AUTH_CUSTOM_ROUTES="GET /custom/tenant,GET /custom/notes,POST /custom/notes"
 * customRoutesVariable.parse("GET /custom/tenant"); // [{ method: "GET", path: "/custom/tenant" }]
 */
export const customRoutesVariable = z
  .string()
  .transform((value) => value.split(",").map((part) => part.trim()).filter(Boolean))
  .superRefine((entries, ctx) => {
    if (entries.length === 0) ctx.addIssue({ code: "custom", message: "AUTH_CUSTOM_ROUTES must list at least one METHOD /path pair" });
    const seen = new Set<string>();
    for (const entry of entries) {
      const problem = problemOf(entry);
      if (problem) ctx.addIssue({ code: "custom", message: `AUTH_CUSTOM_ROUTES: ${problem}` });
      const key = entry.replace(/\s+/g, " ");
      if (seen.has(key)) ctx.addIssue({ code: "custom", message: `AUTH_CUSTOM_ROUTES: "${entry}" is listed twice` });
      seen.add(key);
    }
  })
  .transform((entries): CustomRoute[] =>
    entries.map((entry) => {
      const [method, path] = entry.split(/\s+/) as [CustomRoute["method"], string];
      return { method, path };
    }),
  );
