/**
 * The route table of the LangGraph JS API server (`@langchain/langgraph-api`
 * 1.5.1): every route, how it is protected, which body fields matter and
 * which operator permission unlocks it. The route policy decides over it in
 * `authenticate`, before any route runs.
 *
 * Why it exists: `.on` handlers only protect what the server routes through
 * them. Some routes call no handler at all (`POST /internal/truncate`, the
 * protocol routes, `GET /runs/:run_id/stream`), some act on things the
 * handler never sees (`?delete_threads=true`, a run's `webhook`). Those are
 * refused here for tenants, unless the operator names a permission that
 * unlocks them. Every route is listed; anything else is refused (404), so a
 * route a later server version adds is closed until someone reviews it.
 *
 * This file is the data; `route-policy.ts` is the engine that decides over it
 * (and over `platform-routes.ts`, the platform's table).
 *
 * Both tables are deeply frozen: the policy decides over these very objects,
 * so a caller can read them but never rewrite a route.
 */
import { deepFreeze } from "../lib/deep-freeze.ts";

/** Routes the policy refuses unless a permission unlocks them (see `operatorPermissions` of `createRoutePolicy`). */
export const OPERATOR_ROUTES = deepFreeze(["truncate", "crons", "protocol", "webhooks", "delete-threads", "langsmith", "prune", "mcp", "a2a"] as const);
export type OperatorRoute = (typeof OPERATOR_ROUTES)[number];

/**
 * A check that needs the server's storage, run by the guard after the pure
 * decision: `run-in-thread` (the run exists and belongs to the path's thread,
 * which is in the caller's tenant), `run-in-tenant` (the run's thread is in
 * the caller's tenant).
 */
export type RouteCheck = "run-in-thread" | "run-in-tenant";

/** How a route is protected (docs/security-model.md tabulates it). */
export type RouteProtection =
  | "public"
  | "handler"
  | "handler+policy"
  | "storage-check"
  | "refused";

/** One route of the server's table. */
export interface ServerRoute {
  /** Stable id, e.g. `threads.runs.create`. */
  id: string;
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Hono pattern, e.g. `/threads/:thread_id/runs`. */
  path: string;
  protection: RouteProtection;
  /** Refused unless this operator route is unlocked. */
  operator?: OperatorRoute;
  /**
   * When `operator` refuses: a 403 with this reason instead of the 404 that
   * hides the route (for a route the caller may use otherwise, so the answer
   * says what to do instead).
   */
  operatorRefusal?: string;
  /** Checks the guard runs against the server's storage. */
  checks?: readonly RouteCheck[];
  /** The body matters: the guard reads it (bounded) and passes it in. */
  body?: "run" | "run-batch" | "store-search" | "store-namespaces";
}

const RUN = { protection: "handler+policy", body: "run" } as const;

/**
 * Every route of `@langchain/langgraph-api` 1.5.1 (server.mjs, api/*.mjs,
 * ui/load.mjs). `GET /info` and `GET /ui/*` never reach `authenticate`.
 */
