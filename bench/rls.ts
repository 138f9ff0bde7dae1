/**
 * `npm run bench:rls`: the cost of Postgres row-level security.
 *
 * One million rows across a thousand tenants, loaded twice: into
 * `tenant_resources` (FORCE row-level security, policy on
 * `app.current_tenant`, from `migrate`) and into an identical table with no
 * RLS. The same queries run as the same application role: with RLS (tenant
 * set by `set_config(…, true)`) and with an application-side
 * `WHERE tenant_id = $1`. Both tables have the same indexes.
 *
 * Then the whole `withTenant` call against one `pool.query`, end to end,
 * for each design of its start that issue 21 weighed (all bind the tenant
 * as `$1` except the literal one, kept here only as the yardstick it was):
 * the pipelined start this package ships, the old four round trips, the
 * literal three, and cleaning at release with and without pipelining. The
 * designs run interleaved, in a rotating order, on the same pool.
 *
 * Uses DATABASE_URL (an admin connection) when set, otherwise starts an
 * embedded Postgres. Prints tables; asserts nothing (speed is not a test).
 * `BENCH_SMOKE=1`: a tiny run (a few thousand rows, a few samples) that still
 * prints every table, to show the script starts.
 */
import { randomBytes } from "node:crypto";
import net from "node:net";
import { performance } from "node:perf_hooks";
import pg from "pg";
import { migrate } from "../src/pg/migrate.ts";
import { pipelineUntilIdle } from "../src/pg/pipeline-until-idle.ts";
import { DISCARD_SESSION_SQL, forgetPreparedStatements } from "../src/pg/session-reset.ts";
import { withTenant } from "../src/pg/with-tenant.ts";
import { markdownTable } from "./lib/markdown-table.ts";
import { startPostgres } from "../test/support/postgres.ts";

const SMOKE = process.env.BENCH_SMOKE === "1";
const ROWS = SMOKE ? 2_000 : Number(process.env.BENCH_ROWS ?? 1_000_000);
const TENANTS = SMOKE ? 20 : Number(process.env.BENCH_TENANTS ?? 1_000);
const SAMPLED_TENANTS = SMOKE ? 10 : 200;
const REPEATS = SMOKE ? 2 : 10;
/** Rounds of the end-to-end comparison after its warm-up round. */
const E2E_ROUNDS = SMOKE ? 1 : Number(process.env.BENCH_E2E_ROUNDS ?? 5);
/**
 * One-way delay (ms, whole milliseconds: Node's timers) that a loopback proxy
 * adds to every packet of the end-to-end comparison, to show the designs on a
 * network where the database is on another host. 0: no proxy.
 */
const RTT_DELAY_MS = SMOKE ? 0 : Number(process.env.BENCH_ONE_WAY_DELAY_MS ?? 0);

const QUERIES: { name: string; rls: string; app: string }[] = [
  {
    name: "latest 20 of a tenant",
    rls: "SELECT id, data FROM tenant_resources WHERE kind = 'doc' ORDER BY created_at DESC LIMIT 20",
    app: "SELECT id, data FROM plain_resources WHERE tenant_id = $1 AND kind = 'doc' ORDER BY created_at DESC LIMIT 20",
  },
  {
    name: "aggregate over a tenant",
    rls: "SELECT count(*), sum((data->>'n')::bigint) FROM tenant_resources",
    app: "SELECT count(*), sum((data->>'n')::bigint) FROM plain_resources WHERE tenant_id = $1",
  },
  {
    name: "one row by id",
    rls: "SELECT data FROM tenant_resources WHERE id = $1",
    app: "SELECT data FROM plain_resources WHERE tenant_id = $2 AND id = $1",
  },
];

type Stats = ReturnType<typeof stats>;
const row = (name: string, app: Stats, rls: Stats) => [
  name,
  app.p50.toFixed(3),
  rls.p50.toFixed(3),
  (rls.p50 / app.p50).toFixed(3),
  app.mean.toFixed(3),
  rls.mean.toFixed(3),
  (rls.mean / app.mean).toFixed(3),
  (rls.trimmed / app.trimmed).toFixed(3),
];

const tenantName = (i: number) => `tenant-${String(i).padStart(4, "0")}`;

const SET_TENANT_SQL = "SELECT set_config('app.current_tenant', $1, true)";

