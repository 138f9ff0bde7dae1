/**
 * createTenantScopedPool's connection handling on a scripted client; the
 * real-Postgres behaviour (PostgresSaver under RLS) is in
 * test/integration/postgres-tenant.test.ts.
 */
import { EventEmitter } from "node:events";
import type pg from "pg";
import { describe, expect, it } from "vitest";
import { InvalidTenantIdError, MissingTenantContextError } from "../../src/errors.ts";
import { DISCARD_SESSION_SQL } from "../../src/pg/session-reset.ts";
import { createTenantScopedPool } from "../../src/pg/tenant-scoped-pool.ts";
import { currentTenantId, withTenantContext } from "../../src/tenant/tenant-context.ts";

function scripted(failReset = false) {
  const sent: { text: string; values?: unknown[] }[] = [];
  const released: unknown[] = [];
  // Resolves on the next release: the reset-on-release is asynchronous, and
  // the test waits for it to finish, not for a guessed number of milliseconds.
  let onRelease: (() => void) | undefined;
  const nextRelease = () => new Promise<void>((resolve) => (onRelease = resolve));
  const record = (err: unknown) => {
    released.push(err);
    onRelease?.();
  };
  let checkouts = 0;
  let resets = 0;
  const client = Object.assign(new EventEmitter(), {
    getTransactionStatus: () => "I",
    async query(text: string, values?: unknown[]) {
      sent.push(values === undefined ? { text } : { text, values });
      if (text.startsWith(DISCARD_SESSION_SQL)) {
        resets += 1;
        if (failReset && resets > 1) throw new Error("reset failed");
      }
      return { command: "SELECT", rows: [], rowCount: 0 };
    },
    release(err?: unknown) {
      record(err);
    },
  });
  const pool = {
    connect: async () => {
      checkouts += 1;
      // pg-pool assigns a fresh release on every checkout.
      client.release = (err?: unknown) => record(err);
      return client as unknown as pg.PoolClient;
    },
    end: async () => {},
  } as unknown as pg.Pool;
  return { pool, sent, released, nextRelease, checkouts: () => checkouts, client };
}

/** Let pending callbacks run (no clock involved). */
const yieldTurn = () => new Promise((r) => setImmediate(r));

describe("createTenantScopedPool", () => {
  it("cleans the session, binds the ambient tenant as $1 at session level, and cleans again before the connection goes back", async () => {
    const { pool, sent, released, nextRelease, client: raw } = scripted();
    const scoped = createTenantScopedPool(pool);
    const client = await withTenantContext("acme", () => scoped.connect());
    const releasing = nextRelease();
    expect(sent).toEqual([
      { text: DISCARD_SESSION_SQL },
      { text: "SELECT set_config('app.current_tenant', $1, false)", values: ["acme"] },
    ]);
    expect(raw.listenerCount("error")).toBe(1); // a broken connection while the library holds it must not crash
    client.release();
    expect(released).toEqual([]); // not before the reset has run
    await releasing;
    expect(sent.at(-1)).toEqual({ text: DISCARD_SESSION_SQL });
    expect(released).toEqual([undefined]);
    expect(raw.listenerCount("error")).toBe(0);
  });

  it("destroys a connection that broke while the library held it, without resetting it", async () => {
    const { pool, sent, released, client: raw } = scripted();
    const client = await withTenantContext("acme", () => createTenantScopedPool(pool).connect());
    const lost = new Error("Connection terminated unexpectedly");
    raw.emit("error", lost);
    const before = sent.length;
    client.release();
    expect(released).toEqual([lost]);
    expect(sent.length).toBe(before);
  });

  it("destroys the connection when the reset on release fails", async () => {
    const { pool, released, nextRelease } = scripted(true);
    const client = await withTenantContext("acme", () => createTenantScopedPool(pool).connect());
    const releasing = nextRelease();
    client.release();
    await releasing;
    expect(released).toHaveLength(1);
    expect(released[0]).toBeInstanceOf(Error);
  });

  it("refuses without an ambient tenant, before touching the pool", async () => {
    const { pool, checkouts } = scripted();
    const scoped = createTenantScopedPool(pool);
    await expect(scoped.connect()).rejects.toBeInstanceOf(MissingTenantContextError);
    await expect(scoped.query("SELECT 1")).rejects.toBeInstanceOf(MissingTenantContextError);
    expect(checkouts()).toBe(0);
  });
});

describe("withTenantContext", () => {
  it("scopes the tenant to the callback and what it awaits, and checks the id", async () => {
    expect(currentTenantId()).toBeUndefined();
    const seen = await withTenantContext("acme", async () => {
      await yieldTurn();
      return currentTenantId();
    });
    expect(seen).toBe("acme");
    expect(currentTenantId()).toBeUndefined();
    expect(() => withTenantContext("acme::x", () => 1)).toThrow(InvalidTenantIdError);
  });
});
