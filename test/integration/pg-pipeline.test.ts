/**
 * withTenant's start in node-postgres's pipeline mode, on a real Postgres,
 * seen through a loopback TCP proxy that counts round trips (a burst the
 * client sends after the server last spoke) and can cut the connection at a
 * chosen burst.
 *
 * - Round trips: withTenant costs 2 (the start plus fn's first query; then
 *   COMMIT), where the bound start without pipelining costs 4 and a bare
 *   `pool.query` 1; the tenant-scoped pool's checkout costs 1.
 * - What pipeline mode cannot carry (a custom query object such as
 *   pg-cursor, a query with `rows`) is held, and runs in order.
 * - A pool created with `pipeline: true` works the same.
 * - A pg whose internals differ (no pipeline mode, no pipelined sender, no
 *   `drain` in pipeline mode): not switched, or switched back at release.
 * - A connection cut during the start or before COMMIT: withTenant rejects,
 *   nothing is committed, the process does not crash (an unhandled "error"
 *   event would), the connection is destroyed, the next call gets a new one.
 */
import { randomBytes } from "node:crypto";
import net from "node:net";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate } from "../../src/pg/migrate.ts";
import { DISCARD_SESSION_SQL } from "../../src/pg/session-reset.ts";
import { createTenantScopedPool } from "../../src/pg/tenant-scoped-pool.ts";
import { withTenant } from "../../src/pg/with-tenant.ts";
import { withTenantContext } from "../../src/tenant/tenant-context.ts";
import { startPostgres, type TestPostgres } from "../support/postgres.ts";

let postgres: TestPostgres;
let admin: pg.Pool;
let appUrl: string;
const pools: pg.Pool[] = [];
const closers: (() => Promise<void>)[] = [];

/** A loopback proxy in front of Postgres that counts round trips and can cut the connection. */
async function roundTripProxy(target: URL) {
  let trips = 0;
  let cutAtTrip: number | undefined;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    let serverSpokeLast = true;
    sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("data", (chunk) => {
      if (serverSpokeLast) {
        trips += 1;
        serverSpokeLast = false;
        if (cutAtTrip === trips) return drop(); // never reaches the server
      }
      upstream.write(chunk);
    });
    upstream.on("data", (chunk) => {
      serverSpokeLast = true;
      client.write(chunk);
    });
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  const url = new URL(target);
  url.hostname = "127.0.0.1";
  url.port = String((server.address() as net.AddressInfo).port);
  return {
    url: url.toString(),
    /** Round trips from now on; `cutAt`: the connection is cut when the client starts that round trip. */
    count(cutAt?: number) {
      trips = 0;
      cutAtTrip = cutAt;
      return () => trips;
    },
  };
}

function pool(url: string, options: pg.PoolConfig = {}): pg.Pool {
  const p = new pg.Pool({ connectionString: url, max: 1, ...options });
  p.on("error", () => {}); // an idle client whose connection is cut must not crash the test process
  pools.push(p);
  return p;
}

beforeAll(async () => {
  postgres = await startPostgres();
  const db = await postgres.createDatabase("pg_pipeline");
  const suffix = randomBytes(4).toString("hex");
  const ownerRole = `pipe_owner_${suffix}`;
  const appRole = `pipe_app_${suffix}`;
  const ownerUrl = await postgres.createLoginRole(ownerRole, db.name);
  appUrl = await postgres.createLoginRole(appRole, db.name);
  admin = pool(db.url, { max: 2 });
  await admin.query(`ALTER DATABASE ${pg.escapeIdentifier(db.name)} OWNER TO ${pg.escapeIdentifier(ownerRole)}`);
  await migrate(pool(ownerUrl), { appRole });
  await admin.query("INSERT INTO tenant_resources (tenant_id, id) VALUES ('acme', 'a1'), ('acme', 'a2'), ('globex', 'g1')");
});

afterAll(async () => {
  for (const p of pools) await p.end().catch(() => {});
  for (const close of closers) await close();
  await postgres?.stop();
});

const ids = async (c: pg.ClientBase) => (await c.query("SELECT id FROM tenant_resources ORDER BY id")).rows.map((r) => r.id as string);

