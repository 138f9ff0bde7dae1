/**
 * `check-isolation` against the real `langgraph dev` running this package's
 * `Auth`: the real command line reports zero leaks and zero errors and exits
 * 0, and a run interrupted halfway (an abort, and a real SIGINT) still
 * deletes everything it created.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";
import { checkIsolation, type IsolationReport } from "../../src/check-isolation/check-isolation.ts";
import { startLangGraphDev, type LangGraphDev } from "../support/langgraph-dev.ts";
import { waitFor } from "../support/wait-for.ts";
import { ALL_SCOPES, READ_SCOPES, inventory, startCli } from "./support.ts";

let issuer: LocalIssuer;
let server: LangGraphDev;
let dir: string;
const tokens = { a: "", b: "", a2: "" };

/** What A and B can see: equal before and after a run means nothing was left behind. */
const everything = async () => ({ a: await inventory(server.url, tokens.a, "tenant-a"), b: await inventory(server.url, tokens.b, "tenant-b") });

describe("check-isolation against langgraph dev running this package's Auth", () => {
  beforeAll(async () => {
    issuer = await startLocalIssuer();
    server = await startLangGraphDev({ env: issuer.env() });
    tokens.a = await issuer.sign({ sub: "alice", org_id: "tenant-a", scope: ALL_SCOPES });
    tokens.b = await issuer.sign({ sub: "bob", org_id: "tenant-b", scope: ALL_SCOPES });
    tokens.a2 = await issuer.sign({ sub: "carol", org_id: "tenant-a", scope: READ_SCOPES });
    dir = await mkdtemp(join(tmpdir(), "check-isolation-"));
    await writeFile(join(dir, "a.jwt"), `${tokens.a}\n`);
  }, 240_000);

  afterAll(async () => {
    await server?.stop();
    await issuer?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("finds zero leaks and zero errors, exits 0, prints no token and leaves nothing behind", async () => {
    const before = await everything();
    const cli = startCli(
      ["--url", server.url, "--graph", "echo", "--token-a-file", join(dir, "a.jwt"), "--json", join(dir, "report.json"), "--junit", join(dir, "report.xml"), "--request-timeout", "60"],
      { CHECK_ISOLATION_TOKEN_B: tokens.b, CHECK_ISOLATION_TOKEN_A2: tokens.a2 },
    );
    const code = await cli.exited;
    const report = JSON.parse(await readFile(join(dir, "report.json"), "utf8")) as IsolationReport;
    const junit = await readFile(join(dir, "report.xml"), "utf8");
    const bad = report.results.filter((r) => r.verdict === "leak" || r.verdict === "error");
    expect(bad).toEqual([]);
    expect(code, cli.stderr()).toBe(0);
    expect(report.summary.leak).toBe(0);
    expect(report.summary.error).toBe(0);
    expect(report.ownerProbes).toBe(true);
    expect(report.summary.probes).toBeGreaterThan(130);
    // The dev server has no crons: reported as not served, never as a pass.
    expect(report.results.filter((r) => r.group === "crons").map((r) => r.verdict)).toEqual(Array(6).fill("not-served"));
    // Tenant B's refusals and A's unchanged world were all checked.
    expect(report.results.find((r) => r.id === "threads.runs.wait/original-hole-1-run-a-s-assistant-on-b-s-own-thread-wait")).toMatchObject({ status: 404, verdict: "pass" });
    expect(report.results.filter((r) => r.group === "credentials").map((r) => r.status)).toEqual(Array(12).fill(401));
    // System assistants are visible (the default): B reads and finds them, and may change none.
    const system = report.results.filter((r) => r.group === "system-assistants");
    expect(system.map((r) => `${r.route} ${r.status} ${r.verdict}`)).toEqual(expect.arrayContaining(["assistants.get 200 pass", "assistants.versions 200 pass", "assistants.update 404 pass", "assistants.latest 404 pass", "assistants.update 403 pass"]));
    expect(system.filter((r) => r.verdict !== "pass")).toEqual([]);
    expect(report.results.filter((r) => r.group === "world").length).toBeGreaterThanOrEqual(11);
    expect(report.cleanup).toEqual({ deleted: expect.any(Number), failed: [], leftovers: [] });
    expect(junit).toMatch(/<testsuites name="check-isolation" tests="\d+" failures="0" errors="0">/);
    expect(cli.stdout()).toMatch(/\d+ probes: \d+ ok, 0 leaks, 0 errors, \d+ not served/);
    for (const token of Object.values(tokens)) {
      for (const output of [cli.stdout(), cli.stderr(), JSON.stringify(report), junit]) expect(output.includes(token)).toBe(false);
    }
    expect(await everything()).toEqual(before);
  }, 240_000);

  it("deletes everything it created when interrupted halfway through the probes", async () => {
    const before = await everything();
    const controller = new AbortController();
    let seen = 0;
    let total = 0;
    const report = await checkIsolation({
      url: server.url,
      tokens,
      graph: "echo",
      signal: controller.signal,
      onProgress: (event) => {
        if (event.phase !== "probe") return;
        seen = event.done;
        total = event.total;
        if (event.done === Math.floor(event.total / 2)) controller.abort(new Error("SIGINT"));
      },
    });
    expect(report.interrupted).toBe("interrupted");
    expect(report.results.length).toBe(seen);
    expect(seen).toBe(Math.floor(total / 2));
    // It had built A's world and B's (and made more in the probes it sent) before the stop.
    expect(report.cleanup.deleted).toBeGreaterThanOrEqual(9);
    expect(report.cleanup.failed).toEqual([]);
    expect(report.cleanup.leftovers).toEqual([]);
    expect(await everything()).toEqual(before);
  }, 240_000);

  it("cleans up after a failure: B's token is refused after A's world is half built", async () => {
    const before = await everything();
    const report = await checkIsolation({ url: server.url, tokens: { a: tokens.a, b: `${tokens.b.slice(0, -4)}AAAA` }, graph: "echo" });
    expect(report.failure).toMatch(/^creating B's thread \(POST \/threads as B\) answered 401/);
    expect(report.results).toEqual([]);
    // A's assistant and thread were made before B's refusal, and are gone again.
    expect(report.cleanup).toEqual({ deleted: 2, failed: [], leftovers: [] });
    expect(await everything()).toEqual(before);
  }, 240_000);

  it("stops at the overall time limit and reports it", async () => {
    const report = await checkIsolation({ url: server.url, tokens, graph: "echo", timeLimitMs: 1 });
    expect(report.interrupted).toBe("time limit of 1 ms reached");
    expect(report.cleanup).toMatchObject({ failed: [], leftovers: [] });
  }, 240_000);

  it("stops on a real SIGINT, still cleans up, and exits 130 (and, without --graph, runs the first system assistant's graph)", async () => {
    const before = await everything();
    // On this fresh server A owns no assistant: a plain search shows nothing, the system assistants do.
    const system = await fetch(`${server.url}/assistants/search`, { method: "POST", headers: { authorization: `Bearer ${tokens.a}`, "content-type": "application/json" }, body: JSON.stringify({ metadata: { created_by: "system" }, limit: 100 }) });
    const firstGraph = ((await system.json()) as Array<{ graph_id: string }>)[0]?.graph_id;
    expect(["echo", "support"]).toContain(firstGraph);
    expect((before.a as { assistants: unknown[] }).assistants).toEqual([]);
    const cli = startCli(["--url", server.url, "--json", join(dir, "sigint.json")], { CHECK_ISOLATION_TOKEN_A: tokens.a, CHECK_ISOLATION_TOKEN_B: tokens.b });
    // Wait until A's world exists, then interrupt.
    // Generous: on a loaded CI runner the CLI's start and the world's first runs take minutes.
    await waitFor(() => cli.stderr().includes("tenant A reads its world"), "the world to be built", { timeoutMs: 300_000 });
    cli.child.kill("SIGINT");
    expect(await cli.exited).toBe(130);
    expect(cli.stderr()).toContain("SIGINT: stopping the probes and deleting what was created");
    const report = JSON.parse(await readFile(join(dir, "sigint.json"), "utf8")) as IsolationReport;
    expect(report.interrupted).toBe("interrupted");
    expect(report.graph).toBe(firstGraph);
    expect(report.cleanup.deleted).toBeGreaterThanOrEqual(9);
    expect(report.cleanup).toMatchObject({ failed: [], leftovers: [] });
    expect(await everything()).toEqual(before);
  }, 420_000);
});
