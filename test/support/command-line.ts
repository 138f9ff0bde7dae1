/** Run the package's command line from this checkout, as a child process, for tests. */
import { spawn, type ChildProcess } from "node:child_process";
import { PROJECT_ROOT } from "./langgraph-dev.ts";

/** A started command line. */
export interface CliRun {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (a signal's name when it died of one). */
  exited: Promise<number | string>;
}

/**
 * Start `node --import tsx src/cli.ts <command> …` from this checkout (what
 * `npm run check:isolation`, `npm run offboard` and `npm run audit` run).
 *
 * @example
 * const run = startCommand("offboard", ["--url", url, "--token-file", file], {});
 * expect(await run.exited).toBe(0);
 */
export function startCommand(command: string, args: string[], env: Record<string, string>): CliRun {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli.ts", command, ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? "?")));
  return { child, stdout: () => out, stderr: () => err, exited };
}

