import type { EventEmitter } from "node:events";

/**
 * Note the listeners a pooled client has when it is checked out; the
 * returned function removes every listener added since, before the client
 * goes back to the pool.
 *
 * Not all of a borrower's state is in the server session: a
 * `client.on("notification", …)` or `client.on("notice", …)` stays on the
 * pooled client object, and would receive what the next borrower's session
 * sends (another tenant's notifications on a channel both listen to, its
 * `RAISE NOTICE`s). The pool's own listeners, there before the checkout,
 * stay. Cheap next to a round trip: a copy of each event's listener array.
 *
 * @example
 * const client = await pool.connect();
 * const dropBorrowerListeners = noteListeners(client);
 * try { await fn(client); } finally { dropBorrowerListeners(); client.release(); }
 */
export function noteListeners(client: Pick<EventEmitter, "eventNames" | "rawListeners" | "removeListener">): () => void {
  const before = new Map<string | symbol, unknown[]>();
  for (const name of client.eventNames()) before.set(name, client.rawListeners(name));
  return () => {
    for (const name of client.eventNames()) {
      // Each listener there before matches one current entry (the same function may be added twice).
      const unmatched = [...(before.get(name) ?? [])];
      // rawListeners: a once() listener is its wrapper, which removeListener matches too.
      for (const listener of client.rawListeners(name)) {
        const at = unmatched.indexOf(listener);
        if (at !== -1) unmatched.splice(at, 1);
        else client.removeListener(name, listener as (...args: unknown[]) => void);
      }
    }
  };
}
