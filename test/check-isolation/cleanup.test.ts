/**
 * The cleanup on its own, with a recording sender: the order of deletions,
 * which answers count as deleted, the sweep by run marker, and the re-check
 * that reports whatever is still there.
 */
import { describe, expect, it } from "vitest";
import { CreatedResources, cleanUp } from "../../src/check-isolation/cleanup.ts";
import type { Answer, Caller, ProbeRequest, SendAs } from "../../src/check-isolation/types.ts";

const answer = (status: number, json?: unknown): Answer => ({ status, text: json === undefined ? "" : JSON.stringify(json), json, contentType: null });

/** A fake server: threads by owner, assistants by owner, and fixed answers for deletes. */
function fakeServer(state: { threads: Map<string, Caller>; deletes: Record<string, number> }) {
  const sent: string[] = [];
  const send: SendAs = async (as, request: ProbeRequest) => {
    sent.push(`${as} ${request.method} ${request.path}`);
    if (request.path === "/threads/search") {
      const mine = [...state.threads].filter(([, owner]) => owner === as).map(([thread_id]) => ({ thread_id }));
      return answer(200, mine);
    }
    if (request.path === "/assistants/search") return answer(200, []);
    if (request.path.startsWith("/store/items?")) return answer(404);
    const fixed = state.deletes[`${request.method} ${request.path}`];
    if (fixed !== undefined) return answer(fixed);
    if (request.method === "DELETE" && request.path.startsWith("/threads/")) {
      const id = request.path.split("/")[2]!;
      return answer(state.threads.delete(id) ? 204 : 404);
    }
    return answer(204);
  };
  return { send, sent };
}

describe("cleanUp", () => {
  it("cancels runs first, then deletes crons, threads, assistants and store items, and sweeps by marker", async () => {
    const threads = new Map<string, Caller>([["t-a", "a"], ["t-b", "b"], ["planted", "b"]]);
    const { send, sent } = fakeServer({ threads, deletes: { "POST /threads/t-a/runs/r-1/cancel?action=interrupt": 409 } });
    const created = new CreatedResources();
    created.add({ kind: "store", namespace: ["tenant-a", "x"], key: "k", as: "a" });
    created.add({ kind: "thread", id: "t-a", as: "a" });
    created.add({ kind: "assistant", id: "as-a", as: "a" });
    created.add({ kind: "run", id: "r-1", thread: "t-a", as: "a" });
    created.add({ kind: "cron", id: "c-1", as: "a" });
    created.add({ kind: "thread", id: "t-b", as: "b" });
    const report = await cleanUp(send, created, "ci-1");
    expect(sent.slice(0, 6)).toEqual([
      "a POST /threads/t-a/runs/r-1/cancel?action=interrupt",
      "a DELETE /runs/crons/c-1",
      "a DELETE /threads/t-a",
      "b DELETE /threads/t-b",
      "a DELETE /assistants/as-a",
      "a DELETE /store/items",
    ]);
    // "planted" was never written down: the sweep finds it by the marker and deletes it as its owner.
    expect(sent).toContain("b DELETE /threads/planted");
    expect(threads.size).toBe(0);
    expect(report).toEqual({ deleted: 7, failed: [], leftovers: [] });
  });

  it("reports a deletion the server refuses, and what is still there afterwards", async () => {
    const threads = new Map<string, Caller>([["stuck", "a"]]);
    const { send } = fakeServer({ threads, deletes: { "DELETE /threads/stuck": 500, "DELETE /assistants/gone": 404 } });
    const created = new CreatedResources();
    created.add({ kind: "thread", id: "stuck", as: "a" });
    created.add({ kind: "assistant", id: "gone", as: "a" });
    const report = await cleanUp(send, created, "ci-1");
    expect(report).toEqual({ deleted: 1, failed: ["thread stuck: 500", "thread stuck: 500"], leftovers: ["thread stuck"] });
  });

  it("names a failure to reach the server, and keeps going", async () => {
    const send: SendAs = async () => {
      throw new TypeError("fetch failed", { cause: { code: "ECONNREFUSED" } });
    };
    const created = new CreatedResources();
    created.add({ kind: "thread", id: "t", as: "a" });
    const report = await cleanUp(send, created, "ci-1", ["a"]);
    expect(report.failed).toEqual(["thread t: fetch failed (ECONNREFUSED)", "sweep as a: fetch failed (ECONNREFUSED)", "re-check as a: fetch failed (ECONNREFUSED)"]);
  });
});
