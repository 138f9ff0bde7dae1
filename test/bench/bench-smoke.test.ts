/**
 * Every benchmark starts: each `bench*` script of package.json is run with
 * `BENCH_SMOKE=1` (a tiny run of a few iterations or requests, see the
 * header of each bench file) and must exit 0 after printing a table. A bench
 * that can no longer start (a bad import, a server that never gets ready, a
 * refused setup check) fails here instead of on the day someone measures.
 * The numbers of a smoke run mean nothing and are not looked at.
 *
 * A script whose file does not read BENCH_SMOKE fails at once: run in full,
 * a bench takes minutes and wants an idle machine.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../support/langgraph-dev.ts";

const scripts = (JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
const BENCHES = Object.keys(scripts).filter((name) => name === "bench" || name.startsWith("bench:")).sort();

/** Starting four langgraph dev servers (bench:server) or a Postgres (bench:rls) on a busy 2-core machine. */
const SMOKE_TIMEOUT_MS = 300_000;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

let running: { pid: number; done: boolean } | undefined;

afterEach(() => {
  // A run that outlived its test: end the whole group (npm, the bench, its servers' watchers).
  if (running && !running.done) {
    try {
      process.kill(-running.pid, "SIGTERM");
    } catch {
      /* already gone */
    }
  }
  running = undefined;
});

/** `npm run -s <name>` with BENCH_SMOKE=1, in its own process group. */
function runBench(name: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn("npm", ["run", "-s", name], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, BENCH_SMOKE: "1" },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const state = { pid: child.pid!, done: false };
    running = state;
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("error", reject);
    child.once("close", (code, signal) => {
      state.done = true;
      resolve({ code, signal, output });
    });
  });
}

/** The file a bench script runs (`node … bench/<file>.ts`). */
function benchFile(name: string): string {
  const file = /\bbench\/[\w-]+\.ts\b/.exec(scripts[name]!)?.[0];
  if (!file) throw new Error(`npm run ${name} does not run a file under bench/: ${scripts[name]}`);
  return file;
}

describe("benchmarks start (BENCH_SMOKE=1)", () => {
  it("covers every bench script: bench, bench:audit, bench:rls and bench:server at least", () => {
    expect(BENCHES).toEqual(expect.arrayContaining(["bench", "bench:audit", "bench:rls", "bench:server"]));
  });

  it.each(BENCHES)("npm run %s starts, prints its table and exits 0", { timeout: SMOKE_TIMEOUT_MS }, async (name) => {
    const file = benchFile(name);
    expect(readFileSync(join(PROJECT_ROOT, file), "utf8"), `${file} must read BENCH_SMOKE`).toContain("BENCH_SMOKE");
    const run = await runBench(name);
    expect({ name, code: run.code, signal: run.signal }, run.output.slice(-4000)).toEqual({ name, code: 0, signal: null });
    // A markdown table: a header row and its |---| rule.
    expect(run.output, run.output.slice(-4000)).toMatch(/^\|.*\|\n\|[ :|-]+\|$/m);
  });
});
