/**
 * `offboard` as a command: options, progress on a terminal (counts per kind
 * on one line) or plain lines in CI, the report on stdout, `--json`, the exit
 * code, and Ctrl-C (SIGINT, SIGTERM), which stops before the next deletion.
 * No output ever holds the token.
 */
import { open, writeFile } from "node:fs/promises";
import type { CommandIo } from "../cli-kit/command-io.ts";
import { UsageError } from "../cli-kit/command-line.ts";
import { listenForInterrupts, SIGNAL_EXIT } from "../cli-kit/interrupts.ts";
import { redact } from "../cli-kit/redact.ts";
import { offboard, type OffboardProgress } from "./offboard.ts";
import { OFFBOARD_USAGE, readOffboardOptions, type OffboardOptions } from "./offboard-options.ts";
import { formatOffboardJson, formatOffboardReport } from "./offboard-report.ts";

const NOUN: Record<string, string> = { crons: "cron", runs: "run", threads: "thread", assistants: "assistant", store: "store item" };

/**
 * Run `offboard` with these arguments (after the command name).
 *
 * @returns the exit code.
 * @example
 * process.exitCode = await runOffboardCli(process.argv.slice(3), process.env);
 */
export async function runOffboardCli(args: string[], env: NodeJS.ProcessEnv, io: CommandIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  if (args.includes("-h") || args.includes("--help")) {
    io.stdout.write(OFFBOARD_USAGE);
    return 0;
  }
  let options: OffboardOptions;
  try {
    options = readOffboardOptions(args, env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`offboard: ${error.message}\n\n${OFFBOARD_USAGE}`);
    return 2;
  }
  const secrets = [options.token];
  const say = (text: string) => io.stderr.write(redact(text, secrets));
  if (options.json !== undefined) {
    // Checked before anything is listed or deleted: a report that cannot be written at the end loses the record of what was done.
    try {
      await (await open(options.json, "a", 0o600)).close();
    } catch (error) {
      io.stdout.write(redact(`REFUSED: --json ${options.json}: the report cannot be written there (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}), so nothing was done.\n`, secrets));
      return 3;
    }
  }
  for (const warning of options.warnings) say(`note: ${warning}\n`);
  if (options.yes && options.noAuditRecord) say("note: --no-audit-record: this offboarding will not be on the audit record\n");

  const interrupts = listenForInterrupts(io.signals ?? process, say, {
    first: "stopping before the next deletion; what is deleted stays deleted, run the command again to finish",
    again: "exiting at once",
  });
  const tty = Boolean(io.stderr.isTTY);
  const progress = (event: OffboardProgress) => {
    if (event.phase === "step") {
      say(`${tty ? "\r\x1b[K" : ""}${event.message}\n`);
      return;
    }
    const verb = event.kind === "runs" ? "cancelled" : "deleted";
    const outcome = event.outcome === "deleted" ? verb : event.outcome === "gone" ? "already gone:" : "FAILED to delete";
    if (tty) say(`\r\x1b[K[${NOUN[event.kind]}s ${event.done}/${event.total}] ${outcome} ${event.what}`.slice(0, 160));
    else say(`${outcome} ${NOUN[event.kind]} ${event.what} (${event.done}/${event.total})\n`);
    if (tty && event.done === event.total) say("\n");
  };

  let report;
  try {
    report = await offboard({ ...options, signal: interrupts.signal, onProgress: progress });
  } finally {
    interrupts.stop();
  }
  if (tty) say("\r\x1b[K");
  io.stdout.write(redact(formatOffboardReport(report), secrets));
  if (options.json) await writeFile(options.json, redact(formatOffboardJson(report), secrets));
  const signalled = interrupts.signalled();
  if (signalled) return SIGNAL_EXIT[signalled]!;
  return report.exit_code;
}
