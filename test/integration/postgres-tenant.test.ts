/**
 * Tenant isolation on a real Postgres: migrations with FORCE row-level
 * security, withTenant, clean pool checkout, hostile tenant strings, 50
 * tenants of concurrent work on 4 connections, and LangGraph's PostgresSaver
 * behind the tenant checkpointer, all as an application role that does not
 * own the tables and has no BYPASSRLS.
 */
import { randomBytes } from "node:crypto";
import { Annotation, END, START, StateGraph } from "@langchain/langgraph";
import { PostgresSaver } from "@langchain/langgraph-checkpoint-postgres";
import { emptyCheckpoint } from "@langchain/langgraph-checkpoint";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidTenantIdError, MissingTenantContextError } from "../../src/errors.ts";
import { createTenantCheckpointer } from "../../src/runtime/tenant-checkpointer.ts";
import { enableCleanCheckout } from "../../src/pg/clean-checkout.ts";
import { migrate } from "../../src/pg/migrate.ts";
import { beginTenantTransaction, bindSessionTenant } from "../../src/pg/bind-tenant.ts";
import { createTenantScopedPool } from "../../src/pg/tenant-scoped-pool.ts";
import { withTenant, type ConnectablePool } from "../../src/pg/with-tenant.ts";
import { withTenantContext } from "../../src/tenant/tenant-context.ts";
import { startPostgres, type TestPostgres } from "../support/postgres.ts";

let postgres: TestPostgres;
let admin: pg.Pool; // superuser, on the test database: sees everything (bypasses RLS)
let owner: pg.Pool; // owns the tables; runs migrations
let app: pg.Pool; // the application role, clean checkout, 4 connections
let appRole: string;
let ownerRole: string;
const pools: pg.Pool[] = [];

function pool(url: string, max: number): pg.Pool {
  const p = new pg.Pool({ connectionString: url, max });
  p.on("error", () => {}); // a destroyed idle client must not crash the test process
  pools.push(p);
  return p;
}

/** Strings a hostile caller (or a loosened tenant rule) could hand over as a tenant. */
const HOSTILE_TENANTS = [
  "acme'; DROP TABLE tenant_resources; --",
  "acme' OR '1'='1",
  "x', false); SELECT set_config('app.current_tenant', 'globex",
  "acme\u0000globex",
  "$1",
  "acme;RESET ALL",
  "globex --",
  "' || (SELECT string_agg(tenant_id, ',') FROM tenant_resources) || '",
  "$$; DROP TABLE tenant_resources; $$",
  "a\\'b",
  "",
];

/** A pool wrapper that records the SQL text and values sent on its connections. */
function recording(target: pg.Pool) {
  const sent: { text: string; values: unknown[] | undefined }[] = [];
  let checkouts = 0;
  const wrapped: ConnectablePool = {
    async connect() {
      checkouts += 1;
      const client = await target.connect();
      const query = client.query.bind(client) as (text: string, values?: unknown[]) => Promise<pg.QueryResult>;
      (client as unknown as { query: unknown }).query = (text: string, values?: unknown[]) => {
        sent.push({ text, values });
        return query(text, values);
      };
      const release = client.release;
      client.release = (err?: Error | boolean) => {
        (client as unknown as { query: unknown }).query = query;
        return release(err);
      };
      return client;
    },
  };
  return { pool: wrapped, sent, checkouts: () => checkouts };
}

beforeAll(async () => {
  postgres = await startPostgres();
  const db = await postgres.createDatabase("tenant_rls");
  const suffix = randomBytes(4).toString("hex");
  ownerRole = `tenant_owner_${suffix}`;
  appRole = `tenant_app_${suffix}`;
  const ownerUrl = await postgres.createLoginRole(ownerRole, db.name);
  const appUrl = await postgres.createLoginRole(appRole, db.name);
  admin = pool(db.url, 2);
  // The owner owns the database, hence its `public` schema (Postgres 15+).
  await admin.query(`ALTER DATABASE ${pg.escapeIdentifier(db.name)} OWNER TO ${pg.escapeIdentifier(ownerRole)}`);
  owner = pool(ownerUrl, 2);
  app = enableCleanCheckout(pool(appUrl, 4));
});

