import type pg from "pg";
import { InvalidTenantIdError } from "../errors.ts";
import { isTenantId } from "../tenant/tenant-id.ts";
import { rollbackForRelease } from "./rollback-for-release.ts";

/** The Postgres setting row-level security policies read the tenant from. */
export const TENANT_SETTING = "app.current_tenant";

/** Anything `withTenant` can check a connection out of (a `pg.Pool`). */
export interface ConnectablePool {
  connect(): Promise<pg.PoolClient>;
}

// The tenant travels only as the bound parameter $1: never formatted into SQL.
const SET_TENANT_SQL = `SELECT set_config('${TENANT_SETTING}', $1, true)`;
const RESET_SQL = `RESET ${TENANT_SETTING}`;

/** Simple-query text that cleans a connection in one round trip (see {@link resetTenantState}). */
function resetSql(client: pg.ClientBase): string {
  return client.getTransactionStatus() === "I" ? RESET_SQL : `ROLLBACK; ${RESET_SQL}`;
}

/**
 * Make a connection just taken from a pool clean: end a transaction an
 * earlier user left open or failed (`ROLLBACK`), then drop any session-level
 * tenant it set. Returns once both are done.
 *
 * @example
 * const client = await pool.connect();
 * await resetTenantState(client);
 */
export async function resetTenantState(client: pg.ClientBase): Promise<void> {
  // One query, queued at once: nothing else the client is asked can slip in between.
  await client.query(resetSql(client));
}

/**
 * Run `fn` in a transaction that sees only `tenantId`'s rows.
 *
 * Checks a connection out, ends any transaction an earlier user left open,
 * resets any session-level tenant, `BEGIN`s, runs
 * `SELECT set_config('app.current_tenant', $1, true)` with the tenant as a
 * bound parameter (transaction-local: it ends with the transaction, so it
 * cannot outlive this call on the pooled connection), calls `fn(client)`,
 * and `COMMIT`s; on any error it `ROLLBACK`s and rethrows. The connection
 * goes back in `finally`, or is destroyed when the rollback itself failed.
 *
 * Row-level security policies read the tenant with
 * `current_setting('app.current_tenant', true)` (see `migrate`). Do not
 * call `client.release()` inside `fn`, and do not keep the client after it.
 *
 * @throws {InvalidTenantIdError} `tenantId` breaks the tenant id rule (400), before any SQL is sent.
 * @throws whatever `fn` or Postgres throws, after the rollback; an `Error` when
 * `fn` swallowed an SQL error so that `COMMIT` could only roll back.
 * @example
 * const rows = await withTenant(pool, principal.tenant_id, async (client) =>
 *   (await client.query("SELECT id, data FROM tenant_resources ORDER BY created_at")).rows);
 */
export async function withTenant<T>(
  pool: ConnectablePool,
  tenantId: string,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  if (!isTenantId(tenantId)) throw new InvalidTenantIdError();
  if (typeof fn !== "function") throw new TypeError("withTenant: `fn` must be a function");
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    // One round trip: end what an earlier user left open, forget its session-level tenant, begin.
    await client.query(`${resetSql(client)}; BEGIN`);
    await client.query(SET_TENANT_SQL, [tenantId]);
    const result = await fn(client);
    const commit = await client.query("COMMIT");
    // COMMIT of an aborted transaction answers "ROLLBACK" without an error:
    // fn swallowed a failure, and nothing it did was saved.
    if (commit.command === "ROLLBACK") {
      throw new Error("withTenant: the transaction had failed inside fn and was rolled back");
    }
    return result;
  } catch (error) {
    broken = await rollbackForRelease(client);
    throw error;
  } finally {
    // Released with an error, pg destroys the connection instead of pooling it.
    client.release(broken);
  }
}
