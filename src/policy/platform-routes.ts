import { deepFreeze } from "../lib/deep-freeze.ts";
import type { ServerRoute } from "./route-table.ts";

/**
 * Route table for LangGraph Platform (the platform's own API server in front
 * of the Node worker that runs this `Auth`): the platform column of the route
 * policy. `langgraph dev` / `startServer` use `SERVER_ROUTES`.
 *
 * On the platform `authenticate` sees a body-less `Request` rebuilt from the
 * original URL, method and headers, and no storage: every route decision here
 * reads method, path and query only. What depends on a body is decided by the
 * handlers, on the `value` the platform passes them.
 *
 * Each route names the events the platform raises for it (docs/deploying.md and the
 * conformance suite in `test/platform/` read them), what the platform checks
 * itself and what this package checks. The facts about the platform, their
 * sources and the tests that rest on them are in `docs/platform-contract.md`;
 * nothing here was run against a platform.
 */
export interface PlatformRoute extends ServerRoute {
  /** `resource:action` events the platform raises for this route, in order. */
  events: readonly string[];
  /** What the platform itself checks (the facts the package relies on). */
  platformChecks: string;
  /** What this package checks. */
  packageChecks: string;
}

/**
 * Why a cron without a thread is refused on the platform (in `authenticate`
 * and again in the `crons:create` handler, with these words): `CronCreate`
 * has no metadata to stamp, so only a thread ties a cron to a tenant. A 403
 * with this reason, not a 404: the route exists, and the client should use
 * another (docs/platform-contract.md#what-a-platform-client-sees).
 *
 * @example
 * new TenantForbiddenError(CRON_WITHOUT_THREAD); // "forbidden: a cron without a thread …"
 */
export const CRON_WITHOUT_THREAD =
  "a cron without a thread cannot be tied to your tenant; create it on a thread (POST /threads/{thread_id}/runs/crons)";

const TENANT = "the handler's tenant filter";
const RUN_EVENTS = ["threads:create_run", "assistants:search"] as const;
/** Platform fact: on run creation it calls `assistants:search` with `{ metadata: {} }` and applies the filter to the assistant lookup, system assistants exempt. */
const RUN_PLATFORM =
  "calls threads:create_run and applies its filter to the thread; then calls assistants:search with { metadata: {} } and applies that filter to the assistant (system assistants exempt)";
const RUN_PACKAGE =
  "threads:write and assistants:read; refuses webhook, LangSmith options, a foreign configurable.user_id and credential x-* headers in value.kwargs (it cannot rewrite them there); stamps run metadata (refused without a metadata object)";
/** Platform fact: joins and streams call `threads:read` with `{ run_id, thread_id }` and apply the filter; a thread id is required. */
const JOIN_PLATFORM = "calls threads:read with { run_id, thread_id } and applies the filter; requires a thread id";

const route = (
  id: string,
  method: ServerRoute["method"],
  path: string,
  events: readonly string[],
  platformChecks: string,
  packageChecks: string,
  extra: Partial<ServerRoute> = {},
): PlatformRoute => ({ id, method, path, protection: extra.operator ? "refused" : "handler", events, platformChecks, packageChecks, ...extra });

const read = (resource: string) => `${resource}:read permission; ${TENANT}`;
const write = (resource: string) => `${resource}:write permission; ${TENANT}`;
const applies = (event: string) => `calls ${event} and applies the returned filter`;
/** AUTH_SYSTEM_ASSISTANTS=visible: a request for system assistants gets a filter matching them only. */
const SYSTEM_SEARCH = `${read("assistants")}, or { created_by: "system" } when the metadata asks for created_by=system`;
const SYSTEM_READ = `${read("assistants")}, or { created_by: "system" } for a version-5 UUID (a system assistant's id)`;

