import type pg from "pg";

/**
 * The parts of node-postgres's JavaScript `Client` (pg 8.23) that decide
 * whether it can be switched to pipeline mode right now. They are not in
 * pg's typed API: a client without them (the native client, an older pg, a
 * wrapper) is simply not pipelined.
 */
interface PipelineState {
  pipeline: boolean;
  readyForQuery: boolean;
  _queryable: boolean;
  _ending: boolean;
  _queryQueue: unknown[];
  _sentQueryQueue: unknown[];
  _getActiveQuery(): unknown;
  /** pg 8.23's sender in pipeline mode: it emits `drain`, which ends the window. */
  _pulsePipelinedQueryQueue(): void;
  connection?: { stream?: { cork?(): void; uncork?(): void } };
}

type QueryFn = (...args: unknown[]) => unknown;

/** One pipeline window of one client (module-level functions bound to it: no closure per call). */
interface Window {
  client: pg.ClientBase;
  query: QueryFn;
  own: boolean;
  held: (() => void)[];
  shadow: QueryFn;
  end: () => void;
  /** `end`, on pg's `drain`: only once nothing is queued or in flight. */
  drained: () => void;
  ended: boolean;
}

/**
 * True when `client` is a pg 8.23 JavaScript client with nothing queued or
 * in flight, and is the client object itself (its own queue), not an object
 * inheriting from one: pg's answers are handled by the client the
 * connection was opened for, so the mode must be switched on that object.
 */
function isIdleJsClient(client: object): boolean {
  const c = client as Partial<PipelineState>;
  return (
    Object.prototype.hasOwnProperty.call(client, "_queryQueue") &&
    c.pipeline === false &&
    c.readyForQuery === true &&
    c._queryable === true &&
    !c._ending &&
    Array.isArray(c._queryQueue) && c._queryQueue.length === 0 &&
    Array.isArray(c._sentQueryQueue) && c._sentQueryQueue.length === 0 &&
    typeof c._getActiveQuery === "function" && c._getActiveQuery() == null &&
    typeof c._pulsePipelinedQueryQueue === "function"
  );
}

/** Nothing queued, sent or in flight on a client in the window. */
function isDrained(client: object): boolean {
  const c = client as Partial<PipelineState>;
  return (
    Array.isArray(c._queryQueue) && c._queryQueue.length === 0 &&
    Array.isArray(c._sentQueryQueue) && c._sentQueryQueue.length === 0 &&
    typeof c._getActiveQuery === "function" && c._getActiveQuery() == null
  );
}

/** The open window of each client (a weak map: a destroyed client takes its window with it). */
const windows = new WeakMap<object, Window>();

/**
 * A query pg refuses in pipeline mode: a custom query object (`pg-cursor`,
 * `pg-query-stream`, `pg-copy-streams`) or a config with `rows`, which
 * keeps a portal open across round trips.
 */
function needsPortal(config: unknown): boolean {
  if (config === null || typeof config !== "object") return false;
  return typeof (config as { submit?: unknown }).submit === "function" || Boolean((config as { rows?: unknown }).rows);
}

/** `client.query` while the window lasts: plain queries go through; a portal query, and all after it, wait. */
function queryInWindow(this: Window, ...args: unknown[]): unknown {
  const { client, query, held } = this;
  if (held.length === 0 && !needsPortal(args[0])) return query.apply(client, args);
  if (typeof (args[0] as { submit?: unknown } | null)?.submit === "function") {
    held.push(() => void query.apply(client, args));
    return args[0]; // pg returns a custom query object itself
  }
  if (typeof args.at(-1) === "function") {
    held.push(() => void query.apply(client, args));
    return undefined;
  }
  return new Promise((resolve, reject) => {
    held.push(() => Promise.resolve(query.apply(client, args)).then(resolve, reject));
  });
}

function endWindow(this: Window): void {
  if (this.ended) return;
  this.ended = true;
  const { client } = this;
  windows.delete(client);
  client.removeListener("drain", this.drained);
  client.removeListener("end", this.end);
  (client as unknown as PipelineState).pipeline = false;
  if (this.own) (client as unknown as { query: QueryFn }).query = this.query;
  else delete (client as unknown as { query?: QueryFn }).query;
  // Still inside pg's answer to the last query, before anyone awaiting it
  // resumes: what was held goes first, in the order it was asked for.
  for (const send of this.held.splice(0)) send();
}

