/**
 * `offboard` against the platform's contract: the in-memory platform API of
 * `test/support/platform-api.ts`, which authenticates and authorizes every
 * call through the platform worker running this package's `Auth` (403 for
 * every handler refusal, filters applied with the server's matcher, only
 * `metadata` of a returned value kept). The platform serves crons, so a
 * tenant's crons are found, exported and deleted first here. Also: owner
 * visibility stops the command, a late write after the deletions is found by
 * the second search, a busy platform's 503s are tried again, and Ctrl-C
 * stops half way and a second run finishes.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runOffboardCli } from "../../src/offboard/run-offboard-cli.ts";
import type { OffboardReport } from "../../src/offboard/offboard.ts";
import { ALL_PERMISSIONS } from "../support/dev-settings.ts";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";
import { startPlatformApi, type PlatformApi, type PlatformApiOptions } from "../support/platform-api.ts";
import { startPlatformWorker, type PlatformHost } from "../support/platform-host.ts";
import { sdkClientFor } from "../support/sdk-client.ts";
import { textSink } from "../support/text-sink.ts";
import { waitFor } from "../support/wait-for.ts";
import { auditCli } from "../support/audit-cli.ts";
import { EventEmitter } from "node:events";
import { systemAssistantId } from "../../src/policy/run-assistant.ts";

const GRAPHS = JSON.stringify({ echo: "./examples/graphs/echo.ts:graph" });
const AUTH = JSON.stringify({ path: "./src/auth.ts:auth" });

let issuer: LocalIssuer;
let worker: PlatformHost;
let ownerWorker: PlatformHost;
let dir: string;
const platforms: PlatformApi[] = [];

beforeAll(async () => {
  issuer = await startLocalIssuer();
  const env = { ...issuer.env(), LANGSERVE_GRAPHS: GRAPHS, LANGGRAPH_AUTH: AUTH };
  [worker, ownerWorker] = await Promise.all([startPlatformWorker(env), startPlatformWorker({ ...env, AUTH_VISIBILITY: "owner" })]);
  dir = await mkdtemp(join(tmpdir(), "offboard-platform-"));
}, 120_000);

afterAll(async () => {
  await Promise.all(platforms.map((p) => p.stop()));
  await worker?.stop();
  await ownerWorker?.stop();
  await issuer?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function platform(options: Partial<PlatformApiOptions> = {}, host: Pick<PlatformHost, "authenticate" | "authorize"> = worker): Promise<PlatformApi> {
  const started = await startPlatformApi(host, { graphs: ["echo"], ...options });
  platforms.push(started);
  return started;
}

const tokenOf = (tenant: string, sub: string, scope = ALL_PERMISSIONS) => issuer.sign({ sub, org_id: tenant, scope });

/** A tenant's world on the stand-in: threads with checkpoints, a pending run, a cron, two assistants, store items. */
async function buildWorld(url: string, token: string, label: string, threads = 2) {
  const client = sdkClientFor(url, token);
  const assistants = [];
  for (const n of [1, 2]) {
    const assistant = await client.assistants.create({ graphId: "echo", name: `a${n}`, metadata: { n } });
    await client.assistants.update(assistant.assistant_id, { name: `a${n} v2` });
    assistants.push(assistant.assistant_id);
  }
  const threadIds = [];
  for (let n = 0; n < threads; n++) {
    const thread = await client.threads.create({ metadata: { n } });
    await client.threads.updateState(thread.thread_id, { values: { text: `${label} first ${n}` } });
    await client.threads.updateState(thread.thread_id, { values: { text: `${label} second ${n}` } });
    threadIds.push(thread.thread_id);
  }
  const run = await client.runs.create(threadIds[0]!, assistants[0]!, { input: { text: "later" } });
  const cron = await client.crons.createForThread(threadIds[0]!, assistants[0]!, { schedule: "0 0 * * *", input: {} });
  for (const namespace of [["notes"], ["prefs", "ui"]]) {
    for (const key of ["k1", "k2"]) await client.store.putItem([label, ...namespace], key, { text: `${label} ${key}` });
  }
  return { assistants, threads: threadIds, run: run.run_id, cron: cron.cron_id };
}