afterAll(async () => {
  for (const p of pools) await p.end().catch(() => {});
  await postgres?.stop();
});

describe("migrate", () => {
  it("creates the tables with ENABLE + FORCE row-level security, once", async () => {
    const first = await migrate(owner, { appRole });
    expect(first.applied).toEqual(["001_tenant_resources.sql", "002_checkpointer.sql"]);
    expect((await migrate(owner, { appRole })).applied).toEqual([]);
    const { rows } = await admin.query(
      `SELECT relname, relrowsecurity, relforcerowsecurity, pg_get_userbyid(relowner) AS owner
         FROM pg_class WHERE relname = ANY($1) ORDER BY relname`,
      [["checkpoint_blobs", "checkpoint_writes", "checkpoints", "tenant_resources"]],
    );
    expect(rows).toEqual(
      ["checkpoint_blobs", "checkpoint_writes", "checkpoints", "tenant_resources"].map((relname) => ({
        relname,
        relrowsecurity: true,
        relforcerowsecurity: true,
        owner: ownerRole,
      })),
    );
    const role = await admin.query("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = $1", [appRole]);
    expect(role.rows).toEqual([{ rolsuper: false, rolbypassrls: false }]);
  });

  it("refuses an application role that would bypass row-level security, or a malformed one", async () => {
    await expect(migrate(owner, { appRole: "postgres" })).rejects.toThrow(/superuser or has BYPASSRLS/);
    await expect(migrate(owner, { appRole: ownerRole })).rejects.toThrow(/owns/);
    await expect(migrate(owner, { appRole: "x; DROP TABLE tenant_resources" })).rejects.toThrow(TypeError);
    await expect(migrate(owner, { appRole: `missing_${randomBytes(3).toString("hex")}` })).rejects.toThrow(/does not exist/);
    expect((await admin.query("SELECT count(*)::int AS n FROM tenant_resources")).rows[0].n).toBeGreaterThanOrEqual(0);
  });
});

describe("row-level security with no tenant set", () => {
  it("queries see nothing and writes fail, for the application role and for the owner", async () => {
    await withTenant(app, "seed-tenant", (c) => c.query("INSERT INTO tenant_resources (id, data) VALUES ('seed', '{}')"));
    expect((await admin.query("SELECT count(*)::int AS n FROM tenant_resources WHERE tenant_id = 'seed-tenant'")).rows[0].n).toBe(1);
    for (const p of [app, owner]) {
      expect((await p.query("SELECT count(*)::int AS n FROM tenant_resources")).rows[0].n).toBe(0);
      expect((await p.query("UPDATE tenant_resources SET data = '{\"x\":1}'")).rowCount).toBe(0);
      expect((await p.query("DELETE FROM tenant_resources")).rowCount).toBe(0);
      await expect(p.query("INSERT INTO tenant_resources (tenant_id, id) VALUES ('seed-tenant', 'x')")).rejects.toThrow(/row-level security/);
      await expect(p.query("INSERT INTO tenant_resources (id) VALUES ('x')")).rejects.toThrow(/null value|row-level security/);
      expect((await p.query("SELECT count(*)::int AS n FROM checkpoints")).rows[0].n).toBe(0);
    }
    // An empty tenant is no tenant.
    const empty = await app.connect();
    try {
      await empty.query("BEGIN");
      await empty.query("SELECT set_config('app.current_tenant', '', true)");
      expect((await empty.query("SELECT count(*)::int AS n FROM tenant_resources")).rows[0].n).toBe(0);
      await empty.query("ROLLBACK");
    } finally {
      empty.release();
    }
  });

  it("the application role cannot switch row-level security off", async () => {
    await expect(app.query("ALTER TABLE tenant_resources DISABLE ROW LEVEL SECURITY")).rejects.toThrow(/must be owner/);
    await expect(app.query("SET row_security = off; SELECT 1")).resolves.toBeDefined();
    // With row_security off, a query that RLS would filter errors instead of leaking.
    const c = await app.connect();
    try {
      await c.query("SET row_security = off");
      await expect(c.query("SELECT * FROM tenant_resources")).rejects.toThrow(/row-level security/);
      await c.query("RESET row_security");
    } finally {
      c.release();
    }
  });
});

