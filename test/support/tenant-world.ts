/**
 * A tenant's world on a real server, built and read through the official
 * SDK client (an oracle independent of the command under test): threads
 * with checkpoints and history, a run still in flight (on the `hold` graph,
 * see `hold-graph.ts`), two assistants with two versions each, store items
 * in several namespaces, and the full dump used to prove what changed.
 */
import type { Client } from "@langchain/langgraph-sdk";
import { sdkClientFor } from "./sdk-client.ts";
import { waitFor } from "./wait-for.ts";

/** How big a world to build. */
export interface TenantWorldOptions {
  /** Threads with two finished runs each (plus one more thread holding the run in flight). Default 3. */
  threads?: number;
  /** Store items per namespace; three namespaces under the label. Default 2. */
  itemsPerNamespace?: number;
  /** Start a run on the `hold` graph that stays in flight. Default true. */
  inFlight?: boolean;
}

/** What was built. */
export interface TenantWorld {
  threads: string[];
  assistants: string[];
  inFlight?: { thread: string; run: string };
  items: string[];
}

/** Everything a tenant sees, sorted, for before/after comparisons. */
export interface TenantDump {
  threads: Array<{ thread: unknown; state: unknown; history: unknown[]; runs: unknown[] }>;
  assistants: Array<{ assistant: unknown; versions: unknown[] }>;
  crons: unknown[] | { notServed: number };
  store: Array<{ namespace: string[]; key: string; value: unknown }>;
}

const byId = (field: string) => (a: unknown, b: unknown) => String((a as Record<string, unknown>)[field]).localeCompare(String((b as Record<string, unknown>)[field]));

/**
 * Build a tenant's world as that tenant.
 *
 * @example
 * const world = await buildTenantWorld(server.url, tokenA, "acme~2Eeu", { threads: 3 });
 */
export async function buildTenantWorld(url: string, token: string, label: string, options: TenantWorldOptions = {}): Promise<TenantWorld> {
  const client = sdkClientFor(url, token);
  const world: TenantWorld = { threads: [], assistants: [], items: [] };
  for (const n of [1, 2]) {
    const assistant = await client.assistants.create({ graphId: "echo", name: `assistant ${n}`, config: { configurable: { secret: `${label}-config-${n}` } }, metadata: { purpose: `p${n}` } });
    await client.assistants.update(assistant.assistant_id, { name: `assistant ${n}, second version` });
    world.assistants.push(assistant.assistant_id);
  }
  for (let n = 0; n < (options.threads ?? 3); n++) {
    const thread = await client.threads.create({ metadata: { topic: `topic-${n}` } });
    for (const text of [`first message ${n} of ${label}`, `second message ${n} of ${label}`]) {
      await client.runs.wait(thread.thread_id, world.assistants[n % 2]!, { input: { messages: [{ role: "human", content: text }] } });
    }
    world.threads.push(thread.thread_id);
  }
  if (options.inFlight ?? true) {
    const thread = await client.threads.create({ metadata: { topic: "in flight" } });
    const run = await client.runs.create(thread.thread_id, "hold", { input: { messages: [{ role: "human", content: "hold on" }] } });
    await waitFor(async () => (await client.runs.get(thread.thread_id, run.run_id)).status === "running", `the run of ${label} to be running`);
    world.threads.push(thread.thread_id);
    world.inFlight = { thread: thread.thread_id, run: run.run_id };
  }
  for (const namespace of [["notes"], ["prefs", "ui"], ["memories", "long-term"]]) {
    for (let n = 0; n < (options.itemsPerNamespace ?? 2); n++) {
      await client.store.putItem([label, ...namespace], `key-${n}`, { text: `${label} ${namespace.join("/")} ${n}` });
      world.items.push(`${[label, ...namespace].join(".")}/key-${n}`);
    }
  }
  return world;
}

async function crons(client: Client): Promise<TenantDump["crons"]> {
  try {
    return (await client.crons.search({ limit: 1000 })).sort(byId("cron_id"));
  } catch (error) {
    const status = (error as { status?: unknown }).status;
    if (typeof status === "number") return { notServed: status };
    throw error;
  }
}

/**
 * Everything the tenant sees: each thread with its state, full history and
 * runs; each of its own assistants (system ones left out) with its
 * versions; crons (or the status of a server without them); store items.
 *
 * @example
 * expect(await dumpTenant(url, tokenB, "globex")).toEqual(before);
 */
export async function dumpTenant(url: string, token: string, label: string): Promise<TenantDump> {
  const client = sdkClientFor(url, token);
  const threads: TenantDump["threads"] = [];
  for (const thread of (await client.threads.search({ limit: 1000 })).sort(byId("thread_id"))) {
    threads.push({
      thread,
      state: await client.threads.getState(thread.thread_id),
      history: await client.threads.getHistory(thread.thread_id, { limit: 1000 }),
      runs: (await client.runs.list(thread.thread_id, { limit: 1000 })).sort(byId("run_id")),
    });
  }
  const assistants: TenantDump["assistants"] = [];
  for (const assistant of (await client.assistants.search({ limit: 1000 })).sort(byId("assistant_id"))) {
    if (assistant.metadata?.created_by === "system") continue;
    assistants.push({ assistant, versions: await client.assistants.getVersions(assistant.assistant_id, { limit: 1000 }) });
  }
  const { items } = await client.store.searchItems([label], { limit: 1000 });
  const store = items
    .map((item) => ({ namespace: item.namespace, key: item.key, value: item.value }))
    .sort((a, b) => `${a.namespace.join(".")}/${a.key}`.localeCompare(`${b.namespace.join(".")}/${b.key}`));
  return { threads, assistants, crons: await crons(client), store };
}
