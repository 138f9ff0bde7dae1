/**
 * What `langgraph dev` itself holds, read from the files it persists under
 * its folder's `.langgraph_api/` (superjson: the plain JSON is under `json`,
 * a Map is an array of `[key, value]` pairs): threads, runs, assistants and
 * their versions (`.langgraphjs_ops.json`), checkpoints and pending writes
 * (`.langgraphjs_api.checkpointer.json`), store items
 * (`.langgraphjs_api.store.json`). The server writes them about 3 s after a
 * change (and on exit), so a test waits for the condition it expects.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";

type Json = Record<string, unknown>;

/** The server's storage, reduced to what tells whose state is there. */
export interface DevServerStorage {
  threads: Array<{ thread_id: string; metadata: Json }>;
  runs: Array<{ run_id: string; thread_id: string; assistant_id: string }>;
  assistants: Array<{ assistant_id: string; metadata: Json }>;
  assistantVersions: Array<{ assistant_id: string; version: number; metadata: Json }>;
  /** Thread ids that have checkpoints, and those named by a pending write's key. */
  checkpointThreads: string[];
  writeThreads: string[];
  /** Every store namespace the server keeps (joined with `:`), with its item keys: an emptied one keeps its name. */
  storeNamespaces: Array<{ namespace: string; keys: string[] }>;
}

async function readJson(dir: string, name: string): Promise<Json> {
  try {
    return ((JSON.parse(await readFile(join(dir, ".langgraph_api", name), "utf8")) as { json?: Json }).json ?? {}) as Json;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw error;
  }
}

/**
 * Read the storage of the server whose folder is `dir` (`LangGraphDev.dir`).
 *
 * @example
 * const stored = await readDevServerStorage(server.dir);
 * stored.threads.some((t) => t.metadata.tenant_id === "acme"); // false once acme is offboarded
 */
export async function readDevServerStorage(dir: string): Promise<DevServerStorage> {
  const ops = await readJson(dir, ".langgraphjs_ops.json");
  const checkpointer = await readJson(dir, ".langgraphjs_api.checkpointer.json");
  const store = await readJson(dir, ".langgraphjs_api.store.json");
  const values = <T>(record: unknown) => Object.values((record ?? {}) as Record<string, T>);
  return {
    threads: values<{ thread_id: string; metadata: Json }>(ops.threads),
    runs: values<{ run_id: string; thread_id: string; assistant_id: string }>(ops.runs),
    assistants: values<{ assistant_id: string; metadata: Json }>(ops.assistants),
    assistantVersions: (ops.assistant_versions ?? []) as DevServerStorage["assistantVersions"],
    checkpointThreads: Object.keys((checkpointer.storage ?? {}) as Json),
    writeThreads: Object.keys((checkpointer.writes ?? {}) as Json).map((key) => String((JSON.parse(key) as unknown[])[0])),
    storeNamespaces: ((store.data ?? []) as Array<[string, Array<[string, unknown]>]>).map(([namespace, items]) => ({ namespace, keys: items.map(([key]) => key) })),
  };
}