/** Every route of LangGraph Platform a client of this package can reach (SDK client endpoints, `/mcp`, `/a2a`). */
export const PLATFORM_ROUTES: readonly PlatformRoute[] = deepFreeze([
  route("meta.info", "GET", "/info", [], "answers without auth", "nothing", { protection: "public" }),
  route("meta.ok", "GET", "/ok", [], "health check", "a valid token"),

  route("assistants.create", "POST", "/assistants", ["assistants:create"], "applies the stamped metadata", `${write("assistants")}; stamps metadata (refused without a metadata object); no created_by, no UUIDv5 id, no LangSmith project in config`),
  route("assistants.search", "POST", "/assistants/search", ["assistants:search"], applies("assistants:search"), SYSTEM_SEARCH),
  route("assistants.count", "POST", "/assistants/count", ["assistants:search"], applies("assistants:search"), SYSTEM_SEARCH),
  route("assistants.get", "GET", "/assistants/:assistant_id", ["assistants:read"], applies("assistants:read"), SYSTEM_READ),
  route("assistants.delete", "DELETE", "/assistants/:assistant_id", ["assistants:delete"], applies("assistants:delete"), `${write("assistants")}; ?delete_threads=true refused (operator: delete-threads)`),
  route("assistants.update", "PATCH", "/assistants/:assistant_id", ["assistants:update"], "applies the filter; merges the returned metadata", `${write("assistants")}; pins tenant_id; refuses owner, created_by and a LangSmith project in config`),
  route("assistants.graph", "GET", "/assistants/:assistant_id/graph", ["assistants:read"], applies("assistants:read"), SYSTEM_READ),
  route("assistants.schemas", "GET", "/assistants/:assistant_id/schemas", ["assistants:read"], applies("assistants:read"), SYSTEM_READ),
  route("assistants.subgraphs", "GET", "/assistants/:assistant_id/subgraphs", ["assistants:read"], applies("assistants:read"), SYSTEM_READ),
  route("assistants.subgraphs.namespace", "GET", "/assistants/:assistant_id/subgraphs/:namespace", ["assistants:read"], applies("assistants:read"), SYSTEM_READ),
  route("assistants.latest", "POST", "/assistants/:assistant_id/latest", ["assistants:update"], applies("assistants:update"), write("assistants")),
  route("assistants.versions", "POST", "/assistants/:assistant_id/versions", ["assistants:read"], applies("assistants:read"), SYSTEM_READ),

  route("threads.create", "POST", "/threads", ["threads:create"], "applies the stamped metadata", `${write("threads")}; stamps metadata (refused without a metadata object)`),
  route("threads.search", "POST", "/threads/search", ["threads:search"], applies("threads:search"), read("threads")),
  route("threads.count", "POST", "/threads/count", ["threads:search"], applies("threads:search"), read("threads")),
  route("threads.get", "GET", "/threads/:thread_id", ["threads:read"], applies("threads:read"), read("threads")),
  route("threads.delete", "DELETE", "/threads/:thread_id", ["threads:delete"], applies("threads:delete"), write("threads")),
  route("threads.update", "PATCH", "/threads/:thread_id", ["threads:update"], "applies the filter; merges the returned metadata", `${write("threads")}; pins tenant_id; refuses an owner key`),
  route("threads.copy", "POST", "/threads/:thread_id/copy", ["threads:read", "threads:create"], "reads the source with the threads:read filter, creates the copy", `${read("threads")}; threads:write`),
  route("threads.history.post", "POST", "/threads/:thread_id/history", ["threads:read"], applies("threads:read"), read("threads")),
  route("threads.state.get", "GET", "/threads/:thread_id/state", ["threads:read"], applies("threads:read"), read("threads")),
  route("threads.state.update", "POST", "/threads/:thread_id/state", ["threads:update"], applies("threads:update"), write("threads")),
  route("threads.state.patch", "PATCH", "/threads/:thread_id/state", ["threads:update"], applies("threads:update"), write("threads")),
  route("threads.state.checkpoint.get", "GET", "/threads/:thread_id/state/:checkpoint_id", ["threads:read"], applies("threads:read"), read("threads")),
  route("threads.state.checkpoint.post", "POST", "/threads/:thread_id/state/checkpoint", ["threads:read"], applies("threads:read"), read("threads")),
  route("threads.stream", "GET", "/threads/:thread_id/stream", ["threads:read"], applies("threads:read"), read("threads")),
  route("threads.prune", "POST", "/threads/prune", [], "no tenant check is known: it removes threads by id or by age across the deployment", "refused for tenants (operator: prune)", { operator: "prune" }),

  route("runs.create", "POST", "/runs", RUN_EVENTS, RUN_PLATFORM, RUN_PACKAGE),
  route("runs.stream", "POST", "/runs/stream", RUN_EVENTS, RUN_PLATFORM, RUN_PACKAGE),
  route("runs.wait", "POST", "/runs/wait", RUN_EVENTS, RUN_PLATFORM, RUN_PACKAGE),
  route("runs.batch", "POST", "/runs/batch", RUN_EVENTS, `${RUN_PLATFORM}, for each item`, RUN_PACKAGE),
  route("threads.runs.create", "POST", "/threads/:thread_id/runs", RUN_EVENTS, RUN_PLATFORM, RUN_PACKAGE),
  route("threads.runs.stream", "POST", "/threads/:thread_id/runs/stream", RUN_EVENTS, RUN_PLATFORM, RUN_PACKAGE),
  route("threads.runs.wait", "POST", "/threads/:thread_id/runs/wait", RUN_EVENTS, RUN_PLATFORM, RUN_PACKAGE),
  route("threads.runs.list", "GET", "/threads/:thread_id/runs", ["threads:read"], applies("threads:read"), read("threads")),
  route("threads.runs.get", "GET", "/threads/:thread_id/runs/:run_id", ["threads:read"], applies("threads:read"), read("threads")),
  route("threads.runs.delete", "DELETE", "/threads/:thread_id/runs/:run_id", ["threads:delete"], applies("threads:delete"), write("threads")),
  route("threads.runs.cancel", "POST", "/threads/:thread_id/runs/:run_id/cancel", ["threads:update"], applies("threads:update"), write("threads")),
  route("threads.runs.join", "GET", "/threads/:thread_id/runs/:run_id/join", ["threads:read"], JOIN_PLATFORM, read("threads")),
  route("threads.runs.join.stream", "GET", "/threads/:thread_id/runs/:run_id/stream", ["threads:read"], JOIN_PLATFORM, read("threads")),
  route("runs.join.stream", "GET", "/runs/:run_id/stream", ["threads:read"], JOIN_PLATFORM, read("threads")),
  route("runs.cancel", "POST", "/runs/cancel", ["threads:update"], "calls threads:update with { thread_id, action, metadata: { run_ids, status } } and applies the filter", write("threads")),

  route("crons.create", "POST", "/runs/crons", ["crons:create"], "a cron without a thread: nothing ties it to a tenant (CronCreate has no metadata)", "refused for tenants with 403 and the reason (operator: crons), in authenticate and again in crons:create", { operator: "crons", operatorRefusal: CRON_WITHOUT_THREAD }),
  route("threads.crons.create", "POST", "/threads/:thread_id/runs/crons", ["crons:create"], "applies the crons:create filter; each run the cron starts passes threads:create_run", "crons:write; tenant filter; the payload is checked like a run (webhook, LangSmith, user_id)"),
  route("crons.search", "POST", "/runs/crons/search", ["crons:search"], applies("crons:search"), read("crons")),
  route("crons.count", "POST", "/runs/crons/count", ["crons:search"], applies("crons:search"), read("crons")),
  route("crons.update", "PATCH", "/runs/crons/:cron_id", ["crons:update"], applies("crons:update"), `${write("crons")}; the payload is checked like a run`),
  route("crons.delete", "DELETE", "/runs/crons/:cron_id", ["crons:delete"], applies("crons:delete"), write("crons")),

  route("store.put", "PUT", "/store/items", ["store:put"], "passes the request's namespace", "store:write; namespace must start with the caller's tenant"),
  route("store.get", "GET", "/store/items", ["store:get"], "passes the request's namespace", "store:read; namespace must start with the caller's tenant"),
  route("store.delete", "DELETE", "/store/items", ["store:delete"], "passes the request's namespace", "store:write; namespace must start with the caller's tenant"),
  route("store.search", "POST", "/store/items/search", ["store:search"], "passes the request's namespace_prefix as namespace", "store:read; prefix must start with the caller's tenant"),
  route("store.namespaces", "POST", "/store/namespaces", ["store:list_namespaces"], "passes the request's prefix as namespace", "store:read; prefix must start with the caller's tenant"),

  // The streaming protocol and the MCP / A2A endpoints: no fact says which
  // handlers the platform runs for them, so tenants are refused.
  route("protocol.commands", "POST", "/threads/:thread_id/commands", [], "not known", "refused for tenants (operator: protocol)", { operator: "protocol" }),
  route("protocol.events.sse", "POST", "/threads/:thread_id/stream/events", [], "not known", "refused for tenants (operator: protocol)", { operator: "protocol" }),
  route("protocol.events.ws", "GET", "/threads/:thread_id/stream/events", [], "not known", "refused for tenants (operator: protocol)", { operator: "protocol" }),
  route("mcp.post", "POST", "/mcp", [], "not known: runs assistants as MCP tools", "refused for tenants (operator: mcp)", { operator: "mcp" }),
  route("mcp.get", "GET", "/mcp", [], "not known", "refused for tenants (operator: mcp)", { operator: "mcp" }),
  route("mcp.delete", "DELETE", "/mcp", [], "not known", "refused for tenants (operator: mcp)", { operator: "mcp" }),
  route("a2a.post", "POST", "/a2a/:assistant_id", [], "not known: runs an assistant over A2A", "refused for tenants (operator: a2a)", { operator: "a2a" }),

  route("ui.render", "POST", "/ui/:assistant_id", [], "serves a graph's UI bundle (no tenant data)", "a valid token"),
]);
