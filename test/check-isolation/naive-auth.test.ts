/**
 * `check-isolation` can fail: against the real `langgraph dev` running the
 * LangGraph docs' owner-only `Auth` (test/fixtures/naive-auth: stamp `owner`,
 * filter by it, check the first store label), the command must report the
 * leaks that handler really has, exit 1, and still clean up.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";
import type { IsolationReport } from "../../src/check-isolation/check-isolation.ts";
import { runCheckIsolationCli } from "../../src/check-isolation/run-cli.ts";
import type { ProbeResult } from "../../src/check-isolation/types.ts";
import { PROJECT_ROOT, startLangGraphDev, type LangGraphDev } from "../support/langgraph-dev.ts";
import { ALL_SCOPES, READ_SCOPES, textSink } from "./support.ts";

let issuer: LocalIssuer;
let server: LangGraphDev;
let dir: string;
let report: IsolationReport;
let code: number;
let out = "";
let err = "";
let tokens: string[] = [];

const result = (id: string): ProbeResult => {
  const found = report.results.find((r) => r.id === id);
  if (!found) throw new Error(`no result ${id}`);
  return found;
};

describe("check-isolation against langgraph dev running the docs' naive owner-only Auth", () => {
  beforeAll(async () => {
    issuer = await startLocalIssuer();
    server = await startLangGraphDev({ env: issuer.env(), projectRoot: join(PROJECT_ROOT, "test", "fixtures", "naive-auth") });
    dir = await mkdtemp(join(tmpdir(), "check-isolation-naive-"));
    const env = {
      CHECK_ISOLATION_TOKEN_A: await issuer.sign({ sub: "alice", org_id: "tenant-a", scope: ALL_SCOPES }),
      CHECK_ISOLATION_TOKEN_B: await issuer.sign({ sub: "bob", org_id: "tenant-b", scope: ALL_SCOPES }),
      CHECK_ISOLATION_TOKEN_A2: await issuer.sign({ sub: "carol", org_id: "tenant-a", scope: READ_SCOPES }),
    };
    tokens = Object.values(env);
    const stdout = textSink();
    const stderr = textSink();
    // A terminal: progress is drawn probe by probe on one line.
    code = await runCheckIsolationCli(["--url", server.url, "--graph", "echo", "--json", join(dir, "report.json")], env, {
      stdout: stdout.stream,
      stderr: Object.assign(stderr.stream, { isTTY: true }),
    });
    [out, err] = [stdout.text(), stderr.text()];
    report = JSON.parse(await readFile(join(dir, "report.json"), "utf8")) as IsolationReport;
  }, 300_000);

  afterAll(async () => {
    await server?.stop();
    await issuer?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("fails the run with exit code 1 and names each leak's route, request and what B saw", () => {
    expect(code).toBe(1);
    expect(report.summary.leak).toBeGreaterThanOrEqual(15);
    expect(out).toMatch(/LEAK: threads\.runs\.create — run A's assistant on B's own thread \(background\)\n {2}request \(as b\): POST \/threads\/[0-9a-f-]+\/runs \{"assistant_id":"[0-9a-f-]+"[^\n]*\n {2}saw: a 200 answer holds A's secret data: [^\n]*a-config-secret-/);
  });

  it("shows progress on a terminal and never prints a token", () => {
    expect(err).toMatch(/building tenant A's world\n/);
    expect(err).toMatch(/\r\x1b\[K\[1\/\d+\] /);
    expect(err).toMatch(/\[\d+\/\d+\] LEAK POST \/runs\/wait: stateless wait with A's assistant/);
    expect(err).toContain(`run marker: ${report.marker}`);
    for (const token of tokens) expect(out.includes(token) || err.includes(token)).toBe(false);
  });

  it("reports runs of A's assistant by B: on B's threads, stateless, streamed and in batches, with A's config in the answer", () => {
    for (const id of [
      "threads.runs.wait/original-hole-1-run-a-s-assistant-on-b-s-own-thread-wait",
      "threads.runs.stream/run-a-s-assistant-on-b-s-own-thread-stream",
      "runs.wait/stateless-wait-with-a-s-assistant",
      "runs.stream/stateless-stream-with-a-s-assistant",
    ]) expect(result(id), id).toMatchObject({ status: 200, verdict: "leak", detail: expect.stringContaining("accepted (200) where it must be refused") });
    for (const id of ["threads.runs.create/run-a-s-assistant-on-b-s-own-thread-background", "runs.create/stateless-background-run-with-a-s-assistant", "runs.batch/batch-with-a-s-assistant"]) {
      expect(result(id), id).toMatchObject({ status: 200, verdict: "leak", detail: expect.stringContaining("A's secret data") });
    }
  });

  it("reports the store namespaces of every tenant, listed to B", () => {
    expect(result("store.namespaces/list-every-namespace-no-prefix")).toMatchObject({ status: 200, verdict: "leak", detail: expect.stringMatching(/names A's owner: .*"alice","check_isolation"/) });
  });

  it("reports B attaching to A's runs and threads: run streams by id, the thread protocol's WebSocket and event stream", () => {
    expect(result("runs.join.stream/stream-a-s-pending-run-by-run-id-alone")).toMatchObject({ status: 200, verdict: "leak" });
    expect(result("protocol.events.ws/open-a-websocket-on-a-s-thread")).toMatchObject({ status: 101, verdict: "leak" });
    expect(result("protocol.events.sse/attach-to-a-s-thread-events")).toMatchObject({ status: 200, verdict: "leak" });
    expect(result("protocol.commands/run-start-with-a-s-assistant-on-own-thread")).toMatchObject({ status: 200, verdict: "leak" });
  });

  it("reports that B reaches the wipe-every-tenant route and can pre-claim a system assistant id", () => {
    expect(result("internal.truncate/reach-the-wipe-every-tenant-route-with-nothing-to-wipe")).toMatchObject({ status: 200, verdict: "leak", detail: expect.stringContaining('{"ok":true}') });
    expect(result("assistants.create/pre-claim-a-system-assistant-id-uuid5-of-a-future-graph")).toMatchObject({ status: 200, verdict: "leak" });
  });

  it("reports B's own assistant posing as a system one, and passes the system assistants its owner filter hides", () => {
    expect(result("assistants.update/patch-own-assistant-to-created-by-system")).toMatchObject({ status: 200, verdict: "leak", detail: expect.stringContaining("accepted (200) where it must be refused") });
    // The owner filter hides system assistants (they have no owner): not visible is not a leak.
    const system = report.results.filter((r) => r.group === "system-assistants" && r.id !== "assistants.update/patch-own-assistant-to-created-by-system");
    expect(system.length).toBeGreaterThanOrEqual(14);
    expect(system.filter((r) => r.verdict !== "pass")).toEqual([]);
    for (const id of ["assistants.get/read-the-graph-s-system-assistant", "assistants.update/update-the-system-assistant-a-patch-that-sets-no-field", "assistants.latest/set-the-system-assistant-s-latest-version-to-the-current-one"]) {
      expect(result(id), id).toMatchObject({ status: 404, verdict: "pass" });
    }
    expect(result("assistants.search/search-system-assistants-metadata-created-by-system")).toMatchObject({ status: 200, verdict: "pass" });
    expect(report.results.find((r) => r.id === "world/view-of-the-system-assistant")).toMatchObject({ status: 404, verdict: "pass" });
  });

  it("reports a run that claims A's configurable.user_id, and a read-only user who can write", () => {
    expect(result("threads.runs.wait/run-on-own-thread-claiming-a-s-configurable-user-id")).toMatchObject({ verdict: "leak", detail: 'B\'s run kept configurable.user_id="alice": a graph that reads it acts as A\'s user' });
    expect(result("threads.create/read-only-user-creates-a-thread")).toMatchObject({ as: "a2", status: 200, verdict: "leak" });
  });

  it("passes what the owner filter does protect, and reports the server's own 500 as an error", () => {
    for (const id of ["threads.get/read-a-s-thread", "threads.state.get/read-a-s-state", "assistants.get/read-a-s-assistant", "store.get/read-a-s-item", "threads.delete/delete-a-s-thread"]) {
      expect(result(id), id).toMatchObject({ verdict: "pass" });
    }
    expect(report.results.filter((r) => r.group === "credentials").map((r) => `${r.status} ${r.verdict}`)).toEqual(Array(12).fill("401 pass"));
    expect(report.results.filter((r) => r.group === "world").every((r) => r.verdict === "pass")).toBe(true);
    expect(report.results.filter((r) => r.group === "crons").every((r) => r.verdict === "not-served")).toBe(true);
    expect(result("threads.runs.create/multitask-interrupt-on-a-missing-thread-server-answers-500-without-the-check")).toMatchObject({ status: 500, verdict: "error" });
  });

  it("still deletes everything it created", () => {
    expect(report.cleanup).toEqual({ deleted: expect.any(Number), failed: [], leftovers: [] });
    expect(report.cleanup.deleted).toBeGreaterThanOrEqual(12);
  });
});
