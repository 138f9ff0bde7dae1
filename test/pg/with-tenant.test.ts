/**
 * withTenant's protocol, shown on a scripted client: the SQL it sends, in
 * order, and how it releases the connection. Real-Postgres behaviour is in
 * test/integration/postgres-tenant.test.ts.
 */
import type pg from "pg";
import { describe, expect, it } from "vitest";
import { InvalidTenantIdError } from "../../src/errors.ts";
import { DISCARD_SESSION_SQL } from "../../src/pg/session-reset.ts";
import { withTenant } from "../../src/pg/with-tenant.ts";

function scripted(options: { status?: "I" | "T" | "E"; fail?: (text: string) => Error | undefined; commitCommand?: string } = {}) {
  const sent: { text: string; values?: unknown[] }[] = [];
  const released: unknown[] = [];
  let status = options.status ?? "I";
  const client = {
    getTransactionStatus: () => status,
    async query(text: string, values?: unknown[]) {
      sent.push(values === undefined ? { text } : { text, values });
      const error = options.fail?.(text);
      if (error) {
        if (status === "T") status = "E";
        throw error;
      }
      if (/(^|; )BEGIN(;|$)/.test(text)) status = "T";
      if (/^(COMMIT|ROLLBACK)(;|$)/.test(text)) status = "I";
      return { command: text.startsWith("COMMIT") ? (options.commitCommand ?? "COMMIT") : "SELECT", rows: [], rowCount: 0 };
    },
    release(err?: unknown) {
      released.push(err);
    },
  };
  const pool = { connect: async () => client as unknown as pg.PoolClient };
  return { pool, sent, released };
}

describe("withTenant (protocol)", () => {
  it("cleans the session, begins and sets the tenant in one round trip, runs fn, commits, releases", async () => {
    const { pool, sent, released } = scripted();
    const result = await withTenant(pool, "acme", async (c) => {
      await c.query("SELECT 1");
      return "done";
    });
    expect(result).toBe("done");
    expect(sent).toEqual([
      { text: `${DISCARD_SESSION_SQL}; BEGIN; SELECT set_config('app.current_tenant', 'acme', true)` },
      { text: "SELECT 1" },
      { text: "COMMIT" },
    ]);
    expect(released).toEqual([undefined]);
  });

  it("rolls back a transaction an earlier borrower left open before beginning", async () => {
    const { pool, sent } = scripted({ status: "T" });
    await withTenant(pool, "acme", async () => 1);
    expect(sent[0]).toEqual({ text: `ROLLBACK; ${DISCARD_SESSION_SQL}; BEGIN; SELECT set_config('app.current_tenant', 'acme', true)` });
  });

  it("rolls back, cleans the session and rethrows the error of fn, releasing the connection for reuse", async () => {
    const { pool, sent, released } = scripted();
    await expect(withTenant(pool, "acme", async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(sent.map((s) => s.text).slice(-1)).toEqual([`ROLLBACK; ${DISCARD_SESSION_SQL}`]);
    expect(released).toEqual([undefined]);
  });

  it("destroys the connection (releases it with the error) when the rollback fails", async () => {
    const rollbackFailure = new Error("connection lost");
    const { pool, released } = scripted({ fail: (text) => (text.startsWith("ROLLBACK;") ? rollbackFailure : text === "SELECT 1" ? new Error("first") : undefined) });
    await expect(withTenant(pool, "acme", (c) => c.query("SELECT 1"))).rejects.toThrow("first");
    expect(released).toEqual([rollbackFailure]);
  });

  it("throws when fn swallowed a failure and COMMIT could only roll back", async () => {
    const { pool, released } = scripted({ commitCommand: "ROLLBACK" });
    await expect(withTenant(pool, "acme", async () => "looks fine")).rejects.toThrow(/rolled back/);
    expect(released).toEqual([undefined]);
  });

  it("refuses a bad tenant id or fn before checking a connection out", async () => {
    let checkouts = 0;
    const pool = { connect: async () => { checkouts += 1; throw new Error("unreachable"); } };
    await expect(withTenant(pool, "acme'--", async () => 1)).rejects.toBeInstanceOf(InvalidTenantIdError);
    await expect(withTenant(pool, "acme", "SELECT 1" as never)).rejects.toThrow(/`fn`/);
    expect(checkouts).toBe(0);
  });
});
