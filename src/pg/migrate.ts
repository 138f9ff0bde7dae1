import { readdir, readFile } from "node:fs/promises";
import type pg from "pg";
import type { ConnectablePool } from "./with-tenant.ts";
import { rollbackForRelease } from "./rollback-for-release.ts";

/** Options of {@link migrate}. */
export interface MigrateOptions {
  /**
   * The role the application connects as. When given, it is granted
   * SELECT/INSERT/UPDATE/DELETE on the tenant tables (and SELECT on
   * `checkpoint_migrations`), and refused if it is a superuser, has
   * BYPASSRLS or owns one of the tables: any of those would skip row-level
   * security. Default: no grants, no check.
   */
  appRole?: string;
}

/** What {@link migrate} did. */
export interface MigrateResult {
  /** Migration files applied by this call, in order (empty when up to date). */
  applied: string[];
}

/**
 * The tables row-level security protects (frozen: a caller can read the
 * list, never change it).
 *
 * @example
 * TENANT_TABLES.includes("checkpoints"); // true
 */
export const TENANT_TABLES = Object.freeze(["tenant_resources", "checkpoints", "checkpoint_blobs", "checkpoint_writes"] as const);

const MIGRATIONS_DIR = new URL("./migrations/", import.meta.url);
const LOCK_KEY = "langgraph-tenant-auth:migrate";
const ROLE_RULE = /^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/;

/** The migration files shipped with the package, in the order they apply. */
export async function listMigrations(): Promise<string[]> {
  return (await readdir(MIGRATIONS_DIR)).filter((f) => /^\d+_[\w-]+\.sql$/.test(f)).sort();
}

/**
 * Apply the package's SQL migrations (`src/pg/migrations/*.sql`) that are not
 * applied yet, in one transaction under an advisory lock (concurrent callers
 * wait), recording them in `tenant_auth_migrations`. Run it as the owner of
 * the schema, never as the application role.
 *
 * The tables get `ENABLE` + `FORCE ROW LEVEL SECURITY` and a policy on
 * `current_setting('app.current_tenant', true)`: with no tenant set, queries
 * see nothing and writes fail. The role name is passed to Postgres as a bound
 * parameter and quoted there with `format('%I')`.
 *
 * @throws {TypeError} `appRole` is malformed, missing, a superuser, has BYPASSRLS or owns a tenant table.
 * @example
 * await migrate(ownerPool, { appRole: "app_user" });
 */
export async function migrate(pool: ConnectablePool, options: MigrateOptions = {}): Promise<MigrateResult> {
  const { appRole } = options;
  if (appRole !== undefined && (typeof appRole !== "string" || !ROLE_RULE.test(appRole))) {
    throw new TypeError("migrate: `appRole` must be a role name (letters, digits, _ $ -; at most 63)");
  }
  const files = await listMigrations();
  const client: pg.PoolClient = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [LOCK_KEY]);
    await client.query(
      "CREATE TABLE IF NOT EXISTS tenant_auth_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
    );
    const done = new Set((await client.query<{ name: string }>("SELECT name FROM tenant_auth_migrations")).rows.map((r) => r.name));
    const applied: string[] = [];
    for (const file of files) {
      if (done.has(file)) continue;
      await client.query(await readFile(new URL(file, MIGRATIONS_DIR), "utf8"));
      await client.query("INSERT INTO tenant_auth_migrations (name) VALUES ($1)", [file]);
      applied.push(file);
    }
    if (appRole !== undefined) await grantAppRole(client, appRole);
    await client.query("COMMIT");
    return { applied };
  } catch (error) {
    broken = await rollbackForRelease(client);
    throw error;
  } finally {
    client.release(broken);
  }
}

async function grantAppRole(client: pg.ClientBase, role: string): Promise<void> {
  const found = await client.query<{ rolsuper: boolean; rolbypassrls: boolean }>(
    "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = $1",
    [role],
  );
  const row = found.rows[0];
  if (!row) throw new TypeError(`migrate: \`appRole\` "${role}" does not exist (create it first)`);
  if (row.rolsuper || row.rolbypassrls) {
    throw new TypeError(`migrate: \`appRole\` "${role}" is a superuser or has BYPASSRLS: row-level security would not apply to it`);
  }
  const owned = await client.query(
    "SELECT c.relname FROM pg_class c WHERE c.oid = ANY($2::regclass[]) AND pg_get_userbyid(c.relowner) = $1",
    [role, TENANT_TABLES.map((t) => t)],
  );
  if (owned.rowCount) {
    throw new TypeError(`migrate: \`appRole\` "${role}" owns ${owned.rows.map((r) => r.relname).join(", ")}: run migrations as another role`);
  }
  await client.query("SELECT set_config('tenant_auth.app_role', $1, true)", [role]);
  await client.query(`DO $$
    DECLARE r text := current_setting('tenant_auth.app_role');
    BEGIN
      EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', current_schema(), r);
      EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON tenant_resources, checkpoints, checkpoint_blobs, checkpoint_writes TO %I', r);
      EXECUTE format('GRANT SELECT ON checkpoint_migrations TO %I', r);
    END $$`);
}
