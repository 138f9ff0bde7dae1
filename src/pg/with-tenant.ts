import type pg from "pg";
import { InvalidOptionError, InvalidTenantIdError, TransactionRolledBackError } from "../errors.ts";
import { isTenantId } from "../tenant/tenant-id.ts";
import { beginTenantTransaction, type TenantTransactionStart } from "./bind-tenant.ts";
import { noteListeners } from "./borrower-listeners.ts";
import { corkWrites, endPipelineWindow } from "./pipeline-until-idle.ts";
import { rollbackForRelease } from "./rollback-for-release.ts";

/** Anything `withTenant` can check a connection out of (a `pg.Pool`). */
export interface ConnectablePool {
  connect(): Promise<pg.PoolClient>;
}

/**
 * Run `fn` in a transaction that sees only `tenantId`'s rows.
 *
 * Checks a connection out and queues, without waiting: `BEGIN`, the clean
 * of every piece of session state an earlier borrower left (settings,
 * temporary tables, cursors, prepared statements, advisory locks, `LISTEN`s;
 * see `DISCARD_SESSION_SQL`), and
 * `SELECT set_config('app.current_tenant', $1, true)` with the tenant as the
 * bound parameter `$1` (transaction-local: it ends with the transaction, so
 * it cannot outlive this call on the pooled connection). The tenant is never
 * part of SQL text. Then it calls `fn(client)` and `COMMIT`s; on any error
 * it `ROLLBACK`s and drops the session state in the same round trip, and
 * rethrows. The connection goes back in `finally` (without any listener
 * `fn` added to the client: see `noteListeners`), or is destroyed when the
 * rollback or the cleaning failed, or the connection broke.
 *
 * Round trips: with node-postgres's JavaScript client (pg 8.23 or later)
 * the start is pipelined (see `pipelineUntilIdle`), and the first query `fn`
 * sends before the start is answered goes out with it: two round trips in
 * all, that query and `COMMIT`. `BEGIN` comes first, so if the clean or the
 * tenant fails, that query fails too ("current transaction is aborted")
 * and `withTenant` throws the start's error. A cursor, a stream or a query
 * with `rows` is held until the start is answered (pipeline mode cannot
 * carry them). With another client the start costs two round trips of its
 * own, before `fn` runs.
 *
 * `UNLISTEN` of the clean takes effect at `COMMIT` (Postgres delivers no
 * notification inside a transaction, and drops those of channels no longer
 * listened to at commit). Row-level security policies read the tenant with
 * `current_setting('app.current_tenant', true)` (see `migrate`). Do not
 * call `client.release()` inside `fn`, and do not keep the client after it.
 *
 * @throws {InvalidTenantIdError} `tenantId` breaks the tenant id rule (400), before any SQL is sent.
 * @throws {InvalidOptionError} `pool` is not a pool or `fn` not a function (500, naming it), before any SQL.
 * @throws {TransactionRolledBackError} `fn` swallowed an SQL error, so `COMMIT` could only roll back (500).
 * @throws whatever `fn` or Postgres throws, after the rollback.
 * @example
 * const rows = await withTenant(pool, principal.tenant_id, async (client) =>
 *   (await client.query("SELECT id, data FROM tenant_resources ORDER BY created_at")).rows);
 */
export async function withTenant<T>(
  pool: ConnectablePool,
  tenantId: string,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  // Not what keeps the SQL safe (the tenant is a bound parameter): a tenant
  // id that breaks the rule is a caller's mistake, answered 400 before any SQL.
  if (!isTenantId(tenantId)) throw new InvalidTenantIdError();
  // Called while serving a request: the deployment's mistake is a coded 500 naming it, not a bare TypeError.
  if (!pool || typeof pool.connect !== "function") throw new InvalidOptionError("pool", "withTenant needs a pg.Pool (something with connect())");
  if (typeof fn !== "function") throw new InvalidOptionError("fn", "withTenant runs a function");
  const client = await pool.connect();
  // What fn adds (a notification or notice listener) must not hear the next borrower.
  const dropBorrowerListeners = noteListeners(client);
  // A connection that breaks while checked out emits "error" on the client;
  // with no listener that would crash the process. Note it: the connection
  // is destroyed on release, and the queries waiting on it fail on their own.
  const fault: Fault = { error: undefined };
  const onError = noteFault.bind(fault);
  client.on("error", onError);
  try {
    let start: TenantTransactionStart;
    let pending: Promise<T> | undefined;
    // The start and what fn sends before its first await leave in one write.
    const flush = corkWrites(client);
    try {
      start = beginTenantTransaction(client, tenantId);
      if (start.pipelined) pending = call(fn, client);
    } finally {
      flush();
    }
    const { started } = start;
    if (!pending) {
      await started;
      pending = call(fn, client);
    }
    let result: T;
    try {
      result = await pending;
    } catch (error) {
      // A failed start is why fn's queries failed: its error says more.
      await started;
      throw error;
    }
    await started;
    const commit = await client.query("COMMIT");
    // COMMIT of an aborted transaction answers "ROLLBACK" without an error:
    // fn swallowed a failure, and nothing it did was saved.
    if (commit.command === "ROLLBACK") throw new TransactionRolledBackError();
    return result;
  } catch (error) {
    // Roll back and drop the session state in one round trip: a rollback
    // alone would undo the clean this call began with, and hand the pool
    // back what an earlier borrower left.
    const rollbackError = await rollbackForRelease(client, { clean: true });
    fault.error ??= rollbackError;
    throw error;
  } finally {
    endPipelineWindow(client);
    // Also takes off onError, added after the note.
    dropBorrowerListeners();
    // Released with an error, pg destroys the connection instead of pooling it.
    client.release(fault.error);
  }
}

/** The first error of a checked-out connection. */
interface Fault {
  error: Error | undefined;
}

function noteFault(this: Fault, error: Error): void {
  this.error ??= error;
}

/** `fn(client)` called now, a synchronous throw turned into a rejection. */
function call<T>(fn: (client: pg.PoolClient) => Promise<T>, client: pg.PoolClient): Promise<T> {
  try {
    return Promise.resolve(fn(client));
  } catch (error) {
    return Promise.reject(error);
  }
}
