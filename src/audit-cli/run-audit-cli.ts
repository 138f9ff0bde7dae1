/**
 * `audit` as a command (`npx langgraph-tenant-auth audit …`, and
 * `npm run audit -- …` in this repository): verify, anchor, repair, query
 * and export the tamper-evident audit trail, from a JSON-lines file or from
 * the Postgres sink's table (`pg` is loaded only then).
 */
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { createInterface } from "node:readline";
import { verifyAuditLogFile, type AuditLogReport } from "../audit/audit-log-parser.ts";
import type { ChainHead, ChainKey } from "../audit/audit-record.ts";
import { formatChainHeads } from "../audit/chain-heads.ts";
import { canonicalJson } from "../audit/canonical-json.ts";
import { AUDIT_RECORD_KINDS, auditRecordCount, auditTargetCounts, matchesAuditQuery, type AuditQuery, type AuditRecordKind } from "../audit/query-audit-log.ts";
import type { AuditRecord } from "../audit/audit-record.ts";
import { isRefusalReason } from "../errors.ts";
import { printable } from "../decision/format-decision.ts";
import { AuditLogNotRepairableError, repairAuditLog } from "../audit/repair-audit-log.ts";
import { createAuditChainVerifier, parseAuditLine, type AuditChainReport } from "../audit/verify-audit-chain.ts";
import type { CommandIo } from "../cli-kit/command-io.ts";
import { UsageError } from "../cli-kit/command-line.ts";
import { readDatabaseUrl } from "../cli-kit/audit-destination.ts";
import { openCommandPool } from "../cli-kit/load-pg.ts";
import { readTenantAuditRecords, verifyTenantAuditChain } from "../pg/audit-sink.ts";
import {
  AUDIT_USAGE, AuditReadError, fileOrDatabase, parseAuditArguments, readDate, readExpectedHeads, type AuditSource,
} from "./audit-cli-options.ts";

/** The streams of `audit`; `stdin` is what query and export read without a file. */
export type AuditCliIo = CommandIo & { stdin?: NodeJS.ReadableStream };

interface Out {
  line(text: string): void;
  error(text: string): void;
}

const describeIoError = (error: unknown) => (error as NodeJS.ErrnoException).code ?? (error as Error).message;

/** Verify a file, or one tenant's chain in the table. */
async function check(source: AuditSource, options: { key?: ChainKey | undefined; expectHeads?: Map<string, ChainHead> }): Promise<AuditLogReport> {
  if (source.kind === "database") {
    // Connect as the application role: it reads its tenant's rows only.
    const pool = await openCommandPool(source.url).catch((error: Error) => {
      throw new AuditReadError(error.message);
    });
    try {
      return { ...(await verifyTenantAuditChain(pool, source.tenant, options)), validBytes: 0 };
    } catch (error) {
      throw new AuditReadError(`cannot read ${source.describe}: ${(error as Error).message}`);
    } finally {
      await pool.end();
    }
  }
  try {
    return await verifyAuditLogFile(source.file, options);
  } catch (error) {
    throw new AuditReadError(`cannot read ${source.file}: ${describeIoError(error)}`);
  }
}

/** Print the first problem, how to repair a tail defect; the exit code 1. */
function broken(out: Out, where: string, report: AuditChainReport): number {
  const p = report.problem!;
  const at = p.tenant_id === null ? "" : ` (tenant ${JSON.stringify(p.tenant_id)}, seq ${p.seq})`;
  out.error(`BROKEN at line ${p.line}${at}: ${p.reason}`);
  if (p.repair) out.error(`repair: ${p.repair.replaceAll("<file>", where)}`);
  out.error(`${report.records} record(s) before it verified.`);
  return 1;
}

function printUnfinished(out: Out, report: AuditChainReport): void {
  if (report.unfinished.length === 0) return;
  out.line(`UNFINISHED: ${report.unfinished.length} call(s) started and never finished (still running, or the process died, or the outcome could not be written):`);
  for (const call of report.unfinished) {
    out.line(
      `  tenant ${JSON.stringify(call.tenant_id)} call ${call.call_id}: ${JSON.stringify(call.tool)} started ${call.time} (line ${call.line}, seq ${call.seq}, user ${call.user_id ?? "-"}, thread ${call.thread_id ?? "-"}, run ${call.run_id ?? "-"})`,
    );
  }
}

