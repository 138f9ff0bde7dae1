/**
 * The `value` LangGraph Platform passes with each event, per route: the
 * shapes of `@langchain/langgraph-sdk/auth`'s event types (`ThreadsCreate`,
 * `RunsCreate`, `CronsCreate`, …), the same the `@langchain/langgraph-api`
 * server passes (storage/ops.mjs), and the platform calls docs/platform-contract.md names
 * exactly (`assistants:search` with `{ metadata: {} }` on run creation,
 * `threads:read` with `{ run_id, thread_id }` on joins, `threads:update` with
 * `{ thread_id, action, metadata: { run_ids, status } }` on bulk cancel).
 */

/** Ids of one tenant's resources. */
export interface Ids {
  tenant: string;
  identity: string;
  thread: string;
  run: string;
  assistant: string;
  cron: string;
}

/** The permission an event needs, as docs/configuration.md states it (independent of `src/`). */
export function neededPermission(event: string): string {
  const [resource, action] = event.split(":") as [string, string];
  const write = ["create", "update", "delete", "create_run", "put"].includes(action);
  return `${resource}:${write ? "write" : "read"}`;
}

/** Events whose value carries the tenant stamp in `metadata`. */
export const STAMPED_EVENTS = new Set(["threads:create", "assistants:create", "threads:create_run"]);

/** The value the platform passes for `event` when serving `routeId`. */
export function sampleValue(routeId: string, event: string, ids: Ids): Record<string, unknown> {
  const namespace = [ids.tenant, "notes"];
  switch (event) {
    case "threads:create":
      return routeId === "threads.copy"
        ? { thread_id: "0192f000-0000-7000-8000-00000000c0de", metadata: { tenant_id: ids.tenant, owner: ids.identity, thread_id: "x" } }
        : { thread_id: ids.thread, metadata: { topic: "demo" }, if_exists: "raise" };
    case "threads:read":
      return routeId.includes("join") ? { run_id: ids.run, thread_id: ids.thread } : { thread_id: ids.thread };
    case "threads:update":
      if (routeId === "runs.cancel") return { thread_id: ids.thread, action: "interrupt", metadata: { run_ids: [ids.run], status: "pending" } };
      if (routeId === "threads.runs.cancel") return { thread_id: ids.thread, run_id: ids.run, action: "interrupt" };
      return routeId === "threads.update" ? { thread_id: ids.thread, metadata: { topic: "renamed" } } : { thread_id: ids.thread };
    case "threads:delete":
      return routeId === "threads.runs.delete" ? { run_id: ids.run, thread_id: ids.thread } : { thread_id: ids.thread };
    case "threads:search":
      return { metadata: {}, values: {}, status: null, limit: 10, offset: 0 };
    case "threads:create_run":
      return {
        thread_id: routeId.startsWith("threads.") ? ids.thread : null,
        assistant_id: ids.assistant,
        run_id: ids.run,
        status: "pending",
        metadata: {},
        prevent_insert_if_inflight: true,
        multitask_strategy: "reject",
        if_not_exists: routeId.startsWith("threads.") ? "reject" : "create",
        after_seconds: 0,
        kwargs: { input: { messages: [] }, config: { configurable: { "x-request-id": "r-1", "user-agent": "sdk" } }, stream_mode: ["values"] },
      };
    case "assistants:search":
      // Run creation: the platform's own ownership call, exactly this value.
      return routeId.startsWith("assistants.") ? { graph_id: "echo", metadata: {}, limit: 10, offset: 0 } : { metadata: {} };
    case "assistants:create":
      return { assistant_id: ids.assistant, graph_id: "echo", config: {}, context: {}, metadata: {}, if_exists: "raise", name: "mine" };
    case "assistants:read":
      return { assistant_id: ids.assistant };
    case "assistants:update":
      return routeId === "assistants.latest" ? { assistant_id: ids.assistant, version: 2 } : { assistant_id: ids.assistant, metadata: { label: "x" }, name: "renamed" };
    case "assistants:delete":
      return { assistant_id: ids.assistant };
    case "crons:create":
      return { thread_id: ids.thread, payload: { assistant_id: ids.assistant, input: {} }, schedule: "*/5 * * * *" };
    case "crons:search":
      return { thread_id: ids.thread, limit: 10, offset: 0 };
    case "crons:update":
      return { cron_id: ids.cron, schedule: "0 * * * *" };
    case "crons:delete":
      return { cron_id: ids.cron };
    case "store:put":
      return { namespace, key: "k", value: { text: "hi" }, index: null };
    case "store:get":
    case "store:delete":
      return { namespace, key: "k" };
    case "store:search":
      return { namespace, filter: null, limit: 10, offset: 0, query: null };
    case "store:list_namespaces":
      return { namespace, suffix: null, max_depth: null, limit: 100, offset: 0 };
    default:
      throw new Error(`no sample for ${event}`);
  }
}
