/**
 * `check-isolation` against the real `langgraph dev` running this package's
 * `Auth` with AUTH_SYSTEM_ASSISTANTS=hidden: a deployment that hides system
 * assistants is safe, so the system assistant rows pass (refused reads,
 * empty searches) and the run is clean. Without `--graph`, a fresh such
 * deployment shows tenant A no graph at all: the run stops with the clear
 * "name the graph with --graph" failure, having created nothing.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";
import type { IsolationReport } from "../../src/check-isolation/check-isolation.ts";
import { runCheckIsolationCli } from "../../src/check-isolation/run-cli.ts";
import { startLangGraphDev, type LangGraphDev } from "../support/langgraph-dev.ts";
import { ALL_SCOPES, inventory, textSink } from "./support.ts";

let issuer: LocalIssuer;
let server: LangGraphDev;
let dir: string;
let env: Record<string, string>;

async function run(args: string[]): Promise<{ code: number; report: IsolationReport; err: string }> {
  const [out, err] = [textSink(), textSink()];
  const file = join(dir, `${args.length}.json`);
  const code = await runCheckIsolationCli(["--url", server.url, "--json", file, ...args], env, { stdout: out.stream, stderr: err.stream });
  return { code, report: JSON.parse(await readFile(file, "utf8")) as IsolationReport, err: err.text() };
}

describe("check-isolation against langgraph dev with AUTH_SYSTEM_ASSISTANTS=hidden", () => {
  beforeAll(async () => {
    issuer = await startLocalIssuer();
    server = await startLangGraphDev({ env: { ...issuer.env(), AUTH_SYSTEM_ASSISTANTS: "hidden" } });
    dir = await mkdtemp(join(tmpdir(), "check-isolation-hidden-"));
    env = {
      CHECK_ISOLATION_TOKEN_A: await issuer.sign({ sub: "alice", org_id: "tenant-a", scope: ALL_SCOPES }),
      CHECK_ISOLATION_TOKEN_B: await issuer.sign({ sub: "bob", org_id: "tenant-b", scope: ALL_SCOPES }),
    };
  }, 240_000);

  afterAll(async () => {
    await server?.stop();
    await issuer?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("without --graph on a fresh deployment: stops with the clear --graph failure and creates nothing", async () => {
    const { code, report } = await run([]);
    expect(code).toBe(1);
    expect(report.failure).toBe("/assistants/search shows tenant A no graph (system assistants: 200, none listed; A's own assistants: none): name the graph with --graph");
    expect(report.results).toEqual([]);
    expect(report.cleanup).toEqual({ deleted: 0, failed: [], leftovers: [] });
  }, 120_000);

  it("with --graph: the hidden system assistants pass, and the run is clean", async () => {
    const { code, report } = await run(["--graph", "echo"]);
    expect(report.results.filter((r) => r.verdict === "leak" || r.verdict === "error")).toEqual([]);
    expect(code).toBe(0);
    const system = report.results.filter((r) => r.group === "system-assistants");
    expect(system.length).toBeGreaterThanOrEqual(16);
    expect(system.filter((r) => r.verdict !== "pass")).toEqual([]);
    const status = (id: string) => report.results.find((r) => r.id === id)?.status;
    // Hidden: the reads answer 404 as for an unknown assistant, the system search is B's own search (nothing system).
    for (const route of ["get/read-the-graph-s-system-assistant", "graph/read-the-system-assistant-s-graph", "versions/list-the-system-assistant-s-versions"]) expect(status(`assistants.${route}`), route).toBe(404);
    expect(status("assistants.search/search-system-assistants-metadata-created-by-system")).toBe(200);
    expect(report.results.find((r) => r.id === "world/view-of-the-system-assistant")).toMatchObject({ status: 404, verdict: "pass" });
    expect(report.cleanup).toEqual({ deleted: expect.any(Number), failed: [], leftovers: [] });
    expect(await inventory(server.url, env.CHECK_ISOLATION_TOKEN_A!, "tenant-a")).toEqual({ threads: [], assistants: [], items: [] });
  }, 240_000);
});
