/**
 * The command line of `audit`: a log file or one tenant's chain in the
 * Postgres sink's table, the chain key, saved heads, dates.
 */
import { readFile } from "node:fs/promises";
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { ChainHead, ChainKey } from "../audit/audit-record.ts";
import { isChainHeadLine, parseChainHeads } from "../audit/chain-heads.ts";
import { UsageError } from "../cli-kit/command-line.ts";
import { readChainKey, readDatabaseUrl } from "../cli-kit/audit-destination.ts";

/**
 * The help text of `audit`.
 *
 * @example
 * process.stdout.write(AUDIT_USAGE);
 */
export const AUDIT_USAGE = `Usage: langgraph-tenant-auth audit <verify|head|repair|query|export> ...

  audit verify <file> [--expect-head <heads file | "<tenant> <seq> <hash>">]... [--key-env <VARIABLE>]
      Checks every tenant's hash chain and how the log ends; names the first
      broken record (or the tail defect and its repair) and exits 1 when there
      is one. Lists the calls that started and never finished. With
      --expect-head, the log must still reach each saved head (see head).
  audit head <file> [--key-env <VARIABLE>]
      Verifies the log, then prints each tenant's chain head as
      "<tenant> <seq> <hash>": save it where the log's writer cannot write.
  audit repair <file> [--key-env <VARIABLE>]
      Repairs a tail defect (torn last line, NUL padding, empty lines, missing
      final newline); never a chain broken inside the log.
  audit query --tenant <tenant> [--since <ISO 8601>] [--until <ISO 8601>] [--file <file>]
      Prints one tenant's records as JSON lines.
  audit export --tenant <tenant> [--file <file>] [--out <file>] [--expect-head ...]... [--key-env <VARIABLE>]
      Writes one tenant's whole trail as JSON lines (to --out, a new file, or
      stdout) and verifies that tenant's chain: exit 1 when it is broken.

verify, head and export read one tenant's chain in the Postgres sink's table
instead of a file with --database-env <VARIABLE> --tenant <tenant> (the
variable holds the application role's connection URL; needs the pg package).
query and export read --file, else $AUDIT_LOG_FILE, else standard input.
A keyed chain's key is read from --key-env's variable, else from
AUDIT_CHAIN_KEY when it is set (never from the command line).

Exit code: 0 intact; 1 broken (or unreadable lines in query); 2 a usage error
or a log that cannot be read.
`;

/**
 * A log that cannot be read, or another failure that is not the chain's: exit 2 without the usage text.
 *
 * @example
 * throw new AuditReadError(`cannot read ${file}: ENOENT`);
 */
export class AuditReadError extends Error {
  override name = "AuditReadError";
}

/** What a command reads: a file, or one tenant's chain in the table. */
export type AuditSource =
  | { kind: "file"; file: string; describe: string }
  | { kind: "database"; url: string; tenant: string; describe: string };

const SHARED = {
  "key-env": { type: "string" },
  "expect-head": { type: "string", multiple: true },
  "database-env": { type: "string" },
  tenant: { type: "string" },
} as const satisfies ParseArgsConfig["options"];

/** Parsed arguments of one subcommand. */
export interface AuditArguments {
  positionals: string[];
  values: {
    "key-env"?: string;
    "expect-head"?: string[];
    "database-env"?: string;
    tenant?: string;
    since?: string;
    until?: string;
    file?: string;
    out?: string;
  };
  key: ChainKey | undefined;
}

/**
 * Parse a subcommand's arguments.
 *
 * @param extra the subcommand's own string options (`file`, `out`, `since`, `until`).
 * @throws {UsageError}
 * @example
 * const parsed = parseAuditArguments(["audit.jsonl", "--key-env", "KEY"], [], process.env);
 */
export function parseAuditArguments(args: string[], extra: readonly string[], env: NodeJS.ProcessEnv): AuditArguments {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: { ...SHARED, ...Object.fromEntries(extra.map((name) => [name, { type: "string" as const }])) },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return { positionals: parsed.positionals, values: parsed.values as AuditArguments["values"], key: readChainKey(parsed.values["key-env"] as string | undefined, env) };
}

/**
 * The log a verify, head or repair reads: exactly one `<file>`, or with
 * `--database-env` one tenant's chain in the table (`--tenant`).
 *
 * @throws {UsageError}
 * @example
 * const source = fileOrDatabase(parsed, process.env);
 */
export function fileOrDatabase(parsed: AuditArguments, env: NodeJS.ProcessEnv): AuditSource {
  const { positionals, values } = parsed;
  if (values["database-env"] !== undefined) {
    if (positionals.length > 0) throw new UsageError("give a file or --database-env, not both");
    const url = readDatabaseUrl(values["database-env"], env);
    if (!values.tenant) throw new UsageError("--database-env needs --tenant (the table is read under that tenant's row-level security)");
    return { kind: "database", url, tenant: values.tenant, describe: `tenant ${JSON.stringify(values.tenant)} in tool_audit_records` };
  }
  if (values.tenant !== undefined) throw new UsageError("--tenant belongs to --database-env");
  if (positionals.length !== 1) throw new UsageError("give exactly one file");
  return { kind: "file", file: positionals[0]!, describe: positionals[0]! };
}

/**
 * A date option: ISO 8601 date or date-time.
 *
 * @throws {UsageError}
 * @example
 * readDate("since", "2026-11-01T00:00:00Z"); // a Date
 */
export function readDate(name: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime())) throw new UsageError(`--${name} must be an ISO 8601 date or date-time`);
  return date;
}

/**
 * The saved heads of `--expect-head`: each value is a head line or a file of them.
 *
 * @throws {UsageError}
 * @example
 * const heads = await readExpectedHeads(["heads.txt"]);
 */
export async function readExpectedHeads(values: readonly string[]): Promise<Map<string, ChainHead>> {
  const heads = new Map<string, ChainHead>();
  for (const value of values) {
    let text = value;
    if (!isChainHeadLine(value)) {
      try {
        text = await readFile(value, "utf8");
      } catch (error) {
        throw new UsageError(`--expect-head ${JSON.stringify(value)} is neither "<tenant> <seq> <hash>" nor a readable file (${(error as NodeJS.ErrnoException).code})`);
      }
    }
    try {
      for (const [tenant, head] of parseChainHeads(text)) heads.set(tenant, head);
    } catch (error) {
      throw new UsageError(`--expect-head ${JSON.stringify(value)}: ${(error as Error).message}`);
    }
  }
  return heads;
}
