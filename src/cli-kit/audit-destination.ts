/**
 * Where a command finds the audit trail: a JSON-lines file, or one tenant's
 * chain in the Postgres sink's table (the connection URL in an environment
 * variable, never on the command line), and the chain key of a keyed log,
 * always from the environment.
 */
import { createAuditLog, type AuditLog } from "../audit/audit-log.ts";
import { requireChainKey, type ChainKey } from "../audit/audit-record.ts";
import { createJsonLinesSink } from "../audit/json-lines-sink.ts";
import { createPostgresAuditSink } from "../pg/audit-sink.ts";
import { UsageError } from "./command-line.ts";
import { openCommandPool, type CommandPool } from "./load-pg.ts";

/**
 * The chain key: from the variable `keyEnv` names, else from
 * `AUDIT_CHAIN_KEY` when that is set; `undefined` for an unkeyed log.
 *
 * @throws {UsageError} the named variable is unset, or the key is shorter than 32 bytes.
 * @example
 * const key = readChainKey(values["key-env"], process.env);
 */
export function readChainKey(keyEnv: string | undefined, env: NodeJS.ProcessEnv): ChainKey | undefined {
  const name = keyEnv ?? (env.AUDIT_CHAIN_KEY ? "AUDIT_CHAIN_KEY" : undefined);
  if (name === undefined) return undefined;
  const key = env[name];
  if (!key) throw new UsageError(`--key-env: the variable ${name} is not set`);
  try {
    return requireChainKey(key, name);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/**
 * The connection URL held by the variable `databaseEnv` names.
 *
 * @throws {UsageError} the variable is unset.
 * @example
 * const url = readDatabaseUrl("DATABASE_URL", process.env);
 */
export function readDatabaseUrl(databaseEnv: string, env: NodeJS.ProcessEnv): string {
  const url = env[databaseEnv];
  if (!url) throw new UsageError(`the variable ${databaseEnv} is not set (it must hold the connection URL of the application role)`);
  return url;
}

/** Where to write an audit record: exactly one of `file` and `databaseUrl`. */
export interface AuditDestination {
  /** A JSON-lines log (shared with the server's writers through its lock file). */
  file?: string;
  /** The Postgres sink's table, as the application role. */
  databaseUrl?: string;
  /** What the destination is, in words (never the URL: it may hold a password). */
  describe: string;
  key: ChainKey | undefined;
}

/** An audit log open on a destination. */
export interface OpenAuditLog {
  log: AuditLog;
  /** Close the log and the pool behind it. */
  close(): Promise<void>;
}

/**
 * Open the audit log of a destination for writing (nothing is written yet:
 * call `log.ready()` to prove it can write).
 *
 * @example
 * const { log, close } = await openAuditLog({ file: "audit.jsonl", describe: "audit.jsonl", key: undefined });
 */
export async function openAuditLog(destination: AuditDestination): Promise<OpenAuditLog> {
  if (destination.file !== undefined) {
    const log = createAuditLog({ sink: createJsonLinesSink({ file: destination.file, chainKey: destination.key }), chainKey: destination.key });
    return { log, close: () => log.close() };
  }
  if (destination.databaseUrl === undefined) throw new TypeError("openAuditLog: a destination needs a file or a database URL");
  const pool: CommandPool = await openCommandPool(destination.databaseUrl);
  const log = createAuditLog({ sink: createPostgresAuditSink({ pool }), chainKey: destination.key });
  return {
    log,
    async close() {
      try {
        await log.close();
      } finally {
        await pool.end();
      }
    },
  };
}
