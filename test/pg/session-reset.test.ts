/**
 * The pieces withTenant, the tenant-scoped pool and clean checkout are built
 * from: the SQL that starts a tenant transaction or binds a session tenant
 * (the tenant only ever a bound value, whatever string it is), the clean,
 * and the client-side memory of prepared statements. Real-Postgres
 * behaviour is in test/integration/pg-session-hygiene.test.ts and
 * test/integration/postgres-tenant.test.ts.
 */
import fc from "fast-check";
import type pg from "pg";
import { describe, expect, it } from "vitest";
import { beginTenantTransaction, bindSessionTenant } from "../../src/pg/bind-tenant.ts";
import { beginCleanSql, DISCARD_SESSION_SQL, forgetPreparedStatements, resetSessionSql } from "../../src/pg/session-reset.ts";

/** A client that records what it is sent (not node-postgres's, so nothing is pipelined). */
function recorder(status: "I" | "T" = "I") {
  const sent: { text: string; values?: unknown[] }[] = [];
  const client = {
    getTransactionStatus: () => status,
    async query(text: string, values?: unknown[]) {
      sent.push(values === undefined ? { text } : { text, values });
      return { command: "SELECT", rows: [], rowCount: 0 };
    },
  } as unknown as pg.ClientBase;
  return { client, sent };
}

async function sentFor(start: "transaction" | "session", tenant: string) {
  const { client, sent } = recorder();
  if (start === "transaction") await beginTenantTransaction(client, tenant).started;
  else await bindSessionTenant(client, tenant);
  return sent;
}

// Strings that would break out of a quoted literal, an identifier or a
// statement, and strings that look like SQL or like a parameter.
const HOSTILE = [
  "acme'; DROP TABLE tenant_resources; --",
  "x', false); SELECT set_config('app.current_tenant', 'globex",
  "a\\'b",
  "$1",
  "acme;RESET ALL",
  "' || (SELECT string_agg(tenant_id, ',') FROM tenant_resources) || '",
  "$$; DROP TABLE t; $$",
  "E'\\x27'",
  "acme\u0000globex",
  "",
  "é\u200b",
  "BEGIN",
  "x".repeat(10_000),
];

describe("the tenant reaches Postgres only as a bound value", () => {
  // The oracle is a reference run with another tenant, not the tenant rule:
  // the SQL text sent must not depend on the tenant at all, and the tenant
  // must travel, unchanged, as the one bound value. Whether the string is a
  // valid tenant id plays no part (the rule may be broken or loosened; the
  // SQL stays safe).
  for (const start of ["transaction", "session"] as const) {
    it(`${start}: the SQL text is the same for every tenant string, and the tenant is exactly the one bound value`, async () => {
      const reference = await sentFor(start, "reference-tenant");
      expect(reference.filter((s) => s.values !== undefined)).toHaveLength(1);
      const check = async (tenant: string) => {
        const sent = await sentFor(start, tenant);
        expect(sent.map((s) => s.text)).toEqual(reference.map((s) => s.text));
        expect(sent.map((s) => s.values)).toEqual(reference.map((s) => (s.values === undefined ? undefined : [tenant])));
      };
      for (const tenant of HOSTILE) await check(tenant);
      await fc.assert(fc.asyncProperty(fc.string({ unit: "binary", maxLength: 200 }), check), { numRuns: 1000 });
      // Valid tenant ids are where a literal (the design this replaced) would
      // have been written into the text: they get no special path either.
      await fc.assert(fc.asyncProperty(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/), check), { numRuns: 500 });
    });
  }

  it("a transaction begins first, then cleans, then binds: a failed clean aborts what is queued behind it", async () => {
    expect(await sentFor("transaction", "acme")).toEqual([
      { text: `BEGIN; ${DISCARD_SESSION_SQL}` },
      { text: "SELECT set_config('app.current_tenant', $1, true)", values: ["acme"] },
    ]);
    expect(await sentFor("session", "acme")).toEqual([
      { text: DISCARD_SESSION_SQL },
      { text: "SELECT set_config('app.current_tenant', $1, false)", values: ["acme"] },
    ]);
  });
});

describe("resetSessionSql and beginCleanSql", () => {
  const status = (s: string) => ({ getTransactionStatus: () => s }) as unknown as pg.ClientBase;

  it("roll back first only when a transaction is open or failed", () => {
    expect(resetSessionSql(status("I"))).toBe(DISCARD_SESSION_SQL);
    expect(resetSessionSql(status("T"))).toBe(`ROLLBACK; ${DISCARD_SESSION_SQL}`);
    expect(resetSessionSql(status("E"))).toBe(`ROLLBACK; ${DISCARD_SESSION_SQL}`);
    expect(beginCleanSql(status("I"))).toBe(`BEGIN; ${DISCARD_SESSION_SQL}`);
    expect(beginCleanSql(status("T"))).toBe(`ROLLBACK; BEGIN; ${DISCARD_SESSION_SQL}`);
    expect(beginCleanSql(status("E"))).toBe(`ROLLBACK; BEGIN; ${DISCARD_SESSION_SQL}`);
  });
});

describe("forgetPreparedStatements", () => {
  it("empties node-postgres's record of statements prepared on the connection", () => {
    const connection = { parsedStatements: { "by-id": "SELECT 1" }, submittedNamedStatements: { x: "SELECT 2" } };
    forgetPreparedStatements({ connection } as unknown as pg.ClientBase);
    expect(connection).toEqual({ parsedStatements: {}, submittedNamedStatements: {} });
  });
});