describe("round trips", () => {
  it("withTenant: 2 (start and fn's first query together, then COMMIT); the bound start unpipelined: 4; pool.query: 1", async () => {
    const proxy = await roundTripProxy(new URL(appUrl));
    const p = pool(proxy.url);
    await p.query("SELECT 1"); // connect (the handshake is not counted)

    let trips = proxy.count();
    expect(await withTenant(p, "acme", ids)).toEqual(["a1", "a2"]);
    expect(trips()).toBe(2);

    // The same statements, each waiting for the answer of the one before.
    trips = proxy.count();
    const c = await p.connect();
    try {
      await c.query(`BEGIN; ${DISCARD_SESSION_SQL}`);
      await c.query("SELECT set_config('app.current_tenant', $1, true)", ["acme"]);
      expect(await ids(c)).toEqual(["a1", "a2"]);
      await c.query("COMMIT");
    } finally {
      c.release();
    }
    expect(trips()).toBe(4);

    trips = proxy.count();
    await p.query("SELECT id FROM tenant_resources WHERE tenant_id = $1", ["acme"]);
    expect(trips()).toBe(1);

    // fn that sends several queries at once: they join the start too.
    trips = proxy.count();
    const both = await withTenant(p, "globex", (client) => Promise.all([ids(client), client.query("SELECT current_setting('app.current_tenant') AS t")]));
    expect([both[0], both[1].rows[0].t]).toEqual([["g1"], "globex"]);
    expect(trips()).toBe(2);
  });

  it("the tenant-scoped pool: 1 round trip to clean and bind the tenant at checkout", async () => {
    const proxy = await roundTripProxy(new URL(appUrl));
    const scoped = createTenantScopedPool(pool(proxy.url));
    await withTenantContext("acme", () => scoped.query("SELECT 1")); // connect
    const trips = proxy.count();
    const c = await withTenantContext("acme", () => scoped.connect());
    expect(trips()).toBe(1);
    try {
      expect(await ids(c)).toEqual(["a1", "a2"]);
    } finally {
      c.release();
    }
  });
});

/** The smallest custom query object, as pg-cursor and pg-query-stream are: pg refuses such objects in pipeline mode. */
class CustomQuery {
  rows: string[] = [];
  done: Promise<string[]>;
  private settle!: (error: Error | undefined) => void;
  constructor(private readonly text: string) {
    this.done = new Promise((resolve, reject) => {
      this.settle = (error) => (error ? reject(error) : resolve(this.rows));
    });
  }
  submit(connection: { query(text: string): void }) {
    connection.query(this.text);
  }
  handleRowDescription() {}
  handleDataRow(msg: { fields: (string | null)[] }) {
    this.rows.push(String(msg.fields[0]));
  }
  handleCommandComplete() {}
  handleEmptyQuery() {}
  handleError(error: Error) {
    this.settle(error);
  }
  handleReadyForQuery() {
    this.settle(undefined);
  }
}

describe("what pipeline mode cannot carry", () => {
  it("a custom query object or a query with `rows` sent while the start is in flight is held, then runs, in the order fn asked", async () => {
    const p = pool(appUrl);
    const seen = await withTenant(p, "acme", async (c) => {
      const order: string[] = [];
      const custom = new CustomQuery("SELECT id FROM tenant_resources ORDER BY id");
      c.query(custom as unknown as pg.QueryConfig);
      // `rows` is not in @types/pg's QueryConfig, but node-postgres reads it (a portal read in pages).
      const pagedConfig = { text: "SELECT id FROM tenant_resources ORDER BY id", rows: 1 } as pg.QueryConfig;
      const paged = c.query(pagedConfig).then((r) => {
        order.push("paged");
        return r.rows.map((x) => x.id as string);
      });
      const plain = ids(c).then((r) => {
        order.push("plain");
        return r;
      });
      const result = { custom: await custom.done.then((r) => (order.push("custom"), r)), paged: await paged, plain: await plain };
      return { ...result, order };
    });
    expect(seen).toEqual({ custom: ["a1", "a2"], paged: ["a1", "a2"], plain: ["a1", "a2"], order: ["custom", "paged", "plain"] });
    // A query with `rows` first, on its own (pg would refuse it in pipeline mode: "The `rows` option is not supported").
    const pagedFirst = await withTenant(p, "globex", async (c) => (await c.query({ text: "SELECT id FROM tenant_resources", rows: 1 } as pg.QueryConfig)).rows);
    expect(pagedFirst).toEqual([{ id: "g1" }]);
  });

  it("a pool created with `pipeline: true` works as well, and its clients stay in pipeline mode", async () => {
    const p = pool(appUrl, { pipeline: true } as pg.PoolConfig);
    expect(await withTenant(p, "acme", ids)).toEqual(["a1", "a2"]);
    expect(await withTenant(p, "globex", ids)).toEqual(["g1"]);
    const c = await p.connect();
    try {
      expect((c as unknown as { pipeline: boolean }).pipeline).toBe(true);
    } finally {
      c.release();
    }
  });

  it("after withTenant, the client is an ordinary client again (not in pipeline mode, its own query method, no listener left)", async () => {
    const p = pool(appUrl);
    const c0 = await p.connect();
    const listeners = ["drain", "end", "error"].map((e) => c0.listenerCount(e));
    c0.release();
    await withTenant(p, "acme", ids);
    const c = await p.connect();
    try {
      expect((c as unknown as { pipeline: boolean }).pipeline).toBe(false);
      expect(Object.prototype.hasOwnProperty.call(c, "query")).toBe(false);
      expect(c).toBe(c0);
      expect(["drain", "end", "error"].map((e) => c.listenerCount(e))).toEqual(listeners);
    } finally {
      c.release();
    }
  });
});

