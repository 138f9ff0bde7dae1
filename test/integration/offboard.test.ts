/**
 * `offboard` against the real `langgraph dev` running this package's `Auth`,
 * with the real command line (`src/cli.ts offboard`, what `npx
 * langgraph-tenant-auth offboard` runs). Three tenants, one with a dotted id
 * (acme.eu) and one with an underscore (initech_x), each with threads with
 * checkpoints and history, a run still in flight (the `hold` graph), two
 * assistants with two versions each and store items in three namespaces; the
 * dev server serves no crons. Every before/after comparison is a full dump
 * read through the SDK client, and "gone" is also checked in the files the
 * server persists.
 */
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuditLog } from "../../src/audit/audit-log.ts";
import { digestArguments } from "../../src/audit/audit-record.ts";
import { createJsonLinesSink } from "../../src/audit/json-lines-sink.ts";
import { checkIsolation } from "../../src/check-isolation/check-isolation.ts";
import type { OffboardReport } from "../../src/offboard/offboard.ts";
import { auditCli } from "../support/audit-cli.ts";
import { startCommand } from "../support/command-line.ts";
import { startGateProxy } from "../support/gate-proxy.ts";
import { readDevServerStorage } from "../support/dev-server-storage.ts";
import { ALL_PERMISSIONS } from "../support/dev-settings.ts";
import { holdGraphConfig } from "../support/hold-graph.ts";
import { startLangGraphDev, type LangGraphDev } from "../support/langgraph-dev.ts";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";
import { buildTenantWorld, dumpTenant, type TenantDump, type TenantWorld } from "../support/tenant-world.ts";
import { waitFor } from "../support/wait-for.ts";

const A = { tenant: "acme.eu", label: "acme~2Eeu", sub: "alice" };
const B = { tenant: "globex", label: "globex", sub: "bob" };
const C = { tenant: "initech_x", label: "initech~5Fx", sub: "carol" };

let issuer: LocalIssuer;
let server: LangGraphDev;
let dir: string;
const token = { a: "", b: "", c: "", aReadOnly: "" };
const file = { a: "", b: "", c: "", aReadOnly: "" };
const world: Record<"a" | "b" | "c", TenantWorld> = {} as never;
let dumpB: TenantDump;
let auditFile: string;

const offboard = (args: string[], env: Record<string, string> = {}) => startCommand("offboard", ["--url", server.url, "--request-timeout", "60", ...args], env);

