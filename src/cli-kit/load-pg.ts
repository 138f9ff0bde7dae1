/**
 * `pg` for the commands that can read or write the Postgres audit table:
 * an optional peer dependency of the package, so it is loaded only when a
 * command is asked to use a database, and its absence is said in words.
 */
import type { PgPoolLike } from "../pg/audit-sink.ts";

/** A pool the command ends when it is done. */
export type CommandPool = PgPoolLike & { end(): Promise<void> };

/**
 * A one-connection pool on `url`, with `pg` loaded now.
 *
 * @throws {Error} `pg` is not installed (the message says how to install it).
 * @example
 * const pool = await openCommandPool(process.env.DATABASE_URL!);
 * try { ... } finally { await pool.end(); }
 */
export async function openCommandPool(url: string): Promise<CommandPool> {
  let pg: typeof import("pg");
  try {
    pg = await import("pg");
  } catch {
    throw new Error('reading or writing the Postgres audit table needs the "pg" package: npm install pg');
  }
  // pg is CommonJS: its Pool is on the default export.
  const Pool = (pg as unknown as { default?: typeof pg }).default?.Pool ?? pg.Pool;
  return new Pool({ connectionString: url, max: 1 }) as unknown as CommandPool;
}