describe("a pg whose internals differ from 8.23's", () => {
  it.each([
    ["no `pipeline` field (pg before 8.23)", (c: Record<string, unknown>) => delete c.pipeline],
    ["no pipelined sender (`_pulsePipelinedQueryQueue`)", (c: Record<string, unknown>) => (c._pulsePipelinedQueryQueue = undefined)],
  ])("%s: the client is not switched, and withTenant binds the tenant as a bound parameter, in 4 round trips", async (_, alter) => {
    const proxy = await roundTripProxy(new URL(appUrl));
    const p = pool(proxy.url);
    const c = await p.connect();
    alter(c as unknown as Record<string, unknown>);
    c.release();
    const trips = proxy.count();
    expect(await withTenant(p, "acme", ids)).toEqual(["a1", "a2"]);
    expect(trips()).toBe(4);
    const again = await p.connect();
    try {
      expect(again).toBe(c);
      expect(Object.prototype.hasOwnProperty.call(again, "query")).toBe(false);
    } finally {
      again.release();
    }
  });

  it("a `drain` emitted while answers are still due does not end the window: each query gets its own answer", async () => {
    const p = pool(appUrl);
    const seen = await withTenant(p, "acme", async (c) => {
      const slow = c.query("SELECT 'slow' AS v FROM pg_sleep(0.05)");
      const next = c.query("SELECT 'next' AS v");
      c.emit("drain"); // as a pg that emitted it early would
      const after = c.query("SELECT 'after' AS v");
      return Promise.all([slow, next, after].map(async (q) => (await q).rows[0].v as string));
    });
    expect(seen).toEqual(["slow", "next", "after"]);
    const c = await p.connect();
    try {
      expect((c as unknown as { pipeline: boolean }).pipeline).toBe(false);
      expect(Object.prototype.hasOwnProperty.call(c, "query")).toBe(false);
    } finally {
      c.release();
    }
  });

  it("a pg that never emits `drain` in pipeline mode: the client still goes back an ordinary client, where a query with `rows` runs", async () => {
    const p = pool(appUrl);
    const c = await p.connect();
    const emit = c.emit.bind(c);
    c.emit = ((event: string, ...args: unknown[]) => (event === "drain" ? false : emit(event, ...args))) as typeof c.emit;
    c.release();
    expect(await withTenant(p, "acme", ids)).toEqual(["a1", "a2"]);
    const scoped = createTenantScopedPool(p);
    const s = await withTenantContext("globex", () => scoped.connect());
    try {
      expect(s).toBe(c);
      expect((s as unknown as { pipeline: boolean }).pipeline).toBe(false);
      expect(await ids(s)).toEqual(["g1"]);
    } finally {
      s.release();
    }
    const again = await p.connect();
    try {
      expect(again).toBe(c);
      expect((again as unknown as { pipeline: boolean }).pipeline).toBe(false);
      expect(Object.prototype.hasOwnProperty.call(again, "query")).toBe(false);
      // pg refuses `rows` in pipeline mode; on an ordinary client it reads the portal in pages.
      expect((await again.query({ text: "SELECT 1 AS one", rows: 1 } as pg.QueryConfig)).rows).toEqual([{ one: 1 }]);
    } finally {
      again.release();
    }
  });
});

describe("a connection cut while checked out", () => {
  it.each([
    ["during the start (the first round trip)", 1],
    ["before COMMIT reaches the server", 2],
  ])("%s: withTenant rejects, nothing is committed, the connection is destroyed, the next call gets a new one", async (_, cutAt) => {
    const proxy = await roundTripProxy(new URL(appUrl));
    const p = pool(proxy.url);
    const firstPid = (await p.query("SELECT pg_backend_pid() AS pid")).rows[0].pid;
    const id = `cut-${cutAt}`;
    proxy.count(cutAt);
    await expect(
      withTenant(p, "acme", (c) => c.query("INSERT INTO tenant_resources (id) VALUES ($1)", [id])),
    ).rejects.toThrow(/Connection terminated|ECONNRESET|not queryable/);
    expect((await admin.query("SELECT count(*)::int AS n FROM tenant_resources WHERE id = $1", [id])).rows[0].n).toBe(0);
    proxy.count();
    const after = await withTenant(p, "acme", async (c) => ({ pid: (await c.query("SELECT pg_backend_pid() AS pid")).rows[0].pid, ids: await ids(c) }));
    expect(after.ids).toEqual(["a1", "a2"]);
    expect(after.pid).not.toBe(firstPid);
    expect(p.totalCount).toBe(1);
  });

  it("while fn runs (the backend terminated by the server between two of fn's queries): no crash, the connection is destroyed", async () => {
    const p = pool(appUrl);
    let pid = 0;
    await expect(
      withTenant(p, "acme", async (c) => {
        pid = (await c.query("SELECT pg_backend_pid() AS pid")).rows[0].pid;
        const ended = new Promise((resolve) => c.once("end", resolve));
        await admin.query("SELECT pg_terminate_backend($1)", [pid]);
        // The server's FATAL notice reaches an idle client: pg emits "error" on
        // it, which crashes a process where nothing listens. Then it ends.
        await ended;
        return c.query("SELECT 1");
      }),
    ).rejects.toThrow(/not queryable/);
    const next = (await p.query("SELECT pg_backend_pid() AS pid")).rows[0].pid;
    expect(next).not.toBe(pid);
    expect(p.totalCount).toBe(1);
  });
});
