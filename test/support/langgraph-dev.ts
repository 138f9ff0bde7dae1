/**
 * Start the real `langgraph dev` server (`@langchain/langgraph-cli`) with this
 * package's own `langgraph.json`, for integration tests.
 *
 * Each server gets a fresh folder under `.tmp/` holding a copy of
 * `langgraph.json` whose paths point back at this checkout: the dev server
 * keeps its state in `<config dir>/.langgraph_api/`, so servers started by
 * parallel test files never share state, and nothing is left in the checkout.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, readdirSync, readlinkSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const CLI = require.resolve("@langchain/langgraph-cli/dist/cli/cli.mjs", { paths: [PROJECT_ROOT] });

/** Options of {@link startLangGraphDev}. */
export interface LangGraphDevOptions {
  /** Environment for the server (the `AUTH_*` variables, usually). */
  env: Record<string, string>;
  /** Change the copied `langgraph.json` (its paths are already relative to the copy). */
  editConfig?: (config: Record<string, unknown>) => void;
  /**
   * Another LangGraph app to run instead of this checkout: its own
   * `langgraph.json` is used and its private folder is made under
   * `<projectRoot>/.tmp/`, so its modules resolve from its own node_modules.
   * Default: this checkout.
   */
  projectRoot?: string;
  /**
   * The `langgraph` CLI to run (`…/@langchain/langgraph-cli/dist/cli/cli.mjs`),
   * e.g. the app's own, so the server shares the app's modules. Default: this checkout's.
   */
  cli?: string;
  /** Give up waiting for `/info` after this many ms. Default 150000. */
  startTimeoutMs?: number;
  /** Where each attempt's port comes from. Default {@link freePort}. */
  pickPort?: () => Promise<number>;
}

/** A running server. */
export interface LangGraphDev {
  url: string;
  /** The server's own folder: its state is persisted under `.langgraph_api/` there (removed by `stop()`). */
  dir: string;
  /** Everything the server printed so far. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * A free TCP port on 127.0.0.1 for a server a child process will bind
 * later. It is picked below the kernel's ephemeral range (Linux
 * `ip_local_port_range`; 32768 where that cannot be read): a port from
 * `listen(0)` comes from that range, where every outgoing connection of a
 * busy test run also takes its local port, and one was taken so before the
 * server bound it. Another test file may still take the port first; the
 * callers try again on a fresh port when that happens.
 */
export async function freePort(): Promise<number> {
  const low = ephemeralLow();
  const from = Math.max(10_000, low - 16_000);
  for (let attempt = 0; from < low && attempt < 20; attempt++) {
    const port = from + Math.floor(Math.random() * (low - from));
    if (await canBind(port)) return port;
  }
  return anyPort();
}

/** The lowest port of the kernel's ephemeral range. */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > 0) return low;
  } catch {
    // not Linux
  }
  return 32_768;
}

/** Whether 127.0.0.1:`port` can be listened on now. */
async function canBind(port: number): Promise<boolean> {
  return new Promise((resolveBind) => {
    const server = createServer();
    server.once("error", () => resolveBind(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolveBind(true)));
  });
}

/** A port the kernel picks (`listen(0)`). */
async function anyPort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * Servers to kill when this process is ended by a signal, which skips "exit"
 * handlers (a bench stopped by its runner, test/bench/bench-smoke.test.ts).
 * Installed once; the signal is raised again afterwards when nothing else
 * listens for it, so the process still ends as it would have.
 */
const orphansOnSignal = new Set<() => void>();
let signalsWatched = false;

function watchSignals(): void {
  if (signalsWatched) return;
  signalsWatched = true;
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
    const onSignal = () => {
      for (const kill of orphansOnSignal) kill();
      process.removeListener(signal, onSignal);
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/**
 * The live (not zombie) processes of process group `group`, from
 * `/proc/<pid>/stat`; `undefined` where `/proc` cannot tell (another OS).
 */
function groupMembers(group: number): string[] | undefined {
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  return pids.filter((pid) => {
    try {
      // After "comm) ": state, ppid, pgrp.
      const [state, , pgrp] = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      return pgrp === String(group) && state !== "Z" && state !== "X";
    } catch {
      return false; // the process went away, or is not ours to read
    }
  });
}

/**
 * Whether the TCP socket listening on 127.0.0.1:`port` is held by a process
 * of process group `group` (the server is spawned detached, so its group is
 * the CLI's pid and holds the server too). Linux: `/proc/net/tcp` names the
 * listening socket's inode, `/proc/<pid>/fd` who holds it. `undefined` where
 * `/proc` cannot tell (another OS).
 */
function listenerInGroup(port: number, group: number): boolean | undefined {
  let table: string;
  try {
    table = readFileSync("/proc/net/tcp", "utf8");
  } catch {
    return undefined;
  }
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  // Columns: sl, local_address, rem_address, st (0A = LISTEN), …, inode (the tenth).
  const row = table.split("\n").map((line) => line.trim().split(/\s+/)).find((f) => f[1] === local && f[3] === "0A");
  if (row === undefined) return false;
  const socket = `socket:[${row[9]}]`;
  for (const pid of groupMembers(group) ?? []) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) if (readlinkSync(`/proc/${pid}/fd/${fd}`) === socket) return true;
    } catch {
      // the process went away, or is not ours to read
    }
  }
  return false;
}

/**
 * Whether the server answering on 127.0.0.1:`port` is the one of process
 * group `group`, not another test file's that took the port first: the
 * socket's holder says so whatever `LOG_LEVEL` hides; where `/proc` cannot
 * tell, the server's own "Server running at" line in `output` (info level).
 */
export function servedByGroup(port: number, group: number, output: string): boolean {
  return listenerInGroup(port, group) ?? output.includes(`Server running at 127.0.0.1:${port}`);
}

