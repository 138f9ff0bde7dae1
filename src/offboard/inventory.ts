/**
 * Everything the tenant owns, as the tenant sees it: threads (and their runs,
 * to find those in flight), crons where the deployment serves them, the
 * tenant's own assistants (never system assistants) and the store items
 * under the tenant's namespace label. Something the deployment shows the
 * tenant but stamped with another tenant is never touched: it is reported.
 */
import { systemAssistantId } from "../policy/run-assistant.ts";
import type { Preflight } from "./preflight.ts";
import type { Json, TenantApi } from "./tenant-api.ts";

/**
 * The kinds, in the order they are erased.
 *
 * @example
 * ERASE_ORDER[0]; // "crons": no new work starts while the rest is deleted
 */
export const ERASE_ORDER = ["crons", "runs", "threads", "assistants", "store"] as const;
/** One kind of the tenant's state (`runs` are the runs in flight). */
export type Kind = (typeof ERASE_ORDER)[number];

/** A store item's address. */
export interface StoreItemRef {
  namespace: string[];
  key: string;
}

/** A run still pending or running. */
export interface RunRef {
  thread_id: string;
  run_id: string;
  status: string;
}

/** What the tenant owns. */
export interface Inventory {
  threads: Json[];
  /** Every run of each thread, by thread id (the export holds them). */
  runsByThread: Map<string, Json[]>;
  runsInFlight: RunRef[];
  crons: Json[];
  assistants: Json[];
  store: Array<StoreItemRef & Json>;
  /** What the deployment shows the tenant with another tenant's stamp: an isolation problem, never deleted. */
  foreign: string[];
}

const IN_FLIGHT = new Set(["pending", "running"]);

/**
 * The id of an entry (`thread_id`, `assistant_id`, `cron_id`); `""` when it has none.
 *
 * @example
 * idOf({ thread_id: "t-1" }, "thread_id"); // "t-1"
 */
export const idOf = (entry: Json, field: string): string => (typeof entry[field] === "string" ? (entry[field] as string) : "");

/**
 * True for a system assistant (one per graph, created by the server, shared
 * by every tenant): `metadata.created_by` is `"system"`, or its id is the
 * graph's `uuid5`.
 *
 * @example
 * isSystemAssistant({ assistant_id: systemAssistantId("echo"), graph_id: "echo", metadata: {} }); // true
 */
export function isSystemAssistant(assistant: Json): boolean {
  const metadata = (assistant.metadata ?? {}) as Json;
  if (metadata.created_by === "system") return true;
  return typeof assistant.graph_id === "string" && assistant.assistant_id === systemAssistantId(assistant.graph_id);
}

const tenantOf = (entry: Json): unknown => ((entry.metadata ?? {}) as Json).tenant_id;

/**
 * The store items under the tenant's label (prefix search: every namespace below it).
 *
 * @example
 * const items = await listStoreItems(api, "acme~2Eeu"); // [{ namespace: ["acme~2Eeu", "notes"], key: "k1", value: … }]
 */
export async function listStoreItems(api: TenantApi, label: string): Promise<Array<StoreItemRef & Json>> {
  const items = await api.search("listing store items", "/store/items/search", { namespace_prefix: [label] });
  return items.filter((item): item is StoreItemRef & Json => Array.isArray(item.namespace) && item.namespace[0] === label && typeof item.key === "string");
}

/**
 * List everything the tenant owns.
 *
 * @example
 * const inventory = await takeInventory(api, preflight);
 * inventory.threads.length;
 */
export async function takeInventory(api: TenantApi, preflight: Preflight): Promise<Inventory> {
  const inventory: Inventory = { threads: [], runsByThread: new Map(), runsInFlight: [], crons: [], assistants: [], store: [], foreign: [] };
  for (const thread of await api.search("listing threads", "/threads/search")) {
    const id = idOf(thread, "thread_id");
    if (tenantOf(thread) !== preflight.tenant) {
      inventory.foreign.push(`thread ${id} (stamped ${JSON.stringify(tenantOf(thread) ?? null)})`);
      continue;
    }
    inventory.threads.push(thread);
    const runs = await api.runs(id);
    inventory.runsByThread.set(id, runs);
    for (const run of runs) {
      if (typeof run.status === "string" && IN_FLIGHT.has(run.status)) inventory.runsInFlight.push({ thread_id: id, run_id: idOf(run, "run_id"), status: run.status });
    }
  }
  if (preflight.cronsServed) {
    // A cron carries no tenant stamp of its own on every host: it is the tenant's when it is stamped so, or when it
    // runs on one of the tenant's threads. Any other cron the deployment shows is reported, never deleted.
    const threadIds = new Set(inventory.threads.map((t) => idOf(t, "thread_id")));
    for (const cron of await api.search("listing crons", "/runs/crons/search")) {
      const stamp = tenantOf(cron);
      if (stamp === preflight.tenant || (stamp === undefined && threadIds.has(idOf(cron, "thread_id")))) inventory.crons.push(cron);
      else inventory.foreign.push(`cron ${idOf(cron, "cron_id")} (${stamp === undefined ? "not on one of the tenant's threads" : `stamped ${JSON.stringify(stamp)}`})`);
    }
  }
  for (const assistant of await api.search("listing assistants", "/assistants/search")) {
    if (isSystemAssistant(assistant)) continue;
    if (tenantOf(assistant) !== preflight.tenant) {
      inventory.foreign.push(`assistant ${idOf(assistant, "assistant_id")} (stamped ${JSON.stringify(tenantOf(assistant) ?? null)})`);
      continue;
    }
    inventory.assistants.push(assistant);
  }
  inventory.store = await listStoreItems(api, preflight.label);
  return inventory;
}

/** Counts by kind, and the store's namespaces. */
export interface InventoryCounts {
  crons: number;
  runs: number;
  threads: number;
  assistants: number;
  store: number;
  store_namespaces: number;
}

/**
 * The counts of an inventory.
 *
 * @example
 * countInventory(inventory); // { crons: 0, runs: 1, threads: 4, assistants: 2, store: 6, store_namespaces: 3 }
 */
export function countInventory(inventory: Inventory): InventoryCounts {
  return {
    crons: inventory.crons.length,
    runs: inventory.runsInFlight.length,
    threads: inventory.threads.length,
    assistants: inventory.assistants.length,
    store: inventory.store.length,
    store_namespaces: new Set(inventory.store.map((item) => JSON.stringify(item.namespace))).size,
  };
}
