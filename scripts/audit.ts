/**
 * The audit log's command line.
 *
 *   npm run audit -- verify <file> [--expect-head <file|value>]... [--key-env AUDIT_CHAIN_KEY]
 *     Checks every tenant's hash chain and how the log ends; names the first
 *     broken record (or the tail defect and its repair) and exits 1 when
 *     there is one (2 for a usage error). Lists the calls that started and
 *     never finished (exit 0 if the chain is intact). With --expect-head,
 *     the log must still reach each saved head (see `head`).
 *
 *   npm run audit -- head <file> [--key-env AUDIT_CHAIN_KEY]
 *     Verifies the log, then prints each tenant's chain head as
 *     "<tenant> <seq> <hash>": save it where the log's writer cannot write.
 *
 *   verify and head read one tenant's chain in the Postgres sink's table
 *   instead of a file with --database-env <VARIABLE> --tenant <tenant>
 *   (the variable holds the application role's connection URL).
 *
 *   npm run audit -- repair <file> [--key-env AUDIT_CHAIN_KEY]
 *     Repairs a tail defect (torn last line, NUL padding, empty lines,
 *     missing final newline); never a chain broken inside the log.
 *
 *   npm run audit -- query --tenant acme [--since <ISO 8601>] [--until <ISO 8601>] [--file <file>]
 *     Prints one tenant's records as JSON lines. The file defaults to
 *     $AUDIT_LOG_FILE, then standard input.
 *
 * A keyed chain needs its key, read from the environment variable named by
 * --key-env, else from AUDIT_CHAIN_KEY when that is set (never from the
 * command line, where other users could see it).
 */
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import pg from "pg";
import { parseAuditLine } from "../src/audit/verify-audit-chain.ts";
import { verifyAuditLogFile, type AuditLogReport } from "../src/audit/audit-log-parser.ts";
import { formatChainHeads, isChainHeadLine, parseChainHeads } from "../src/audit/chain-heads.ts";
import { matchesAuditQuery } from "../src/audit/query-audit-log.ts";
import { requireChainKey, type ChainHead } from "../src/audit/audit-record.ts";
import { AuditLogNotRepairableError, repairAuditLog } from "../src/audit/repair-audit-log.ts";
import { verifyTenantAuditChain } from "../src/pg/audit-sink.ts";

const USAGE = [
  "usage: npm run audit -- verify <file> [--expect-head <heads file | \"<tenant> <seq> <hash>\">]... [--key-env <VARIABLE>]",
  "       npm run audit -- head <file> [--key-env <VARIABLE>]",
  "       (verify and head read the Postgres sink's table instead with --database-env <VARIABLE holding its URL> --tenant <tenant>)",
  "       npm run audit -- repair <file> [--key-env <VARIABLE>]",
  "       npm run audit -- query --tenant <tenant> [--since <ISO 8601>] [--until <ISO 8601>] [--file <file>]",
  "A keyed chain's key is read from --key-env's variable, else from AUDIT_CHAIN_KEY when it is set.",
].join("\n");

function usage(message?: string): never {
  if (message) console.error(`audit: ${message}`);
  console.error(USAGE);
  process.exit(2);
}

function lines(file: string | undefined) {
  const input = file ? createReadStream(file, { encoding: "utf8" }) : process.stdin;
  input.on("error", (error: NodeJS.ErrnoException) => {
    console.error(`audit: cannot read ${file ?? "standard input"}: ${error.code ?? error.message}`);
    process.exit(2);
  });
  return createInterface({ input, crlfDelay: Infinity });
}

function parseDate(name: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime())) usage(`--${name} must be an ISO 8601 date or date-time`);
  return date;
}

