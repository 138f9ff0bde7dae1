/**
 * Everything a run creates is written down here the moment the server names
 * it, and deleted at the end, on failure and on Ctrl-C. A last sweep finds
 * whatever carries this run's marker (a resource a leaking probe created
 * without the command knowing its id) and deletes that too: nothing that
 * lacks the marker, or that the command did not create, is ever touched.
 */
import { describeError } from "../cli-kit/http-client.ts";
import { MARKER_KEY } from "./probe-helpers.ts";
import type { Caller, SendAs } from "./types.ts";

/** One created resource. */
export type Created =
  | { kind: "thread" | "assistant" | "cron"; id: string; as: Caller }
  | { kind: "run"; id: string; thread: string; as: Caller }
  | { kind: "store"; namespace: string[]; key: string; as: Caller };

/** What the cleanup did. */
export interface CleanupReport {
  /** Resources deleted (or already gone). */
  deleted: number;
  /** Deletions the server refused or did not answer, one line each. */
  failed: string[];
  /** Resources with the run marker still found after the cleanup. */
  leftovers: string[];
}

/**
 * The list of what a run created.
 *
 * @example
 * const created = new CreatedResources();
 * created.add({ kind: "thread", id, as: "a" });
 */
export class CreatedResources {
  readonly #items: Created[] = [];

  /** Write a resource down (before anything else can fail). */
  add(item: Created): void {
    this.#items.push(item);
  }

  /** Everything written down, in creation order. */
  list(): readonly Created[] {
    return this.#items;
  }
}

const describe = (item: Created) => (item.kind === "store" ? `store item ${item.namespace.join(".")}/${item.key}` : `${item.kind} ${item.id}`);

async function remove(send: SendAs, item: Created): Promise<number> {
  switch (item.kind) {
    case "run":
      return (await send(item.as, { method: "POST", path: `/threads/${item.thread}/runs/${item.id}/cancel?action=interrupt` })).status;
    case "cron":
      return (await send(item.as, { method: "DELETE", path: `/runs/crons/${item.id}` })).status;
    case "thread":
      return (await send(item.as, { method: "DELETE", path: `/threads/${item.id}` })).status;
    case "assistant":
      return (await send(item.as, { method: "DELETE", path: `/assistants/${item.id}` })).status;
    case "store":
      return (await send(item.as, { method: "DELETE", path: "/store/items", body: { namespace: item.namespace, key: item.key } })).status;
  }
}

/** Resources with the marker that `as` can still see. */
async function marked(send: SendAs, as: Caller, marker: string): Promise<Created[]> {
  const found: Created[] = [];
  for (const kind of ["thread", "assistant"] as const) {
    const answer = await send(as, { method: "POST", path: `/${kind}s/search`, body: { metadata: { [MARKER_KEY]: marker }, limit: 1000 } });
    if (answer.status !== 200 || !Array.isArray(answer.json)) continue;
    for (const entry of answer.json as Array<Record<string, unknown>>) {
      const id = entry[`${kind}_id`];
      if (typeof id === "string") found.push({ kind, id, as });
    }
  }
  return found;
}

/**
 * Delete everything written down (runs are cancelled first, then crons,
 * threads, assistants and store items), then sweep and re-check by marker
 * as every caller that created something.
 *
 * @param send A sender that is NOT tied to the run's abort signal (Ctrl-C must not stop the cleanup).
 * @example
 * const report = await cleanUp(send, created, marker);
 * report.leftovers.length === 0;
 */
export async function cleanUp(send: SendAs, created: CreatedResources, marker: string, callers: readonly Caller[] = ["a", "b"]): Promise<CleanupReport> {
  const report: CleanupReport = { deleted: 0, failed: [], leftovers: [] };
  const order: Created["kind"][] = ["run", "cron", "thread", "assistant", "store"];
  const items = [...created.list()].sort((x, y) => order.indexOf(x.kind) - order.indexOf(y.kind));
  const attempt = async (item: Created) => {
    try {
      const status = await remove(send, item);
      // 404: already gone (a probe deleted it, or it was never created). A run that already finished answers 409 to a cancel.
      if ((status >= 200 && status < 300) || status === 404 || (item.kind === "run" && status === 409)) report.deleted += 1;
      else report.failed.push(`${describe(item)}: ${status}`);
    } catch (error) {
      report.failed.push(`${describe(item)}: ${describeError(error)}`);
    }
  };
  for (const item of items) await attempt(item);
  for (const as of callers) {
    try {
      for (const item of await marked(send, as, marker)) await attempt(item);
    } catch (error) {
      report.failed.push(`sweep as ${as}: ${describeError(error)}`);
    }
  }
  for (const as of callers) {
    try {
      for (const item of await marked(send, as, marker)) report.leftovers.push(describe(item));
    } catch (error) {
      report.failed.push(`re-check as ${as}: ${describeError(error)}`);
    }
  }
  // Store items cannot be searched by metadata: each one written down is read back.
  for (const item of items) {
    if (item.kind !== "store") continue;
    const path = `/store/items?namespace=${encodeURIComponent(item.namespace.join("."))}&key=${encodeURIComponent(item.key)}`;
    try {
      const answer = await send(item.as, { method: "GET", path });
      if (answer.status === 200 && answer.json) report.leftovers.push(describe(item));
    } catch (error) {
      report.failed.push(`re-check ${describe(item)}: ${describeError(error)}`);
    }
  }
  return report;
}
