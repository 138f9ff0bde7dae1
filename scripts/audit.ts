/**
 * The audit log's command line.
 *
 *   npm run audit -- verify <file> [--key-env AUDIT_CHAIN_KEY]
 *     Checks every tenant's hash chain; names the first broken record and
 *     exits 1 when there is one (2 for a usage error). A keyed chain needs
 *     its key, read from the named environment variable (never from the
 *     command line, where other users could see it).
 *
 *   npm run audit -- query --tenant acme [--since <ISO 8601>] [--until <ISO 8601>] [--file <file>]
 *     Prints one tenant's records as JSON lines. The file defaults to
 *     $AUDIT_LOG_FILE, then standard input.
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { createAuditChainVerifier, parseAuditLine } from "../src/audit/verify-audit-chain.ts";
import { matchesAuditQuery } from "../src/audit/query-audit-log.ts";
import { requireChainKey } from "../src/audit/audit-record.ts";

const USAGE = [
  "usage: npm run audit -- verify <file> [--key-env <VARIABLE holding the chain key>]",
  "       npm run audit -- query --tenant <tenant> [--since <ISO 8601>] [--until <ISO 8601>] [--file <file>]",
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

async function verify(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { "key-env": { type: "string" } } });
  if (positionals.length !== 1) usage("verify needs exactly one file");
  const file = positionals[0]!;
  let key: string | undefined;
  if (values["key-env"] !== undefined) {
    key = process.env[values["key-env"]];
    if (!key) usage(`--key-env: the variable ${values["key-env"]} is not set`);
    try {
      requireChainKey(key, values["key-env"]);
    } catch (error) {
      usage((error as Error).message);
    }
  }
  const verifier = createAuditChainVerifier({ key });
  for await (const line of lines(file)) if (verifier.check(line)) break;
  const report = verifier.report();
  if (!report.ok) {
    const p = report.problem!;
    const where = p.tenant_id === null ? "" : ` (tenant ${JSON.stringify(p.tenant_id)}, seq ${p.seq})`;
    console.error(`BROKEN at line ${p.line}${where}: ${p.reason}`);
    console.error(`${report.records} record(s) before it verified.`);
    return 1;
  }
  console.log(`OK: ${report.records} record(s), ${report.heads.size} tenant chain(s) intact in ${file}`);
  for (const [tenant, head] of [...report.heads].sort(([a], [b]) => a.localeCompare(b))) {
    console.log(`  ${tenant}: ${head.seq + 1} record(s), head ${head.hash}`);
  }
  return 0;
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
  else if (command === "query") code = await query(rest);
  else usage(command ? `unknown command ${JSON.stringify(command)}` : undefined);
} catch (error) {
  usage((error as Error).message);
}
process.exitCode = code;
