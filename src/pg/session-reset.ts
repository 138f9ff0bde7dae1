import type pg from "pg";
import { InvalidTenantIdError } from "../errors.ts";
import { isTenantId } from "../tenant/tenant-id.ts";

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
  "CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; DEALLOCATE ALL; UNLISTEN *; " +
  "SELECT pg_advisory_unlock_all(); DISCARD PLANS; DISCARD TEMP; DISCARD SEQUENCES";

// Built once: every checkout sends one of these two texts.
const ROLLBACK_AND_DISCARD_SQL = `ROLLBACK; ${DISCARD_SESSION_SQL}`;

/**
 * Simple-query text that cleans a connection in one round trip: ends a
 * transaction an earlier borrower left open or failed, then
 * {@link DISCARD_SESSION_SQL}. Outside a transaction the statements run in
 * one implicit transaction of their own; followed by `BEGIN` in the same
 * text they become the start of that transaction.
 *
 * @example
 * await client.query(`${resetSessionSql(client)}; BEGIN`);
 */
export function resetSessionSql(client: pg.ClientBase): string {
  return client.getTransactionStatus() === "I" ? DISCARD_SESSION_SQL : ROLLBACK_AND_DISCARD_SQL;
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
 * The tenant as an SQL string literal, for the one place it shares a
 * simple query (where `$1` parameters do not exist) with the reset and
 * `BEGIN`. Checked against the tenant rule right here, whatever the caller
 * checked: only ASCII letters, digits, `.`, `_` and `-` can pass, so no
 * quote, backslash or separator ever reaches the SQL text.
 *
 * @throws {InvalidTenantIdError} anything that breaks the tenant rule (400).
 * @example
 * tenantLiteral("acme.eu"); // "'acme.eu'"
 */
export function tenantLiteral(tenantId: string): string {
  if (!isTenantId(tenantId)) throw new InvalidTenantIdError();
  return `'${tenantId}'`;
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
 * The one way this package cleans a connection: {@link resetSessionSql},
 * then `then` (for example `BEGIN; SELECT set_config(…)`) in the same
 * simple query, so the clean costs no round trip of its own; then the
 * client forgets its prepared statements (see {@link forgetPreparedStatements}).
 *
 * @example
 * await cleanSession(client, "BEGIN"); // one round trip: clean, then a new transaction
 */
export async function cleanSession(client: pg.ClientBase, then?: string): Promise<void> {
  // One query, queued at once: nothing else the client is asked can slip in between.
  await client.query(then === undefined ? resetSessionSql(client) : `${resetSessionSql(client)}; ${then}`);
  forgetPreparedStatements(client);
}