/** A finished run of the command, with every output checked for the tokens. */
async function finished(args: string[], env: Record<string, string> = {}) {
  const run = offboard(args, env);
  const code = await run.exited;
  for (const secret of Object.values(token)) {
    expect(run.stdout().includes(secret) || run.stderr().includes(secret), "a token in the output").toBe(false);
  }
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

beforeAll(async () => {
  issuer = await startLocalIssuer();
  server = await startLangGraphDev({ env: issuer.env(), editConfig: holdGraphConfig });
  dir = await mkdtemp(join(tmpdir(), "offboard-"));
  token.a = await issuer.sign({ sub: A.sub, org_id: A.tenant, scope: ALL_PERMISSIONS });
  token.b = await issuer.sign({ sub: B.sub, org_id: B.tenant, scope: ALL_PERMISSIONS });
  token.c = await issuer.sign({ sub: C.sub, org_id: C.tenant, scope: ALL_PERMISSIONS });
  token.aReadOnly = await issuer.sign({ sub: "dave", org_id: A.tenant, scope: "threads:read assistants:read crons:read store:read" });
  for (const [name, value] of Object.entries(token)) {
    file[name as keyof typeof file] = join(dir, `${name}.jwt`);
    await writeFile(join(dir, `${name}.jwt`), `${value}\n`, { mode: 0o600 });
  }
  world.a = await buildTenantWorld(server.url, token.a, A.label, { threads: 3 });
  world.b = await buildTenantWorld(server.url, token.b, B.label, { threads: 2 });
  // Big enough that a kill after the first deletion always leaves work for the second run.
  world.c = await buildTenantWorld(server.url, token.c, C.label, { threads: 8, itemsPerNamespace: 6 });
  dumpB = await dumpTenant(server.url, token.b, B.label);

  // The deployment's audit trail already holds tool calls of acme.eu and globex.
  auditFile = join(dir, "audit.jsonl");
  const log = createAuditLog({ sink: createJsonLinesSink({ file: auditFile }) });
  for (const tenant of [A.tenant, B.tenant, A.tenant]) {
    await log.record({
      time: new Date().toISOString(), tenant_id: tenant, user_id: "someone", thread_id: null, run_id: null, tool: "search_docs",
      tool_call_id: null, decision: "allowed", reason: null, duration_ms: 1, args_sha256: digestArguments({ tenant }),
    });
  }
  await log.close();
}, 420_000);

afterAll(async () => {
  await server?.stop();
  await issuer?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("offboard on langgraph dev", () => {
  it("dry run: lists every kind, finds the tenant from what the deployment stamps, and changes nothing", async () => {
    const before = { a: await dumpTenant(server.url, token.a, A.label), b: dumpB };
    expect(before.a.threads).toHaveLength(4);
    expect(before.a.threads.every((t) => t.history.length >= 2)).toBe(true);
    expect(before.a.assistants.map((a) => a.versions.length)).toEqual([2, 2]);
    expect(before.a.store).toHaveLength(6);
    expect(before.a.crons).toEqual({ notServed: 404 });

    const json = join(dir, "dry-run.json");
    const result = await finished(["--token-file", file.a, "--json", json]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`tenant "${A.tenant}" (store label "${A.label}"): dry run, nothing is deleted`);
    expect(result.stdout).toMatch(/crons\s+0 {2}\(this deployment does not serve crons\)/);
    expect(result.stdout).toMatch(/runs in flight\s+1\n/);
    expect(result.stdout).toMatch(/threads\s+4 /);
    expect(result.stdout).toMatch(/assistants\s+2 /);
    expect(result.stdout).toMatch(/store items\s+6 {2}in 3 namespace\(s\)/);
    const report = JSON.parse(await readFile(json, "utf8")) as OffboardReport;
    expect(report).toMatchObject({ mode: "dry-run", tenant: A.tenant, tenant_from: "deployment", subject: A.sub, crons_served: false, exit_code: 0, foreign: [] });
    expect(report.found_ids!.threads.sort()).toEqual(before.a.threads.map((t) => (t.thread as { thread_id: string }).thread_id));
    expect(report.found_ids!.runs).toEqual([world.a.inFlight!.run]);
    expect(report.found_ids!.assistants.sort()).toEqual([...world.a.assistants].sort());
    expect(report.found_ids!.store.sort()).toEqual([...world.a.items].sort());

    expect(await dumpTenant(server.url, token.a, A.label)).toEqual(before.a);
    expect(await dumpTenant(server.url, token.b, B.label)).toEqual(before.b);
  });

  it("refuses another tenant's token and a token without write permission, says why, and deletes nothing", async () => {
    const before = await dumpTenant(server.url, token.a, A.label);
    const foreign = await finished(["--token-file", file.b, "--tenant", A.tenant, "--yes", "--no-audit-record"]);
    expect(foreign.code).toBe(3);
    expect(foreign.stdout).toMatch(/REFUSED: the deployment refuses tenant "acme\.eu"'s store to this token \(POST \/store\/items\/search answered 403: .*"globex".*\): it is not a token of tenant "acme\.eu"/);
    expect(foreign.stdout).toContain('org_id "globex"');

    const readOnly = await finished(["--token-file", file.aReadOnly, "--tenant", A.tenant, "--yes", "--no-audit-record"]);
    expect(readOnly.code).toBe(3);
    expect(readOnly.stdout).toMatch(/REFUSED: this token cannot finish the job, so nothing was deleted\. Missing: threads:write \(DELETE \/threads\/\{id\} answered 403: insufficient_scope: the "threads:write" permission is required \(decision_id: [0-9a-f-]{36}\)\); assistants:write \(DELETE \/assistants\/\{id\} answered 403/);
    // Nothing was listed either: the refusal comes before.
    expect(readOnly.stdout).not.toContain("found:");

    // --yes needs the tenant named, and an audit destination unless waived.
    expect(await finished(["--token-file", file.a, "--yes", "--no-audit-record"])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--yes needs --tenant/) });
    expect(await finished(["--token-file", file.a, "--tenant", A.tenant, "--yes"], { AUDIT_LOG_FILE: "" })).toMatchObject({ code: 2, stderr: expect.stringMatching(/--yes needs an audit destination/) });
    // An export folder that does not exist stops it before anything is listed or deleted.
    expect(await finished(["--token-file", file.a, "--tenant", A.tenant, "--yes", "--no-audit-record", "--export", join(dir, "missing")])).toMatchObject({
      code: 3,
      stdout: expect.stringMatching(/REFUSED: --export .*missing: the folder cannot be used \(ENOENT\)/),
    });

    expect(await dumpTenant(server.url, token.a, A.label)).toEqual(before);
    expect(await dumpTenant(server.url, token.b, B.label)).toEqual(dumpB);
  });

  it("--yes --export: exports every item, empties the tenant's world (for the tenant and in the server's files), leaves the other tenants identical, and records it", async () => {
    const before = await dumpTenant(server.url, token.a, A.label);
    const aThreads = world.a.threads;
    // The server's files hold A's state before (so the check below can fail).
    await waitFor(async () => {
      const stored = await readDevServerStorage(server.dir);
      return aThreads.every((t) => stored.checkpointThreads.includes(t) || t === world.a.inFlight!.thread) && stored.threads.some((t) => t.metadata.tenant_id === A.tenant);
    }, "the server to persist acme.eu's state");

    const exportDir = join(dir, "acme-export");
    await mkdir(exportDir);
    const json = join(dir, "erase.json");
    const result = await finished(["--token-file", file.a, "--tenant", A.tenant, "--yes", "--export", exportDir, "--settle", "2", "--audit-file", auditFile, "--json", json]);
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toContain("search after erasing: nothing left");
    expect(result.stdout).toContain("search after 2 s: nothing left");
    expect(result.stdout).toContain(`DONE: tenant "${A.tenant}"`);
    // Plain progress lines (no terminal): crons, runs, threads, assistants, store, in that order.
    const order = [...result.stderr.matchAll(/^(?:deleted|cancelled) (run|thread|assistant|store item) /gm)].map((m) => m[1]);
    expect([...new Set(order)]).toEqual(["run", "thread", "assistant", "store item"]);
    const reportText = await readFile(json, "utf8");
    for (const secret of Object.values(token)) expect(reportText.includes(secret)).toBe(false);
    const report = JSON.parse(reportText) as OffboardReport;
    expect(report.erased).toMatchObject({ deleted: { crons: 0, runs: 1, threads: 4, assistants: 2, store: 6 }, failures: [], runs_not_stopped: [] });

    // A sees nothing; the server's files hold nothing of A (emptied store namespaces keep their names in the dev server's in-memory store).
    expect(await dumpTenant(server.url, token.a, A.label)).toEqual({ threads: [], assistants: [], crons: { notServed: 404 }, store: [] });
    const gone = (stored: Awaited<ReturnType<typeof readDevServerStorage>>) =>
      !stored.threads.some((t) => t.metadata.tenant_id === A.tenant || aThreads.includes(t.thread_id)) &&
      !stored.runs.some((r) => aThreads.includes(r.thread_id) || world.a.assistants.includes(r.assistant_id)) &&
      !stored.assistants.some((a) => a.metadata.tenant_id === A.tenant) &&
      !stored.assistantVersions.some((v) => world.a.assistants.includes(v.assistant_id)) &&
      !stored.checkpointThreads.some((t) => aThreads.includes(t)) &&
      !stored.writeThreads.some((t) => aThreads.includes(t)) &&
      stored.storeNamespaces.filter((n) => n.namespace.split(":")[0] === A.label).every((n) => n.keys.length === 0);
    await waitFor(async () => gone(await readDevServerStorage(server.dir)), "the server's files to hold nothing of acme.eu");
    const stored = await readDevServerStorage(server.dir);
    expect(stored.threads.filter((t) => t.metadata.tenant_id === B.tenant).length).toBe(3);
    expect(stored.storeNamespaces.filter((n) => n.namespace.startsWith(`${B.label}:`)).flatMap((n) => n.keys)).toHaveLength(6);
    expect(await dumpTenant(server.url, token.b, B.label)).toEqual(dumpB);

    // The export holds every item the dump before listed, and the manifest's hashes match the files.
    const manifest = JSON.parse(await readFile(join(exportDir, "manifest.json"), "utf8")) as { tenant: string; counts: Record<string, number>; files: Record<string, { sha256: string; records: number }> };
    expect(manifest.tenant).toBe(A.tenant);
    for (const [name, entry] of Object.entries(manifest.files)) {
      expect(createHash("sha256").update(await readFile(join(exportDir, name))).digest("hex"), name).toBe(entry.sha256);
    }
    const lines = async (name: string) => (await readFile(join(exportDir, name), "utf8")).split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);
    const threads = await lines("threads.jsonl");
    const ids = (list: Array<Record<string, any>>, pick: (x: Record<string, any>) => string) => list.map(pick).sort();
    expect(ids(threads, (t) => t.thread.thread_id)).toEqual(ids(before.threads, (t) => t.thread.thread_id));
    for (const dumped of before.threads as Array<Record<string, any>>) {
      const exported = threads.find((t) => t.thread.thread_id === dumped.thread.thread_id)!;
      expect(exported.state.values).toEqual(dumped.state.values);
      expect(exported.history.map((h: any) => h.checkpoint.checkpoint_id)).toEqual(dumped.history.map((h: any) => h.checkpoint.checkpoint_id));
      expect(ids(exported.runs, (r) => r.run_id)).toEqual(ids(dumped.runs, (r) => r.run_id));
    }
    const assistants = await lines("assistants.jsonl");
    expect(assistants.map((a) => [a.assistant.assistant_id, a.versions.length]).sort()).toEqual((before.assistants as Array<Record<string, any>>).map((a) => [a.assistant.assistant_id, 2]).sort());
    const store = await lines("store.jsonl");
    expect(store.map((i) => ({ namespace: i.namespace, key: i.key, value: i.value })).sort((x, y) => `${x.namespace}/${x.key}`.localeCompare(`${y.namespace}/${y.key}`))).toEqual(before.store);
    expect(await lines("crons.jsonl")).toEqual([]);
    expect(manifest.counts).toMatchObject({ threads: 4, runs: 1, assistants: 2, store: 6, store_namespaces: 3, crons: 0, assistant_versions: 4 });
    expect(manifest.counts.checkpoints).toBe(before.threads.reduce((n, t) => n + t.history.length, 0));

    // The offboarding is the last record of acme.eu's chain (its start the one before), and the whole log still verifies.
    expect(await auditCli({}, "verify", auditFile)).toMatchObject({ code: 0, stdout: expect.stringMatching(/OK: 5 record\(s\), 2 tenant chain\(s\)/) });
    const trail = await auditCli({}, "export", "--tenant", A.tenant, "--file", auditFile);
    expect(trail.code, trail.stderr).toBe(0);
    const last = JSON.parse(trail.stdout.trim().split("\n").at(-1)!) as Record<string, any>;
    expect(last).toMatchObject({ v: 3, kind: "offboarding", tenant_id: A.tenant, user_id: A.sub, seq: 3 });
    const started = JSON.parse(trail.stdout.trim().split("\n").at(-2)!) as Record<string, any>;
    expect(started).toMatchObject({ kind: "offboarding", seq: 2, data: { phase: "started", found: { threads: 4, store: 6 } } });
    expect(started.data.export_manifest_sha256).toBe(last.data.export_manifest_sha256);
    expect(last.data).toMatchObject({ phase: "finished", deleted: { crons: 0, runs: 1, threads: 4, assistants: 2, store: 6 }, export_manifest_sha256: createHash("sha256").update(await readFile(join(exportDir, "manifest.json"))).digest("hex") });
    expect(report.audit).toMatchObject({ recorded: true, phase: "finished", seq: 3, hash: last.hash, started: { seq: 2, hash: started.hash } });

    // Run again: nothing to do, still exit 0; a second export into the same folder is refused.
    const again = await finished(["--token-file", file.a, "--tenant", A.tenant, "--yes", "--settle", "0", "--no-audit-record"]);
    expect(again.code, again.stdout).toBe(0);
    expect(again.stdout).toMatch(/threads\s+0 /);
    expect(await finished(["--token-file", file.a, "--tenant", A.tenant, "--export", exportDir])).toMatchObject({ code: 3, stdout: expect.stringMatching(/already holds threads\.jsonl of an earlier export/) });
  });

  it("killed half way through the deletions, a second run finishes with an empty world; the kill leaves the start on the record", async () => {
    const before = await dumpTenant(server.url, token.c, C.label);
    expect(before.threads).toHaveLength(9);
    expect(before.store).toHaveLength(18);
    const exportDir = join(dir, "initech-export");
    await mkdir(exportDir);
    // Through a proxy whose gate shuts once the first thread deletion succeeds (the permission check before
    // it deletes a thread that does not exist: a 404): the kill then comes
    // after exactly that deletion, however fast the command or loaded the machine.
    const gate = await startGateProxy(server.url, (method, path, status) => method === "DELETE" && /^\/threads\/[^/?]+$/.test(path) && status < 300);
    const first = startCommand("offboard", ["--url", gate.url, "--request-timeout", "60", "--token-file", file.c, "--tenant", C.tenant, "--yes", "--export", exportDir, "--audit-file", auditFile, "--settle", "0"], {});
    await Promise.race([gate.shut, first.exited]);
    await waitFor(() => gate.held() > 0 || first.child.exitCode !== null, "the command's next request, held at the gate");
    first.child.kill("SIGKILL");
    expect(await first.exited).toBe("SIGKILL");
    await gate.stop();
    const half = await dumpTenant(server.url, token.c, C.label);
    // Some of it is gone, some is left: the kill came half way, right after the first thread's deletion.
    expect(half.threads).toHaveLength(before.threads.length - 1);
    expect(half.threads.length + half.assistants.length + half.store.length).toBeGreaterThan(0);
    // The killed run is on the record: its start, with what it found and the export it vouches for; the log verifies.
    const trail = async () => (await auditCli({}, "export", "--tenant", C.tenant, "--file", auditFile)).stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);
    const killed = await trail();
    expect(killed.map((r) => r.data?.phase)).toEqual(["started"]);
    expect(killed[0]).toMatchObject({ kind: "offboarding", tenant_id: C.tenant, user_id: C.sub, data: { found: { threads: 9, store: 18 } } });
    expect(killed[0]!.data.export_manifest_sha256).toBe(createHash("sha256").update(await readFile(join(exportDir, "manifest.json"))).digest("hex"));
    expect(await auditCli({}, "verify", auditFile)).toMatchObject({ code: 0 });

    const second = await finished(["--token-file", file.c, "--tenant", C.tenant, "--yes", "--audit-file", auditFile, "--settle", "1"]);
    expect(second.code, `${second.stdout}\n${second.stderr}`).toBe(0);
    expect(await dumpTenant(server.url, token.c, C.label)).toEqual({ threads: [], assistants: [], crons: { notServed: 404 }, store: [] });
    expect(await dumpTenant(server.url, token.b, B.label)).toEqual(dumpB);
    expect((await trail()).map((r) => r.data?.phase)).toEqual(["started", "started", "finished"]);
    expect(await auditCli({}, "verify", auditFile)).toMatchObject({ code: 0 });
  });

  it("check-isolation passes on the same server after the offboardings, and globex is still untouched", async () => {
    const report = await checkIsolation({ url: server.url, tokens: { a: token.a, b: token.b }, graph: "echo", requestTimeoutMs: 60_000 });
    expect(report.results.filter((r) => r.verdict === "leak" || r.verdict === "error")).toEqual([]);
    expect(report.summary.pass).toBeGreaterThan(100);
    expect(report.cleanup).toEqual({ deleted: expect.any(Number), failed: [], leftovers: [] });
    expect(await dumpTenant(server.url, token.b, B.label)).toEqual(dumpB);
  });
});
