import type pg from "pg";
import { InvalidTenantIdError } from "../errors.ts";
import { isTenantId } from "../tenant/tenant-id.ts";
import { cleanSession, TENANT_SETTING, tenantLiteral } from "./session-reset.ts";
import { rollbackForRelease } from "./rollback-for-release.ts";

/** Anything `withTenant` can check a connection out of (a `pg.Pool`). */
export interface ConnectablePool {
  connect(): Promise<pg.PoolClient>;
}

/**
 * Run `fn` in a transaction that sees only `tenantId`'s rows.
 *
 * Checks a connection out and, in ONE round trip, ends any transaction an
 * earlier user left open, drops every piece of session state it left
 * (settings, temporary tables, cursors, prepared statements, advisory locks;
 * see `DISCARD_SESSION_SQL`), `BEGIN`s and runs
 * `SELECT set_config('app.current_tenant', '<tenant>', true)`
 * (transaction-local: it ends with the transaction, so it cannot outlive
 * this call on the pooled connection). Then it calls `fn(client)` and
 * `COMMIT`s; on any error it `ROLLBACK`s and drops the session state in the
 * same round trip, and rethrows. The connection goes back in `finally`, or
 * is destroyed when the rollback or the cleaning failed. Around `fn`'s own
 * queries: two round trips.
 *
 * The clean runs inside the new transaction, so everything is gone before
 * `fn` runs, except that an `UNLISTEN` takes effect at `COMMIT` (Postgres
 * delivers no notification inside a transaction, and drops those of
 * channels no longer listened to at commit).
 *
 * The tenant is the one value written into SQL text (a simple query has no
 * `$1`), and only after the tenant rule has passed it twice (letters,
 * digits, `.`, `_`, `-`: no quote can reach the SQL; see `tenantLiteral`).
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
    // One round trip: end what an earlier user left open, drop what it left
    // in the session, begin, bind the tenant to this transaction.
    await cleanSession(client, `BEGIN; SELECT set_config('${TENANT_SETTING}', ${tenantLiteral(tenantId)}, true)`);
    const result = await fn(client);
    // What fn leaves in the session is dropped by the next checkout's clean,
    // not here: cleaning on both ends would cost every call server time
    // that the checkout clean makes pointless.
    const commit = await client.query("COMMIT");
    // COMMIT of an aborted transaction answers "ROLLBACK" without an error:
    // fn swallowed a failure, and nothing it did was saved.
    if (commit.command === "ROLLBACK") {
      throw new Error("withTenant: the transaction had failed inside fn and was rolled back");
    }
    return result;
  } catch (error) {
    // Roll back and drop the session state in one round trip: a rollback
    // alone would undo the clean this call began with, and hand the pool
    // back what an earlier borrower left.
    broken = await rollbackForRelease(client, { clean: true });
    throw error;
  } finally {
    // Released with an error, pg destroys the connection instead of pooling it.
    client.release(broken);
  }
}