describe("withTenant", () => {
  it("sees and writes only its tenant's rows; other tenants' rows cannot be read, changed or forged", async () => {
    await withTenant(app, "acme", (c) => c.query("INSERT INTO tenant_resources (id, data) VALUES ('doc', '{\"v\":\"acme\"}')"));
    await withTenant(app, "globex", (c) => c.query("INSERT INTO tenant_resources (id, data) VALUES ('doc', '{\"v\":\"globex\"}')"));
    const acme = await withTenant(app, "acme", async (c) => (await c.query("SELECT tenant_id, id, data FROM tenant_resources")).rows);
    expect(acme).toEqual([{ tenant_id: "acme", id: "doc", data: { v: "acme" } }]);
    const changed = await withTenant(app, "acme", async (c) => {
      const u = await c.query("UPDATE tenant_resources SET data = '{\"v\":\"pwned\"}' WHERE tenant_id = 'globex'");
      const d = await c.query("DELETE FROM tenant_resources WHERE tenant_id = 'globex'");
      return (u.rowCount ?? 0) + (d.rowCount ?? 0);
    });
    expect(changed).toBe(0);
    await expect(
      withTenant(app, "acme", (c) => c.query("INSERT INTO tenant_resources (tenant_id, id) VALUES ('globex', 'forged')")),
    ).rejects.toThrow(/row-level security/);
    await expect(
      withTenant(app, "acme", (c) => c.query("UPDATE tenant_resources SET tenant_id = 'globex' WHERE id = 'doc'")),
    ).rejects.toThrow(/row-level security/);
    const globex = await admin.query("SELECT id, data FROM tenant_resources WHERE tenant_id = 'globex'");
    expect(globex.rows).toEqual([{ id: "doc", data: { v: "globex" } }]);
  });

  it("an error mid-transaction rolls everything back and the connection goes back clean", async () => {
    const one = enableCleanCheckout(pool(app.options.connectionString!, 1));
    await expect(
      withTenant(one, "acme", async (c) => {
        await c.query("INSERT INTO tenant_resources (id) VALUES ('half-1')");
        await c.query("INSERT INTO tenant_resources (id) VALUES ('half-2')");
        throw new Error("boom halfway");
      }),
    ).rejects.toThrow("boom halfway");
    await expect(
      withTenant(one, "acme", async (c) => {
        await c.query("INSERT INTO tenant_resources (id) VALUES ('half-3')");
        await c.query("SELECT 1/0");
      }),
    ).rejects.toThrow(/division by zero/);
    // fn swallows an SQL error: COMMIT can only roll back, and withTenant says so.
    await expect(
      withTenant(one, "acme", async (c) => {
        await c.query("INSERT INTO tenant_resources (id) VALUES ('half-4')");
        await c.query("SELECT 1/0").catch(() => {});
      }),
    ).rejects.toThrow(/rolled back/);
    const left = await admin.query("SELECT id FROM tenant_resources WHERE id LIKE 'half-%'");
    expect(left.rows).toEqual([]);
    // The single connection is reused: no transaction, no tenant.
    const after = await one.query("SELECT current_setting('app.current_tenant', true) AS t, (SELECT count(*)::int FROM tenant_resources) AS n");
    expect(after.rows[0]).toEqual({ t: "", n: 0 });
    expect(one.totalCount).toBe(1);
  });

  it("sends the tenant only as a bound value, and refuses hostile tenant strings before any SQL", async () => {
    const rec = recording(app);
    await withTenant(rec.pool, "acme", (c) => c.query("SELECT count(*) FROM tenant_resources"));
    // No SQL text names the tenant; it travels once, as $1 of set_config.
    expect(rec.sent.filter((s) => s.text.includes("acme"))).toEqual([]);
    expect(rec.sent.filter((s) => s.values !== undefined)).toEqual([
      { text: "SELECT set_config('app.current_tenant', $1, true)", values: ["acme"] },
    ]);

    const before = rec.checkouts();
    for (const tenant of HOSTILE_TENANTS) {
      await expect(withTenant(rec.pool, tenant, async () => "ran")).rejects.toBeInstanceOf(InvalidTenantIdError);
    }
    expect(rec.checkouts()).toBe(before);
  });

  it("even past the tenant rule, the package's own binding carries a hostile string as a value: set byte for byte, matching no row, breaking nothing", async () => {
    // The tenant rule is not what keeps the SQL safe. These calls skip it and
    // take the very path withTenant and the tenant-scoped pool take after it
    // (beginTenantTransaction, bindSessionTenant) on a real connection, as a
    // rule that a dependency loosened (TENANT_ID_PATTERN.compile(".*")) would.
    const bindAs = async (scope: "transaction" | "session", tenant: string) => {
      const rec = recording(app);
      const c = await rec.pool.connect();
      try {
        if (scope === "transaction") await beginTenantTransaction(c, tenant).started;
        else await bindSessionTenant(c, tenant);
        const sent = [...rec.sent];
        const seen = await c.query("SELECT current_setting('app.current_tenant') AS t, (SELECT count(*)::int FROM tenant_resources) AS n");
        if (scope === "transaction") await c.query("ROLLBACK");
        return { sent, seen: seen.rows[0] };
      } finally {
        c.release(true); // destroy: a session-level tenant must not go back to the pool
      }
    };
    for (const scope of ["transaction", "session"] as const) {
      const reference = (await bindAs(scope, "reference-tenant")).sent;
      for (const tenant of HOSTILE_TENANTS.filter((t) => !t.includes("\u0000"))) {
        const { sent, seen } = await bindAs(scope, tenant);
        expect(seen).toEqual({ t: tenant, n: 0 });
        // The same SQL text as for any other tenant; the string only ever as the bound value.
        expect(sent.map((q) => q.text)).toEqual(reference.map((q) => q.text));
        expect(sent.map((q) => q.values)).toEqual(reference.map((q) => (q.values ? [tenant] : undefined)));
      }
    }
    const intact = await admin.query(
      "SELECT to_regclass('public.tenant_resources') IS NOT NULL AS table_there, (SELECT count(*)::int FROM tenant_resources WHERE tenant_id IN ('acme', 'globex')) AS n",
    );
    expect(intact.rows[0]).toEqual({ table_there: true, n: 2 });
  });

  it("a start that Postgres refuses aborts the transaction: a query queued behind it in the same round trip never runs", async () => {
    await admin.query("CREATE TABLE IF NOT EXISTS start_probe (note text)");
    await admin.query(`GRANT INSERT ON start_probe TO ${pg.escapeIdentifier(appRole)}`);
    const c = await app.connect();
    try {
      // A NUL byte is refused by Postgres when it binds $1: the start fails on the server.
      const { started, pipelined } = beginTenantTransaction(c, "acme\u0000globex");
      expect(pipelined).toBe(true);
      const probe = c.query("INSERT INTO start_probe VALUES ('ran without the tenant')");
      await expect(started).rejects.toThrow(/invalid byte sequence|0x00/);
      await expect(probe).rejects.toThrow(/current transaction is aborted/);
      await c.query("ROLLBACK");
    } finally {
      c.release();
    }
    expect((await admin.query("SELECT count(*)::int AS n FROM start_probe")).rows[0].n).toBe(0);
  });
});

