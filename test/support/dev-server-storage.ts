/**
 * What `langgraph dev` itself holds, read from the files it persists under
 * its folder's `.langgraph_api/` (superjson: the plain JSON is under `json`,
 * a Map is an array of `[key, value]` pairs): threads, runs, assistants and
 * their versions (`.langgraphjs_ops.json`), checkpoints and pending writes
 * (`.langgraphjs_api.checkpointer.json`), store items
 * (`.langgraphjs_api.store.json`). The server writes them about 3 s after a
 * change (and on exit), in place: a read that catches a file half written
 * reads it again; a test waits for the condition it expects.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { waitFor } from "./wait-for.ts";

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

/** One persisted file's plain JSON; `{}` when it does not exist yet. The server rewrites a file in place, so a read can catch it half written: read again until it parses. */
async function readJson(dir: string, name: string): Promise<Json> {
  let parsed: Json = {};
  await waitFor(async () => {
    let text: string;
    try {
      text = await readFile(join(dir, ".langgraph_api", name), "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      parsed = {};
      return true;
    }
    try {
      parsed = ((JSON.parse(text) as { json?: Json }).json ?? {}) as Json;
      return true;
    } catch {
      return false;
    }
  }, `${name} to be whole (the server was writing it)`, { timeoutMs: 10_000, intervalMs: 20 });
  return parsed;
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
