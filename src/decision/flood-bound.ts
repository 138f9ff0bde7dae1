/**
 * The flood bound: a flood of refusals must not become a denial of service
 * of its own, nor fill the disk, and one caller must not be able to hide
 * another's refusals.
 *
 * A refusal's key is its reason, outcome, host, wrapper (`source`), caller
 * (the verified tenant and subject; for a refusal before verification,
 * "unauthenticated" of that wrapper) and the tenant whose resource it named,
 * but only when the package looked that tenant up in storage (a run, a
 * thread, an assistant of another tenant): a tenant the client wrote itself
 * (a store namespace's first label) never makes a key, so a client cannot
 * mint keys by varying what it sends.
 *
 * In each window the first `burst` refusals of a key are written one by one;
 * the rest are counted into one aggregate per key, written when the window
 * ends (or on `flush`). At most `maxKeys` (100) keys are tracked per
 * window; at most `maxKeysPerCaller` (50) of them for one caller, and of
 * those at most `maxTargetsPerCaller` (10) that name a looked-up target:
 * - a refusal with a new key of a caller past its own bound is counted into
 *   that caller's overflow aggregate for the reason, outcome, host and
 *   wrapper (`bound: "caller"`: tenant and subject kept);
 * - a refusal with a new key of a caller that finds the table full is
 *   counted into the overflow aggregate of its reason, outcome, host and
 *   wrapper (`bound: "all"`: tenant `null`, subject `*`).
 * Only a caller holding tracked keys can reach its own bound: at most
 * `⌊maxKeys / maxTargetsPerCaller⌋ + ⌊maxKeys / maxKeysPerCaller⌋` (12)
 * callers do. So a window writes at most `maxKeys × (burst + 1)` lines plus
 * `(⌊maxKeys / maxTargetsPerCaller⌋ + ⌊maxKeys / maxKeysPerCaller⌋ + 1) × K`
 * overflow aggregates, where K is the number of (reason, outcome, host,
 * wrapper) combinations that occur.
 * Every refusal is either a line of its own or counted in exactly one
 * aggregate (counts are exact).
 *
 * An aggregate names the target tenant that all its refusals named (looked
 * up or written by the client), `null` when they named none or several, and
 * counts them per target tenant (the first 16 of the window, the rest under
 * `*`), per route (at most 16 routes, the rest
 * under `*`) and per resource id named (`thread:<id>`, `assistant:<id>`,
 * `run:<id>`, `cron:<id>`, `namespace:<labels joined by .>`: the first 16
 * distinct ids of the window with exact counts, every further id's refusals
 * under `*`), so a responder still sees which resources were probed.
 */
import type { DecisionAggregate, DecisionEvent, DecisionResources } from "./decision-event.ts";

/** Options of {@link createFloodBound}. */
export interface FloodBoundOptions {
  /** Length of a window, ms. Default 60000 (one minute). */
  windowMs?: number;
  /** Refusals of one key written one by one per window. Default 20. */
  burst?: number;
  /** Keys tracked per window; refusals of further keys go to the overflow of their reason. Default 100. */
  maxKeys?: number;
  /** Keys tracked per window for one caller; refusals of its further keys go to its own overflow. Default 50. */
  maxKeysPerCaller?: number;
  /** Of those, keys naming a looked-up target tenant; refusals naming further targets go to the caller's overflow. Default 10. */
  maxTargetsPerCaller?: number;
  /** New aggregate ids. */
  newId: () => string;
}

/** What the bound says about one refusal. */
export type FloodVerdict =
  | { write: true }
  /** Counted: the refusal's id is `<aggregateId>:<seq>`. */
  | { write: false; aggregateId: string; seq: number };

/** The flood bound of one decision log. */
export interface FloodBound {
  /**
   * Admit one refusal at `now` (ms): write it, or count it. Aggregates of an
   * ended window come back first, to be written. `target` is the tenant the
   * named resource belongs to **as looked up in storage** (part of the key),
   * `null` when it was not looked up (a tenant named by the client is not).
   */
  admit(event: DecisionEvent, now: number, target?: string | null): { verdict: FloodVerdict; ended: DecisionAggregate[] };
  /** The aggregates of a window that has ended by `now` (and the window closed), else none. */
  expire(now: number): DecisionAggregate[];
  /** The aggregates of every count so far (the window goes on, its burst used up). */
  flush(now: number): DecisionAggregate[];
  /** When the current window ends (ms), or `undefined` when nothing is counted. */
  readonly pendingUntil: number | undefined;
  /** The settings in force. */
  readonly settings: Readonly<{ windowMs: number; burst: number; maxKeys: number; maxKeysPerCaller: number; maxTargetsPerCaller: number }>;
}

