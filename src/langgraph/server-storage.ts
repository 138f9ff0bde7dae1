/**
 * Read the LangGraph server's own storage for the current request.
 *
 * The server wraps every request in Hono's `contextStorage()` and sets
 * `c.var.LANGGRAPH_OPS` to its storage (server.mjs); its own routes read it
 * the same way (storage/context.mjs). Calls made with `auth` undefined skip
 * every handler and filter, so this sees the stored record as the server's
 * run path sees it: the check reads the same data the run will use, and a
 * client controls nothing of it but the id.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { tryGetContext } from "hono/context-storage";
import type { StoredAssistant } from "../policy/run-assistant.ts";

/** A stored thread (the parts the checks read). */
export interface StoredThread {
  thread_id: string;
  metadata?: Record<string, unknown> | null;
}

/** A stored run (the parts the checks read). */
export interface StoredRun {
  run_id: string;
  thread_id: string;
}

/** Unfiltered reads of the server's storage. `undefined` means "not there". */
export interface ServerStorage {
  getAssistant(assistantId: string): Promise<StoredAssistant | undefined>;
  getThread(threadId: string): Promise<StoredThread | undefined>;
  getRun(runId: string): Promise<StoredRun | undefined>;
}

/** Where the checks get storage from; tests inject their own. */
export type ServerStorageSource = () => ServerStorage | undefined | Promise<ServerStorage | undefined>;

interface Ops {
  assistants: { get(id: string, auth: undefined): Promise<StoredAssistant> };
  threads: { get(id: string, auth: undefined): Promise<StoredThread> };
  runs: { get(runId: string, threadId: undefined, auth: undefined): Promise<StoredRun | null> };
}

function isOps(value: unknown): value is Ops {
  const ops = value as Partial<Record<keyof Ops, { get?: unknown }>> | null | undefined;
  return (
    typeof ops?.assistants?.get === "function" &&
    typeof ops?.threads?.get === "function" &&
    typeof ops?.runs?.get === "function"
  );
}

/** The server answers a missing record with a 404 `HTTPException`. */
async function orUndefined<T>(read: () => Promise<T | null>): Promise<T | undefined> {
  try {
    return (await read()) ?? undefined;
  } catch (error) {
    if ((error as { status?: unknown } | null)?.status === 404) return undefined;
    throw error;
  }
}

/**
 * The server's storage for the request being handled, or `undefined` when
 * this code does not run inside the LangGraph server's request context
 * (callers must then refuse: fail closed).
 *
 * @example
 * const storage = readServerStorage();
 * if (!storage) throw new TenantForbiddenError("cannot check this request");
 */
export const readServerStorage: ServerStorageSource = async () => {
  let ops = opsFrom(tryGetContext);
  // Our `hono` and the server's can be two copies (an app whose lock file
  // resolved them apart, or a server run from another install): each has its
  // own request context, so ask the server's copy too.
  if (ops === undefined) {
    const serverTryGetContext = await (serverContextStorage ??= importServerContextStorage(process.argv[1]));
    if (serverTryGetContext) ops = opsFrom(serverTryGetContext);
  }
  if (!isOps(ops)) return undefined;
  const found = ops;
  return {
    getAssistant: (id) => orUndefined(() => found.assistants.get(id, undefined)),
    getThread: (id) => orUndefined(() => found.threads.get(id, undefined)),
    getRun: (id) => orUndefined(() => found.runs.get(id, undefined, undefined)),
  };
};

type TryGetContext = () => unknown;

function opsFrom(read: TryGetContext): unknown {
  try {
    return (read() as { var?: Record<string, unknown> } | undefined)?.var?.LANGGRAPH_OPS;
  } catch {
    return undefined;
  }
}

let serverContextStorage: Promise<TryGetContext | undefined> | undefined;

/**
 * `tryGetContext` of the `hono` the LangGraph server itself imports: resolved
 * from the server's entry point (`@langchain/langgraph-api/dist/cli/entrypoint.mjs`,
 * the script `langgraph dev` runs) to hono's ESM build, the one the server
 * loads. `undefined` outside such a server; every check then refuses.
 */
export async function importServerContextStorage(entry: string | undefined): Promise<TryGetContext | undefined> {
  if (!entry || !entry.includes(`${sep}@langchain${sep}langgraph-api${sep}`)) return undefined;
  try {
    let dir = dirname(createRequire(entry).resolve("hono"));
    while (dir !== dirname(dir)) {
      const manifest = join(dir, "package.json");
      const pkg = (() => {
        try {
          return JSON.parse(readFileSync(manifest, "utf8")) as { name?: string; exports?: Record<string, { import?: string }> };
        } catch {
          return undefined;
        }
      })();
      if (pkg?.name === "hono") {
        const target = pkg.exports?.["./context-storage"]?.import;
        if (typeof target !== "string") return undefined;
        const mod = (await import(pathToFileURL(join(dir, target)).href)) as { tryGetContext?: unknown };
        return typeof mod.tryGetContext === "function" ? (mod.tryGetContext as TryGetContext) : undefined;
      }
      dir = dirname(dir);
    }
  } catch {
    // not resolvable from there: no server context to read
  }
  return undefined;
}
