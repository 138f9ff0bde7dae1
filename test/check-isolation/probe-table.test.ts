/**
 * The probe table against the installed SDK client: every endpoint the
 * client can call has a probe the command sends (or a written reason why
 * not), and every row is consistent with the verdict rules.
 */
import { describe, expect, it } from "vitest";
import { fillPattern } from "../../src/check-isolation/probe-helpers.ts";
import { NOT_PROBED, PROBES } from "../../src/check-isolation/probe-table.ts";
import { orderProbes, requestOf } from "../../src/check-isolation/run-probes.ts";
import type { World } from "../../src/check-isolation/types.ts";
import { listSdkClientEndpoints } from "../support/sdk-client-endpoints.ts";

const world: World = {
  marker: "m",
  graph: "echo",
  a: { thread: "t-a", run: "r-a", assistant: "as-a", checkpoint: "c-a", liveThread: "lt-a", liveRun: "lr-a", namespace: ["tenant-a", "x"], key: "k", tag: { o: "a" }, identity: "alice", stamped: { tenant_id: "tenant-a" } },
  b: { thread: "t-b", scratch: "s-b", assistant: "as-b", namespace: ["tenant-b", "x"] },
  secrets: ["s1", "s2", "s3"],
  fresh: () => "fresh",
};

describe("the probe table", () => {
  it("probes every endpoint of the installed SDK client from the command, or says why not", () => {
    const sent = new Set(PROBES.filter((p) => !p.suiteOnly).map((p) => `${p.method} ${p.pattern}`));
    const endpoints = listSdkClientEndpoints().map((e) => `${e.method} ${e.path}`);
    expect(endpoints.length).toBeGreaterThan(50);
    expect(endpoints.filter((e) => !sent.has(e) && !NOT_PROBED[e])).toEqual([]);
    // A reason for an endpoint the SDK no longer has, or one that is probed after all, is stale.
    for (const [endpoint, reason] of Object.entries(NOT_PROBED)) {
      expect(endpoints, endpoint).toContain(endpoint);
      expect(sent.has(endpoint), endpoint).toBe(false);
      expect(reason.length).toBeGreaterThan(10);
    }
  });

  it("gives every probe a unique id and a request that fills in", () => {
    const ids = PROBES.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const probe of PROBES) {
      const request = requestOf(probe, world);
      expect(request.path.startsWith("/"), probe.id).toBe(true);
      expect(request.path, probe.id).not.toContain(":");
    }
    expect(fillPattern("/threads/:thread_id/runs/:run_id", world)).toBe("/threads/t-a/runs/r-a");
    expect(() => fillPattern("/x/:unknown", world)).toThrow(/no id for :unknown/);
  });

  it("expects of this package only what the verdict rules call a pass", () => {
    for (const probe of PROBES) {
      for (const status of probe.expect) {
        const ok = probe.refused.includes(status) || (status >= 200 && status < 300 && probe.ok2xx !== undefined);
        expect(ok, `${probe.id} expects ${status}`).toBe(true);
      }
      expect(probe.suiteOnly && probe.commandOnly, probe.id).toBeFalsy();
      // A refusal set never accepts a server error.
      expect(probe.refused.some((s) => s >= 500), probe.id).toBe(false);
    }
  });

  it("sends the unsafe rows only from the suite: no wipe, webhook or cascade reaches a live deployment", () => {
    const command = PROBES.filter((p) => !p.suiteOnly);
    for (const probe of command) {
      const { path, body } = requestOf(probe, world);
      expect(JSON.stringify(body ?? ""), probe.id).not.toMatch(/"webhook"|"threads":true|"store":true/);
      // A cascade that ignored tenants would delete other people's threads.
      expect(path, probe.id).not.toBe(`/assistants/${world.b.assistant}?delete_threads=true`);
    }
    // The one truncate the command sends names every flag false.
    expect(command.filter((p) => p.pattern === "/internal/truncate").map((p) => requestOf(p, world).body)).toEqual([{ runs: false, threads: false, assistants: false, checkpointer: false, store: false }]);
  });

  it("sends reads before writes and deletes last", () => {
    const ordered = orderProbes(PROBES);
    const firstDelete = ordered.findIndex((p) => p.method === "DELETE");
    expect(firstDelete).toBeGreaterThan(0);
    expect(ordered.slice(firstDelete).every((p) => p.method === "DELETE")).toBe(true);
    expect(ordered.findIndex((p) => p.method === "GET" && p.pattern === "/threads/:thread_id")).toBeLessThan(firstDelete);
  });
});