describe("pool checkout hygiene", () => {
  async function leaveDirty(p: pg.Pool, how: "session" | "open-transaction" | "failed-transaction") {
    const c = await p.connect();
    if (how === "session") {
      await c.query("SELECT set_config('app.current_tenant', 'acme', false)");
    } else if (how === "open-transaction") {
      await c.query("BEGIN");
      await c.query("SELECT set_config('app.current_tenant', 'acme', true)");
    } else {
      await c.query("BEGIN");
      await c.query("SELECT set_config('app.current_tenant', 'acme', true)");
      await c.query("SELECT 1/0").catch(() => {});
    }
    c.release(); // returned dirty: no COMMIT, no RESET
  }

  function onePool(): pg.Pool {
    const u = new URL(app.options.connectionString!);
    return pool(u.toString(), 1);
  }

  it("control: a plain pool hands the next borrower the previous tenant", async () => {
    const plain = onePool();
    await leaveDirty(plain, "session");
    const leaked = await plain.query("SELECT current_setting('app.current_tenant', true) AS t, (SELECT count(*)::int FROM tenant_resources) AS n");
    expect(leaked.rows[0]).toEqual({ t: "acme", n: 1 });
  });

  it.each(["session", "open-transaction", "failed-transaction"] as const)(
    "with clean checkout, a connection returned dirty (%s) starts with no tenant, via query() and connect()",
    async (how) => {
      const clean = enableCleanCheckout(onePool());
      await leaveDirty(clean, how);
      const viaQuery = await clean.query("SELECT current_setting('app.current_tenant', true) AS t, (SELECT count(*)::int FROM tenant_resources) AS n");
      expect(viaQuery.rows[0]).toEqual({ t: "", n: 0 });
      await leaveDirty(clean, how);
      const c = await clean.connect();
      try {
        const r = await c.query("SELECT current_setting('app.current_tenant', true) AS t, (SELECT count(*)::int FROM tenant_resources) AS n");
        expect(r.rows[0]).toEqual({ t: "", n: 0 });
        expect(c.getTransactionStatus()).toBe("I");
      } finally {
        c.release();
      }
      expect(clean.totalCount).toBe(1);
    },
  );

  it("withTenant on a plain pool ignores, then clears, what a dirty connection left", async () => {
    const plain = onePool();
    await leaveDirty(plain, "session");
    const seen = await withTenant(plain, "globex", async (c) => (await c.query("SELECT tenant_id FROM tenant_resources")).rows);
    expect(seen).toEqual([{ tenant_id: "globex" }]);
    await leaveDirty(plain, "open-transaction");
    const again = await withTenant(plain, "globex", async (c) => (await c.query("SELECT tenant_id FROM tenant_resources")).rows);
    expect(again).toEqual([{ tenant_id: "globex" }]);
    const after = await plain.query("SELECT current_setting('app.current_tenant', true) AS t");
    expect(after.rows[0].t).toBe("");
  });

  it("the tenant-scoped pool refuses without a tenant and resets its session-level tenant on release", async () => {
    const one = enableCleanCheckout(onePool());
    const scoped = createTenantScopedPool(one);
    await expect(scoped.query("SELECT 1")).rejects.toBeInstanceOf(MissingTenantContextError);
    await expect(scoped.connect()).rejects.toBeInstanceOf(MissingTenantContextError);
    const rows = await withTenantContext("acme", async () => {
      const c = await scoped.connect();
      try {
        return (await c.query("SELECT tenant_id FROM tenant_resources")).rows;
      } finally {
        c.release();
      }
    });
    expect(rows).toEqual([{ tenant_id: "acme" }]);
    // Give the asynchronous reset-on-release its turn, then borrow the raw connection.
    const raw = await one.connect();
    try {
      expect((await raw.query("SELECT current_setting('app.current_tenant', true) AS t")).rows[0].t).toBe("");
    } finally {
      raw.release();
    }
  });
});

