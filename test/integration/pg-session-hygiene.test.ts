/**
 * A pooled connection carries nothing from one tenant to the next, on a real
 * Postgres, one backend (pool max 1): tenant "acme" leaves every kind of
 * session state a borrower can leave (a temporary table shadowing
 * `tenant_resources`, a `WITH HOLD` cursor over its rows, `search_path`, a
 * prepared statement, a session advisory lock, a setting, a `LISTEN`), and
 * tenant "globex", on the same backend, must see none of it and lose no
 * write to it, through every entry point: withTenant, clean checkout
 * (`pool.query` and `pool.connect`) and the tenant-scoped pool, also with
 * 40 concurrent calls on 2 backends, half of them failing. A control shows
 * that each check catches the leak on a plain pool.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { enableCleanCheckout } from "../../src/pg/clean-checkout.ts";
import { migrate } from "../../src/pg/migrate.ts";
import { createTenantScopedPool } from "../../src/pg/tenant-scoped-pool.ts";
import { withTenant } from "../../src/pg/with-tenant.ts";
import { withTenantContext } from "../../src/tenant/tenant-context.ts";
import { startPostgres, type TestPostgres } from "../support/postgres.ts";

let postgres: TestPostgres;
let admin: pg.Pool;
let appUrl: string;
let initialSearchPath: string;
const pools: pg.Pool[] = [];
const LOCK_KEY = 4242;

function onePool(): pg.Pool {
  const p = new pg.Pool({ connectionString: appUrl, max: 1 });
  p.on("error", () => {});
  pools.push(p);
  return p;
}

beforeAll(async () => {
  postgres = await startPostgres();
  const db = await postgres.createDatabase("session_hygiene");
  const suffix = randomBytes(4).toString("hex");
  const ownerRole = `hyg_owner_${suffix}`;
  const appRole = `hyg_app_${suffix}`;
  const ownerUrl = await postgres.createLoginRole(ownerRole, db.name);
  appUrl = await postgres.createLoginRole(appRole, db.name);
  admin = new pg.Pool({ connectionString: db.url, max: 2 });
  pools.push(admin);
  await admin.query(`ALTER DATABASE ${pg.escapeIdentifier(db.name)} OWNER TO ${pg.escapeIdentifier(ownerRole)}`);
  const owner = new pg.Pool({ connectionString: ownerUrl, max: 1 });
  pools.push(owner);
  await migrate(owner, { appRole });
  await admin.query("INSERT INTO tenant_resources (tenant_id, id) VALUES ('acme', 'acme-secret')");
  const probe = onePool();
  initialSearchPath = (await probe.query("SHOW search_path")).rows[0].search_path;
});

afterAll(async () => {
  for (const p of pools) await p.end().catch(() => {});
  await postgres?.stop();
});

/** Everything a borrower can leave behind in its session. Runs with tenant "acme" set. */
async function leaveState(c: pg.ClientBase, lockKey = LOCK_KEY): Promise<number> {
  await c.query("CREATE TEMP TABLE tenant_resources (LIKE public.tenant_resources INCLUDING DEFAULTS)");
  await c.query("DECLARE leaked CURSOR WITH HOLD FOR SELECT id FROM public.tenant_resources");
  await c.query("PREPARE leaked_statement AS SELECT id FROM public.tenant_resources");
  await c.query({ name: "by-id", text: "SELECT id FROM public.tenant_resources WHERE id LIKE $1", values: ["%"] });
  await c.query("SELECT pg_advisory_lock($1)", [lockKey]);
  await c.query("SET search_path TO pg_temp, nowhere");
  await c.query("SET app.leaked = 'acme-was-here'");
  await c.query("LISTEN acme_channel");
  return (await c.query("SELECT pg_backend_pid() AS pid")).rows[0].pid as number;
}

