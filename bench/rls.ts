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
 * Uses DATABASE_URL (an admin connection) when set, otherwise starts an
 * embedded Postgres. Prints a table; asserts nothing (speed is not a test).
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import pg from "pg";
import { migrate } from "../src/pg/migrate.ts";
import { withTenant } from "../src/pg/with-tenant.ts";
import { markdownTable } from "./lib/markdown-table.ts";
import { startPostgres } from "../test/support/postgres.ts";

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const TENANTS = Number(process.env.BENCH_TENANTS ?? 1_000);
const SAMPLED_TENANTS = 200;
const REPEATS = 10;

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

    // End to end: withTenant (clean+BEGIN+set_config, query, COMMIT) against one pool.query.
    const e2eRls: number[] = [];
    const e2eApp: number[] = [];
    const q = QUERIES[0]!;
    for (let round = 0; round < 2; round++) {
      for (const tenant of tenants) {
        let t = performance.now();
        await withTenant(app, tenant, (c) => c.query(q.rls));
        if (round) e2eRls.push(performance.now() - t);
        t = performance.now();
        await app.query(q.app, [tenant]);
        if (round) e2eApp.push(performance.now() - t);
      }
    }
    const er = stats(e2eRls);
    const ea = stats(e2eApp);
    rows.push(row(`${q.name}, end to end*`, ea, er));

    const header = ["query", "WHERE p50 ms", "RLS p50 ms", "ratio p50", "WHERE mean ms", "RLS mean ms", "ratio mean", "ratio trimmed mean"];
    console.log();
    console.log(`${ROWS.toLocaleString("en")} rows, ${TENANTS} tenants, ${new Set(tenants).size} tenants × ${REPEATS} runs per query (after a warm-up round); target ratio ≤ 1.15`);
    console.log(markdownTable(header, rows));
    console.log("* withTenant (clean + BEGIN + set_config, query, COMMIT: 3 round trips) vs one pool.query (1 round trip): the round trips, not RLS.");
    console.log();
    for (const p of plans) console.log(p);
  } finally {
    await Promise.all([admin.end(), owner.end(), app.end()]);
    await db.drop();
    await postgres.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
