/**
 * The system assistant rows of the probe table on hand-made answers: a
 * deployment that shows system assistants and one that hides them
 * (AUTH_SYSTEM_ASSISTANTS=hidden, or the docs' owner-only Auth) both pass; A's
 * assistant in an answer, a count above what B can list and an accepted
 * change are leaks. And the default graph: the system assistants first, then
 * A's own, then a clear "name it with --graph".
 */
import { describe, expect, it } from "vitest";
import { GraphNotFoundError, discoverGraph } from "../../src/check-isolation/discover-graph.ts";
import { judge } from "../../src/check-isolation/judge.ts";
import { PROBES } from "../../src/check-isolation/probe-table.ts";
import { onlyOwnAssistant, onlySystemAssistants } from "../../src/check-isolation/probes-system.ts";
import { requestOf, runProbe, type ProbeSender } from "../../src/check-isolation/run-probes.ts";
import type { Answer, Probe, ProbeRequest, SendAs, World } from "../../src/check-isolation/types.ts";
import { systemAssistantId } from "../../src/policy/run-assistant.ts";

const ECHO = systemAssistantId("echo");
const world: World = {
  marker: "m",
  graph: "echo",
  a: { thread: "thread-of-a", run: "run-of-a", assistant: "assistant-of-a", checkpoint: "cp-of-a", liveThread: "lt", liveRun: "lr", namespace: ["tenant-a", "x"], key: "k", tag: {}, identity: "alice", stamped: { tenant_id: "tenant-a" } },
  b: { thread: "thread-of-b", scratch: "s", assistant: "assistant-of-b", namespace: ["tenant-b", "x"] },
  system: { version: 3 },
  secrets: ["SECRET-CONFIG", "SECRET-MESSAGE", "SECRET-STORE"],
  fresh: () => "f",
};
const answer = (status: number, json?: unknown): Answer => ({ status, text: json === undefined ? "" : JSON.stringify(json), json, contentType: null });
const systemRows = PROBES.filter((p) => p.group === "system-assistants");
const row = (attempt: string): Probe => {
  const found = systemRows.find((p) => p.attempt === attempt);
  if (!found) throw new Error(`no row ${attempt}`);
  return found;
};
const echo = { assistant_id: ECHO, graph_id: "echo", version: 3, metadata: { created_by: "system" } };
const ofA = { assistant_id: "assistant-of-a", graph_id: "echo", metadata: { tenant_id: "tenant-a" } };
const ofB = { assistant_id: "assistant-of-b", graph_id: "echo", metadata: { tenant_id: "tenant-b" } };