/** What the next borrower (tenant "globex") can see of it, and where its write lands. */
async function inspect(c: pg.ClientBase) {
  const row = (await c.query(
    `SELECT pg_backend_pid() AS pid,
            to_regclass('pg_temp.tenant_resources') IS NOT NULL AS temp_table,
            (SELECT count(*)::int FROM pg_cursors) AS cursors,
            (SELECT count(*)::int FROM pg_prepared_statements) AS prepared,
            current_setting('search_path') AS search_path,
            coalesce(current_setting('app.leaked', true), '') AS leaked_setting,
            (SELECT count(*)::int FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()) AS advisory_locks`,
  )).rows[0];
  // FETCH from a missing cursor would abort the transaction: look first.
  const fetched = row.cursors > 0 ? (await c.query("FETCH ALL FROM leaked")).rows.map((x) => x.id as string) : "no cursor";
  // Same statement name, fresh server: node-postgres must prepare it again, not assume it is there.
  const named = (await c.query({ name: "by-id", text: "SELECT id FROM public.tenant_resources WHERE id LIKE $1", values: ["%"] })).rows.map((x) => x.id);
  await c.query("INSERT INTO tenant_resources (id) VALUES ('globex-write')");
  return { ...row, fetched, named };
}

const CLEAN = (pid: number) => ({
  pid,
  temp_table: false,
  cursors: 0,
  prepared: 0,
  search_path: initialSearchPath,
  leaked_setting: "",
  advisory_locks: 0,
  fetched: "no cursor",
  named: [],
});

/**
 * How many channels the backend listens on, seen from outside any
 * transaction (an UNLISTEN inside one takes effect at its commit).
 */
async function listening(c: pg.ClientBase | pg.Pool): Promise<number> {
  return (await c.query("SELECT count(*)::int AS n FROM pg_listening_channels()")).rows[0].n;
}

/** The write of "globex" is in the real table, and the lock "acme" took is free for anyone. */
async function expectNothingLost() {
  const landed = await admin.query("SELECT tenant_id FROM public.tenant_resources WHERE id = 'globex-write'");
  expect(landed.rows).toEqual([{ tenant_id: "globex" }]);
  await admin.query("DELETE FROM public.tenant_resources WHERE id = 'globex-write'");
  const lock = await admin.connect();
  try {
    expect((await lock.query("SELECT pg_try_advisory_lock($1) AS got", [LOCK_KEY])).rows[0].got).toBe(true);
    await lock.query("SELECT pg_advisory_unlock($1)", [LOCK_KEY]);
  } finally {
    lock.release();
  }
}

/** Borrow the raw connection of a max-1 pool, as tenant `tenant`, inside one committed transaction. */
async function asTenant<T>(c: pg.ClientBase, tenant: string, fn: () => Promise<T>): Promise<T> {
  await c.query("BEGIN");
  await c.query("SELECT set_config('app.current_tenant', $1, true)", [tenant]);
  const result = await fn();
  await c.query("COMMIT");
  return result;
}

