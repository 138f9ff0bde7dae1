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
    const serverTryGetContext = await loadServerContextStorage();
    if (serverTryGetContext) ops = opsFrom(serverTryGetContext);
  }
  if (!isOps(ops)) return undefined;
  return wrapOps(ops);
};

type TryGetContext = () => unknown;

/**
 * The parts of the LangGraph server's Hono context the decision log reads:
 * the request, the response being built (its headers), the Node response
 * (`env.outgoing` of `@hono/node-server`, to learn the final status) and the
 * storage (`var.LANGGRAPH_OPS`).
 */
export interface ServerRequestContext {
  req: { raw: Request };
  res: Response;
  env?: { outgoing?: ServerOutgoing } | undefined;
  var?: Record<string, unknown>;
  /** Hono's per-request variables (a `Map` inside the context). */
  get(key: string): unknown;
  set(key: string, value: unknown): void;
}

/** The Node `ServerResponse` behind a request: its status once answered, and its `close`. */
export interface ServerOutgoing {
  statusCode: number;
  once(event: "close", listener: () => void): unknown;
}

let resolvedServerTryGetContext: TryGetContext | undefined;

function asRequestContext(value: unknown): ServerRequestContext | undefined {
  const c = value as Partial<ServerRequestContext> | null | undefined;
  return c !== null && typeof c === "object" && c.req?.raw instanceof Request && typeof c.get === "function" && typeof c.set === "function"
    ? (c as ServerRequestContext)
    : undefined;
}

/**
 * The server's Hono context of the request being handled, read synchronously
 * (no promise on the request's path), or `undefined` outside the server (the
 * platform's worker, a test). Where the server's `hono` is another copy than
 * ours, its context is found once that copy has been loaded (the first call
 * starts loading it; see {@link readServerStorage}).
 *
 * @example
 * const c = currentServerContext();
 * c?.res.headers.get("access-control-expose-headers");
 */
export function currentServerContext(): ServerRequestContext | undefined {
  let found: unknown;
  try {
    found = tryGetContext();
  } catch {
    found = undefined;
  }
  if (found === undefined && resolvedServerTryGetContext !== undefined) {
    try {
      found = resolvedServerTryGetContext();
    } catch {
      found = undefined;
    }
  } else if (found === undefined) {
    void loadServerContextStorage();
  }
  return asRequestContext(found);
}

/**
 * Unfiltered reads of the storage a server context carries, or `undefined`
 * when it carries none. Synchronous: usable after the request, from its
 * context, when the request context is gone.
 *
 * @example
 * const storage = storageOfContext(c);
 * const thread = await storage?.getThread(threadId);
 */
export function storageOfContext(c: ServerRequestContext): ServerStorage | undefined {
  const ops = c.var?.LANGGRAPH_OPS;
  return isOps(ops) ? wrapOps(ops) : undefined;
}

function wrapOps(found: Ops): ServerStorage {
  return {
    getAssistant: (id) => orUndefined(() => found.assistants.get(id, undefined)),
    getThread: (id) => orUndefined(() => found.threads.get(id, undefined)),
    getRun: (id) => orUndefined(() => found.runs.get(id, undefined, undefined)),
  };
}

function opsFrom(read: TryGetContext): unknown {
  try {
    return (read() as { var?: Record<string, unknown> } | undefined)?.var?.LANGGRAPH_OPS;
  } catch {
    return undefined;
  }
}

let serverContextStorage: Promise<TryGetContext | undefined> | undefined;

/** Load the server's own `tryGetContext` once (see {@link importServerContextStorage}); remembered for synchronous reads. */
function loadServerContextStorage(): Promise<TryGetContext | undefined> {
  serverContextStorage ??= importServerContextStorage(process.argv[1]).then((found) => (resolvedServerTryGetContext = found));
  return serverContextStorage;
}

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