/** Everything of a tenant in the stand-in's own storage (not through the API). */
function stored(api: PlatformApi, tenant: string, label: string) {
  const threads = [...api.storage.threads.values()].filter((t) => t.metadata.tenant_id === tenant).map((t) => t.thread_id).sort();
  return {
    threads,
    checkpoints: threads.flatMap((t) => api.storage.checkpoints.get(t) ?? []).length,
    runs: [...api.storage.runs.values()].filter((r) => threads.includes(r.thread_id)).map((r) => `${r.run_id}:${r.status}`).sort(),
    crons: [...api.storage.crons.values()].filter((c) => threads.includes(c.thread_id)).map((c) => c.cron_id).sort(),
    assistants: [...api.storage.assistants.values()].filter((a) => a.metadata.tenant_id === tenant).map((a) => `${a.assistant_id}:${a.version}`).sort(),
    versions: api.storage.versions.filter((v) => v.metadata.tenant_id === tenant).length,
    store: [...api.storage.store.entries()].filter(([ns]) => ns.split(".")[0] === label).flatMap(([ns, items]) => [...items.keys()].map((k) => `${ns}/${k}`)).sort(),
  };
}

/** Run the command in-process; no output may hold a token. */
async function run(args: string[], tokens: string[], signals?: EventEmitter) {
  const stdout = textSink();
  const stderr = textSink();
  const code = await runOffboardCli(args, {}, { stdout: stdout.stream, stderr: stderr.stream, ...(signals ? { signals: signals as never } : {}) });
  for (const token of tokens) expect(stdout.text().includes(token) || stderr.text().includes(token)).toBe(false);
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

async function tokenFile(name: string, token: string) {
  const file = join(dir, `${name}.jwt`);
  await writeFile(file, token);
  return file;
}

describe("offboard against the platform stand-in (the worker decides every call)", () => {
  it("finds crons and runs in flight, exports everything, deletes crons first, and leaves the other tenant as it was", async () => {
    const api = await platform();
    const [acme, globex] = [await tokenOf("acme.eu", "alice"), await tokenOf("globex", "bob")];
    const a = await buildWorld(api.url, acme, "acme~2Eeu", 3);
    await buildWorld(api.url, globex, "globex");
    const beforeA = stored(api, "acme.eu", "acme~2Eeu");
    const beforeB = stored(api, "globex", "globex");
    expect(beforeA).toMatchObject({ checkpoints: 6, crons: [a.cron], runs: [`${a.run}:pending`], versions: 4, store: expect.arrayContaining(["acme~2Eeu.notes/k1"]) });

    const file = await tokenFile("acme", acme);
    const dry = await run(["--url", api.url, "--token-file", file], [acme]);
    expect(dry.code, dry.stdout).toBe(0);
    expect(dry.stdout).toMatch(/crons\s+1\n/);
    expect(dry.stdout).toMatch(/runs in flight\s+1\n/);
    expect(dry.stdout).toMatch(/threads\s+3 /);
    expect(dry.stdout).toMatch(/assistants\s+2 /);
    expect(dry.stdout).toMatch(/store items\s+4 {2}in 2 namespace/);
    expect(stored(api, "acme.eu", "acme~2Eeu")).toEqual(beforeA);

    const exportDir = join(dir, "platform-export");
    await mkdir(exportDir);
    const json = join(dir, "platform.json");
    const logFrom = api.log.length;
    const done = await run(["--url", api.url, "--token-file", file, "--tenant", "acme.eu", "--yes", "--export", exportDir, "--settle", "0.2", "--audit-file", join(dir, "platform-audit.jsonl"), "--json", json], [acme]);
    expect(done.code, `${done.stdout}\n${done.stderr}`).toBe(0);
    const report = JSON.parse(await readFile(json, "utf8")) as OffboardReport;
    expect(report.erased?.deleted).toEqual({ crons: 1, runs: 1, threads: 3, assistants: 2, store: 4 });
    expect(report.crons_served).toBe(true);
    // The order: the cron, then the run's cancel, before any thread, assistant or store item. Before
    // them, only the permission checks: random ids (404) and a random key in an existing namespace (204).
    const deletions = api.log.slice(logFrom).filter((line) => /^(DELETE|POST \/threads\/:thread_id\/runs\/:run_id\/cancel)/.test(line) && !/ (403|404)$/.test(line));
    expect(deletions.map((line) => line.split(" ").slice(0, 2).join(" "))).toEqual([
      "DELETE /store/items",
      "DELETE /runs/crons/:cron_id",
      "POST /threads/:thread_id/runs/:run_id/cancel",
      ...Array(3).fill("DELETE /threads/:thread_id"),
      ...Array(2).fill("DELETE /assistants/:assistant_id"),
      ...Array(4).fill("DELETE /store/items"),
    ]);
    expect(stored(api, "acme.eu", "acme~2Eeu")).toEqual({ threads: [], checkpoints: 0, runs: [], crons: [], assistants: [], versions: 0, store: [] });
    expect(stored(api, "globex", "globex")).toEqual(beforeB);
    expect(api.storage.assistants.size).toBe(3); // globex's two and the system assistant
    const crons = (await readFile(join(exportDir, "crons.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l) as { cron_id: string });
    expect(crons.map((c) => c.cron_id)).toEqual([a.cron]);
  });

  it("refuses another tenant's token with the platform's 403 and its reason, before anything is deleted", async () => {
    const api = await platform();
    const acme = await tokenOf("acme.eu", "alice");
    const globex = await tokenOf("globex", "bob");
    await buildWorld(api.url, acme, "acme~2Eeu", 1);
    const before = stored(api, "acme.eu", "acme~2Eeu");
    const refused = await run(["--url", api.url, "--token-file", await tokenFile("globex", globex), "--tenant", "acme.eu", "--yes", "--no-audit-record"], [globex]);
    expect(refused.code).toBe(3);
    expect(refused.stdout).toMatch(/REFUSED: the deployment refuses tenant "acme\.eu"'s store to this token \(POST \/store\/items\/search answered 403: .*globex/);
    expect(stored(api, "acme.eu", "acme~2Eeu")).toEqual(before);
  });

  it("with owner visibility says plainly that a user's token cannot offboard the tenant, and deletes nothing", async () => {
    const api = await platform({}, ownerWorker);
    const acme = await tokenOf("acme.eu", "alice");
    const client = sdkClientFor(api.url, acme);
    await client.threads.create({ metadata: {} });
    await client.store.putItem(["acme~2Eeu", "alice", "notes"], "k", { text: "mine" });
    const before = stored(api, "acme.eu", "acme~2Eeu");
    const refused = await run(["--url", api.url, "--token-file", await tokenFile("owner", acme), "--tenant", "acme.eu", "--yes", "--no-audit-record"], [acme]);
    expect(refused.code).toBe(3);
    expect(refused.stdout).toMatch(/REFUSED: this deployment runs with owner visibility \(AUTH_VISIBILITY=owner\): the token of "alice" sees only that user's own threads, assistants and store items, not the rest of tenant "acme\.eu"\. It cannot offboard the whole tenant/);
    expect(stored(api, "acme.eu", "acme~2Eeu")).toEqual(before);
    // The dry run says it too.
    expect((await run(["--url", api.url, "--token-file", await tokenFile("owner", acme)], [acme])).code).toBe(3);
  });

  it("a late write after the deletions is found by the search after --settle: exit 1 naming it; a second run finishes", async () => {
    const api = await platform({ lateWrite: true });
    const acme = await tokenOf("acme.eu", "alice");
    const a = await buildWorld(api.url, acme, "acme~2Eeu", 1);
    const file = await tokenFile("late", acme);
    const first = await run(["--url", api.url, "--token-file", file, "--tenant", "acme.eu", "--yes", "--no-audit-record", "--settle", "1.5"], [acme]);
    expect(first.code).toBe(1);
    expect(first.stdout).toContain("search after erasing: nothing left");
    expect(first.stdout).toContain(`search after 1.5 s: LEFT 1: thread ${a.threads[0]}`);
    expect(first.stdout).not.toContain("DONE");
    const second = await run(["--url", api.url, "--token-file", file, "--tenant", "acme.eu", "--yes", "--no-audit-record", "--settle", "1"], [acme]);
    expect(second.code, second.stdout).toBe(0);
    expect(stored(api, "acme.eu", "acme~2Eeu").threads).toEqual([]);
  });

  it("tries a busy platform's 503 again, and Ctrl-C stops between deletions; a second run finishes", async () => {
    const signals = new EventEmitter();
    // Ctrl-C arrives while the second thread's deletion is on its way (the request the stand-in is about
    // to handle, which the command aborts and which may or may not land): however loaded the machine, the
    // command stops before the third (a poll of its output could come after the last deletion).
    let threadDeletions = 0;
    const api = await platform({
      faults: { "POST /threads/search": 2, "DELETE /assistants/:assistant_id": 1 },
      deleteDelayMs: 40,
      beforeHandle: { "DELETE /threads/:thread_id": (p, storage) => void (storage.threads.has(p.thread_id!) && ++threadDeletions === 2 && signals.emit("SIGINT")) },
    });
    const acme = await tokenOf("acme.eu", "alice");
    await buildWorld(api.url, acme, "acme~2Eeu", 6);
    const file = await tokenFile("busy", acme);
    const stderr = textSink();
    const stdout = textSink();
    const interrupted = runOffboardCli(["--url", api.url, "--token-file", file, "--tenant", "acme.eu", "--yes", "--no-audit-record", "--settle", "0"], {}, { stdout: stdout.stream, stderr: stderr.stream, signals: signals as never });
    expect(await interrupted).toBe(130);
    expect(stdout.text()).toContain("INTERRUPTED: run the same command again to finish");
    expect(stderr.text()).toMatch(/SIGINT: stopping before the next deletion/);
    const half = stored(api, "acme.eu", "acme~2Eeu");
    expect([4, 5]).toContain(half.threads.length);
    expect(half.store.length).toBe(4);

    const second = await run(["--url", api.url, "--token-file", file, "--tenant", "acme.eu", "--yes", "--no-audit-record", "--settle", "0"], [acme]);
    expect(second.code, second.stdout).toBe(0);
    expect(stored(api, "acme.eu", "acme~2Eeu")).toEqual({ threads: [], checkpoints: 0, runs: [], crons: [], assistants: [], versions: 0, store: [] });
    expect(api.log.filter((line) => line.endsWith(" 503"))).toHaveLength(3);
  });

  it("on a terminal, progress is one line rewritten in place with the counts per kind", async () => {
    const api = await platform();
    const acme = await tokenOf("acme.eu", "alice");
    await buildWorld(api.url, acme, "acme~2Eeu", 2);
    const stderr = textSink();
    Object.assign(stderr.stream, { isTTY: true });
    const code = await runOffboardCli(["--url", api.url, "--token-file", await tokenFile("tty", acme), "--tenant", "acme.eu", "--yes", "--no-audit-record", "--settle", "0"], {}, { stdout: textSink().stream, stderr: stderr.stream });
    expect(code).toBe(0);
    expect(stderr.text()).toContain("\r\x1b[K[threads 1/2] deleted ");
    expect(stderr.text()).toContain("\r\x1b[K[threads 2/2] deleted ");
    expect(stderr.text()).toContain("\r\x1b[K[store items 4/4] deleted acme~2Eeu.prefs.ui/k2");
    expect(stderr.text()).not.toMatch(/^deleted thread /m);
    expect(stderr.text().includes(acme)).toBe(false);
  });

  /** A host that lets every token through with no filter and no stamp: the naive deployment this package exists to prevent. */
  const leaky: Pick<PlatformHost, "authenticate" | "authorize"> = {
    authenticate: async () => ({ ok: true, context: { user: { identity: "anyone" }, scopes: [] }, worker: { status: 200, body: null } }),
    authorize: async (_event, value) => ({ ok: true, filters: undefined, value, worker: { status: 200, body: null } }),
  };
  /** Half leaky: the store rule is this package's (the real worker decides), threads, assistants and crons are unfiltered. */
  const halfLeaky: Pick<PlatformHost, "authenticate" | "authorize"> = {
    authenticate: (...args) => worker.authenticate(...args),
    authorize: (event, value, context) => (event.startsWith("store:") ? worker.authorize(event, value, context) : leaky.authorize(event, value, context)),
  };

  /** Another tenant's thread, an unstamped one, a cron on the other's thread and the other's assistant, all visible to acme.eu. */
  async function mixedWorld(url: string, acme: string) {
    const client = sdkClientFor(url, acme);
    const mine = await client.threads.create({ metadata: { tenant_id: "acme.eu" } });
    const theirs = await client.threads.create({ metadata: { tenant_id: "globex" } });
    const unstamped = await client.threads.create({ metadata: {} });
    const theirCron = await client.crons.createForThread(theirs.thread_id, systemAssistantId("echo"), { schedule: "0 0 * * *", input: {} });
    const theirAssistant = await client.assistants.create({ graphId: "echo", metadata: { tenant_id: "globex" } });
    await client.store.putItem(["acme~2Eeu", "notes"], "k", { text: "mine" });
    return { mine, theirs, unstamped, theirCron, theirAssistant };
  }

  it("on a deployment whose auth filters nothing, the negative check refuses before anything is listed or deleted (exit 3)", async () => {
    const api = await platform({}, leaky);
    const acme = await tokenOf("acme.eu", "alice");
    const world = await mixedWorld(api.url, acme);
    const threadsBefore = [...api.storage.threads.keys()].sort();
    for (const yes of [[], ["--tenant", "acme.eu", "--yes", "--no-audit-record", "--settle", "0"]]) {
      const result = await run(["--url", api.url, "--token-file", await tokenFile("leaky", acme), ...yes], [acme]);
      expect(result.code, result.stdout).toBe(3);
      expect(result.stdout).toMatch(/REFUSED: the negative check failed: the deployment accepted this token's store search under another tenant's label \("offboard-check-[0-9a-f]{8}", a random tenant; answered 200\)\. Its tenant filter is not in force/);
      expect(result.stdout).not.toMatch(/^erased:/m);
    }
    // Nothing was deleted, not even the tenant's own thread.
    expect([...api.storage.threads.keys()].sort()).toEqual(threadsBefore);
    expect(api.storage.threads.has(world.mine.thread_id)).toBe(true);
    expect(api.storage.crons.has(world.theirCron.cron_id)).toBe(true);
    expect(api.storage.assistants.has(world.theirAssistant.assistant_id)).toBe(true);
    expect(api.log.filter((line) => /^DELETE \/(threads|assistants|runs)/.test(line) && !line.endsWith(" 404"))).toEqual([]);
  });

  it("with --yes, anything listed that is not the tenant's refuses the whole erasure (exit 3, nothing deleted); the dry run lists it and exits 1", async () => {
    const api = await platform({}, halfLeaky);
    const acme = await tokenOf("acme.eu", "alice");
    const world = await mixedWorld(api.url, acme);
    const threadsBefore = [...api.storage.threads.keys()].sort();
    const file = await tokenFile("half-leaky", acme);

    const json = join(dir, "half-leaky-dry.json");
    const dry = await run(["--url", api.url, "--token-file", file, "--json", json], [acme]);
    expect(dry.code, dry.stdout).toBe(1);
    const report = JSON.parse(await readFile(json, "utf8")) as OffboardReport;
    expect(report.foreign).toEqual(expect.arrayContaining([
      `thread ${world.theirs.thread_id} (stamped "globex")`,
      `thread ${world.unstamped.thread_id} (stamped null)`,
      `cron ${world.theirCron.cron_id} (not on one of the tenant's threads)`,
      `assistant ${world.theirAssistant.assistant_id} (stamped "globex")`,
    ]));
    expect(dry.stdout).toMatch(/WARNING: the deployment shows this tenant thread .* never touched/);

    const erase = await run(["--url", api.url, "--token-file", file, "--tenant", "acme.eu", "--yes", "--no-audit-record", "--settle", "0"], [acme]);
    expect(erase.code, erase.stdout).toBe(3);
    expect(erase.stdout).toMatch(/REFUSED: the deployment shows this token 4 item\(s\) that are not tenant "acme\.eu"'s .*nothing was deleted, not even the tenant's own/);
    expect(erase.stdout).not.toMatch(/^erased:/m);
    expect([...api.storage.threads.keys()].sort()).toEqual(threadsBefore);
    expect(api.storage.store.get("acme~2Eeu.notes")?.size).toBe(1);
    expect(api.log.filter((line) => /^DELETE \/(threads|assistants|runs\/crons)\/:/.test(line) && !line.endsWith(" 404"))).toEqual([]);
  });

  it("refuses a token whose tenant claim or whose stamped state names another tenant than --tenant", async () => {
    // On a leaky deployment the store confirms any label, so only the token and the stamps can tell.
    const api = await platform({}, leaky);
    const globex = await tokenOf("globex", "bob");
    const byClaim = await run(["--url", api.url, "--token-file", await tokenFile("claim", globex), "--tenant", "acme.eu", "--yes", "--no-audit-record"], [globex]);
    expect(byClaim.code, byClaim.stdout).toBe(3);
    expect(byClaim.stdout).toContain(`REFUSED: the token's tenant claims name "globex", not "acme.eu": it is not a token of tenant "acme.eu". Nothing was deleted.`);

    const acme = await tokenOf("acme.eu", "alice");
    await sdkClientFor(api.url, acme).threads.create({ metadata: { tenant_id: "globex" } });
    const byStamp = await run(["--url", api.url, "--token-file", await tokenFile("stamp", acme), "--tenant", "acme.eu", "--yes", "--no-audit-record"], [acme]);
    expect(byStamp.code, byStamp.stdout).toBe(3);
    expect(byStamp.stdout).toContain(`REFUSED: the deployment stamps what this token sees with tenant "globex", not "acme.eu"`);
    expect(api.storage.threads.size).toBe(1);
  });

  it("crons are 'not served' only on evidence: GET /info flags.crons false, or dev's 500 \"Not implemented\"; any other 500 is a failure (exit 1), nothing deleted", async () => {
    const acme = await tokenOf("acme.eu", "alice");
    // Another 500 of the cron search: a failure, listed, before anything is deleted.
    const broken = await platform({ answers: { "POST /runs/crons/search": { status: 500, body: { detail: "database unavailable" } } } });
    await buildWorld(broken.url, acme, "acme~2Eeu", 1);
    const before = stored(broken, "acme.eu", "acme~2Eeu");
    const failed = await run(["--url", broken.url, "--token-file", await tokenFile("cron-500", acme), "--tenant", "acme.eu", "--yes", "--no-audit-record", "--settle", "0"], [acme]);
    expect(failed.code, failed.stdout).toBe(1);
    expect(failed.stdout).toContain("FAILED: searching crons (POST /runs/crons/search; GET /info does not say crons are off): answered 500: database unavailable");
    expect(failed.stdout).not.toContain("DONE");
    expect(stored(broken, "acme.eu", "acme~2Eeu")).toEqual(before);

    // The JS dev server's own answer (text/plain "Not implemented"): not served, and the rest goes on.
    const dev = await platform({ answers: { "POST /runs/crons/search": { status: 500, text: "Not implemented" } } });
    await buildWorld(dev.url, acme, "acme~2Eeu", 1);
    const json = join(dir, "cron-not-implemented.json");
    const notImplemented = await run(["--url", dev.url, "--token-file", await tokenFile("cron-ni", acme), "--tenant", "acme.eu", "--yes", "--no-audit-record", "--settle", "0", "--json", json], [acme]);
    expect(notImplemented.code, notImplemented.stdout).toBe(0);
    expect(JSON.parse(await readFile(json, "utf8"))).toMatchObject({ crons_served: false, erased: { deleted: { crons: 0, threads: 1 } } });

    // GET /info says crons are off: the cron routes are not even asked.
    const off = await platform({ info: { version: "stand-in", flags: { assistants: true, crons: false } } });
    await buildWorld(off.url, acme, "acme~2Eeu", 1);
    const json2 = join(dir, "cron-info-off.json");
    const from = off.log.length;
    const infoOff = await run(["--url", off.url, "--token-file", await tokenFile("cron-off", acme), "--tenant", "acme.eu", "--json", json2], [acme]);
    expect(infoOff.code, infoOff.stdout).toBe(0);
    expect(JSON.parse(await readFile(json2, "utf8"))).toMatchObject({ crons_served: false });
    expect(infoOff.stdout).toContain("(this deployment does not serve crons)");
    expect(off.log.slice(from).filter((line) => line.includes("/runs/crons"))).toEqual([]);
  });

  it("a run that cannot be stopped makes the command exit 1 and is listed", async () => {
    const api = await platform({ cancelIgnored: true });
    const acme = await tokenOf("acme.eu", "alice");
    const a = await buildWorld(api.url, acme, "acme~2Eeu", 1);
    const result = await run(["--url", api.url, "--token-file", await tokenFile("stuck", acme), "--tenant", "acme.eu", "--yes", "--no-audit-record", "--settle", "0", "--run-stop-timeout", "0.3"], [acme]);
    expect(result.code, result.stdout).toBe(1);
    expect(result.stdout).toContain(`FAILED: run ${a.run} of thread ${a.threads[0]} could not be stopped within --run-stop-timeout`);
    expect(result.stdout).not.toContain("DONE");
  });

  it("names every missing permission (store:write and crons:write here) before anything is deleted", async () => {
    const api = await platform();
    const acme = await tokenOf("acme.eu", "alice");
    await buildWorld(api.url, acme, "acme~2Eeu", 1);
    const before = stored(api, "acme.eu", "acme~2Eeu");
    const scope = ALL_PERMISSIONS.split(" ").filter((p) => p !== "store:write" && p !== "crons:write").join(" ");
    const weak = await tokenOf("acme.eu", "alice", scope);
    const refused = await run(["--url", api.url, "--token-file", await tokenFile("weak", weak), "--tenant", "acme.eu", "--yes", "--no-audit-record"], [weak]);
    expect(refused.code, refused.stdout).toBe(3);
    expect(refused.stdout).toMatch(/REFUSED: this token cannot finish the job, so nothing was deleted\. Missing: store:write \(DELETE \/store\/items answered 403[^;]*; crons:write \(DELETE \/runs\/crons\/\{id\} answered 403/);
    expect(stored(api, "acme.eu", "acme~2Eeu")).toEqual(before);
  });

  it("the start is on the record before the first deletion: Ctrl-C leaves started + incomplete, the second run finished, and the log verifies", async () => {
    const signals = new EventEmitter();
    // Ctrl-C while the second thread's deletion is on its way (not a poll of the output, which can come late).
    let threadDeletions = 0;
    const api = await platform({ deleteDelayMs: 40, beforeHandle: { "DELETE /threads/:thread_id": (p, storage) => void (storage.threads.has(p.thread_id!) && ++threadDeletions === 2 && signals.emit("SIGINT")) } });
    const acme = await tokenOf("acme.eu", "alice");
    await buildWorld(api.url, acme, "acme~2Eeu", 6);
    const file = await tokenFile("recorded", acme);
    const auditFile = join(dir, "interrupted-audit.jsonl");
    const exportDir = join(dir, "interrupted-export");
    await mkdir(exportDir);
    const stderr = textSink();
    const stdout = textSink();
    const first = runOffboardCli(["--url", api.url, "--token-file", file, "--tenant", "acme.eu", "--yes", "--export", exportDir, "--audit-file", auditFile, "--settle", "0"], {}, { stdout: stdout.stream, stderr: stderr.stream, signals: signals as never });
    expect(await first).toBe(130);
    // What was done is reported.
    expect(stdout.text()).toMatch(/^erased: crons 1, runs cancelled 1, threads [12], /m);
    expect(stdout.text()).toMatch(/audit: the start of the offboarding is recorded in .* seq 0/);
    expect(stdout.text()).toMatch(/audit: the offboarding is recorded as incomplete in .* seq 1/);
    const records = async () => (await auditCli({}, "export", "--tenant", "acme.eu", "--file", auditFile)).stdout.trim().split("\n").map((l) => JSON.parse(l) as { kind: string; seq: number; data: Record<string, any> });
    const manifestSha = (await import("node:crypto")).createHash("sha256").update(await readFile(join(exportDir, "manifest.json"))).digest("hex");
    const afterFirst = await records();
    expect(afterFirst.map((r) => [r.kind, r.data.phase])).toEqual([["offboarding", "started"], ["offboarding", "incomplete"]]);
    expect(afterFirst[0]!.data).toMatchObject({ export_manifest_sha256: manifestSha, found: { threads: 6, store: 4 } });
    expect(afterFirst[1]!.data).toMatchObject({ interrupted: true, deleted: { crons: 1, runs: 1 } });
    expect(await auditCli({}, "verify", auditFile)).toMatchObject({ code: 0 });

    const second = await run(["--url", api.url, "--token-file", file, "--tenant", "acme.eu", "--yes", "--audit-file", auditFile, "--settle", "0"], [acme]);
    expect(second.code, second.stdout).toBe(0);
    const all = await records();
    expect(all.map((r) => r.data.phase)).toEqual(["started", "incomplete", "started", "finished"]);
    expect(all.at(-1)!.seq).toBe(3);
    expect(await auditCli({}, "verify", auditFile)).toMatchObject({ code: 0, stdout: expect.stringMatching(/OK: 4 record\(s\)/) });
  });

  it("reads every page of a platform that pages lower than it asks, and something deleted by someone else meanwhile is 'already gone', not an error", async () => {
    const api = await platform({
      maxPageSize: 2,
      beforeHandle: {
        // Another operator deletes each thread and assistant right before the command does.
        "DELETE /threads/:thread_id": (p, storage) => {
          if (p.thread_id!.startsWith("0")) return;
          storage.threads.delete(p.thread_id!);
          storage.checkpoints.delete(p.thread_id!);
          for (const [id, r] of storage.runs) if (r.thread_id === p.thread_id) storage.runs.delete(id);
        },
        "DELETE /assistants/:assistant_id": (p, storage) => {
          storage.assistants.delete(p.assistant_id!);
          storage.versions.splice(0, storage.versions.length, ...storage.versions.filter((v) => v.assistant_id !== p.assistant_id));
        },
      },
    });
    const acme = await tokenOf("acme.eu", "alice");
    const a = await buildWorld(api.url, acme, "acme~2Eeu", 5);
    const client = sdkClientFor(api.url, acme);
    for (const key of ["k3", "k4", "k5"]) await client.store.putItem(["acme~2Eeu", "notes"], key, { text: key });
    const json = join(dir, "paged.json");
    const result = await run(["--url", api.url, "--token-file", await tokenFile("paged", acme), "--tenant", "acme.eu", "--yes", "--no-audit-record", "--settle", "0", "--json", json], [acme]);
    expect(result.code, result.stdout).toBe(0);
    const report = JSON.parse(await readFile(json, "utf8")) as OffboardReport;
    expect(report.found).toMatchObject({ threads: 5, assistants: 2, store: 7 });
    expect(report.found_ids?.threads.sort()).toEqual([...a.threads].sort());
    const gone = report.erased!.already_gone;
    expect(gone.assistants).toBe(2);
    expect(gone.threads + report.erased!.deleted.threads).toBe(5);
    expect(gone.threads).toBe(a.threads.filter((t) => !t.startsWith("0")).length);
    expect(report.erased!.failures).toEqual([]);
    expect(result.stdout).toMatch(/already gone: .*assistants 2/);
    expect(stored(api, "acme.eu", "acme~2Eeu")).toEqual({ threads: [], checkpoints: 0, runs: [], crons: [], assistants: [], versions: 0, store: [] });
    // Pages really were capped: the thread search took more than one page.
    expect(api.log.filter((line) => line.startsWith("POST /threads/search 200")).length).toBeGreaterThan(3);
  });

  it("a tenant whose id is a prefix of another's (acme / acme-eu / acme.eu) is offboarded alone", async () => {
    const api = await platform();
    const tokens = { acme: await tokenOf("acme", "alice"), acmeEu: await tokenOf("acme-eu", "eve"), acmeDot: await tokenOf("acme.eu", "dot") };
    await buildWorld(api.url, tokens.acme, "acme", 2);
    await buildWorld(api.url, tokens.acmeEu, "acme-eu", 2);
    await buildWorld(api.url, tokens.acmeDot, "acme~2Eeu", 2);
    const others = [stored(api, "acme-eu", "acme-eu"), stored(api, "acme.eu", "acme~2Eeu")];
    expect(others[0]!.threads).toHaveLength(2);
    const result = await run(["--url", api.url, "--token-file", await tokenFile("prefix", tokens.acme), "--tenant", "acme", "--yes", "--no-audit-record", "--settle", "0"], Object.values(tokens));
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toMatch(/store items\s+4 {2}in 2 namespace/);
    expect(stored(api, "acme", "acme")).toEqual({ threads: [], checkpoints: 0, runs: [], crons: [], assistants: [], versions: 0, store: [] });
    expect([stored(api, "acme-eu", "acme-eu"), stored(api, "acme.eu", "acme~2Eeu")]).toEqual(others);
  });

  it("an unwritable export folder, an export path that is a file, or a --json path that cannot be written stops it before anything is deleted (exit 3)", async () => {
    const api = await platform();
    const acme = await tokenOf("acme.eu", "alice");
    await buildWorld(api.url, acme, "acme~2Eeu", 1);
    const before = stored(api, "acme.eu", "acme~2Eeu");
    const file = await tokenFile("export-checks", acme);
    const yes = ["--url", api.url, "--token-file", file, "--tenant", "acme.eu", "--yes", "--no-audit-record", "--settle", "0"];
    // As root, permission bits do not stop a write: sysfs refuses a new file to everyone.
    const readOnly = join(dir, "read-only");
    await mkdir(readOnly, { mode: 0o500 });
    const unwritable = process.getuid?.() === 0 ? "/sys/kernel" : readOnly;
    const notWritable = await run([...yes, "--export", unwritable], [acme]);
    expect(notWritable.code, notWritable.stdout).toBe(3);
    expect(notWritable.stdout).toMatch(/REFUSED: --export .*: the folder is not writable \(EACCES\)/);

    const aFile = join(dir, "export-is-a-file");
    await writeFile(aFile, "");
    const isFile = await run([...yes, "--export", aFile], [acme]);
    expect(isFile.code, isFile.stdout).toBe(3);
    expect(isFile.stdout).toContain(`REFUSED: --export ${aFile}: not a folder`);

    const badJson = await run([...yes, "--json", join(dir, "no-such-folder", "report.json")], [acme]);
    expect(badJson.code, badJson.stdout).toBe(3);
    expect(badJson.stdout).toMatch(/REFUSED: --json .*report\.json: the report cannot be written there \(ENOENT\), so nothing was done/);

    expect(stored(api, "acme.eu", "acme~2Eeu")).toEqual(before);
    expect(api.log.filter((line) => /^(DELETE|POST \/threads\/:thread_id\/runs\/:run_id\/cancel)/.test(line) && !/ (403|404)$/.test(line))).toEqual([]);
  });
});