describe("50 tenants of interleaved concurrent work on 4 connections", () => {
  it("reads and writes thousands of rows with zero rows of another tenant read or written", async () => {
    const tenants = Array.from({ length: 50 }, (_, i) => `t${String(i).padStart(2, "0")}.co`);
    const opsPerTenant = 60;
    const expected = new Map<string, number>(tenants.map((t) => [t, 0]));
    const foreignSeen: string[] = [];
    let refusedForgeries = 0;
    let operations = 0;
    expect(app.options.max).toBe(4);

    async function work(tenant: string, index: number) {
      for (let op = 0; op < opsPerTenant; op++) {
        operations += 1;
        const kind = (op + index) % 5;
        if (kind === 0 || kind === 1) {
          await withTenant(app, tenant, (c) =>
            c.query("INSERT INTO tenant_resources (id, kind, data) VALUES ($1, 'load', $2)", [`r${op}`, { writer: tenant, op }]),
          );
          expected.set(tenant, expected.get(tenant)! + 1);
        } else if (kind === 2) {
          const rows = await withTenant(app, tenant, async (c) => (await c.query("SELECT tenant_id, data FROM tenant_resources WHERE kind = 'load'")).rows);
          for (const row of rows) if (row.tenant_id !== tenant || row.data.writer !== tenant) foreignSeen.push(`${tenant} saw ${row.tenant_id}`);
          if (rows.length !== expected.get(tenant)) foreignSeen.push(`${tenant} saw ${rows.length} rows, wrote ${expected.get(tenant)}`);
        } else if (kind === 3) {
          const victim = tenants[(index + 1 + (op % 49)) % 50]!; // never the tenant itself
          const touched = await withTenant(app, tenant, async (c) => {
            const u = await c.query("UPDATE tenant_resources SET data = jsonb_set(data, '{writer}', to_jsonb($1::text)) WHERE tenant_id = $2", [tenant, victim]);
            const d = await c.query("DELETE FROM tenant_resources WHERE tenant_id = $1", [victim]);
            return (u.rowCount ?? 0) + (d.rowCount ?? 0);
          });
          if (touched !== 0) foreignSeen.push(`${tenant} touched ${touched} rows of ${victim}`);
        } else {
          const victim = tenants[(index + 1 + ((op + 6) % 49)) % 50]!;
          await withTenant(app, tenant, (c) =>
            c.query("INSERT INTO tenant_resources (tenant_id, id, kind, data) VALUES ($1, $2, 'load', $3)", [victim, `forged-${tenant}-${op}`, { writer: tenant }]),
          ).then(
            () => foreignSeen.push(`${tenant} forged a row of ${victim}`),
            (error: Error) => {
              if (/row-level security/.test(error.message)) refusedForgeries += 1;
              else throw error;
            },
          );
        }
      }
    }

    await Promise.all(tenants.map((t, i) => work(t, i)));
    expect(operations).toBe(50 * opsPerTenant);
    expect(foreignSeen).toEqual([]);
    expect(refusedForgeries).toBe(tenants.length * (opsPerTenant / 5));

    const { rows } = await admin.query("SELECT tenant_id, count(*)::int AS n, bool_and(data->>'writer' = tenant_id) AS own FROM tenant_resources WHERE kind = 'load' GROUP BY tenant_id ORDER BY tenant_id");
    expect(rows).toEqual(tenants.map((t) => ({ tenant_id: t, n: expected.get(t), own: true })));
    expect(app.totalCount).toBeLessThanOrEqual(4);
  });
});

