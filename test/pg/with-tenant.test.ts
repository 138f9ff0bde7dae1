/**
 * withTenant's protocol, shown on a scripted client (not node-postgres's own
 * client, so nothing is pipelined: each statement waits for the one before):
 * the SQL it sends, in order, and how it releases the connection.
 * Real-Postgres behaviour, pipelining included, is in
 * test/integration/postgres-tenant.test.ts and test/integration/pg-pipeline.test.ts.
 */
import { EventEmitter } from "node:events";
import type pg from "pg";
import { describe, expect, it } from "vitest";
import { InvalidTenantIdError, TransactionRolledBackError } from "../../src/errors.ts";
import { DISCARD_SESSION_SQL } from "../../src/pg/session-reset.ts";
import { withTenant } from "../../src/pg/with-tenant.ts";

const SET_TENANT = "SELECT set_config('app.current_tenant', $1, true)";

function scripted(options: { status?: "I" | "T" | "E"; fail?: (text: string) => Error | undefined; commitCommand?: string } = {}) {
  const sent: { text: string; values?: unknown[] }[] = [];
  const released: unknown[] = [];
  let status = options.status ?? "I";
  const client = Object.assign(new EventEmitter(), {
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
  });
  const pool = { connect: async () => client as unknown as pg.PoolClient };
  return { pool, sent, released, client };
}

describe("withTenant (protocol)", () => {
  it("begins, cleans the session, binds the tenant as $1, runs fn, commits, releases", async () => {
    const { pool, sent, released, client } = scripted();
    const result = await withTenant(pool, "acme", async (c) => {
      await c.query("SELECT 1");
      return "done";
    });
    expect(result).toBe("done");
    expect(sent).toEqual([
      { text: `BEGIN; ${DISCARD_SESSION_SQL}` },
      { text: SET_TENANT, values: ["acme"] },
      { text: "SELECT 1" },
      { text: "COMMIT" },
    ]);
    expect(released).toEqual([undefined]);
    expect(client.listenerCount("error")).toBe(0); // its error listener is gone with the checkout
  });

  it("rolls back a transaction an earlier borrower left open before beginning", async () => {
    const { pool, sent } = scripted({ status: "T" });
    await withTenant(pool, "acme", async () => 1);
    expect(sent.slice(0, 2)).toEqual([{ text: `ROLLBACK; BEGIN; ${DISCARD_SESSION_SQL}` }, { text: SET_TENANT, values: ["acme"] }]);
  });

  it("does not call fn when the start fails, and throws the start's error", async () => {
    const refused = new Error("invalid byte sequence");
    const { pool, sent, released } = scripted({ fail: (text) => (text === SET_TENANT ? refused : undefined) });
    let called = false;
    await expect(withTenant(pool, "acme", async () => { called = true; })).rejects.toBe(refused);
    expect(called).toBe(false);
    expect(sent.map((s) => s.text)).toEqual([`BEGIN; ${DISCARD_SESSION_SQL}`, SET_TENANT, `ROLLBACK; ${DISCARD_SESSION_SQL}`]);
    expect(released).toEqual([undefined]);
  });

  it("destroys the connection when it broke while checked out (an \"error\" on the client), and does not crash", async () => {
    const lost = new Error("Connection terminated unexpectedly");
    const { pool, released } = scripted();
    await withTenant(pool, "acme", async (c) => {
      c.emit("error", lost); // with no listener, EventEmitter would throw this
      await c.query("SELECT 1");
    });
    expect(released).toEqual([lost]);
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

  it("throws a coded 500 when fn swallowed a failure and COMMIT could only roll back", async () => {
    const { pool, released } = scripted({ commitCommand: "ROLLBACK" });
    const error = await withTenant(pool, "acme", async () => "looks fine").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransactionRolledBackError);
    expect(error).toMatchObject({ code: "ERR_PG_TRANSACTION_ROLLED_BACK", status: 500, headers: { "Content-Type": "text/plain; charset=utf-8" } });
    expect(released).toEqual([undefined]);
  });

  it("refuses a bad tenant id or fn before checking a connection out", async () => {
    let checkouts = 0;
    const pool = { connect: async () => { checkouts += 1; throw new Error("unreachable"); } };
    await expect(withTenant(pool, "acme'--", async () => 1)).rejects.toBeInstanceOf(InvalidTenantIdError);
    await expect(withTenant(pool, "acme", "SELECT 1" as never)).rejects.toMatchObject({ name: "InvalidOptionError", option: "fn", status: 500 });
    expect(checkouts).toBe(0);
  });
});