/** Default window: one minute. */
export const DEFAULT_FLOOD_WINDOW_MS = 60_000;
/** Default refusals per key and window written one by one: 20. */
export const DEFAULT_FLOOD_BURST = 20;
/** Default keys per window: 100. */
export const DEFAULT_FLOOD_MAX_KEYS = 100;
/** Default keys per caller and window: 50 (half the table). */
export const DEFAULT_FLOOD_MAX_KEYS_PER_CALLER = 50;
/** Default keys naming a looked-up target tenant, per caller and window: 10. */
export const DEFAULT_FLOOD_MAX_TARGETS_PER_CALLER = 10;

const MAX_ROUTES = 16;
const MAX_RESOURCES = 16;

type Bound = DecisionAggregate["bound"];

interface Tally {
  written: number;
  counted: number;
  aggregateId: string | undefined;
  seq: number;
  first: string;
  last: string;
  status: number | null;
  routes: Map<string, number>;
  resources: Map<string, number>;
  targets: Map<string, number>;
  template: DecisionEvent;
  /** The target every refusal counted so far named (`undefined`: none counted yet; `null`: none, or several). */
  target: string | null | undefined;
  bound: Bound;
}

function wholeNumber(value: number | undefined, fallback: number, min: number, name: string): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < min) throw new TypeError(`createFloodBound: ${name} must be a whole number of at least ${min}`);
  return n;
}

/** The ids an event named, as an aggregate counts them (`thread:<id>`, `namespace:<a.b>`). */
function resourceKeys(resources: DecisionResources): string[] {
  const keys: string[] = [];
  for (const kind of ["thread", "assistant", "run", "cron"] as const) {
    const id = resources[`${kind}_id`];
    if (id !== undefined) keys.push(`${kind}:${id}`);
  }
  if (resources.namespace !== undefined) keys.push(`namespace:${resources.namespace.join(".")}`);
  return keys;
}

/** Count one under `key`, or under `*` once `max` distinct keys are there. */
function tallyInto(map: Map<string, number>, key: string, max: number): void {
  if (map.has(key) || map.size < max) map.set(key, (map.get(key) ?? 0) + 1);
  else map.set("*", (map.get("*") ?? 0) + 1);
}

/**
 * Build a flood bound.
 *
 * @throws {TypeError} an option that is not a whole number in range.
 * @example
 * const bound = createFloodBound({ newId: randomUUID });
 * const { verdict } = bound.admit(event, Date.now());
 */
