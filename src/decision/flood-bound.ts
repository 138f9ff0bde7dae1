/**
 * The flood bound: a flood of refusals must not become a denial of service
 * of its own, nor fill the disk. Refusals are keyed by reason and source
 * (host, wrapper, outcome and caller: tenant and subject, or "unauthenticated";
 * and the tenant whose resource it was, when known, so an aggregate of
 * cross-tenant attempts still says against whom);
 * in each window the first `burst` refusals of a key are written one by one
 * and the rest are counted into one aggregate event per key, written when the
 * window ends (or on `flush`). At most `maxKeys` keys are tracked per window;
 * refusals of further keys are counted into one overflow aggregate per
 * reason (caller `*`). So a window writes at most
 * `maxKeys × (burst + 1) + reasons` lines, whatever the number of requests,
 * and every refusal is either a line of its own or counted in exactly one
 * aggregate (counts are exact).
 */
import type { DecisionAggregate, DecisionEvent } from "./decision-event.ts";

/** Options of {@link createFloodBound}. */
export interface FloodBoundOptions {
  /** Length of a window, ms. Default 60000 (one minute). */
  windowMs?: number;
  /** Refusals of one key written one by one per window. Default 20. */
  burst?: number;
  /** Keys tracked per window; refusals of further keys go to the per-reason overflow. Default 100. */
  maxKeys?: number;
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
  /** Admit one refusal at `now` (ms): write it, or count it. Aggregates of an ended window come back first, to be written. */
  admit(event: DecisionEvent, now: number): { verdict: FloodVerdict; ended: DecisionAggregate[] };
  /** The aggregates of a window that has ended by `now` (and the window closed), else none. */
  expire(now: number): DecisionAggregate[];
  /** The aggregates of every count so far (the window goes on, its burst used up). */
  flush(now: number): DecisionAggregate[];
  /** When the current window ends (ms), or `undefined` when nothing is counted. */
  readonly pendingUntil: number | undefined;
  /** The settings in force. */
  readonly settings: Readonly<{ windowMs: number; burst: number; maxKeys: number }>;
}

/** Default window: one minute. */
export const DEFAULT_FLOOD_WINDOW_MS = 60_000;
/** Default refusals per key and window written one by one: 20. */
export const DEFAULT_FLOOD_BURST = 20;
/** Default keys per window: 100. */
export const DEFAULT_FLOOD_MAX_KEYS = 100;

const MAX_ROUTES = 16;

interface Tally {
  written: number;
  counted: number;
  aggregateId: string | undefined;
  seq: number;
  first: string;
  last: string;
  status: number | null;
  routes: Map<string, number>;
  template: DecisionEvent;
  overflow: boolean;
}

function wholeNumber(value: number | undefined, fallback: number, min: number, name: string): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < min) throw new TypeError(`createFloodBound: ${name} must be a whole number of at least ${min}`);
  return n;
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
  let windowEnd: number | undefined;
  let keys = new Map<string, Tally>();
  let tracked = 0;

  const aggregates = (time: string, all: Iterable<Tally>): DecisionAggregate[] => {
    const out: DecisionAggregate[] = [];
    for (const tally of all) {
      if (tally.counted === 0 || tally.aggregateId === undefined) continue;
      const { template } = tally;
      out.push({
        type: "auth.decision.aggregate",
        time,
        decision_id: tally.aggregateId,
        host: template.host,
        source: template.source,
        outcome: template.outcome === "error" ? "error" : "refused",
        status: tally.status,
        reason: template.reason,
        tenant_id: tally.overflow ? null : template.tenant_id,
        subject: tally.overflow ? "*" : template.subject,
        target_tenant_id: tally.overflow ? null : template.target_tenant_id,
        count: tally.counted,
        first: tally.first,
        last: tally.last,
        routes: Object.fromEntries(tally.routes),
      });
      tally.counted = 0;
      tally.aggregateId = undefined;
      tally.seq = 0;
      tally.routes = new Map();
    }
    return out;
  };

  const endWindow = (now: number): DecisionAggregate[] => {
    const ended = aggregates(new Date(now).toISOString(), keys.values());
    keys = new Map();
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
    const route = event.route ?? "-";
    if (tally.routes.has(route) || tally.routes.size < MAX_ROUTES) tally.routes.set(route, (tally.routes.get(route) ?? 0) + 1);
    else tally.routes.set("*", (tally.routes.get("*") ?? 0) + 1);
    return { write: false, aggregateId: tally.aggregateId, seq: tally.seq };
  };

  const newTally = (event: DecisionEvent, overflow: boolean): Tally => ({
    written: 0,
    counted: 0,
    aggregateId: undefined,
    seq: 0,
    first: event.time,
    last: event.time,
    status: event.status,
    routes: new Map(),
    template: event,
    overflow,
  });

  return {
    settings: Object.freeze({ windowMs, burst, maxKeys }),
    get pendingUntil() {
      for (const tally of keys.values()) if (tally.counted > 0) return windowEnd;
      return undefined;
    },
    admit(event, now) {
      const ended = windowEnd !== undefined && now >= windowEnd ? endWindow(now) : [];
      windowEnd ??= now + windowMs;
      const caller = event.tenant_id === null ? "-" : `${event.tenant_id}\u0000${event.subject ?? ""}`;
      const key = `${event.reason ?? ""}\u0000${event.outcome}\u0000${event.host}\u0000${event.source}\u0000${caller}\u0000${event.target_tenant_id ?? ""}`;
      let tally = keys.get(key);
      if (tally === undefined) {
        if (tracked >= maxKeys) {
          // Past the key bound: one overflow aggregate per reason, host and wrapper, counting everyone.
          const overflowKey = `*\u0000${event.reason ?? ""}\u0000${event.outcome}\u0000${event.host}\u0000${event.source}`;
          let overflow = keys.get(overflowKey);
          if (overflow === undefined) keys.set(overflowKey, (overflow = newTally(event, true)));
          return { verdict: count(overflow, event), ended };
        }
        keys.set(key, (tally = newTally(event, false)));
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