/**
 * pg 8.23 emits `drain` only with nothing queued or in flight; a `drain`
 * emitted earlier (another pg, or anyone's `emit`) must not end the window
 * while answers are still due: out of pipeline mode, pg would match them to
 * the wrong queries.
 */
function endWhenDrained(this: Window): void {
  if (isDrained(this.client)) endWindow.call(this);
}

/**
 * Switch `client` to node-postgres's pipeline mode (the `pipeline` client
 * option of pg 8.23) until everything queued on it has been answered, so
 * that the statements queued next go out back to back, each with its own
 * `Sync`, without waiting for the answer of the one before: N statements
 * cost one round trip. pg matches the answers to the queries in order, and
 * an error fails only its own query (inside a transaction, the ones behind
 * it fail with "current transaction is aborted").
 *
 * The mode ends by itself when the client's queue first drains (pg's
 * `drain` event, which fires before any caller sees the last answer), or
 * when the connection ends: the client is then an ordinary client again.
 * While it lasts, a query pg refuses in pipeline mode (a cursor, a stream,
 * `rows`) is held, together with every query after it so that their order
 * is kept, and sent as soon as the mode ends.
 *
 * Returns `true` when the statements queued next are pipelined (also for a
 * client created with `pipeline: true`), `false` when the client cannot be
 * switched (not pg's JavaScript client of 8.23 or later, or not idle); then
 * nothing is changed, and the caller should wait for each answer as usual.
 *
 * @example
 * if (pipelineUntilIdle(client)) {
 *   const a = client.query("BEGIN");
 *   const b = client.query("SELECT set_config('app.current_tenant', $1, true)", [tenant]);
 *   await Promise.all([a, b]); // one round trip
 * }
 */
export function pipelineUntilIdle(client: pg.ClientBase): boolean {
  const state = client as unknown as PipelineState;
  if (state.pipeline === true) return true;
  if (!isIdleJsClient(client)) return false;
  const target = client as unknown as { query: QueryFn };
  const window = {
    client,
    query: target.query,
    own: Object.prototype.hasOwnProperty.call(client, "query"),
    held: [],
    ended: false,
  } as unknown as Window;
  window.shadow = queryInWindow.bind(window);
  window.end = endWindow.bind(window);
  window.drained = endWhenDrained.bind(window);
  state.pipeline = true;
  target.query = window.shadow;
  windows.set(client, window);
  // Plain listeners (endWindow removes both): cheaper than once() on every call.
  client.on("drain", window.drained);
  client.on("end", window.end);
  return true;
}

/**
 * End the pipeline window {@link pipelineUntilIdle} opened on `client`, if
 * it is still open and everything sent on it has been answered. The window
 * ends by itself on pg's `drain`; this is the belt to those braces, called
 * before a client goes back to its pool, so that a pg whose `drain` differs
 * can never hand the next borrower a client left in pipeline mode (where
 * cursors are refused) or with the window's `query` in place. A no-op when
 * no window is open, or while queries are still in flight (their `drain`
 * will end it).
 *
 * @example
 * try { ... } finally { endPipelineWindow(client); client.release(); }
 */
export function endPipelineWindow(client: pg.ClientBase): void {
  const window = windows.get(client);
  if (window && isDrained(client)) window.end();
}

/**
 * Hold the client's socket writes until the returned function is called, so
 * that everything queued meanwhile leaves in one write (one system call, one
 * packet) instead of one per statement. A no-op for a client without a Node
 * stream. Call the returned function exactly once, synchronously after the
 * queries (in `finally`): nothing is sent before.
 *
 * @example
 * const flush = corkWrites(client);
 * try { client.query("BEGIN"); client.query(sql, values); } finally { flush(); }
 */
export function corkWrites(client: pg.ClientBase): () => void {
  const stream = (client as unknown as PipelineState).connection?.stream;
  if (typeof stream?.cork !== "function" || typeof stream.uncork !== "function") return noop;
  stream.cork();
  return stream.uncork.bind(stream);
}

function noop(): void {}