describe("the system assistant rows", () => {
  it("cover search, count, the reads and the refused changes, sent by the command unless a leak would change a live deployment", () => {
    const routes = (filter: (p: Probe) => boolean) => [...new Set(systemRows.filter(filter).map((p) => p.route))].sort();
    expect(routes(() => true)).toEqual(["assistants.count", "assistants.delete", "assistants.get", "assistants.graph", "assistants.latest", "assistants.schemas", "assistants.search", "assistants.subgraphs", "assistants.update", "assistants.versions"]);
    expect(systemRows.filter((p) => p.suiteOnly).map((p) => p.attempt)).toEqual(["rename the system assistant", "delete the system assistant"]);
    // Every row is tenant B's, and the command's `latest` re-selects the version the world read.
    expect(systemRows.every((p) => (p.as ?? "b") === "b")).toBe(true);
    expect(requestOf(row("set the system assistant's latest version (to the current one)"), world)).toEqual({ method: "POST", path: `/assistants/${ECHO}/latest`, body: { version: 3 } });
    expect(requestOf(row("update the system assistant (a patch that sets no field)"), world).body).toEqual({});
  });

  it("pass a deployment that hides system assistants: refused reads, empty searches, zero counts", () => {
    for (const probe of systemRows.filter((p) => p.method === "GET" || p.route === "assistants.versions")) {
      expect(judge(probe, answer(404, { detail: "Assistant not found" }), world), probe.id).toEqual({ verdict: "pass" });
      expect(judge(probe, answer(403, { detail: "Forbidden" }), world), probe.id).toEqual({ verdict: "pass" });
    }
    for (const probe of systemRows.filter((p) => p.route === "assistants.search")) expect(judge(probe, answer(200, []), world), probe.id).toEqual({ verdict: "pass" });
    for (const probe of systemRows.filter((p) => p.route === "assistants.count")) expect(judge(probe, answer(200, 0), world), probe.id).toEqual({ verdict: "pass" });
  });

  it("pass a deployment that shows them, and hold this package to exactly the system assistants", () => {
    const search = row("search system assistants (metadata created_by=system)");
    expect(judge(search, answer(200, [echo]), world)).toEqual({ verdict: "pass" });
    expect(judge(row("read the graph's system assistant"), answer(200, echo), world)).toEqual({ verdict: "pass" });
    expect(search.suiteBody!([echo], world)).toBe(true);
    // Hidden, B's own assistant in a system search, or a system-looking item of the wrong id: not this package's answer.
    expect(onlySystemAssistants([], world)).toBe(false);
    expect(onlySystemAssistants([echo, ofB], world)).toBe(false);
    expect(onlySystemAssistants([{ ...echo, assistant_id: "assistant-of-b" }], world)).toBe(false);
    expect(onlyOwnAssistant([ofB], world)).toBe(true);
    expect(onlyOwnAssistant([ofB, echo], world)).toBe(false);
  });

  it("call A's assistant in any search a leak, and an accepted change of a system assistant", () => {
    for (const probe of systemRows.filter((p) => p.route === "assistants.search")) {
      expect(judge(probe, answer(200, [echo, ofA]), world), probe.id).toMatchObject({ verdict: "leak", detail: expect.stringContaining("names A's assistant id") });
      expect(judge(probe, answer(200, [{ ...ofA, assistant_id: "other" }]), world), probe.id).toMatchObject({ verdict: "leak" });
    }
    for (const probe of systemRows.filter((p) => ["PATCH", "DELETE"].includes(p.method) || p.route === "assistants.latest")) {
      expect(judge(probe, answer(200, echo), world), probe.id).toMatchObject({ verdict: "leak", detail: expect.stringContaining("accepted (200) where it must be refused") });
    }
  });

  it("call a count above what B can list a leak (it counts A's)", async () => {
    const count = row("count system assistants (metadata created_by=system)");
    const sent: ProbeRequest[] = [];
    const send = Object.assign(
      async (_as: string, request: ProbeRequest) => {
        sent.push(request);
        return request.path === "/assistants/count" ? answer(200, 2) : answer(200, [echo]);
      },
      { upgrade: async () => answer(404) },
    ) as ProbeSender;
    expect(await runProbe(count, world, send, new Map())).toMatchObject({ verdict: "leak", detail: expect.stringContaining("the count is 2 but B can list only 1") });
    expect(sent[1]).toEqual({ method: "POST", path: "/assistants/search", body: { metadata: { created_by: "system" }, limit: 1000 } });
  });

  it("report the system schemas as not served where A's own assistant's schemas fail too (a graph the server cannot extract them from)", async () => {
    const schemas = row("read the system assistant's schemas");
    const send = Object.assign(async () => answer(500, "Internal Server Error"), { upgrade: async () => answer(404) }) as ProbeSender;
    expect(await runProbe(schemas, world, send, new Map([["assistants.schemas", 500]]))).toMatchObject({ status: 500, verdict: "not-served" });
    expect(await runProbe(schemas, world, send, new Map([["assistants.schemas", 200]]))).toMatchObject({ status: 500, verdict: "error" });
  });
});

/** A stub server answering A's two searches. */
function searches(system: Answer, own: Answer): { send: SendAs; sent: unknown[] } {
  const sent: unknown[] = [];
  const send: SendAs = async (as, request) => {
    expect([as, request.method, request.path]).toEqual(["a", "POST", "/assistants/search"]);
    sent.push(request.body);
    return (request.body as { metadata?: unknown }).metadata ? system : own;
  };
  return { send, sent };
}

describe("discoverGraph (the default of --graph)", () => {
  it("takes the first system assistant's graph, without a plain search", async () => {
    const { send, sent } = searches(answer(200, [echo, { ...echo, graph_id: "support" }]), answer(200, [ofA]));
    expect(await discoverGraph(send)).toBe("echo");
    expect(sent).toEqual([{ metadata: { created_by: "system" }, limit: 100 }]);
  });

  it("falls back to A's own assistants when system assistants are hidden or the search is refused", async () => {
    for (const system of [answer(200, []), answer(403, { detail: "Forbidden" })]) {
      const { send, sent } = searches(system, answer(200, [{ ...ofA, graph_id: "agent" }]));
      expect(await discoverGraph(send)).toBe("agent");
      expect(sent).toEqual([{ metadata: { created_by: "system" }, limit: 100 }, { limit: 100 }]);
    }
  });

  it("asks for --graph when neither search shows a graph, and names a refused plain search", async () => {
    await expect(discoverGraph(searches(answer(200, []), answer(200, [])).send)).rejects.toThrow(new GraphNotFoundError("/assistants/search shows tenant A no graph (system assistants: 200, none listed; A's own assistants: none): name the graph with --graph"));
    await expect(discoverGraph(searches(answer(401), answer(401, { detail: "Invalid token" })).send)).rejects.toThrow(/^finding a graph \(POST \/assistants\/search as A\) answered 401: \{"detail":"Invalid token"\}$/);
  });
});