export function createFloodBound(options: FloodBoundOptions): FloodBound {
  const windowMs = wholeNumber(options.windowMs, DEFAULT_FLOOD_WINDOW_MS, 1, "windowMs");
  const burst = wholeNumber(options.burst, DEFAULT_FLOOD_BURST, 0, "burst");
  const maxKeys = wholeNumber(options.maxKeys, DEFAULT_FLOOD_MAX_KEYS, 1, "maxKeys");
  const maxKeysPerCaller = wholeNumber(options.maxKeysPerCaller, DEFAULT_FLOOD_MAX_KEYS_PER_CALLER, 1, "maxKeysPerCaller");
  const maxTargetsPerCaller = wholeNumber(options.maxTargetsPerCaller, DEFAULT_FLOOD_MAX_TARGETS_PER_CALLER, 1, "maxTargetsPerCaller");
  let windowEnd: number | undefined;
  let keys = new Map<string, Tally>();
  let perCaller = new Map<string, { keys: number; targets: number }>();
  let tracked = 0;

  const aggregates = (time: string, all: Iterable<Tally>): DecisionAggregate[] => {
    const out: DecisionAggregate[] = [];
    for (const tally of all) {
      if (tally.counted === 0 || tally.aggregateId === undefined) continue;
      const { template } = tally;
      const everyone = tally.bound === "all";
      out.push({
        type: "auth.decision.aggregate",
        time,
        decision_id: tally.aggregateId,
        host: template.host,
        source: template.source,
        outcome: template.outcome === "error" ? "error" : "refused",
        status: tally.status,
        reason: template.reason,
        tenant_id: everyone ? null : template.tenant_id,
        subject: everyone ? "*" : template.subject,
        target_tenant_id: tally.target ?? null,
        bound: tally.bound,
        count: tally.counted,
        first: tally.first,
        last: tally.last,
        routes: Object.fromEntries(tally.routes),
        resource_counts: Object.fromEntries(tally.resources),
        target_counts: Object.fromEntries(tally.targets),
      });
      tally.counted = 0;
      tally.aggregateId = undefined;
      tally.seq = 0;
      tally.routes = new Map();
      tally.resources = new Map();
      tally.targets = new Map();
      tally.target = undefined;
    }
    return out;
  };

  const endWindow = (now: number): DecisionAggregate[] => {
    const ended = aggregates(new Date(now).toISOString(), keys.values());
    keys = new Map();
    perCaller = new Map();
    tracked = 0;
    windowEnd = undefined;
    return ended;
  };

  const count = (tally: Tally, event: DecisionEvent): FloodVerdict => {
    if (tally.aggregateId === undefined) {
      tally.aggregateId = options.newId();
      tally.first = event.time;
      tally.status = event.status;
    }
    tally.counted += 1;
    tally.seq += 1;
    tally.last = event.time;
    tally.target = tally.target === undefined || tally.target === event.target_tenant_id ? event.target_tenant_id : null;
    tallyInto(tally.routes, event.route ?? "-", MAX_ROUTES);
    for (const key of resourceKeys(event.resources)) tallyInto(tally.resources, key, MAX_RESOURCES);
    if (event.target_tenant_id !== null) tallyInto(tally.targets, event.target_tenant_id, MAX_RESOURCES);
    return { write: false, aggregateId: tally.aggregateId, seq: tally.seq };
  };

  const newTally = (event: DecisionEvent, bound: Bound): Tally => ({
    written: 0,
    counted: 0,
    aggregateId: undefined,
    seq: 0,
    first: event.time,
    last: event.time,
    status: event.status,
    routes: new Map(),
    resources: new Map(),
    targets: new Map(),
    template: event,
    target: undefined,
    bound,
  });

  /** Count into the overflow tally of `overflowKey` (created on first use). */
  const overflow = (overflowKey: string, event: DecisionEvent, bound: Bound): FloodVerdict => {
    let tally = keys.get(overflowKey);
    if (tally === undefined) keys.set(overflowKey, (tally = newTally(event, bound)));
    return count(tally, event);
  };

  return {
    settings: Object.freeze({ windowMs, burst, maxKeys, maxKeysPerCaller, maxTargetsPerCaller }),
    get pendingUntil() {
      for (const tally of keys.values()) if (tally.counted > 0) return windowEnd;
      return undefined;
    },
    admit(event, now, target = null) {
      const ended = windowEnd !== undefined && now >= windowEnd ? endWindow(now) : [];
      windowEnd ??= now + windowMs;
      const caller = event.tenant_id === null ? `-\u0000${event.source}` : `${event.tenant_id}\u0000${event.subject ?? ""}`;
      const kind = `${event.reason ?? ""}\u0000${event.outcome}\u0000${event.host}\u0000${event.source}`;
      const key = `k\u0000${kind}\u0000${caller}\u0000${target ?? ""}`;
      let tally = keys.get(key);
      if (tally === undefined) {
        const mine = perCaller.get(caller) ?? { keys: 0, targets: 0 };
        // Past the caller's own bound (keys, or targets it named): its overflow for this kind of refusal, tenant and subject kept.
        if (mine.keys >= maxKeysPerCaller || (target !== null && mine.targets >= maxTargetsPerCaller)) {
          return { verdict: overflow(`c\u0000${kind}\u0000${caller}`, event, "caller"), ended };
        }
        // Past the bound of the table: one overflow per kind of refusal, counting every such caller.
        if (tracked >= maxKeys) return { verdict: overflow(`a\u0000${kind}`, event, "all"), ended };
        keys.set(key, (tally = newTally(event, "key")));
        perCaller.set(caller, { keys: mine.keys + 1, targets: mine.targets + (target === null ? 0 : 1) });
        tracked += 1;
      }
      if (tally.written < burst) {
        tally.written += 1;
        return { verdict: { write: true }, ended };
      }
      return { verdict: count(tally, event), ended };
    },
    expire(now) {
      return windowEnd !== undefined && now >= windowEnd ? endWindow(now) : [];
    },
    flush(now) {
      return aggregates(new Date(now).toISOString(), keys.values());
    },
  };
}