async function verify(args: string[], env: NodeJS.ProcessEnv, out: Out): Promise<number> {
  const parsed = parseAuditArguments(args, [], env);
  const source = fileOrDatabase(parsed, env);
  const expectHeads = await readExpectedHeads(parsed.values["expect-head"] ?? []);
  const report = await check(source, { key: parsed.key, expectHeads });
  printUnfinished(out, report);
  if (!report.ok) return broken(out, source.describe, report);
  out.line(`OK: ${report.records} record(s), ${report.heads.size} tenant chain(s) intact in ${source.describe}`);
  for (const [tenant, head] of [...report.heads].sort(([a], [b]) => a.localeCompare(b))) {
    out.line(`  ${tenant}: ${head.seq + 1} record(s), head ${head.hash}`);
  }
  if (expectHeads.size > 0) out.line(`The log reaches all ${expectHeads.size} saved head(s).`);
  return 0;
}

async function head(args: string[], env: NodeJS.ProcessEnv, out: Out, io: AuditCliIo): Promise<number> {
  const parsed = parseAuditArguments(args, [], env);
  const source = fileOrDatabase(parsed, env);
  if (parsed.values["expect-head"]) throw new UsageError("--expect-head belongs to verify");
  const report = await check(source, { key: parsed.key });
  // A head of a log that does not verify would vouch for a broken log.
  if (!report.ok) return broken(out, source.describe, report);
  io.stdout.write(formatChainHeads(report.heads));
  return 0;
}

async function repair(args: string[], env: NodeJS.ProcessEnv, out: Out): Promise<number> {
  const parsed = parseAuditArguments(args, [], env);
  const source = fileOrDatabase(parsed, env);
  if (parsed.values["expect-head"]) throw new UsageError("--expect-head belongs to verify");
  if (source.kind === "database") throw new UsageError("repair works on files; the Postgres table is append-only");
  const { file } = source;
  try {
    const done = await repairAuditLog(file, { key: parsed.key });
    if (done.action === "none") out.line(`${file} is well formed: nothing to repair.`);
    else if (done.action === "newline") out.line(`${file}: ${done.defect}: added the missing final newline.`);
    else out.line(`${file}: ${done.defect}: cut ${done.cutBytes} byte(s) off the end, saved to ${done.savedTo}.`);
    if (!done.after.ok) return broken(out, file, done.after);
    return 0;
  } catch (error) {
    if (error instanceof AuditLogNotRepairableError) {
      out.error(`audit: ${error.message}`);
      return broken(out, file, error.report);
    }
    throw new AuditReadError(`cannot repair ${file}: ${describeIoError(error)}`);
  }
}

/**
 * Which log query and export read: `--file`, else `$AUDIT_LOG_FILE`; `-`
 * (given either way) is standard input. Never standard input silently: a
 * forgotten variable would leave the command waiting on a terminal, or
 * read a pipe nobody meant as the log.
 *
 * @throws {UsageError} neither is set.
 */
function logFile(file: string | undefined, env: NodeJS.ProcessEnv, command: string): string {
  const chosen = file ?? (env.AUDIT_LOG_FILE || undefined);
  if (chosen === undefined || chosen === "") throw new UsageError(`${command} needs the log: --file <file> (or AUDIT_LOG_FILE), or --file - to read standard input`);
  return chosen;
}

/** The lines of a log file, or of standard input for `-`. */
function lines(file: string, io: AuditCliIo): { lines: AsyncIterable<string>; describe: string; failed(): Error | undefined } {
  let failure: Error | undefined;
  const input: NodeJS.ReadableStream = file !== "-" ? createReadStream(file, { encoding: "utf8" }) : (io.stdin ?? process.stdin);
  const describe = file !== "-" ? file : "standard input";
  input.on("error", (error: NodeJS.ErrnoException) => {
    failure = new AuditReadError(`cannot read ${describe}: ${describeIoError(error)}`);
  });
  const reader = createInterface({ input, crlfDelay: Infinity });
  async function* read() {
    try {
      for await (const line of reader) yield line;
    } catch (error) {
      failure ??= new AuditReadError(`cannot read ${describe}: ${describeIoError(error)}`);
    }
    if (failure) throw failure;
  }
  return { lines: read(), describe, failed: () => failure };
}

/** What `--count-by` groups by, read from a record (printed {@link printable}: a subject cannot forge a line). */
const COUNT_BY: Readonly<Record<string, (record: AuditRecord) => string>> = Object.freeze({
  caller: (record) => `${record.tenant_id}/${record.user_id ?? "-"}`,
  tenant: (record) => record.tenant_id,
  subject: (record) => record.user_id ?? "-",
  reason: (record) => String((record.v === 3 ? (record.data as { reason?: unknown }).reason : record.reason_code) ?? "-"),
  "target-tenant": (record) => String((record.v === 3 ? (record.data as { target_tenant_id?: unknown }).target_tenant_id : undefined) ?? "-"),
  kind: (record) => (record.v === 3 ? record.kind : "tool_call"),
});

