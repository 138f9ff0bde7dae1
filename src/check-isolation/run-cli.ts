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
import { formatJson, formatJunit, formatTable, redact } from "./reports.ts";

/** Where the command writes; the process's own streams by default. */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** Signals to listen to (tests pass an EventEmitter). Default: `process`. */
  signals?: Pick<NodeJS.Process, "on" | "off">;
}

const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

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

  const controller = new AbortController();
  const signals = io.signals ?? process;
  let signalled: string | undefined;
  const onSignal = (name: string) => () => {
    if (signalled) {
      say(`\n${name} again: exiting without finishing the cleanup\n`);
      process.exit(SIGNAL_EXIT[name] ?? 1);
    }
    signalled = name;
    say(`\n${name}: stopping the probes and deleting what was created (press again to exit at once)\n`);
    controller.abort(new Error(name));
  };
  const handlers = Object.fromEntries(Object.keys(SIGNAL_EXIT).map((name) => [name, onSignal(name)]));
  for (const [name, handler] of Object.entries(handlers)) signals.on(name, handler);

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
      signal: controller.signal,
      onProgress: progress,
      broken,
    });
  } finally {
    for (const [name, handler] of Object.entries(handlers)) signals.off(name, handler);
  }
  if (tty) say("\r\x1b[K");
  say(`run marker: ${report.marker}\n`);
  io.stdout.write(redact(formatTable(report), secrets));
  if (options.json) await writeFile(options.json, redact(formatJson(report), secrets));
  if (options.junit) await writeFile(options.junit, redact(formatJunit(report), secrets));
  if (signalled) return SIGNAL_EXIT[signalled]!;
  return isClean(report) ? 0 : 1;
}