/**
 * The designs of withTenant's start that issue 21 weighed, each running `sql`
 * for `tenant` in a transaction bound to it. Only the first is the package's
 * own; the others are written out here, just as they were or would be, to
 * be measured against it.
 */
function designs(pool: pg.Pool, sql: string): { name: string; trips: string; run: (tenant: string) => Promise<unknown> }[] {
  /** Clean after COMMIT, off the caller's path; the connection goes back once it is clean. */
  const releaseAfterClean = (c: pg.PoolClient) => {
    const cleaned = c.query(DISCARD_SESSION_SQL);
    forgetPreparedStatements(c);
    cleaned.then(() => c.release(), (error: Error) => c.release(error));
  };
  return [
    {
      name: "withTenant: pipelined start, clean at checkout (this package)",
      trips: "2",
      run: (tenant) => withTenant(pool, tenant, (c) => c.query(sql)),
    },
    {
      name: "old: clean+BEGIN, bound set_config, query, COMMIT",
      trips: "4",
      run: async (tenant) => {
        const c = await pool.connect();
        try {
          await c.query(`BEGIN; ${DISCARD_SESSION_SQL}`);
          forgetPreparedStatements(c);
          await c.query(SET_TENANT_SQL, [tenant]);
          await c.query(sql);
          await c.query("COMMIT");
        } finally {
          c.release();
        }
      },
    },
    {
      // The design this release removes: the tenant as a literal in SQL text. Here only as a yardstick.
      name: "last release: clean+BEGIN+literal set_config, query, COMMIT",
      trips: "3",
      run: async (tenant) => {
        const c = await pool.connect();
        try {
          await c.query(`${DISCARD_SESSION_SQL}; BEGIN; SELECT set_config('app.current_tenant', ${pg.escapeLiteral(tenant)}, true)`);
          forgetPreparedStatements(c);
          await c.query(sql);
          await c.query("COMMIT");
        } finally {
          c.release();
        }
      },
    },
    {
      name: "clean at release, no pipelining: BEGIN, bound set_config, query, COMMIT",
      trips: "4 (+1 after)",
      run: async (tenant) => {
        const c = await pool.connect();
        await c.query("BEGIN");
        await c.query(SET_TENANT_SQL, [tenant]);
        await c.query(sql);
        await c.query("COMMIT");
        releaseAfterClean(c);
      },
    },
    {
      name: "clean at release, pipelined: BEGIN+set_config+query, COMMIT",
      trips: "2 (+1 after)",
      run: async (tenant) => {
        const c = await pool.connect();
        pipelineUntilIdle(c);
        const begin = c.query("BEGIN");
        const bind = c.query(SET_TENANT_SQL, [tenant]);
        await c.query(sql);
        await Promise.all([begin, bind]);
        await c.query("COMMIT");
        releaseAfterClean(c);
      },
    },
  ];
}

