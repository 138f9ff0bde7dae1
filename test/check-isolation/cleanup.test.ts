/**
 * The cleanup on its own, with a recording sender: the order of deletions,
 * which answers count as deleted, the sweep by run marker, and the re-check
 * that reports whatever is still there.
 */
import { describe, expect, it } from "vitest";
import { CreatedResources, cleanUp } from "../../src/check-isolation/cleanup.ts";
import { MARKER_KEY } from "../../src/check-isolation/probe-helpers.ts";
import type { Answer, Caller, ProbeRequest, SendAs } from "../../src/check-isolation/types.ts";

const answer = (status: number, json?: unknown): Answer => ({ status, text: json === undefined ? "" : JSON.stringify(json), json, contentType: null });

/** A thread or assistant on the fake server: who owns it, and its metadata. */
interface Stored {
  owner: Caller;
  metadata: Record<string, unknown>;
}
type Resources = Map<string, Stored>;

const marked = (owner: Caller, marker: string): Stored => ({ owner, metadata: { [MARKER_KEY]: marker } });

/**
 * A fake server that searches the way the LangGraph server does: a caller
 * sees only its own threads and assistants, and a search's `metadata` keeps
 * those whose metadata holds every key with the same value (so a sweep that
 * names no marker, or another run's, finds other things than it should).
 */
function fakeServer(state: { threads: Resources; assistants?: Resources; deletes: Record<string, number> }) {
  const sent: string[] = [];
  const assistants = state.assistants ?? new Map<string, Stored>();
  const matches = (stored: Stored, as: Caller, filter: unknown) =>
    stored.owner === as &&
    Object.entries((filter as { metadata?: Record<string, unknown> } | undefined)?.metadata ?? {}).every(([key, value]) => stored.metadata[key] === value);
  const send: SendAs = async (as, request: ProbeRequest) => {
    sent.push(`${as} ${request.method} ${request.path}`);
    for (const [kind, resources] of [["thread", state.threads], ["assistant", assistants]] as const) {
      if (request.path === `/${kind}s/search`) {
        return answer(200, [...resources].filter(([, stored]) => matches(stored, as, request.body)).map(([id]) => ({ [`${kind}_id`]: id })));
      }
    }
    if (request.path.startsWith("/store/items?")) return answer(404);
    const fixed = state.deletes[`${request.method} ${request.path}`];
    if (fixed !== undefined) return answer(fixed);
    for (const [kind, resources] of [["threads", state.threads], ["assistants", assistants]] as const) {
      if (request.method === "DELETE" && request.path.startsWith(`/${kind}/`)) {
        const id = request.path.split("/")[2]!;
        const stored = resources.get(id);
        return answer(stored?.owner === as && resources.delete(id) ? 204 : 404);
      }
    }
    return answer(204);
  };
  return { send, sent };
}

describe("cleanUp", () => {
  it("cancels runs first, then deletes crons, threads, assistants and store items, and sweeps by marker", async () => {
    const threads: Resources = new Map([
      ["t-a", marked("a", "ci-1")], ["t-b", marked("b", "ci-1")], ["planted", marked("b", "ci-1")],
      // Not this run's: another run's marker, and a user's own thread.
      ["other-run", marked("b", "ci-0")], ["users-own", { owner: "b", metadata: { purpose: "real work" } }],
    ]);
    const assistants: Resources = new Map([["as-a", marked("a", "ci-1")], ["planted-assistant", marked("a", "ci-1")], ["users-assistant", { owner: "a", metadata: {} }]]);
    const { send, sent } = fakeServer({ threads, assistants, deletes: { "POST /threads/t-a/runs/r-1/cancel?action=interrupt": 409 } });
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
    // "planted" and "planted-assistant" were never written down: the sweep finds them by this run's marker and deletes them as their owner.
    expect(sent).toContain("b DELETE /threads/planted");
    expect(sent).toContain("a DELETE /assistants/planted-assistant");
    // Nothing without this run's marker is touched, or even asked about.
    expect([...threads.keys()].sort()).toEqual(["other-run", "users-own"]);
    expect([...assistants.keys()]).toEqual(["users-assistant"]);
    expect(sent.filter((line) => /other-run|users-/.test(line))).toEqual([]);
    expect(report).toEqual({ deleted: 8, failed: [], leftovers: [] });
  });

  it("reports a deletion the server refuses, and what is still there afterwards", async () => {
    const threads: Resources = new Map([["stuck", marked("a", "ci-1")]]);
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