/** The query's filters from the command line, checked. */
function queryOf(values: ReturnType<typeof parseAuditArguments>["values"]): AuditQuery {
  const chains = [values.tenant !== undefined, values["target-tenant"] !== undefined, values["all-tenants"] === true].filter(Boolean).length;
  if (chains === 0) throw new UsageError("query needs --tenant, --target-tenant or --all-tenants");
  if (values["all-tenants"] && chains > 1) throw new UsageError("--all-tenants searches every chain: give it without --tenant and --target-tenant");
  for (const name of ["tenant", "target-tenant", "subject", "resource"] as const) {
    if (values[name] === "") throw new UsageError(`--${name} must not be empty`);
  }
  if (values.reason !== undefined && !isRefusalReason(values.reason)) {
    throw new UsageError(`--reason is not a reason code (see REFUSAL_REASONS, docs/observability.md)`);
  }
  if (values.kind !== undefined && !AUDIT_RECORD_KINDS.includes(values.kind as AuditRecordKind)) {
    throw new UsageError(`--kind must be one of ${AUDIT_RECORD_KINDS.join(", ")}`);
  }
  return {
    tenant: values.tenant,
    targetTenant: values["target-tenant"],
    allTenants: values["all-tenants"] === true,
    since: readDate("since", values.since),
    until: readDate("until", values.until),
    reason: values.reason,
    subject: values.subject,
    resource: values.resource,
    kind: values.kind as AuditRecordKind | undefined,
  };
}

