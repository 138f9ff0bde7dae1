import type pg from "pg";
import { cleanSession } from "./session-reset.ts";

/**
 * After a failure inside a transaction: roll it back, and return what to pass
 * to `client.release()`. A connection whose `ROLLBACK` itself failed is in an
 * unknown state, so the error comes back and `release(error)` makes `pg`
 * destroy the connection instead of pooling it; otherwise `undefined`. Only a
 * client inside a transaction is sent `ROLLBACK`. Never throws: the caller
 * rethrows its own, first error.
 *
 * With `clean: true` the rollback also drops every piece of session state in
 * the same round trip (`cleanSession`: a connection is sent it whatever its
 * transaction status), as `withTenant` needs.
 *
 * @example
 * let broken: Error | undefined;
 * try { ...; await client.query("COMMIT"); }
 * catch (error) { broken = await rollbackForRelease(client); throw error; }
 * finally { client.release(broken); }
 */
export async function rollbackForRelease(client: pg.ClientBase, options: { clean?: boolean } = {}): Promise<Error | undefined> {
  try {
    if (options.clean) {
      await cleanSession(client);
    } else if (client.getTransactionStatus() !== "I") {
      await client.query("ROLLBACK");
    }
    return undefined;
  } catch (rollbackError) {
    return rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
  }
}