/** The chain key: from --key-env's variable, else AUDIT_CHAIN_KEY when set. */
function chainKey(variable: string | undefined): string | undefined {
  const name = variable ?? (process.env.AUDIT_CHAIN_KEY ? "AUDIT_CHAIN_KEY" : undefined);
  if (name === undefined) return undefined;
  const key = process.env[name];
  if (!key) usage(`--key-env: the variable ${name} is not set`);
  try {
    requireChainKey(key, name);
  } catch (error) {
    usage((error as Error).message);
  }
  return key;
}

/**
 * Parse a command's target and options: a `<file>`, or with --database-env
 * one tenant's chain in the Postgres sink's table (`--tenant`).
 */
function fileCommand(args: string[]) {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      "key-env": { type: "string" },
      "expect-head": { type: "string", multiple: true },
      "database-env": { type: "string" },
      tenant: { type: "string" },
    },
  });
  const key = chainKey(values["key-env"]);
  if (values["database-env"] !== undefined) {
    if (positionals.length > 0) usage("give a file or --database-env, not both");
    const url = process.env[values["database-env"]];
    if (!url) usage(`--database-env: the variable ${values["database-env"]} is not set`);
    if (!values.tenant) usage("--database-env needs --tenant (the table is read under that tenant's row-level security)");
    return { file: `tenant ${JSON.stringify(values.tenant)} in tool_audit_records`, database: { url, tenant: values.tenant }, values, key };
  }
  if (values.tenant !== undefined) usage("--tenant belongs to --database-env");
  if (positionals.length !== 1) usage("give exactly one file");
  return { file: positionals[0]!, database: undefined, values, key };
}

type Target = ReturnType<typeof fileCommand>;

async function check(target: Target, options: { key?: string | undefined; expectHeads?: Map<string, ChainHead> }): Promise<AuditLogReport> {
  if (target.database) {
    // Connect as the application role: it reads its tenant's rows only.
    const pool = new pg.Pool({ connectionString: target.database.url, max: 1 });
    try {
      return { ...(await verifyTenantAuditChain(pool, target.database.tenant, options)), validBytes: 0 };
    } catch (error) {
      console.error(`audit: cannot read ${target.file}: ${(error as Error).message}`);
      process.exit(2);
    } finally {
      await pool.end();
    }
  }
  try {
    return await verifyAuditLogFile(target.file, options);
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    console.error(`audit: cannot read ${target.file}: ${e.code ?? e.message}`);
    process.exit(2);
  }
}

/** Print the first problem, how to repair a tail defect, and exit 1. */
function broken(file: string, report: AuditLogReport): number {
  const p = report.problem!;
  const where = p.tenant_id === null ? "" : ` (tenant ${JSON.stringify(p.tenant_id)}, seq ${p.seq})`;
  console.error(`BROKEN at line ${p.line}${where}: ${p.reason}`);
  if (p.repair) console.error(`repair: ${p.repair.replaceAll("<file>", file)}`);
  console.error(`${report.records} record(s) before it verified.`);
  return 1;
}

function printUnfinished(report: AuditLogReport): void {
  if (report.unfinished.length === 0) return;
  console.log(`UNFINISHED: ${report.unfinished.length} call(s) started and never finished (still running, or the process died, or the outcome could not be written):`);
  for (const call of report.unfinished) {
    console.log(
      `  tenant ${JSON.stringify(call.tenant_id)} call ${call.call_id}: ${JSON.stringify(call.tool)} started ${call.time} (line ${call.line}, seq ${call.seq}, user ${call.user_id ?? "-"}, thread ${call.thread_id ?? "-"}, run ${call.run_id ?? "-"})`,
    );
  }
}

async function readExpectedHeads(values: string[]): Promise<Map<string, ChainHead>> {
  const heads = new Map<string, ChainHead>();
  for (const value of values) {
    let text = value;
    if (!isChainHeadLine(value)) {
      try {
        text = await readFile(value, "utf8");
      } catch (error) {
        usage(`--expect-head ${JSON.stringify(value)} is neither "<tenant> <seq> <hash>" nor a readable file (${(error as NodeJS.ErrnoException).code})`);
      }
    }
    try {
      for (const [tenant, head] of parseChainHeads(text)) heads.set(tenant, head);
    } catch (error) {
      usage(`--expect-head ${JSON.stringify(value)}: ${(error as Error).message}`);
    }
  }
  return heads;
}

