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
export type ServerStorageSource = () => ServerStorage | undefined;

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
export const readServerStorage: ServerStorageSource = () => {
  let ops: unknown;
  try {
    ops = (tryGetContext() as { var?: Record<string, unknown> } | undefined)?.var?.LANGGRAPH_OPS;
  } catch {
    return undefined;
  }
  if (!isOps(ops)) return undefined;
  return {
    getAssistant: (id) => orUndefined(() => ops.assistants.get(id, undefined)),
    getThread: (id) => orUndefined(() => ops.threads.get(id, undefined)),
    getRun: (id) => orUndefined(() => ops.runs.get(id, undefined, undefined)),
  };
};
