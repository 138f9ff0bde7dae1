import type pg from "pg";

/** The Postgres setting row-level security policies read the tenant from. */
export const TENANT_SETTING = "app.current_tenant";

/**
 * The statements that drop every piece of session state a borrower can leave
 * on a pooled connection: open cursors (`WITH HOLD` ones too), a changed
 * session user or role, every setting (`app.current_tenant`, `search_path`,
 * …) back to its value at connection start, prepared statements,
 * `LISTEN`s, session advisory locks, cached plans, temporary tables (one
 * could shadow a tenant table and swallow the next borrower's writes) and
 * sequence caches.
 *
 * It is what `DISCARD ALL` does, statement for statement (Postgres documents
 * `DISCARD ALL` as exactly this list). `DISCARD ALL` itself cannot be used:
 * it refuses to run inside a transaction block, and Postgres runs every
 * multi-statement query in one, so it could not share a round trip with
 * `ROLLBACK` or `BEGIN`.
 *
 * @example
 * await client.query(DISCARD_SESSION_SQL); // one round trip
 */
export const DISCARD_SESSION_SQL =
  "CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; DEALLOCATE ALL; UNLISTEN *; SELECT pg_advisory_unlock_all(); DISCARD PLANS; DISCARD TEMP; DISCARD SEQUENCES";

// Constant texts, built once: no value of a caller is ever part of them.
const ROLLBACK_AND_DISCARD_SQL = `ROLLBACK; ${DISCARD_SESSION_SQL}` as const;
const BEGIN_AND_DISCARD_SQL = `BEGIN; ${DISCARD_SESSION_SQL}` as const;
const ROLLBACK_BEGIN_AND_DISCARD_SQL = `ROLLBACK; BEGIN; ${DISCARD_SESSION_SQL}` as const;

/**
 * Simple-query text that cleans a connection in one round trip: ends a
 * transaction an earlier borrower left open or failed, then
 * {@link DISCARD_SESSION_SQL}. The statements run in one implicit
 * transaction of their own.
 *
 * @example
 * await client.query(resetSessionSql(client));
 */
export function resetSessionSql(client: pg.ClientBase): typeof DISCARD_SESSION_SQL | typeof ROLLBACK_AND_DISCARD_SQL {
  return client.getTransactionStatus() === "I" ? DISCARD_SESSION_SQL : ROLLBACK_AND_DISCARD_SQL;
}

/**
 * Simple-query text that starts a clean transaction in one round trip: ends
 * a transaction an earlier borrower left open or failed, `BEGIN`s, then
 * {@link DISCARD_SESSION_SQL} inside the new transaction.
 *
 * `BEGIN` comes before the clean on purpose. If any statement of the clean
 * fails, the new transaction is aborted, so every statement queued behind
 * this one (the bound tenant, the caller's first query) fails too instead of
 * running outside a transaction on a half-cleaned session. With the clean
 * first, a failure would skip the `BEGIN` and let them run (autocommitted).
 *
 * @example
 * client.query(beginCleanSql(client)); // then the bound set_config, without waiting
 */
export function beginCleanSql(client: pg.ClientBase): typeof BEGIN_AND_DISCARD_SQL | typeof ROLLBACK_BEGIN_AND_DISCARD_SQL {
  return client.getTransactionStatus() === "I" ? BEGIN_AND_DISCARD_SQL : ROLLBACK_BEGIN_AND_DISCARD_SQL;
}

/**
 * `DEALLOCATE ALL` drops the server's prepared statements, but node-postgres
 * remembers which named statements it has prepared on a connection and would
 * send the next named query without preparing it ("prepared statement does
 * not exist"). Forget them on the client side too.
 *
 * @example
 * await client.query(DISCARD_SESSION_SQL);
 * forgetPreparedStatements(client); // the next named query is prepared again
 */
export function forgetPreparedStatements(client: pg.ClientBase): void {
  const connection = (client as unknown as { connection?: { parsedStatements?: object; submittedNamedStatements?: object } }).connection;
  if (connection?.parsedStatements) connection.parsedStatements = {};
  if (connection?.submittedNamedStatements) connection.submittedNamedStatements = {};
}

/**
 * Make a connection just taken from a pool clean: end a transaction an
 * earlier user left open or failed (`ROLLBACK`), then drop every piece of
 * session state it left ({@link DISCARD_SESSION_SQL}), in one round trip.
 *
 * @example
 * const client = await pool.connect();
 * await resetTenantState(client);
 */
export async function resetTenantState(client: pg.ClientBase): Promise<void> {
  await cleanSession(client);
}

/**
 * The one way this package cleans a connection outside a transaction:
 * {@link resetSessionSql} in one round trip, and the client forgets its
 * prepared statements (see {@link forgetPreparedStatements}) as the clean
 * is queued, so that a named query queued behind it is prepared again.
 *
 * @example
 * await cleanSession(client);
 */
export async function cleanSession(client: pg.ClientBase): Promise<void> {
  const cleaned = client.query(resetSessionSql(client));
  forgetPreparedStatements(client);
  await cleaned;
}
