import type pg from "pg";
import { MissingTenantContextError } from "../errors.ts";
import { currentTenantId } from "../tenant/tenant-context.ts";
import { bindSessionTenant } from "./bind-tenant.ts";
import { noteListeners } from "./borrower-listeners.ts";
import { resetTenantState } from "./session-reset.ts";
import { withTenant } from "./with-tenant.ts";

/** The part of `pg.Pool` a library such as `PostgresSaver` uses. */
export interface TenantScopedPool {
  connect(): Promise<pg.PoolClient>;
  query(text: string, values?: unknown[]): Promise<pg.QueryResult>;
  end(): Promise<void>;
}

function requireTenant(): string {
  const tenant = currentTenantId();
  if (!tenant) throw new MissingTenantContextError("no tenant context for this database call (withTenantContext)");
  return tenant;
}

/**
 * A pool for libraries that manage their own connections and transactions
 * (LangGraph's `PostgresSaver`), scoped to the ambient tenant of
 * `withTenantContext`, so row-level security applies to them too.
 *
 * - `query(text, values)` runs in {@link withTenant} (its own transaction).
 * - `connect()` hands out a clean connection (no session state of an
 *   earlier borrower) with the tenant set at session level (the library may
 *   `BEGIN` itself, so a transaction-local setting would not last), the
 *   tenant bound as `$1` (`bindSessionTenant`: one round trip when pg can
 *   pipeline, two otherwise); its `release()` drops all session state, the
 *   tenant included, and every listener added to the client while it was
 *   out, before the connection goes back, and destroys the connection when
 *   that reset fails or the connection broke while out.
 * - With no ambient tenant both refuse, before touching the pool.
 *
 * The tenant checkpointer (`createTenantCheckpointer`) runs the wrapped saver
 * inside `withTenantContext`, so wiring is:
 *
 * @example
 * const saver = new PostgresSaver(createTenantScopedPool(appPool) as unknown as pg.Pool);
 * const checkpointer = createTenantCheckpointer(saver);
 */
export function createTenantScopedPool(pool: pg.Pool): TenantScopedPool {
  if (!pool || typeof pool.connect !== "function") throw new TypeError("createTenantScopedPool: `pool` must be a pg.Pool");
  return {
    async query(text, values) {
      const tenant = requireTenant();
      return withTenant(pool, tenant, (client) => client.query(text, values));
    },
    async connect() {
      const tenant = requireTenant();
      const client = await pool.connect();
      // What the library adds to the client must not hear the next borrower (see noteListeners).
      const dropBorrowerListeners = noteListeners(client);
      // A connection that breaks while the library holds it emits "error" on
      // the client; with no listener that would crash the process. Note it,
      // and destroy the connection when it comes back.
      let broken: Error | undefined;
      const onError = (error: Error) => {
        broken ??= error;
      };
      client.on("error", onError);
      try {
        await bindSessionTenant(client, tenant);
      } catch (error) {
        dropBorrowerListeners();
        client.release(error instanceof Error ? error : true);
        throw error;
      }
      const release = client.release;
      let released = false;
      client.release = (err?: Error | boolean) => {
        if (released) return release(err);
        released = true;
        // The error listener stays until the reset is answered: the connection can break during it too.
        const done = (error?: Error | boolean) => {
          dropBorrowerListeners();
          release(error || broken);
        };
        if (err || broken) return done(err);
        // Clean before the connection can be handed to anyone else.
        resetTenantState(client).then(
          () => done(),
          (resetError: unknown) => done(resetError instanceof Error ? resetError : true),
        );
      };
      return client;
    },
    end: () => pool.end(),
  };
}