/**
 * Whether `output` says the server could not bind `port`. It then dies, but
 * tsx's watcher above it stays up waiting for a file change, so the command
 * does not exit: only its output tells.
 */
export function portTakenIn(output: string, port: number): boolean {
  return new RegExp(`EADDRINUSE[^\\n]*:${port}(?!\\d)`).test(output);
}

/**
 * Whether a live process is in process group `group`: `/proc` where it can
 * tell, else `kill(-group, 0)`, which also counts zombies.
 */
function groupAlive(group: number): boolean {
  const members = groupMembers(group);
  if (members !== undefined) return members.length > 0;
  try {
    process.kill(-group, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Wait until no process of group `group` is left: `langgraph dev`'s CLI
 * exits on SIGTERM before the server it spawned has written its state, so
 * the folder must not be removed at the CLI's exit alone. Past `limitMs`
 * the caller goes on (its own SIGKILL timer, if any, ends the group).
 */
export async function groupGone(group: number, limitMs = 15_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (groupAlive(group) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

/** Rewrite a `./path:export` spec of langgraph.json to be relative to `dir`. */
function relocate(spec: string, dir: string, root: string): string {
  const [file, symbol] = spec.split(":");
  const moved = relative(dir, resolve(root, file!));
  return symbol ? `${moved}:${symbol}` : moved;
}

/**
 * Start `langgraph dev --no-browser` on a free loopback port and wait until
 * `/info` answers from this server (not from another that took the port
 * first): any `LOG_LEVEL` works.
 *
 * @example
 * const server = await startLangGraphDev({ env: issuer.env() });
 * const client = new Client({ apiUrl: server.url, defaultHeaders: { authorization: `Bearer ${token}` } });
 */
export async function startLangGraphDev(options: LangGraphDevOptions): Promise<LangGraphDev> {
  // freePort() answers a port that was free a moment ago; a parallel test
  // file may bind it first. The server then dies with EADDRINUSE: try again
  // on another port instead of failing the file.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      if (attempt >= 3 || !(error instanceof PortTakenError)) throw error;
    }
  }
}

/** The server could not bind its port: another process took it after freePort() answered. */
class PortTakenError extends Error {}

async function startOnce(options: LangGraphDevOptions): Promise<LangGraphDev> {
  watchSignals();
  const root = options.projectRoot ?? PROJECT_ROOT;
  const config = JSON.parse(await readFile(join(root, "langgraph.json"), "utf8")) as {
    graphs: Record<string, string>;
    auth?: { path: string };
    http?: { app?: string };
    [key: string]: unknown;
  };
  // The server joins graph paths onto its cwd (absolute paths break), so the
  // folder lives inside the checkout (git-ignored .tmp/) and paths are relative.
  await mkdir(join(root, ".tmp"), { recursive: true });
  const dir = await mkdtemp(join(root, ".tmp", "lg-dev-"));
  config.graphs = Object.fromEntries(Object.entries(config.graphs).map(([id, spec]) => [id, relocate(spec, dir, root)]));
  if (config.auth?.path) config.auth.path = relocate(config.auth.path, dir, root);
  if (config.http?.app) config.http.app = relocate(config.http.app, dir, root);
  options.editConfig?.(config);

  await writeFile(join(dir, "langgraph.json"), JSON.stringify(config, null, 2));
  const port = await (options.pickPort ?? freePort)();
  let output = "";
  const child: ChildProcess = spawn(
    process.execPath,
    [options.cli ?? CLI, "dev", "--no-browser", "--port", String(port), "--host", "127.0.0.1", "--config", join(dir, "langgraph.json")],
    {
      cwd: dir,
      detached: true,
      env: { ...process.env, ...options.env, LANGGRAPH_CLI_NO_ANALYTICS: "1", BROWSER: "none", FORCE_COLOR: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      resolve();
    }),
  );
  // The server runs in its own process group (so stop() can end its children
  // too), which also means it outlives a test process that exits without
  // calling stop(); one such orphan was found spinning a core at 100 %.
  // A CLI that exited may leave its server running (it writes its state on
  // SIGTERM): the group counts, not the CLI alone.
  const running = () => child.pid !== undefined && (!exited || groupAlive(child.pid));
  const killOrphan = () => {
    if (running()) {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
  };
  process.once("exit", killOrphan);
  orphansOnSignal.add(killOrphan);

  const stop = async () => {
    process.removeListener("exit", killOrphan);
    orphansOnSignal.delete(killOrphan);
    if (running()) {
      try {
        process.kill(-child.pid!, "SIGTERM");
      } catch {
        /* already gone */
      }
      // Wait for the exit itself; SIGKILL only if SIGTERM was not enough.
      const kill = setTimeout(() => {
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {
          /* already gone */
        }
      }, 10_000);
      await exit;
      // The CLI exits before the server it spawned (same group) has finished
      // writing its state to .langgraph_api/ on SIGTERM: removing the folder
      // then races that write (ENOTEMPTY, seen in CI). Wait for the group.
      await groupGone(child.pid!);
      clearTimeout(kill);
    }
    await rm(dir, { recursive: true, force: true });
  };

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 150_000);
  while (Date.now() < deadline) {
    if (portTakenIn(output, port)) {
      await stop();
      throw new PortTakenError(`port ${port} was taken:\n${output}`);
    }
    if (exited) {
      await stop();
      throw new Error(`langgraph dev exited before it was ready:\n${output}`);
    }
    try {
      const response = await fetch(`${url}/info`, { signal: AbortSignal.timeout(2000) });
      if (response.ok && servedByGroup(port, child.pid!, output)) return { url, dir, output: () => output, stop };
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  await stop();
  throw new Error(`langgraph dev did not answer /info in time:\n${output}`);
}