async function verify(args: string[]): Promise<number> {
  const target = fileCommand(args);
  const { file, values, key } = target;
  const expectHeads = await readExpectedHeads(values["expect-head"] ?? []);
  const report = await check(target, { key, expectHeads });
  printUnfinished(report);
  if (!report.ok) return broken(file, report);
  console.log(`OK: ${report.records} record(s), ${report.heads.size} tenant chain(s) intact in ${file}`);
  for (const [tenant, head] of [...report.heads].sort(([a], [b]) => a.localeCompare(b))) {
    console.log(`  ${tenant}: ${head.seq + 1} record(s), head ${head.hash}`);
  }
  if (expectHeads.size > 0) console.log(`The log reaches all ${expectHeads.size} saved head(s).`);
  return 0;
}

async function head(args: string[]): Promise<number> {
  const target = fileCommand(args);
  const { file, key, values } = target;
  if (values["expect-head"]) usage("--expect-head belongs to verify");
  const report = await check(target, { key });
  // A head of a log that does not verify would vouch for a broken log.
  if (!report.ok) return broken(file, report);
  process.stdout.write(formatChainHeads(report.heads));
  return 0;
}

async function repair(args: string[]): Promise<number> {
  const { file, key, values, database } = fileCommand(args);
  if (values["expect-head"]) usage("--expect-head belongs to verify");
  if (database) usage("repair works on files; the Postgres table is append-only");
  try {
    const done = await repairAuditLog(file, { key });
    if (done.action === "none") console.log(`${file} is well formed: nothing to repair.`);
    else if (done.action === "newline") console.log(`${file}: ${done.defect}: added the missing final newline.`);
    else console.log(`${file}: ${done.defect}: cut ${done.cutBytes} byte(s) off the end, saved to ${done.savedTo}.`);
    if (!done.after.ok) return broken(file, done.after);
    return 0;
  } catch (error) {
    if (error instanceof AuditLogNotRepairableError) {
      console.error(`audit: ${error.message}`);
      return broken(file, error.report);
    }
    const e = error as NodeJS.ErrnoException;
    console.error(`audit: cannot repair ${file}: ${e.code ?? e.message}`);
    return 2;
  }
}

async function query(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { tenant: { type: "string" }, since: { type: "string" }, until: { type: "string" }, file: { type: "string" } },
  });
  if (positionals.length > 0) usage(`unexpected argument ${JSON.stringify(positionals[0])}`);
  if (!values.tenant) usage("query needs --tenant");
  const q = { tenant: values.tenant, since: parseDate("since", values.since), until: parseDate("until", values.until) };
  const file = values.file ?? (process.env.AUDIT_LOG_FILE || undefined);
  let lineNumber = 0;
  let bad = 0;
  for await (const line of lines(file)) {
    lineNumber += 1;
    if (line === "") continue;
    try {
      const record = parseAuditLine(line);
      if (matchesAuditQuery(record, q)) process.stdout.write(`${line}\n`);
    } catch (error) {
      bad += 1;
      console.error(`audit: line ${lineNumber} skipped: ${(error as Error).message}`);
    }
  }
  // A query is not a verification, but unreadable lines are worth a non-zero exit.
  return bad > 0 ? 1 : 0;
}

const [command, ...rest] = process.argv.slice(2);
let code: number;
try {
  if (command === "verify") code = await verify(rest);
  else if (command === "head") code = await head(rest);
  else if (command === "repair") code = await repair(rest);
  else if (command === "query") code = await query(rest);
  else usage(command ? `unknown command ${JSON.stringify(command)}` : undefined);
} catch (error) {
  usage((error as Error).message);
}
process.exitCode = code;