/** A loopback proxy to `url`'s server that holds every chunk `delayMs` in each direction (order kept). */
async function delayingProxy(url: string, delayMs: number): Promise<{ url: string; close(): Promise<void> }> {
  const target = new URL(url);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    sockets.add(client).add(upstream);
    client.on("data", (chunk) => setTimeout(() => upstream.write(chunk), delayMs));
    upstream.on("data", (chunk) => setTimeout(() => client.write(chunk), delayMs));
    const drop = () => (client.destroy(), upstream.destroy());
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const proxied = new URL(url);
  proxied.hostname = "127.0.0.1";
  proxied.port = String((server.address() as net.AddressInfo).port);
  return {
    url: proxied.toString(),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function stats(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  // Trimmed mean: the slowest 5% are mostly the scheduler of a shared machine, not the query.
  const kept = sorted.slice(0, Math.ceil(sorted.length * 0.95));
  const trimmed = kept.reduce((a, b) => a + b, 0) / kept.length;
  return { mean, trimmed, p50: sorted[Math.floor(sorted.length * 0.5)]!, p95: sorted[Math.floor(sorted.length * 0.95)]! };
}

async function main() {
  const postgres = await startPostgres();
  const db = await postgres.createDatabase("bench_rls");
  const suffix = randomBytes(4).toString("hex");
  const ownerUrl = await postgres.createLoginRole(`bench_owner_${suffix}`, db.name);
  const appRole = `bench_app_${suffix}`;
  const appUrl = await postgres.createLoginRole(appRole, db.name);
  const admin = new pg.Pool({ connectionString: db.url, max: 2 });
  await admin.query(`ALTER DATABASE ${pg.escapeIdentifier(db.name)} OWNER TO ${pg.escapeIdentifier(`bench_owner_${suffix}`)}`);
  const owner = new pg.Pool({ connectionString: ownerUrl, max: 1 });
  const app = new pg.Pool({ connectionString: appUrl, max: 4 }); // 2 held by the timing loop, 2 for checks
  // An idle connection that fails: during the run the bench fails (exit code 1); at teardown it is expected,
  // since pool.end() resolves before its connections have closed and DROP DATABASE … FORCE then ends them.
  let tearingDown = false;
  const idleError = (error: Error) => {
    if (tearingDown) return;
    console.error(`an idle connection failed: ${error.message}`);
    process.exitCode = 1;
  };
  for (const pool of [admin, owner, app]) pool.on("error", idleError);
  try {
    await migrate(owner, { appRole });
    process.stdout.write(`loading ${ROWS.toLocaleString("en")} rows across ${TENANTS} tenants… `);
    const t0 = performance.now();
    await admin.query(`CREATE TABLE plain_resources (LIKE tenant_resources INCLUDING DEFAULTS)`);
    await admin.query(
      `INSERT INTO plain_resources (tenant_id, id, kind, data, created_at)
       SELECT 'tenant-' || lpad((g % $2)::text, 4, '0'), 'r' || g, CASE WHEN g % 4 = 0 THEN 'note' ELSE 'doc' END,
              jsonb_build_object('n', g, 'title', 'resource ' || g), now() - g * interval '1 second'
         FROM generate_series(1, $1::int) AS g`,
      [ROWS, TENANTS],
    );
    await admin.query("INSERT INTO tenant_resources SELECT * FROM plain_resources"); // superuser: no RLS on load
    await admin.query("ALTER TABLE plain_resources ADD PRIMARY KEY (tenant_id, id)");
    await admin.query("CREATE INDEX ON plain_resources (tenant_id, kind, created_at)");
    await admin.query(`GRANT SELECT ON plain_resources TO ${pg.escapeIdentifier(appRole)}`);
    await admin.query("VACUUM ANALYZE plain_resources");
    await admin.query("VACUUM ANALYZE tenant_resources");
    console.log(`${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const tenants = Array.from({ length: SAMPLED_TENANTS }, (_, i) => tenantName((i * 7919) % TENANTS));
    const rowIdOf = (tenant: string) => `r${Number(tenant.slice(7)) || TENANTS}`;

    const plans: string[] = [];
    const rows: string[][] = [];
    for (const q of QUERIES) {
      const params = (tenant: string, rls: boolean) => (q.rls.includes("$1") ? (rls ? [rowIdOf(tenant)] : [rowIdOf(tenant), tenant]) : rls ? [] : [tenant]);
      const rlsClient = await app.connect();
      const appClient = await app.connect();
      const rlsTimes: number[] = [];
      const appTimes: number[] = [];
      try {
        // Same answers first: RLS must return exactly what the WHERE returns.
        for (const tenant of tenants.slice(0, 20)) {
          const viaRls = await withTenant(app, tenant, async (c) => (await c.query(q.rls, params(tenant, true))).rows);
          const viaApp = (await app.query(q.app, params(tenant, false))).rows;
          if (JSON.stringify(viaRls) !== JSON.stringify(viaApp)) throw new Error(`"${q.name}": RLS and WHERE answers differ for ${tenant}`);
        }
        await withTenant(app, tenants[0]!, async (c) => {
          const plan = await c.query(`EXPLAIN (COSTS OFF) ${q.rls}`, params(tenants[0]!, true));
          plans.push(`${q.name} (RLS): ${plan.rows.map((r) => r["QUERY PLAN"].trim()).join(" / ")}`);
        });
        const appPlan = await app.query(`EXPLAIN (COSTS OFF) ${q.app}`, params(tenants[0]!, false));
        plans.push(`${q.name} (WHERE): ${appPlan.rows.map((r) => r["QUERY PLAN"].trim()).join(" / ")}`);

        for (let round = 0; round < 2; round++) {
          const record = round === 1; // round 0 warms caches
          for (const tenant of tenants) {
            // RLS: the tenant is set for the transaction (not timed), the query is.
            await rlsClient.query("BEGIN");
            await rlsClient.query("SELECT set_config('app.current_tenant', $1, true)", [tenant]);
            await appClient.query("BEGIN");
            for (let i = 0; i < REPEATS; i++) {
              // Alternate which goes first, so neither always runs on a warmer cache.
              const order = i % 2 === 0 ? (["rls", "app"] as const) : (["app", "rls"] as const);
              for (const which of order) {
                const t = performance.now();
                if (which === "rls") await rlsClient.query(q.rls, params(tenant, true));
                else await appClient.query(q.app, params(tenant, false));
                if (record) (which === "rls" ? rlsTimes : appTimes).push(performance.now() - t);
              }
            }
            await rlsClient.query("COMMIT");
            await appClient.query("COMMIT");
          }
        }
      } finally {
        rlsClient.release();
        appClient.release();
      }
      const r = stats(rlsTimes);
      const a = stats(appTimes);
      rows.push(row(q.name, a, r));
    }

    // End to end: each design of withTenant's start against one pool.query,
    // interleaved in a rotating order so that each sees the same machine.
    const q = QUERIES[0]!;
    const proxy = RTT_DELAY_MS > 0 ? await delayingProxy(appUrl, RTT_DELAY_MS) : undefined;
    const e2ePool = proxy ? new pg.Pool({ connectionString: proxy.url, max: 4 }).on("error", idleError) : app;
    const plain = { name: "pool.query (one statement, no transaction)", trips: "1", run: (tenant: string) => e2ePool.query(q.app, [tenant]) };
    const all = [plain, ...designs(e2ePool, q.rls)];
    const e2e = all.map(() => [] as number[]);
    for (let round = 0; round <= E2E_ROUNDS; round++) {
      for (const [t, tenant] of tenants.entries()) {
        for (let k = 0; k < all.length; k++) {
          const d = (k + t + round) % all.length;
          const start = performance.now();
          await all[d]!.run(tenant);
          if (round > 0) e2e[d]!.push(performance.now() - start); // round 0 warms up
        }
      }
    }
    if (proxy) {
      await e2ePool.end();
      await proxy.close();
    }
    const base = stats(e2e[0]!);
    const e2eRows = all.map((d, i) => {
      const s = stats(e2e[i]!);
      return [d.name, d.trips, s.p50.toFixed(3), (s.p50 / base.p50).toFixed(3), s.mean.toFixed(3), (s.trimmed / base.trimmed).toFixed(3)];
    });

    const header = ["query", "WHERE p50 ms", "RLS p50 ms", "ratio p50", "WHERE mean ms", "RLS mean ms", "ratio mean", "ratio trimmed mean"];
    console.log();
    console.log(`${ROWS.toLocaleString("en")} rows, ${TENANTS} tenants, ${new Set(tenants).size} tenants × ${REPEATS} runs per query (after a warm-up round); target ratio ≤ 1.15`);
    console.log(markdownTable(header, rows));
    console.log();
    const via = RTT_DELAY_MS > 0 ? `, through a proxy adding ${RTT_DELAY_MS} ms each way` : "";
    console.log(`"${q.name}" end to end${via}: ${new Set(tenants).size} tenants × ${E2E_ROUNDS} rounds per row (after a warm-up round), rows interleaved; ratios against pool.query in the same run. Target for withTenant: ≤ 1.25 (never above 1.65).`);
    console.log(markdownTable(["design", "round trips", "p50 ms", "÷ pool.query p50", "mean ms", "÷ pool.query trimmed mean"], e2eRows));
    const ours = stats(e2e[1]!);
    const ratio = ours.p50 / base.p50;
    const verdict = RTT_DELAY_MS > 0
      ? "the target is for the direct loopback run; across a network the floor is the number of round trips"
      : ratio <= 1.25 ? "target met" : ratio <= 1.65 ? "target missed, within the 1.65 limit" : "above the 1.65 limit";
    console.log(`withTenant ÷ pool.query (p50): ${ratio.toFixed(3)}: ${verdict}${SMOKE ? " (smoke run: numbers mean nothing)" : ""}`);
    console.log();
    for (const p of plans) console.log(p);
  } finally {
    tearingDown = true;
    await Promise.all([admin.end(), owner.end(), app.end()]);
    await db.drop();
    await postgres.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
