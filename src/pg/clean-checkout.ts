import type pg from "pg";
import { noteListeners } from "./borrower-listeners.ts";
import { resetTenantState } from "./session-reset.ts";

const cleaned = new WeakSet<object>();

type ConnectCallback = (err: Error | undefined, client: pg.PoolClient | undefined, done: (release?: Error | boolean) => void) => void;

/**
 * Make every connection `pool` hands out start with no tenant context and no
 * session state of an earlier borrower: on each checkout (`pool.connect()`,
 * and `pool.query()`, which checks out through it), a transaction an
 * earlier borrower left open or failed is rolled back, and settings (a
 * session-level `app.current_tenant`, `search_path`, …), temporary tables,
 * cursors, prepared statements and advisory locks are dropped, as
 * `DISCARD ALL` would, before the borrower gets the client; and the
 * listeners the borrower adds to the client object are removed when it is
 * released (see `noteListeners`). Idempotent; returns the same pool.
 *
 * If the reset fails, the connection is destroyed (released with the error)
 * and the checkout fails: a connection that could not be cleaned is never
 * handed out. Costs one round trip per checkout.
 *
 * @example
 * const pool = enableCleanCheckout(new pg.Pool({ connectionString }));
 */
export function enableCleanCheckout<P extends pg.Pool>(pool: P): P {
  if (!pool || typeof pool.connect !== "function") throw new TypeError("enableCleanCheckout: `pool` must be a pg.Pool");
  if (cleaned.has(pool)) return pool;
  cleaned.add(pool);
  const connect = pool.connect.bind(pool) as () => Promise<pg.PoolClient>;
  const cleanConnect = async (): Promise<pg.PoolClient> => {
    const client = await connect();
    try {
      await resetTenantState(client);
    } catch (error) {
      client.release(error instanceof Error ? error : true);
      throw error;
    }
    // What the borrower adds (a notification or notice listener) must not hear the next one.
    const dropBorrowerListeners = noteListeners(client);
    const release = client.release;
    client.release = (err?: Error | boolean) => {
      dropBorrowerListeners();
      return release(err);
    };
    return client;
  };
  // An own property shadows Pool.prototype.connect; pg-pool's query() calls
  // this.connect(callback), so both forms are served.
  (pool as unknown as { connect: unknown }).connect = (callback?: ConnectCallback) => {
    if (typeof callback !== "function") return cleanConnect();
    cleanConnect().then(
      (client) => callback(undefined, client, client.release),
      (error: Error) => callback(error, undefined, () => {}),
    );
    return undefined;
  };
  return pool;
}
