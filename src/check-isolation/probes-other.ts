/**
 * Probes of the store, crons, protocol and UI routes, the server's own
 * routes, requests with broken credentials, and the owner and permission
 * probes sent as tenant A's read-only second user.
 */
import { MARKER_KEY, NOT_FOUND, anyBody, countIsZero, isEmptyList, noItems, probe } from "./probe-helpers.ts";
import type { Probe, World } from "./types.ts";

const itemPath = (w: World) => `/store/items?namespace=${encodeURIComponent(w.a.namespace.join("."))}&key=${encodeURIComponent(w.a.key)}`;
const WIPE = { runs: true, threads: true, assistants: true, checkpointer: true, store: true };
/**
 * Every flag spelled out as false: a server that let B through wipes nothing,
 * even one that read a missing flag as "everything".
 *
 * @example
 * fetch(`${url}/internal/truncate`, { method: "POST", body: JSON.stringify(WIPE_NOTHING) });
 */
export const WIPE_NOTHING = { runs: false, threads: false, assistants: false, checkpointer: false, store: false };

/** Store probes on A's namespace. */
export const STORE_PROBES: Probe[] = [
  probe("store", "store.namespaces", "POST /store/namespaces", "list every namespace (no prefix)", { body: () => ({}), refused: [403], ok2xx: anyBody, expect: 403 }),
  probe("store", "store.namespaces", "POST /store/namespaces", "list A's namespaces", { body: (w) => ({ prefix: [w.a.namespace[0]] }), refused: [403], ok2xx: anyBody, expect: 403 }),
  probe("store", "store.search", "POST /store/items/search", "search every item (empty prefix)", { body: () => ({ namespace_prefix: [] }), refused: [403], ok2xx: anyBody, expect: 403 }),
  probe("store", "store.search", "POST /store/items/search", "search every item (no prefix)", { commandOnly: true, body: () => ({}), refused: [400, 403, 422], ok2xx: anyBody }),
  probe("store", "store.search", "POST /store/items/search", "search A's items", { body: (w) => ({ namespace_prefix: [w.a.namespace[0]] }), refused: [403], ok2xx: anyBody, expect: 403 }),
  probe("store", "store.search", "POST /store/items/search", "search own prefix filtering on A's value", { body: (w) => ({ namespace_prefix: [w.b.namespace[0]], filter: { text: w.secrets[2] } }), refused: [403], ok2xx: noItems, expect: 200 }),
  probe("store", "store.put", "PUT /store/items", "overwrite A's item", { body: (w) => ({ namespace: w.a.namespace, key: w.a.key, value: { text: "overwritten", [MARKER_KEY]: w.marker } }), refused: NOT_FOUND, expect: 403 }),
  probe("store", "store.delete", "DELETE /store/items", "delete A's item", { body: (w) => ({ namespace: w.a.namespace, key: w.a.key }), refused: NOT_FOUND, expect: 403 }),
  probe("store", "store.get", "GET /store/items", "read A's item", { path: itemPath, refused: NOT_FOUND, expect: 403 }),
];

/** Cron probes: the JS dev server has no crons (answers 500 "Not implemented"), so they are "not served" there. */
export const CRON_PROBES: Probe[] = [
  probe("crons", "crons.create", "POST /runs/crons", "create a cron on A's assistant", { servedBy: "crons", body: (w) => ({ assistant_id: w.a.assistant, schedule: "0 0 1 1 *", metadata: { [MARKER_KEY]: w.marker } }), refused: NOT_FOUND, expect: 404 }),
  probe("crons", "crons.search", "POST /runs/crons/search", "search crons of A's assistant", { servedBy: "crons", body: (w) => ({ assistant_id: w.a.assistant }), refused: NOT_FOUND, ok2xx: isEmptyList, expect: 404 }),
  probe("crons", "crons.count", "POST /runs/crons/count", "count crons of A's assistant", { commandOnly: true, servedBy: "crons", body: (w) => ({ assistant_id: w.a.assistant }), refused: NOT_FOUND, ok2xx: countIsZero }),
  probe("crons", "crons.update", "PATCH /runs/crons/:cron_id", "patch A's cron", { commandOnly: true, servedBy: "crons", body: () => ({ schedule: "0 0 2 1 *" }), refused: NOT_FOUND }),
  probe("crons", "crons.delete", "DELETE /runs/crons/:cron_id", "delete a cron", { servedBy: "crons", refused: NOT_FOUND, expect: 404 }),
  probe("crons", "threads.crons.create", "POST /threads/:thread_id/runs/crons", "create a cron on A's thread", { servedBy: "crons", body: (w) => ({ assistant_id: w.a.assistant, schedule: "0 0 1 1 *", metadata: { [MARKER_KEY]: w.marker } }), refused: NOT_FOUND, expect: 404 }),
];

