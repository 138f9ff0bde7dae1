/**
 * The command line of `audit`: a log file or one tenant's chain in the
 * Postgres sink's table, the chain key, saved heads, dates.
 */
import { readFile } from "node:fs/promises";
import type { ChainHead, ChainKey } from "../audit/audit-record.ts";
import { isChainHeadLine, parseChainHeads } from "../audit/chain-heads.ts";
import { parseCommandLine, UsageError, type CommandLineOption } from "../cli-kit/command-line.ts";
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
  audit query (--tenant <tenant> | --target-tenant <tenant> | --all-tenants) [--since <when>] [--until <when>]
              [--reason <code>] [--subject <sub>] [--resource <id>] [--kind <kind>] [--count-by <field>] [--file <file>]
      Prints the matching records as JSON lines (every filter given must match).
      --tenant: the records on that tenant's chain (a decision's caller's
      tenant; _unauthenticated for a refusal before verification);
      --target-tenant: decision events against that tenant's resources, on any
      caller's chain; --all-tenants: every chain. --reason: a reason code
      (a refused tool call's reason_code, a decision's reason); --subject: the
      user_id; --resource: a thread, assistant, run or cron id, or a store
      namespace written with dots; --kind: tool_call, decision or offboarding.
      <when> is an ISO 8601 date or date-time, or a time ago: 30m, 24h, 7d.
      --count-by caller|tenant|subject|reason|target-tenant|kind prints
      "<value> <count>" lines instead, most first, counting each aggregate of
      the flood bound as the refusals it counts.
  audit export --tenant <tenant> [--file <file>] [--out <file>] [--expect-head ...]... [--key-env <VARIABLE>]
      Writes one tenant's whole trail as JSON lines (to --out, a new file, or
      stdout) and verifies that tenant's chain: exit 1 when it is broken.

verify, head and export read one tenant's chain in the Postgres sink's table
instead of a file with --database-env <VARIABLE> --tenant <tenant> (the
variable holds the application role's connection URL; needs the pg package).
query and export read --file, else $AUDIT_LOG_FILE; --file - reads standard input.
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
} as const satisfies Record<string, CommandLineOption>;

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
    "target-tenant"?: string;
    "all-tenants"?: boolean;
    reason?: string;
    subject?: string;
    resource?: string;
    kind?: string;
    "count-by"?: string;
  };
  key: ChainKey | undefined;
}

/**
 * Parse a subcommand's arguments.
 *
 * @param extra the subcommand's own string options (`file`, `out`, `since`, `until`, the query's filters).
 * @param flags the subcommand's own boolean options (`all-tenants`).
 * @throws {UsageError}
 * @example
 * const parsed = parseAuditArguments(["audit.jsonl", "--key-env", "KEY"], [], process.env);
 */
export function parseAuditArguments(args: string[], extra: readonly string[], env: NodeJS.ProcessEnv, flags: readonly string[] = []): AuditArguments {
  const parsed = parseCommandLine(
    args,
    {
      ...SHARED,
      ...Object.fromEntries(extra.map((name) => [name, { type: "string" as const }])),
      ...Object.fromEntries(flags.map((name) => [name, { type: "boolean" as const }])),
    },
    true,
    1,
  );
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

const AGO_UNITS: Readonly<Record<string, number>> = Object.freeze({ m: 60_000, h: 3_600_000, d: 86_400_000 });

/**
 * A date option: ISO 8601 date or date-time, or a time ago (`30m`, `24h`,
 * `7d`: that long before `now`).
 *
 * @param now The clock a time ago counts back from. Default `Date.now`.
 * @throws {UsageError}
 * @example
 * readDate("since", "2026-11-01T00:00:00Z"); // a Date
 * readDate("since", "24h"); // 24 hours ago
 */
export function readDate(name: string, value: string | undefined, now: () => number = Date.now): Date | undefined {
  if (value === undefined) return undefined;
  const ago = /^(\d{1,6})([mhd])$/.exec(value);
  if (ago) return new Date(now() - Number(ago[1]) * AGO_UNITS[ago[2]!]!);
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime())) {
    throw new UsageError(`--${name} must be an ISO 8601 date or date-time, or a time ago (30m, 24h, 7d)`);
  }
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
