import type pg from "pg";
import { beginCleanSql, forgetPreparedStatements, resetSessionSql } from "./session-reset.ts";
import { corkWrites, endPipelineWindow, pipelineUntilIdle } from "./pipeline-until-idle.ts";

// The tenant reaches Postgres only as the bound parameter $1 of these two
// texts, never as SQL text. Each is one plain string, nothing spliced in (not
// even the setting's name), so a reviewer's grep reads exactly what is sent;
// test/pg/sql-text.test.ts holds every set_config of src/ to that.
const SET_TENANT_LOCAL_SQL = "SELECT set_config('app.current_tenant', $1, true)";
const SET_TENANT_SESSION_SQL = "SELECT set_config('app.current_tenant', $1, false)";

/** What {@link beginTenantTransaction} started. */
export interface TenantTransactionStart {
  /**
   * Settles when the clean, `BEGIN` and the bound tenant have been answered:
   * rejects with the first of their errors. Already handled, so it may be
   * awaited late without an unhandled rejection.
   */
  started: Promise<void>;
  /**
   * `true` when the statements were pipelined: the caller may queue its
   * first query at once, before `started` settles, and it goes out in the
   * same round trip. `false`: await `started` first.
   */
  pipelined: boolean;
}

/** Both answers, or the first error (the later ones are handled, not lost as unhandled rejections). */
function settled(queries: Promise<unknown>[]): Promise<void> {
  const all = Promise.all(queries).then(() => undefined);
  all.catch(() => {});
  return all;
}

/**
 * Queue, without waiting: `BEGIN` and the clean of every piece of session
 * state an earlier borrower left ({@link beginCleanSql}), then
 * `SELECT set_config('app.current_tenant', $1, true)` with the tenant bound
 * as `$1`. Pipelined when the client allows ({@link pipelineUntilIdle}):
 * one round trip for both, and the caller's first query can join it.
 *
 * Safe to queue the caller's query behind it before the answers: `BEGIN` is
 * first, so if the clean or the tenant fails the transaction is aborted and
 * the query behind fails too; it can never run without the tenant bound,
 * on a half-cleaned session, or outside the transaction.
 *
 * @example
 * const { started, pipelined } = beginTenantTransaction(client, "acme");
 * if (!pipelined) await started;
 * const rows = await client.query("SELECT * FROM tenant_resources");
 * await started;
 */
export function beginTenantTransaction(client: pg.ClientBase, tenantId: string): TenantTransactionStart {
  const pipelined = pipelineUntilIdle(client);
  const begin = client.query(beginCleanSql(client));
  // DEALLOCATE ALL is queued: a named query queued after it must be prepared again.
  forgetPreparedStatements(client);
  const bind = pipelined ? client.query(SET_TENANT_LOCAL_SQL, [tenantId]) : begin.then(() => client.query(SET_TENANT_LOCAL_SQL, [tenantId]));
  return { started: settled([begin, bind]), pipelined };
}

/**
 * Clean a connection of everything an earlier borrower left
 * ({@link resetSessionSql}) and set the tenant for the whole session
 * (`set_config('app.current_tenant', $1, false)`, the tenant bound as
 * `$1`), in one round trip when the client can be pipelined, two otherwise.
 * Rejects with the first error; the caller must then destroy the
 * connection (`release(error)`), whose state is unknown.
 *
 * @example
 * await bindSessionTenant(client, "acme");
 */
export async function bindSessionTenant(client: pg.ClientBase, tenantId: string): Promise<void> {
  const pipelined = pipelineUntilIdle(client);
  let clean: Promise<unknown>;
  let bind: Promise<unknown> | undefined;
  const flush = corkWrites(client); // both statements in one write
  try {
    clean = client.query(resetSessionSql(client));
    forgetPreparedStatements(client);
    if (pipelined) bind = client.query(SET_TENANT_SESSION_SQL, [tenantId]);
  } finally {
    flush();
  }
  if (!bind) {
    await clean;
    bind = client.query(SET_TENANT_SESSION_SQL, [tenantId]);
  }
  try {
    await settled([clean, bind]);
  } finally {
    // Both answered: the client is handed out as an ordinary client.
    endPipelineWindow(client);
  }
}