describe("a pooled connection carries nothing from one tenant to the next", () => {
  beforeEach(async () => {
    await admin.query("DELETE FROM public.tenant_resources WHERE id = 'globex-write'");
  });

  it("control: on a plain pool every kind of session state reaches the next tenant, and its write is swallowed", async () => {
    const plain = onePool();
    const a = await plain.connect();
    const pid = await asTenant(a, "acme", () => leaveState(a));
    a.release();
    const b = await plain.connect();
    try {
      const seen = await asTenant(b, "globex", () => inspect(b));
      expect(seen.pid).toBe(pid);
      expect(seen).toMatchObject({ temp_table: true, cursors: 1, search_path: "pg_temp, nowhere", leaked_setting: "acme-was-here", advisory_locks: 1 });
      expect(await listening(b)).toBe(1);
      expect(seen.prepared).toBeGreaterThanOrEqual(1);
      expect(seen.fetched).toEqual(["acme-secret"]); // another tenant's rows, read through the cursor
      const lost = await admin.query("SELECT count(*)::int AS n FROM public.tenant_resources WHERE id = 'globex-write'");
      expect(lost.rows[0].n).toBe(0); // the write went into acme's temporary table
    } finally {
      b.release(true); // destroy it: it is dirty
    }
  });

  it("withTenant: the next tenant on the same backend sees nothing and loses no write", async () => {
    const one = onePool();
    const pid = await withTenant(one, "acme", (c) => leaveState(c));
    const seen = await withTenant(one, "globex", (c) => inspect(c));
    expect(seen).toEqual(CLEAN(pid));
    expect(await listening(one)).toBe(0); // a plain pool: shows the backend as globex left it
    await expectNothingLost();
  });

  it("withTenant: state left behind by a failed transaction is gone too", async () => {
    const one = onePool();
    let pid = 0;
    await expect(
      withTenant(one, "acme", async (c) => {
        pid = await leaveState(c);
        throw new Error("fn failed after leaving state");
      }),
    ).rejects.toThrow("fn failed");
    const seen = await withTenant(one, "globex", (c) => inspect(c));
    expect(seen).toEqual(CLEAN(pid));
    expect(await listening(one)).toBe(0);
    await expectNothingLost();
  });

  // The clean runs inside the transaction withTenant begins (BEGIN comes first), and most of it is
  // transactional (temporary tables, settings, LISTEN): a rollback alone would bring an earlier
  // borrower's state back. A failed call must clean again after it.
  it.each([
    ["fn throws after a query", (c: pg.PoolClient) => c.query("SELECT 1").then(() => Promise.reject(new Error("fn failed")))],
    ["fn's first query, pipelined with the start, is refused by Postgres", (c: pg.PoolClient) => c.query("SELECT * FROM no_such_table")],
    ["the callback swallows an SQL error, so COMMIT rolls back", (c: pg.PoolClient) => c.query("SELECT * FROM no_such_table").catch(() => "swallowed")],
  ])("a failed withTenant (%s) leaves no earlier borrower's state behind for the next one", async (_, fn) => {
    const one = onePool();
    const a = await one.connect();
    const pid = await asTenant(a, "acme", () => leaveState(a));
    a.release();
    await expect(withTenant(one, "globex", fn)).rejects.toThrow(/fn failed|no_such_table|rolled back/);
    const b = await one.connect();
    try {
      expect(await asTenant(b, "globex", () => inspect(b))).toEqual(CLEAN(pid));
      expect(await listening(b)).toBe(0);
    } finally {
      b.release();
    }
    await expectNothingLost();
    expect(one.totalCount).toBe(1); // cleaned, not destroyed
  });

  it("clean checkout: pool.connect() and pool.query() hand the next tenant a clean session", async () => {
    const clean = enableCleanCheckout(onePool());
    const a = await clean.connect();
    const pid = await asTenant(a, "acme", () => leaveState(a));
    await a.query("BEGIN"); // and leaves a transaction open
    a.release();
    const b = await clean.connect();
    try {
      expect(await asTenant(b, "globex", () => inspect(b))).toEqual(CLEAN(pid));
      expect(await listening(b)).toBe(0);
    } finally {
      b.release();
    }
    await expectNothingLost();

    const a2 = await clean.connect();
    await asTenant(a2, "acme", () => leaveState(a2));
    a2.release();
    const viaQuery = await clean.query("SELECT to_regclass('pg_temp.tenant_resources') IS NOT NULL AS temp_table, (SELECT count(*)::int FROM pg_cursors) AS cursors, current_setting('search_path') AS search_path");
    expect(viaQuery.rows[0]).toEqual({ temp_table: false, cursors: 0, search_path: initialSearchPath });
    expect(clean.totalCount).toBe(1);
  });

  it("tenant-scoped pool: what a tenant leaves is gone before the connection is handed on", async () => {
    const scoped = createTenantScopedPool(enableCleanCheckout(onePool()));
    const pid = await withTenantContext("acme", async () => {
      const c = await scoped.connect();
      try {
        return await leaveState(c);
      } finally {
        c.release();
      }
    });
    const seen = await withTenantContext("globex", async () => {
      const c = await scoped.connect();
      try {
        return { ...(await inspect(c)), listening: await listening(c) };
      } finally {
        c.release();
      }
    });
    expect(seen).toEqual({ ...CLEAN(pid), listening: 0 });
    await expectNothingLost();
  });

  it("under concurrency: 40 withTenant calls of 8 tenants on 2 backends, every other one failing after leaving all of it, each starts clean", async () => {
    const two = new pg.Pool({ connectionString: appUrl, max: 2 });
    two.on("error", () => {});
    pools.push(two);
    const dirty: string[] = [];
    const pids = new Set<number>();
    const calls = Array.from({ length: 40 }, (_, i) =>
      withTenant(two, `t${i % 8}`, async (c) => {
        const seen = (await c.query(
          `SELECT pg_backend_pid() AS pid, current_setting('app.current_tenant') AS tenant,
                  to_regclass('pg_temp.tenant_resources') IS NOT NULL AS temp_table,
                  (SELECT count(*)::int FROM pg_cursors) AS cursors,
                  (SELECT count(*)::int FROM pg_prepared_statements) AS prepared,
                  current_setting('search_path') AS search_path,
                  coalesce(current_setting('app.leaked', true), '') AS leaked_setting,
                  (SELECT count(*)::int FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()) AS advisory_locks`,
        )).rows[0];
        pids.add(seen.pid);
        const expected = { pid: seen.pid, tenant: `t${i % 8}`, temp_table: false, cursors: 0, prepared: 0, search_path: initialSearchPath, leaked_setting: "", advisory_locks: 0 };
        if (JSON.stringify(seen) !== JSON.stringify(expected)) dirty.push(`call ${i}: ${JSON.stringify(seen)}`);
        // The same named statement on every call: prepared again after each clean, never "does not exist".
        await c.query({ name: "by-id", text: "SELECT id FROM public.tenant_resources WHERE id LIKE $1", values: ["%"] });
        await leaveState(c, 10_000 + i); // a lock key of its own: the other backend must not wait for it
        if (i % 2 === 1) throw new Error(`call ${i} fails after leaving state`);
        return i;
      }).then(
        (value) => ({ ok: true, value }),
        (error: Error) => ({ ok: false, value: error.message }),
      ),
    );
    const outcomes = await Promise.all(calls);
    expect(dirty).toEqual([]);
    expect(outcomes.filter((o) => o.ok).map((o) => o.value)).toEqual(Array.from({ length: 20 }, (_, k) => 2 * k));
    expect(outcomes.filter((o) => !o.ok).map((o) => o.value)).toEqual(Array.from({ length: 20 }, (_, k) => `call ${2 * k + 1} fails after leaving state`));
    expect(pids.size).toBe(2);
    expect(two.totalCount).toBe(2); // nothing destroyed: failures of fn are rolled back and cleaned, not fatal

    // Both backends, borrowed at the same time after one more withTenant each: no LISTEN left either.
    let arrived = 0;
    let bothIn!: () => void;
    const barrier = new Promise<void>((resolve) => (bothIn = resolve));
    const meet = async () => {
      if (++arrived === 2) bothIn();
      await barrier;
    };
    await Promise.all([0, 1].map(() => withTenant(two, "globex", meet)));
    const raw = await Promise.all([two.connect(), two.connect()]);
    try {
      expect(new Set(await Promise.all(raw.map(async (c) => (await c.query("SELECT pg_backend_pid() AS pid")).rows[0].pid)))).toEqual(pids);
      expect(await Promise.all(raw.map((c) => listening(c)))).toEqual([0, 0]);
    } finally {
      for (const c of raw) c.release();
    }
    const lock = await admin.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = ANY($1)", [[...pids]]);
    expect(lock.rows[0].n).toBe(0);
  });

  it("a tenant id of every legal character is set exactly as given", async () => {
    const one = onePool();
    for (const tenant of ["a", "acme.eu", "acme_eu", "acme-eu", "A.b_C-9", "x".repeat(128)]) {
      const seen = await withTenant(one, tenant, async (c) => (await c.query("SELECT current_setting('app.current_tenant') AS t")).rows[0].t);
      expect(seen).toBe(tenant);
    }
  });
});

