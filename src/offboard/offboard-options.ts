/**
 * The command line of `offboard`, read with `node:util` `parseArgs`. The
 * token comes from a file or the environment (a flag works, with a note:
 * other local users see the process list).
 */
import { readChainKey, readDatabaseUrl, type AuditDestination } from "../cli-kit/audit-destination.ts";
import { parseFlags, readSeconds, readToken, requireDeploymentUrl, UsageError } from "../cli-kit/command-line.ts";
import { isTenantId } from "../tenant/tenant-id.ts";

/** The settings of one `offboard` run. */
export interface OffboardOptions {
  url: string;
  token: string;
  /** The tenant named on the command line (required with `--yes`). */
  tenant?: string;
  /** Delete (otherwise a dry run). */
  yes: boolean;
  /** Folder for the export. */
  exportDir?: string;
  /** Pause before the second search, ms. */
  settleMs: number;
  requestTimeoutMs: number;
  /** How long a cancelled run may take to stop, ms. */
  runStopMs: number;
  json?: string;
  /** Where the offboarding is recorded; `undefined` with `noAuditRecord`. */
  audit?: AuditDestination;
  /** The operator waived the audit record (`--no-audit-record`). */
  noAuditRecord: boolean;
  /** Notes for stderr (a token passed as a flag, for example). */
  warnings: string[];
}

/**
 * The settle pause unless `--settle` says otherwise, seconds: long enough
 * for a cancelled run's last checkpoint write on a busy server.
 *
 * @example
 * readOffboardOptions(args, env).settleMs === DEFAULT_SETTLE_SECONDS * 1000; // without --settle
 */
export const DEFAULT_SETTLE_SECONDS = 10;

/**
 * The help text of `offboard`.
 *
 * @example
 * process.stdout.write(OFFBOARD_USAGE);
 */
export const OFFBOARD_USAGE = `Usage: langgraph-tenant-auth offboard --url <deployment> --token-file <file> [--tenant <id> --yes] [options]

Finds everything one tenant owns on a LangGraph deployment, acting as that
tenant (the deployment's own tenant filters decide what the token sees), and
prints it by kind: crons, runs in flight, threads, the tenant's assistants
(never system assistants) and store items under the tenant's namespace label.
Nothing is deleted without --yes. With --yes it writes the export first (with
--export), then deletes in this order: crons, runs in flight (cancelled),
threads (their runs and checkpoints go with them), assistants, store items;
searches every kind again, waits --settle seconds for late writes, and
searches once more. Running it again finishes an interrupted run.

Token (a tenant's user with read and write permissions; prefer a file or the environment):
  --token-file <path>       OFFBOARD_TOKEN_FILE
  --token <jwt>             OFFBOARD_TOKEN          (visible in the process list)
Options:
  --url <url>               deployment base URL (or OFFBOARD_URL)
  --tenant <id>             the tenant to offboard; required with --yes, checked against the deployment
  --yes                     delete (otherwise a dry run that changes nothing)
  --export <dir>            first write everything to <dir> (an existing, writable folder with no
                            earlier export): threads.jsonl (state, full history, runs),
                            assistants.jsonl (with versions), crons.jsonl, store.jsonl, manifest.json
  --settle <seconds>        pause before the last search, for late writes (default ${DEFAULT_SETTLE_SECONDS})
  --json <file>             write the report as JSON
  --request-timeout <s>     per request (default 30)
  --run-stop-timeout <s>    how long a cancelled run may take to stop (default 60)
Audit record (with --yes the offboarding is recorded as the tenant's last audit record):
  --audit-file <file>       the JSON-lines audit log (default: AUDIT_LOG_FILE)
  --audit-database-env <V>  the Postgres audit table; V holds the application role's URL (needs pg)
  --key-env <V>             the chain key's variable (default: AUDIT_CHAIN_KEY when set)
  --no-audit-record         erase without an audit record (the operator's explicit waiver)
  -h, --help

Before anything is deleted it checks the token is the tenant's (the deployment's answers, its
stamps and the token's tenant claims), that a store search under another tenant's label is
refused (the negative check), every permission the job needs, and the export folder, --json
file and audit destination. With --yes the start is recorded before the first deletion.

Exit code: 0 dry run done, or everything erased and both searches empty; 1 something is left,
failed or a run could not be stopped (listed), or the dry run saw another tenant's items;
2 a usage error; 3 refused before deleting anything (the token cannot finish the job, another
tenant's token, owner visibility, the negative check, another tenant's items listed, an
unusable export folder, --json file or audit destination); 130/143 interrupted (run it again
to finish).
`;

