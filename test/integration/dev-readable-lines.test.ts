/**
 * What a newcomer sees: `langgraph-tenant-auth dev` (the command behind
 * `npm run dev`, `src/dev/run-dev-cli.ts`) run for real, as a user runs it,
 * on a copy of this checkout's `langgraph.json` (keys from a local issuer of
 * the test, so parallel files never share a port). The server's decision
 * events come out of the command as readable lines: reason, route, caller
 * and decision id; never a token, never the JSON line itself.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALL_PERMISSIONS } from "../support/dev-settings.ts";
import { freePort, groupGone, portTakenIn, PROJECT_ROOT, servedByGroup } from "../support/langgraph-dev.ts";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";
import { waitFor } from "../support/wait-for.ts";

let issuer: LocalIssuer;
let dir: string;
let child: ChildProcess | undefined;
let exited: Promise<void> | undefined;
let url: string;
let stdout = "";
let stderr = "";
let acme: string;
let globex: string;
let acmeThread: string;

/** Kill the command's whole process group (the CLI, tsx's watcher and the server). */
function killGroup(signal: NodeJS.Signals): void {
  if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}
const killOrphans = () => killGroup("SIGKILL");

/** A `./path:export` spec of langgraph.json, relative to the copy's folder. */
function relocate(spec: string): string {
  const [file, symbol] = spec.split(":");
  const moved = relative(dir, resolve(PROJECT_ROOT, file!));
  return symbol ? `${moved}:${symbol}` : moved;
}

async function call(token: string | undefined, method: string, path: string, body?: unknown): Promise<{ status: number; id: string | null; text: string }> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: response.status, id: response.headers.get("x-decision-id"), text: await response.text() };
}

/**
 * Start the dev command on `port` and wait for `/info`. False when the
 * server could not bind the port: the command is then stopped (tsx's
 * watcher keeps it running after the server dies, so it would never exit).
 */
async function startDev(port: number): Promise<boolean> {
  stdout = "";
  stderr = "";
  url = `http://127.0.0.1:${port}`;
  // As a user runs it: `npx langgraph-tenant-auth dev` is this CLI; the app's folder is the cwd.
  child = spawn(
    process.execPath,
    ["--import", "tsx", join(PROJECT_ROOT, "src/cli.ts"), "dev", "--config", join(dir, "langgraph.json"), "--port", String(port), "--host", "127.0.0.1"],
    { cwd: dir, detached: true, env: { ...process.env, ...issuer.env(), FORCE_COLOR: "0", NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout!.on("data", (chunk: Buffer) => void (stdout += chunk.toString("utf8")));
  child.stderr!.on("data", (chunk: Buffer) => void (stderr += chunk.toString("utf8")));
  exited = new Promise((done) => child!.once("exit", () => done()));
  process.once("exit", killOrphans);
  let taken = false;
  await waitFor(
    async () => {
      if (portTakenIn(stdout + stderr, port)) return (taken = true);
      if (child!.exitCode !== null) throw new Error(`dev exited before it was ready:\n${stdout}\n${stderr}`);
      try {
        // Ours, not another test file's server on the port.
        return (await fetch(`${url}/info`, { signal: AbortSignal.timeout(2000) })).ok && servedByGroup(port, child!.pid!, stdout + stderr);
      } catch {
        return false;
      }
    },
    "the dev server to answer /info",
    { timeoutMs: 180_000 },
  );
  if (!taken) return true;
  await stopDev();
  return false;
}

/** Stop the dev command and wait until its whole group, the server too, is gone. */
async function stopDev(): Promise<void> {
  process.removeListener("exit", killOrphans);
  killGroup("SIGTERM");
  const kill = setTimeout(() => killGroup("SIGKILL"), 10_000);
  await exited;
  if (child?.pid !== undefined) await groupGone(child.pid); // the server writes its state after the CLI exits
  clearTimeout(kill);
}

beforeAll(async () => {
  issuer = await startLocalIssuer();
  await mkdir(join(PROJECT_ROOT, ".tmp"), { recursive: true });
  dir = await mkdtemp(join(PROJECT_ROOT, ".tmp", "dev-cli-"));
  const config = JSON.parse(await readFile(join(PROJECT_ROOT, "langgraph.json"), "utf8")) as {
    graphs: Record<string, string>;
    auth: { path: string };
    http?: { app?: string };
  };
  config.graphs = Object.fromEntries(Object.entries(config.graphs).map(([id, spec]) => [id, relocate(spec)]));
  config.auth.path = relocate(config.auth.path);
  if (config.http?.app) config.http.app = relocate(config.http.app);
  await writeFile(join(dir, "langgraph.json"), JSON.stringify(config, null, 2));
  // A port taken before the server binds it (by another test file) is tried again on another.
  for (let attempt = 1; !(await startDev(await freePort())); attempt++) {
    if (attempt >= 3) throw new Error(`three ports in a row were taken:\n${stdout}\n${stderr}`);
  }
  acme = await issuer.sign({ sub: "alice", org_id: "acme", scope: ALL_PERMISSIONS });
  globex = await issuer.sign({ sub: "bob", org_id: "globex", scope: ALL_PERMISSIONS });
  const thread = await call(acme, "POST", "/threads", { metadata: { topic: "q3" } });
  expect(thread.status, thread.text).toBe(200);
  acmeThread = (JSON.parse(thread.text) as { thread_id: string }).thread_id;
}, 240_000);

afterAll(async () => {
  await stopDev();
  await issuer?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 30_000);

/** The readable decision lines the command printed so far. */
const readable = () => stderr.split("\n").filter((line) => line.startsWith("auth "));

describe("npm run dev: each refusal as one readable line", () => {
  it("globex reads acme's thread: the server's 404, on the record as cross_tenant against acme", async () => {
    const answer = await call(globex, "GET", `/threads/${acmeThread}`);
    expect(answer.status).toBe(404);
    const line = new RegExp(
      `^auth refused 404 cross_tenant  threads\\.get \\(threads:read\\)  caller globex/bob  resource of acme  thread ${acmeThread.slice(0, 8)}…  decision [0-9a-f-]{36}$`,
    );
    await waitFor(() => readable().some((l) => line.test(l)), "the cross-tenant line");
  });

  it.each([
    ["a missing token", undefined, "POST", "/threads/search", 401, "auth refused 401 missing_token  threads.search  caller unauthenticated"],
    ["an operator-only route", "globex", "POST", "/internal/truncate", 404, "auth refused 404 operator_only  internal.truncate  caller globex/bob"],
  ] as const)("%s: reason, route, caller and the decision id the client got", async (_, who, method, path, status, head) => {
    const answer = await call(who === "globex" ? globex : undefined, method, path, {});
    expect(answer.status).toBe(status);
    expect(answer.id).toMatch(/^[0-9a-f-]{36}$/);
    await waitFor(() => readable().includes(`${head}  decision ${answer.id}`), `the line of ${answer.id}`);
  });

  it("never a token, never a raw decision JSON line, and every printed line is one line", () => {
    const all = `${stdout}\n${stderr}`;
    for (const token of [acme, globex]) {
      expect(all).not.toContain(token);
      // Not even its signature alone.
      expect(all).not.toContain(token.split(".")[2]!);
    }
    expect(all).not.toContain('{"type":"auth.decision');
    expect(readable().length).toBeGreaterThanOrEqual(3);
  });
});