/**
 * The client object is state too: a listener a borrower adds stays on the
 * pooled client and hears what the next borrower's session sends. Tenant
 * "acme" listens on a channel both tenants use and for notices; "globex",
 * on the same backend, then listens on that channel, notifies on it and
 * raises a notice. Globex's own listeners hear both (so the messages were
 * sent); acme's must hear nothing, and the client goes back to the pool with
 * the listeners it had when it was checked out.
 */
describe("a listener a tenant adds to a pooled client never hears the next tenant", () => {
  type Heard = string[];
  const listen = (c: pg.ClientBase, heard: Heard) => {
    c.on("notification", (message) => heard.push(`notification ${message.payload}`));
    c.on("notice", (notice) => heard.push(`notice ${notice.message}`));
  };
  /** Globex's own traffic, heard by its own listeners. */
  const speak = async (c: pg.ClientBase, heard: Heard) => {
    listen(c, heard);
    await c.query("LISTEN shared_channel");
    await c.query("SELECT pg_notify('shared_channel', 'globex-secret')");
    await c.query("DO $$ BEGIN RAISE NOTICE 'globex-notice'; END $$");
  };
  const SPOKEN = ["notice globex-notice", "notification globex-secret"];
  const counts = (c: pg.ClientBase) => ({ notification: c.listenerCount("notification"), notice: c.listenerCount("notice"), error: c.listenerCount("error") });

  it("control: on a plain pool, acme's listeners hear globex's notification and notice", async () => {
    const plain = onePool();
    const acme: Heard = [];
    const a = await plain.connect();
    listen(a, acme);
    await a.query("LISTEN shared_channel");
    a.release();
    const globex: Heard = [];
    const b = await plain.connect();
    try {
      await speak(b, globex);
      await b.query("SELECT 1"); // a round trip after the notify: it has arrived
    } finally {
      b.release(true);
    }
    expect(b).toBe(a);
    expect(acme.sort()).toEqual(SPOKEN);
    expect(globex.sort()).toEqual(SPOKEN);
  });

  it("withTenant", async () => {
    const one = onePool();
    const acme: Heard = [];
    const globex: Heard = [];
    let client: pg.PoolClient | undefined;
    const before = await withTenant(one, "acme", async (c) => {
      client = c;
      const at = counts(c);
      listen(c, acme);
      await c.query("LISTEN shared_channel");
      return at;
    });
    // Delivered at COMMIT, before the COMMIT is answered.
    await withTenant(one, "globex", async (c) => {
      expect(c).toBe(client);
      await speak(c, globex);
    });
    expect(globex.sort()).toEqual(SPOKEN);
    expect(acme).toEqual([]);
    const after = await one.connect();
    try {
      expect(after).toBe(client);
      expect(counts(after)).toEqual({ ...before, error: before.error - 1 }); // withTenant's own error listener is gone too
    } finally {
      after.release();
    }
  });

  it("clean checkout, pool.connect() and pool.query()", async () => {
    const clean = enableCleanCheckout(onePool());
    const acme: Heard = [];
    const globex: Heard = [];
    const a = await clean.connect();
    const before = counts(a);
    listen(a, acme);
    await a.query("LISTEN shared_channel");
    a.release();
    const b = await clean.connect();
    try {
      expect(b).toBe(a);
      expect(counts(b)).toEqual(before);
      await speak(b, globex);
      await b.query("SELECT 1");
    } finally {
      b.release();
    }
    await clean.query("DO $$ BEGIN RAISE NOTICE 'globex-query-notice'; END $$");
    expect(globex.sort()).toEqual(SPOKEN);
    expect(acme).toEqual([]);
  });

  it("tenant-scoped pool", async () => {
    const scoped = createTenantScopedPool(onePool());
    const acme: Heard = [];
    const globex: Heard = [];
    const client = await withTenantContext("acme", async () => {
      const c = await scoped.connect();
      try {
        listen(c, acme);
        await c.query("LISTEN shared_channel");
      } finally {
        c.release();
      }
      return c;
    });
    await withTenantContext("globex", async () => {
      const c = await scoped.connect();
      try {
        expect(c).toBe(client);
        await speak(c, globex);
        await c.query("SELECT 1");
      } finally {
        c.release();
      }
    });
    await withTenantContext("globex", () => scoped.query("DO $$ BEGIN RAISE NOTICE 'globex-query-notice'; END $$"));
    expect(globex.sort()).toEqual(SPOKEN);
    expect(acme).toEqual([]);
  });
});