async function query(args: string[], env: NodeJS.ProcessEnv, out: Out, io: AuditCliIo): Promise<number> {
  const filters = ["since", "until", "file", "target-tenant", "reason", "subject", "resource", "kind", "count-by"];
  const { positionals, values } = parseAuditArguments(args, filters, env, ["all-tenants"]);
  if (positionals.length > 0) throw new UsageError("unexpected argument: this command takes no positional arguments (not shown, in case it is a secret)");
  if (values["database-env"] !== undefined || values["expect-head"]) throw new UsageError("query reads a file: --database-env and --expect-head belong to verify, head and export");
  const q = queryOf(values);
  const countBy = values["count-by"];
  if (countBy !== undefined && !Object.hasOwn(COUNT_BY, countBy)) throw new UsageError(`--count-by must be one of ${Object.keys(COUNT_BY).join(", ")}`);
  const counts = new Map<string, number>();
  let lineNumber = 0;
  let bad = 0;
  const source = logFile(values.file, env, "query");
  for await (const line of lines(source, io).lines) {
    lineNumber += 1;
    if (line === "") continue;
    try {
      const record = parseAuditLine(line);
      if (!matchesAuditQuery(record, q)) continue;
      if (countBy === undefined) io.stdout.write(`${line}\n`);
      else {
        // By target, an aggregate counts per tenant it counted; else it counts as a whole (against one tenant with --target-tenant).
        const entries: [string, number][] =
          countBy === "target-tenant" ? auditTargetCounts(record) : [[COUNT_BY[countBy]!(record), auditRecordCount(record, q.targetTenant)]];
        for (const [key, n] of entries) {
          if (q.targetTenant !== undefined && countBy === "target-tenant" && key !== q.targetTenant) continue;
          counts.set(key, (counts.get(key) ?? 0) + n);
        }
      }
    } catch (error) {
      bad += 1;
      out.error(`audit: line ${lineNumber} skipped: ${(error as Error).message}`);
    }
  }
  for (const [key, count] of [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) out.line(`${printable(key)} ${count}`);
  // A query is not a verification, but unreadable lines are worth a non-zero exit.
  return bad > 0 ? 1 : 0;
}

/** The tenant a JSON line names, `undefined` when it is not an object with a string `tenant_id`, `null` when it is not JSON. */
function tenantOfLine(line: string): string | undefined | null {
  try {
    const value = JSON.parse(line) as { tenant_id?: unknown } | null;
    return typeof value?.tenant_id === "string" ? value.tenant_id : undefined;
  } catch {
    return null;
  }
}

/**
 * `export`: every record of one tenant, written as JSON lines, and that
 * tenant's chain verified from its first record to its last. Only lines of
 * that tenant are checked: another tenant's broken chain is not this one's.
 */
async function exportTrail(args: string[], env: NodeJS.ProcessEnv, out: Out, io: AuditCliIo): Promise<number> {
  const parsed = parseAuditArguments(args, ["file", "out"], env);
  const { positionals, values } = parsed;
  if (positionals.length > 0) throw new UsageError("unexpected argument: this command takes no positional arguments (not shown, in case it is a secret)");
  if (!values.tenant) throw new UsageError("export needs --tenant");
  if (values["database-env"] !== undefined && values.file !== undefined) throw new UsageError("give --file or --database-env, not both");
  const expectHeads = await readExpectedHeads(values["expect-head"] ?? []);
  const tenant = values.tenant;

  // The output is a new file (never an older export overwritten), or stdout.
  let target: { write(text: string): Promise<void>; close(): Promise<void>; describe: string };
  if (values.out !== undefined) {
    const handle = await open(values.out, "wx", 0o600).catch((error: unknown) => {
      throw new AuditReadError(`cannot create ${values.out}: ${describeIoError(error)} (export never overwrites a file)`);
    });
    target = { write: async (text) => void (await handle.write(text)), close: () => handle.close(), describe: values.out };
  } else {
    target = { write: async (text) => void io.stdout.write(text), close: async () => undefined, describe: "standard output" };
  }

  const verifier = createAuditChainVerifier({ key: parsed.key, expectHeads: [...expectHeads].filter(([t]) => t === tenant) });
  let where: string;
  let written = 0;
  /** The log's line number of each line fed to the verifier (its own numbers count only this tenant's). */
  const logLines: number[] = [];
  let unreadable: { line: number } | undefined;
  // After the first problem the verifier is not fed more: the records are still all written.
  let stopped = false;
  try {
    if (values["database-env"] !== undefined) {
      const url = readDatabaseUrl(values["database-env"], env);
      where = `tenant ${JSON.stringify(tenant)} in tool_audit_records`;
      const pool = await openCommandPool(url).catch((error: Error) => {
        throw new AuditReadError(error.message);
      });
      try {
        const records = await readTenantAuditRecords(pool, tenant).catch((error: Error) => {
          throw new AuditReadError(`cannot read ${where}: ${error.message}`);
        });
        for (const [index, record] of records.entries()) {
          const line = canonicalJson(record);
          await target.write(`${line}\n`);
          written += 1;
          logLines.push(index + 1);
          if (!stopped && verifier.check(line)) stopped = true;
        }
      } finally {
        await pool.end();
      }
    } else {
      const input = lines(logFile(values.file, env, "export"), io);
      where = input.describe;
      let lineNumber = 0;
      for await (const line of input.lines) {
        lineNumber += 1;
        if (line === "") continue;
        const owner = tenantOfLine(line);
        if (owner === null) {
          // Not JSON: whose record it was cannot be told, so this tenant's trail cannot be called whole.
          unreadable ??= { line: lineNumber };
          continue;
        }
        if (owner !== tenant) continue;
        await target.write(`${line}\n`);
        written += 1;
        logLines.push(lineNumber);
        if (!stopped && verifier.check(line)) stopped = true;
      }
    }
  } finally {
    await target.close();
  }

  const report = verifier.report();
  out.error(`exported ${written} record(s) of tenant ${JSON.stringify(tenant)} from ${where} to ${target.describe}`);
  printUnfinished(out, report);
  if (!report.ok) {
    const problem = report.problem!;
    return broken(out, where, { ...report, problem: { ...problem, line: logLines[problem.line - 1] ?? problem.line } });
  }
  if (unreadable) {
    out.error(`UNREADABLE line ${unreadable.line} of ${where} (not JSON): it may be a record of this tenant; run \`audit verify\` on the log`);
    return 1;
  }
  const last = report.heads.get(tenant);
  out.error(last ? `OK: the chain of tenant ${JSON.stringify(tenant)} is intact: ${last.seq + 1} record(s), head ${last.seq} ${last.hash}` : `OK: tenant ${JSON.stringify(tenant)} has no records in ${where}`);
  return 0;
}

const COMMANDS: Record<string, (args: string[], env: NodeJS.ProcessEnv, out: Out, io: AuditCliIo) => Promise<number>> = {
  verify,
  head,
  repair,
  query,
  export: exportTrail,
};

/**
 * Run `audit` with these arguments (after the command name: the subcommand first).
 *
 * @returns the exit code.
 * @example
 * process.exitCode = await runAuditCli(["verify", "audit.jsonl"], process.env);
 */
export async function runAuditCli(args: string[], env: NodeJS.ProcessEnv, io: AuditCliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [command, ...rest] = args;
  const out: Out = { line: (text) => io.stdout.write(`${text}\n`), error: (text) => io.stderr.write(`${text}\n`) };
  if (command === undefined || command === "-h" || command === "--help" || rest.includes("-h") || rest.includes("--help")) {
    (command === undefined ? io.stderr : io.stdout).write(AUDIT_USAGE);
    return command === undefined ? 2 : 0;
  }
  const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  try {
    if (!run) throw new UsageError("unknown audit command: give verify, head, repair, query or export (the argument is not shown, in case it is a secret)");
    return await run(rest, env, out, io);
  } catch (error) {
    if (error instanceof UsageError) {
      out.error(`audit: ${error.message}`);
      io.stderr.write(AUDIT_USAGE);
      return 2;
    }
    if (error instanceof AuditReadError) {
      out.error(`audit: ${error.message}`);
      return 2;
    }
    throw error;
  }
}