export const SERVER_ROUTES: readonly ServerRoute[] = deepFreeze([
  { id: "meta.info", method: "GET", path: "/info", protection: "public" },
  { id: "meta.ok", method: "GET", path: "/ok", protection: "handler" },
  { id: "internal.truncate", method: "POST", path: "/internal/truncate", protection: "refused", operator: "truncate" },

  { id: "assistants.create", method: "POST", path: "/assistants", protection: "handler" },
  { id: "assistants.search", method: "POST", path: "/assistants/search", protection: "handler" },
  { id: "assistants.count", method: "POST", path: "/assistants/count", protection: "handler" },
  { id: "assistants.get", method: "GET", path: "/assistants/:assistant_id", protection: "handler" },
  { id: "assistants.delete", method: "DELETE", path: "/assistants/:assistant_id", protection: "handler+policy" },
  { id: "assistants.update", method: "PATCH", path: "/assistants/:assistant_id", protection: "handler" },
  { id: "assistants.graph", method: "GET", path: "/assistants/:assistant_id/graph", protection: "handler" },
  { id: "assistants.schemas", method: "GET", path: "/assistants/:assistant_id/schemas", protection: "handler" },
  { id: "assistants.subgraphs", method: "GET", path: "/assistants/:assistant_id/subgraphs", protection: "handler" },
  { id: "assistants.subgraphs.namespace", method: "GET", path: "/assistants/:assistant_id/subgraphs/:namespace", protection: "handler" },
  { id: "assistants.latest", method: "POST", path: "/assistants/:assistant_id/latest", protection: "handler" },
  { id: "assistants.versions", method: "POST", path: "/assistants/:assistant_id/versions", protection: "handler" },

  { id: "threads.create", method: "POST", path: "/threads", protection: "handler" },
  { id: "threads.search", method: "POST", path: "/threads/search", protection: "handler" },
  { id: "threads.count", method: "POST", path: "/threads/count", protection: "handler" },
  { id: "threads.state.get", method: "GET", path: "/threads/:thread_id/state", protection: "handler" },
  { id: "threads.state.update", method: "POST", path: "/threads/:thread_id/state", protection: "handler" },
  { id: "threads.state.checkpoint.get", method: "GET", path: "/threads/:thread_id/state/:checkpoint_id", protection: "handler" },
  { id: "threads.state.checkpoint.post", method: "POST", path: "/threads/:thread_id/state/checkpoint", protection: "handler" },
  { id: "threads.history.get", method: "GET", path: "/threads/:thread_id/history", protection: "handler" },
  { id: "threads.history.post", method: "POST", path: "/threads/:thread_id/history", protection: "handler" },
  { id: "threads.get", method: "GET", path: "/threads/:thread_id", protection: "handler" },
  { id: "threads.delete", method: "DELETE", path: "/threads/:thread_id", protection: "handler" },
  { id: "threads.update", method: "PATCH", path: "/threads/:thread_id", protection: "handler" },
  { id: "threads.copy", method: "POST", path: "/threads/:thread_id/copy", protection: "handler" },

  { id: "crons.create", method: "POST", path: "/runs/crons", protection: "refused", operator: "crons" },
  { id: "crons.search", method: "POST", path: "/runs/crons/search", protection: "refused", operator: "crons" },
  { id: "crons.delete", method: "DELETE", path: "/runs/crons/:cron_id", protection: "refused", operator: "crons" },
  { id: "threads.crons.create", method: "POST", path: "/threads/:thread_id/runs/crons", protection: "refused", operator: "crons" },

  { id: "runs.stream", method: "POST", path: "/runs/stream", ...RUN },
  { id: "runs.join.stream", method: "GET", path: "/runs/:run_id/stream", protection: "storage-check", checks: ["run-in-tenant"] },
  { id: "runs.wait", method: "POST", path: "/runs/wait", ...RUN },
  { id: "runs.create", method: "POST", path: "/runs", ...RUN },
  { id: "runs.batch", method: "POST", path: "/runs/batch", protection: "handler+policy", body: "run-batch" },
  { id: "threads.runs.list", method: "GET", path: "/threads/:thread_id/runs", protection: "handler" },
  { id: "threads.runs.create", method: "POST", path: "/threads/:thread_id/runs", ...RUN },
  { id: "threads.runs.stream", method: "POST", path: "/threads/:thread_id/runs/stream", ...RUN },
  { id: "threads.runs.wait", method: "POST", path: "/threads/:thread_id/runs/wait", ...RUN },
  { id: "threads.runs.get", method: "GET", path: "/threads/:thread_id/runs/:run_id", protection: "handler" },
  { id: "threads.runs.delete", method: "DELETE", path: "/threads/:thread_id/runs/:run_id", protection: "handler" },
  { id: "threads.runs.join", method: "GET", path: "/threads/:thread_id/runs/:run_id/join", protection: "storage-check", checks: ["run-in-thread"] },
  { id: "threads.runs.join.stream", method: "GET", path: "/threads/:thread_id/runs/:run_id/stream", protection: "storage-check", checks: ["run-in-thread"] },
  { id: "threads.runs.cancel", method: "POST", path: "/threads/:thread_id/runs/:run_id/cancel", protection: "handler" },

  { id: "store.namespaces", method: "POST", path: "/store/namespaces", protection: "handler+policy", body: "store-namespaces" },
  { id: "store.search", method: "POST", path: "/store/items/search", protection: "handler+policy", body: "store-search" },
  { id: "store.put", method: "PUT", path: "/store/items", protection: "handler" },
  { id: "store.delete", method: "DELETE", path: "/store/items", protection: "handler" },
  { id: "store.get", method: "GET", path: "/store/items", protection: "handler" },

  // Protocol routes call no handler and share one in-memory record per
  // thread id, acting with whoever created it first (protocol/service.mjs).
  { id: "protocol.events.ws", method: "GET", path: "/threads/:thread_id/stream/events", protection: "refused", operator: "protocol" },
  { id: "protocol.commands", method: "POST", path: "/threads/:thread_id/commands", protection: "refused", operator: "protocol" },
  { id: "protocol.events.sse", method: "POST", path: "/threads/:thread_id/stream/events", protection: "refused", operator: "protocol" },

  { id: "ui.render", method: "POST", path: "/ui/:agent", protection: "handler" },
  { id: "ui.asset", method: "GET", path: "/ui/:agent/:basename", protection: "public" },
]);
