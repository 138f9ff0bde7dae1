/**
 * `check-isolation` as a command: options, progress on a terminal, the
 * table on stdout, the JSON and JUnit files, the exit code, and Ctrl-C
 * (SIGINT, SIGTERM) that stops the probes but still deletes everything
 * created. No output ever holds a token.
 */
import { writeFile } from "node:fs/promises";
import { brokenCredentials } from "./derived-tokens.ts";
import { checkIsolation, isClean, type IsolationReport, type ProgressEvent } from "./check-isolation.ts";
import { readCliOptions, USAGE, UsageError } from "./cli-options.ts";
import type { CommandIo } from "../cli-kit/command-io.ts";
import { listenForInterrupts, SIGNAL_EXIT } from "../cli-kit/interrupts.ts";
import { redact } from "../cli-kit/redact.ts";
import { formatJson, formatJunit, formatTable } from "./reports.ts";

/** Where the command writes; the process's own streams by default. */
export type CliIo = CommandIo;

/**
 * Run `check-isolation` with these arguments (after the subcommand name).
 *
 * @returns the exit code.
 * @example
 * process.exitCode = await runCheckIsolationCli(process.argv.slice(3), process.env);
 */
export async function runCheckIsolationCli(args: string[], env: NodeJS.ProcessEnv, io: CliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  if (args.includes("-h") || args.includes("--help")) {
    io.stdout.write(USAGE);
    return 0;
  }
  let options;
  try {
    options = readCliOptions(args, env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`check-isolation: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  // Derived once: what is redacted is exactly what is sent.
  const broken = brokenCredentials(options.tokens.a);
  const secrets = [options.tokens.a, options.tokens.b, ...(options.tokens.a2 ? [options.tokens.a2] : []), ...Object.values(broken).map((v) => v.replace(/^Bearer /, ""))];
  const say = (text: string) => io.stderr.write(redact(text, secrets));
  for (const warning of options.warnings) say(`note: ${warning}\n`);

  const interrupts = listenForInterrupts(io.signals ?? process, say, {
    first: "stopping the probes and deleting what was created",
    again: "exiting without finishing the cleanup",
  });

  const tty = Boolean(io.stderr.isTTY);
  const progress = (event: ProgressEvent) => {
    if (event.phase === "probe") {
      if (tty) say(`\r\x1b[K[${event.done}/${event.total}] ${event.result.verdict === "pass" ? "" : `${event.result.verdict.toUpperCase()} `}${event.result.method} ${event.result.pattern}: ${event.result.attempt}`.slice(0, 160));
      return;
    }
    say(`${tty ? "\r\x1b[K" : ""}${event.message}\n`);
  };

  let report: IsolationReport;
  try {
    report = await checkIsolation({
      url: options.url,
      tokens: options.tokens,
      graph: options.graph,
      namespaceA: options.namespaceA,
      namespaceB: options.namespaceB,
      requestTimeoutMs: options.requestTimeoutMs,
      timeLimitMs: options.timeLimitMs,
      signal: interrupts.signal,
      onProgress: progress,
      broken,
    });
  } finally {
    interrupts.stop();
  }
  if (tty) say("\r\x1b[K");
  say(`run marker: ${report.marker}\n`);
  io.stdout.write(redact(formatTable(report), secrets));
  if (options.json) await writeFile(options.json, redact(formatJson(report), secrets));
  if (options.junit) await writeFile(options.junit, redact(formatJunit(report), secrets));
  const signalled = interrupts.signalled();
  if (signalled) return SIGNAL_EXIT[signalled]!;
  return isClean(report) ? 0 : 1;
}