/**
 * Read the options of `offboard` from its arguments and environment.
 *
 * @throws {UsageError} naming every problem at once.
 * @example
 * const options = readOffboardOptions(["--url", "https://agents.example.com", "--token-file", "acme.jwt"], process.env);
 */
export function readOffboardOptions(args: string[], env: NodeJS.ProcessEnv): OffboardOptions {
  const values = parseFlags(args, {
    url: "string",
    token: "string",
    "token-file": "string",
    tenant: "string",
    yes: "boolean",
    export: "string",
    settle: "string",
    json: "string",
    "request-timeout": "string",
    "run-stop-timeout": "string",
    "audit-file": "string",
    "audit-database-env": "string",
    "key-env": "string",
    "no-audit-record": "boolean",
  });
  const problems: string[] = [];
  const warnings: string[] = [];
  const str = (name: string) => values[name] as string | undefined;

  const url = str("url") ?? env.OFFBOARD_URL;
  requireDeploymentUrl(url, problems, "--url is missing (or set OFFBOARD_URL)");
  const token = readToken(
    { flag: "--token", flagValue: str("token"), fileFlag: "--token-file", fileValue: str("token-file"), envName: "OFFBOARD_TOKEN", whose: "the tenant's token" },
    env,
    true,
    problems,
    warnings,
  );
  const tenant = str("tenant");
  if (tenant !== undefined && !isTenantId(tenant)) problems.push("--tenant is not a valid tenant id (1 to 128 ASCII letters, digits, \".\", \"_\" or \"-\", starting with a letter or digit)");
  const yes = values.yes === true;
  if (yes && tenant === undefined) problems.push("--yes needs --tenant <id>: name the tenant you erase (the deployment must confirm it is this token's)");
  const settleMs = values.settle === "0" ? 0 : readSeconds("settle", str("settle"), DEFAULT_SETTLE_SECONDS, problems);
  const requestTimeoutMs = readSeconds("request-timeout", str("request-timeout"), 30, problems);
  const runStopMs = readSeconds("run-stop-timeout", str("run-stop-timeout"), 60, problems);

  const noAuditRecord = values["no-audit-record"] === true;
  let audit: AuditDestination | undefined;
  const auditFile = str("audit-file") ?? (str("audit-database-env") === undefined ? env.AUDIT_LOG_FILE || undefined : undefined);
  const databaseEnv = str("audit-database-env");
  if (noAuditRecord && (str("audit-file") !== undefined || databaseEnv !== undefined)) problems.push("--no-audit-record and an audit destination contradict each other");
  else if (str("audit-file") !== undefined && databaseEnv !== undefined) problems.push("give --audit-file or --audit-database-env, not both");
  else if (!noAuditRecord && (auditFile !== undefined || databaseEnv !== undefined)) {
    try {
      const key = readChainKey(str("key-env"), env);
      audit = databaseEnv !== undefined
        ? { databaseUrl: readDatabaseUrl(databaseEnv, env), describe: `the Postgres audit table (${databaseEnv})`, key }
        : { file: auditFile!, describe: auditFile!, key };
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  if (yes && !audit && !noAuditRecord) {
    problems.push("--yes needs an audit destination for the offboarding record: --audit-file <file> (or AUDIT_LOG_FILE), --audit-database-env <VARIABLE>, or --no-audit-record to waive it");
  }
  if (problems.length) throw new UsageError(problems.join("\n"));
  return {
    url: url!,
    token: token!,
    ...(tenant !== undefined ? { tenant } : {}),
    yes,
    ...(str("export") !== undefined ? { exportDir: str("export") } : {}),
    settleMs,
    requestTimeoutMs,
    runStopMs,
    ...(str("json") !== undefined ? { json: str("json") } : {}),
    ...(audit ? { audit } : {}),
    noAuditRecord,
    warnings,
  };
}