describe("LangGraph's PostgresSaver behind the tenant checkpointer, under row-level security", () => {
  const State = Annotation.Root({
    messages: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
  });
  const run = (tenant: string | undefined, thread?: string) => ({
    configurable: {
      ...(thread ? { thread_id: thread } : {}),
      ...(tenant ? { langgraph_auth_user: { identity: `u-${tenant}`, tenant_id: tenant } } : {}),
    },
  });

  it("two tenants with the same raw thread ids each get only their own state; the database holds namespaced ids", async () => {
    const saver = new PostgresSaver(createTenantScopedPool(app) as unknown as pg.Pool);
    const checkpointer = createTenantCheckpointer(saver);
    const graph = new StateGraph(State)
      .addNode("echo", (s) => ({ messages: [`echo:${s.messages.at(-1)}`] }))
      .addEdge(START, "echo")
      .addEdge("echo", END)
      .compile({ checkpointer });

    for (const thread of ["shared-1", "shared-2"]) {
      await graph.invoke({ messages: [`acme:${thread}`] }, run("acme", thread));
      await graph.invoke({ messages: [`globex:${thread}`] }, run("globex", thread));
    }
    const acme = await graph.invoke({ messages: ["acme:again"] }, run("acme", "shared-1"));
    expect(acme.messages).toEqual(["acme:shared-1", "echo:acme:shared-1", "acme:again", "echo:acme:again"]);
    const globex = await graph.getState(run("globex", "shared-1"));
    expect(globex.values.messages).toEqual(["globex:shared-1", "echo:globex:shared-1"]);
    expect(globex.config.configurable?.thread_id).toBe("shared-1");
    expect(await checkpointer.getTuple(run("initech", "shared-1"))).toBeUndefined();

    const listed = [];
    for await (const t of checkpointer.list(run("globex"))) listed.push(t);
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.every((t) => !JSON.stringify(t.checkpoint.channel_values).includes("acme"))).toBe(true);

    const threads = await admin.query("SELECT DISTINCT thread_id FROM checkpoints ORDER BY thread_id");
    expect(threads.rows.map((r) => r.thread_id)).toEqual(["acme::shared-1", "acme::shared-2", "globex::shared-1", "globex::shared-2"]);

    // Row-level security on the checkpointer's own tables, for the application role.
    const counts = async (tenant?: string) => {
      const q = "SELECT (SELECT count(*) FROM checkpoints)::int AS c, (SELECT count(*) FROM checkpoint_blobs)::int AS b, (SELECT count(*) FROM checkpoint_writes)::int AS w, (SELECT count(*) FROM checkpoints WHERE thread_id NOT LIKE $1)::int AS foreign";
      if (!tenant) return (await app.query(q, ["%"])).rows[0];
      return withTenant(app, tenant, async (c) => (await c.query(q, [`${tenant}::%`])).rows[0]);
    };
    expect(await counts()).toEqual({ c: 0, b: 0, w: 0, foreign: 0 });
    const acmeCounts = await counts("acme");
    expect(acmeCounts.c).toBeGreaterThan(0);
    expect(acmeCounts.foreign).toBe(0);

    await checkpointer.deleteThread("shared-2", run("acme"));
    const after = await admin.query("SELECT DISTINCT thread_id FROM checkpoints ORDER BY thread_id");
    expect(after.rows.map((r) => r.thread_id)).toEqual(["acme::shared-1", "globex::shared-1", "globex::shared-2"]);
  });

  it("the database refuses what an application bug would let through: a foreign key read or written under another tenant", async () => {
    const saver = new PostgresSaver(createTenantScopedPool(app) as unknown as pg.Pool);
    // Straight to the unwrapped saver, as acme, naming globex's thread.
    const read = await withTenantContext("acme", () => saver.getTuple({ configurable: { thread_id: "globex::shared-1", checkpoint_ns: "" } }));
    expect(read).toBeUndefined();
    const checkpoint = { ...emptyCheckpoint(), channel_values: { messages: ["forged"] }, channel_versions: { messages: 1 } };
    await expect(
      withTenantContext("acme", () =>
        saver.put({ configurable: { thread_id: "globex::shared-1", checkpoint_ns: "" } }, checkpoint, { source: "update", step: 9, parents: {} }, { messages: 1 }),
      ),
    ).rejects.toThrow(/row-level security/);
    await withTenantContext("acme", () => saver.deleteThread("globex::shared-1"));
    expect((await admin.query("SELECT count(*)::int AS n FROM checkpoints WHERE thread_id = 'globex::shared-1'")).rows[0].n).toBeGreaterThan(0);
    // And without any tenant the saver is refused before reaching Postgres.
    await expect(saver.getTuple({ configurable: { thread_id: "acme::shared-1" } })).rejects.toBeInstanceOf(MissingTenantContextError);
  });
});