/** The thread protocol routes (commands, event streams) and UI bundles. */
export const PROTOCOL_PROBES: Probe[] = [
  probe("protocol", "protocol.events.ws", "GET /threads/:thread_id/stream/events", "open a WebSocket on A's thread", { servedBy: "protocol", ws: true, refused: NOT_FOUND, expect: 404 }),
  probe("protocol", "protocol.events.ws", "GET /threads/:thread_id/stream/events", "plain GET on A's thread event socket", { servedBy: "protocol", refused: [400, 403, 404, 426], expect: 404 }),
  probe("protocol", "protocol.commands", "POST /threads/:thread_id/commands", "state.get on A's thread", { servedBy: "protocol", body: () => ({ id: 1, method: "state.get", params: {} }), refused: NOT_FOUND, expect: 404 }),
  probe("protocol", "protocol.commands", "POST /threads/:thread_id/commands", "run.start with A's assistant on own thread", { servedBy: "protocol", path: (w) => `/threads/${w.b.thread}/commands`, body: (w) => ({ id: 1, method: "run.start", params: { assistant_id: w.a.assistant, input: {} } }), refused: NOT_FOUND, expect: 404 }),
  probe("protocol", "protocol.events.sse", "POST /threads/:thread_id/stream/events", "attach to A's thread events", { servedBy: "protocol", body: () => ({ channels: ["values"] }), refused: NOT_FOUND, expect: 404 }),
  probe("ui", "ui.render", "POST /ui/:assistant_id", "render a UI bundle", { servedBy: "ui", path: (w) => `/ui/${w.graph}`, body: () => ({}), refused: NOT_FOUND, expect: 404 }),
  probe("ui", "ui.asset", "GET /ui/:assistant_id/entrypoint.js", "fetch a UI asset (auth is skipped for GET /ui*)", { servedBy: "ui", path: (w) => `/ui/${w.graph}/entrypoint.js`, refused: [404], ok2xx: anyBody, expect: 404 }),
];

/** The server's own routes: public info, health, and the wipe-everything route. */
export const SERVER_PROBES: Probe[] = [
  probe("meta", "meta.info", "GET /info", "public server info carries no tenant data", { refused: [404], ok2xx: anyBody, expect: 200 }),
  probe("meta", "meta.ok", "GET /ok", "health check", { refused: [404], ok2xx: anyBody, expect: 200 }),
  // All flags false: a deployment that lets B through answers 200 but wipes nothing.
  probe("meta", "internal.truncate", "POST /internal/truncate", "reach the wipe-every-tenant route (with nothing to wipe)", { servedBy: "internal.truncate", body: () => WIPE_NOTHING, refused: [401, 403, 404], expect: 404 }),
  probe("meta", "internal.truncate", "POST /internal/truncate", "ORIGINAL HOLE 2: wipe every tenant", { suiteOnly: true, body: () => WIPE, refused: [404] }),
  probe("meta", "internal.truncate", "POST /internal/truncate", "percent-encoded path to truncate", { suiteOnly: true, path: () => "/internal/%74runcate", body: () => ({ threads: true }), refused: [404] }),
  probe("meta", "internal.truncate", "POST /internal/truncate", "trailing-slash truncate", { suiteOnly: true, path: () => "/internal/truncate/", body: () => ({ threads: true }), refused: [404] }),
  probe("meta", "unknown", "GET /metrics", "a route not in the table", { suiteOnly: true, refused: [404] }),
];

const CREDENTIALS = [
  ["none", "no token"],
  ["malformed", "a malformed token"],
  ["expired", "an expired copy of A's token"],
  ["alg-none", "A's claims with alg none"],
] as const;

/** Requests with broken credentials: each must be refused with 401. */
export const CREDENTIAL_PROBES: Probe[] = CREDENTIALS.flatMap(([as, what]) => [
  probe("credentials", "threads.get", "GET /threads/:thread_id", `read A's thread with ${what}`, { as, refused: [401] }),
  probe("credentials", "threads.search", "POST /threads/search", `search threads with ${what}`, { as, body: () => ({}), refused: [401] }),
  probe("credentials", "store.get", "GET /store/items", `read A's item with ${what}`, { as, path: itemPath, refused: [401] }),
]);

/** Tenant A's read-only second user (the third token): it may change nothing of A's. */
export const OWNER_PROBES: Probe[] = [
  probe("owner", "threads.create", "POST /threads", "read-only user creates a thread", { as: "a2", commandOnly: true, body: (w) => ({ metadata: { [MARKER_KEY]: w.marker } }), refused: [403] }),
  probe("owner", "threads.update", "PATCH /threads/:thread_id", "read-only user patches A's thread", { as: "a2", commandOnly: true, body: () => ({ metadata: { patched: "by-a2" } }), refused: NOT_FOUND }),
  probe("owner", "threads.delete", "DELETE /threads/:thread_id", "read-only user deletes A's thread", { as: "a2", commandOnly: true, refused: NOT_FOUND }),
  probe("owner", "assistants.update", "PATCH /assistants/:assistant_id", "read-only user patches A's assistant", { as: "a2", commandOnly: true, body: () => ({ metadata: { patched: "by-a2" } }), refused: NOT_FOUND }),
  probe("owner", "threads.runs.wait", "POST /threads/:thread_id/runs/wait", "read-only user runs on A's thread", { as: "a2", commandOnly: true, body: (w) => ({ assistant_id: w.a.assistant, input: { messages: [{ role: "user", content: "from-A2" }] } }), refused: NOT_FOUND }),
  probe("owner", "threads.runs.cancel", "POST /threads/:thread_id/runs/:run_id/cancel", "read-only user cancels A's pending run", { as: "a2", commandOnly: true, path: (w) => `/threads/${w.a.liveThread}/runs/${w.a.liveRun}/cancel`, refused: NOT_FOUND }),
  probe("owner", "store.put", "PUT /store/items", "read-only user overwrites A's item", { as: "a2", commandOnly: true, body: (w) => ({ namespace: w.a.namespace, key: w.a.key, value: { text: "by-a2" } }), refused: NOT_FOUND }),
  probe("owner", "store.delete", "DELETE /store/items", "read-only user deletes A's item", { as: "a2", commandOnly: true, body: (w) => ({ namespace: w.a.namespace, key: w.a.key }), refused: NOT_FOUND }),
];
