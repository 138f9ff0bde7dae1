import type pg from "pg";
import { resetTenantState } from "./with-tenant.ts";

const cleaned = new WeakSet<object>();

/**
 * Make every connection `pool` hands out start with no tenant context: on
 * each checkout (pool.connect() and pool.query()), before the borrower's
 * first query runs, a transaction left open or failed is rolled back and a
 * session-level `app.current_tenant` is reset. Idempotent.
 *
 * It hooks the pool's `acquire` event: pg runs a client's queries in order,
 * so the reset is queued ahead of anything the borrower sends. If the reset
 * fails the connection is closed, so the borrower's queries fail rather than
 * run with a stale tenant.
 *
 * @example
 * const pool = enableCleanCheckout(new pg.Pool({ connectionString }));
 */
export function enableCleanCheckout<P extends pg.Pool>(pool: P): P {
  if (!pool || typeof pool.on !== "function") throw new TypeError("enableCleanCheckout: `pool` must be a pg.Pool");
  if (cleaned.has(pool)) return pool;
  cleaned.add(pool);
  pool.on("acquire", (client) => {
    resetTenantState(client).catch(() => {
      // Fail closed: a connection we could not clean is never used.
      client.end().catch(() => {});
    });
  });
  return pool;
}
