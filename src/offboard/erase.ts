/**
 * The deletions, in order: crons first and runs in flight cancelled (no new
 * work), then threads (their runs and checkpoints go with them), the
 * tenant's assistants, and store items. Only what the inventory listed is
 * deleted. Something already gone (404) is not an error, so a second run
 * finishes what an interrupted one began.
 */
import { describeError, type HttpAnswer, type HttpRequest } from "../cli-kit/http-client.ts";
import { pause } from "../cli-kit/pause.ts";
import { idOf, type Inventory, type Kind } from "./inventory.ts";
import { excerptOf, TenantApiError, type TenantApi } from "./tenant-api.ts";

/** One step of the erasure. */
export interface EraseProgress {
  kind: Kind;
  /** What was acted on: an id, or `namespace/key` for the store. */
  what: string;
  outcome: "deleted" | "gone" | "failed";
  done: number;
  total: number;
}

/** What the erasure did. */
export interface EraseResult {
  /** Deleted (or cancelled, for runs) by this run, by kind. */
  deleted: Record<Kind, number>;
  /** Already gone when this run came to them (deleted by someone else, or by an earlier run). */
  gone: Record<Kind, number>;
  /** Deletions that failed, one line each. */
  failures: string[];
  /** Cancelled runs still pending or running when the thread was deleted anyway. */
  runsNotStopped: string[];
  /** The run stopped before the end (Ctrl-C). */
  interrupted: boolean;
}

/** Options of {@link eraseInventory}. */
export interface EraseOptions {
  /** Stops before the next deletion (Ctrl-C). */
  signal?: AbortSignal;
  /** How long a cancelled run may take to stop, ms. */
  runStopMs: number;
  onProgress?: (event: EraseProgress) => void;
}

const ok = (status: number) => status >= 200 && status < 300;

/** Wait until a cancelled run is neither pending nor running (or gone), at most `ms`. */
async function untilStopped(api: TenantApi, threadId: string, runId: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (let wait = 100; ; wait = Math.min(wait * 2, 1000)) {
    const answer = await api.call(`reading run ${runId}`, { method: "GET", path: `/threads/${threadId}/runs/${runId}` });
    const status = (answer.json as { status?: unknown } | null)?.status;
    if (answer.status === 404 || (ok(answer.status) && status !== "pending" && status !== "running")) return true;
    if (Date.now() >= deadline) return false;
    await pause(wait);
  }
}

/**
 * Delete what the inventory lists, in order.
 *
 * @example
 * const result = await eraseInventory(api, inventory, { runStopMs: 60_000, onProgress: console.log });
 */
export async function eraseInventory(api: TenantApi, inventory: Inventory, options: EraseOptions): Promise<EraseResult> {
  const zero = (): Record<Kind, number> => ({ crons: 0, runs: 0, threads: 0, assistants: 0, store: 0 });
  const result: EraseResult = { deleted: zero(), gone: zero(), failures: [], runsNotStopped: [], interrupted: false };

  /** Act on each item of a kind: a 2xx answer is deleted, a 404 (and `alsoGone`) already gone, anything else a failure. */
  const each = async <T>(kind: Kind, items: readonly T[], name: (item: T) => string, remove: (item: T) => Promise<HttpAnswer>, alsoGone: readonly number[] = []) => {
    for (const [index, item] of items.entries()) {
      if (options.signal?.aborted) {
        result.interrupted = true;
        return;
      }
      const what = name(item);
      let outcome: EraseProgress["outcome"];
      try {
        const answer = await remove(item);
        if (ok(answer.status)) outcome = "deleted";
        else if (answer.status === 404 || alsoGone.includes(answer.status)) outcome = "gone";
        else throw new TenantApiError(`${kind}: ${what}`, answer.status, excerptOf(answer));
      } catch (error) {
        outcome = "failed";
        result.failures.push(error instanceof TenantApiError ? error.message : `${kind}: ${what}: ${describeError(error)}`);
      }
      if (outcome === "deleted") result.deleted[kind] += 1;
      if (outcome === "gone") result.gone[kind] += 1;
      options.onProgress?.({ kind, what, outcome, done: index + 1, total: items.length });
    }
  };
  const send = (step: string, request: HttpRequest) => api.call(step, request);

  await each("crons", inventory.crons, (c) => idOf(c, "cron_id"), (c) => send("deleting a cron", { method: "DELETE", path: `/runs/crons/${idOf(c, "cron_id")}` }));
  // A run that finished meanwhile answers 409 to a cancel: nothing left to stop.
  await each(
    "runs",
    inventory.runsInFlight,
    (r) => r.run_id,
    async (r) => {
      const answer = await send("cancelling a run", { method: "POST", path: `/threads/${r.thread_id}/runs/${r.run_id}/cancel?action=interrupt` });
      if (ok(answer.status) && !(await untilStopped(api, r.thread_id, r.run_id, options.runStopMs))) result.runsNotStopped.push(`run ${r.run_id} of thread ${r.thread_id}`);
      return answer;
    },
    [409],
  );
  await each("threads", inventory.threads, (t) => idOf(t, "thread_id"), (t) => send("deleting a thread", { method: "DELETE", path: `/threads/${idOf(t, "thread_id")}` }));
  // Never ?delete_threads=true: it deletes threads of every tenant that name the assistant.
  await each("assistants", inventory.assistants, (a) => idOf(a, "assistant_id"), (a) => send("deleting an assistant", { method: "DELETE", path: `/assistants/${idOf(a, "assistant_id")}` }));
  await each(
    "store",
    inventory.store,
    (i) => `${i.namespace.join(".")}/${i.key}`,
    (i) => send("deleting a store item", { method: "DELETE", path: "/store/items", body: { namespace: i.namespace, key: i.key } }),
  );
  return result;
}
