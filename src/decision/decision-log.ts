/**
 * The decision log: one place that turns a wrapper's decision into an event,
 * gives it its `decision_id`, applies the mode (`refusals`, `all`, `off`) and
 * the flood bound, hands it to the sink and to every observer (the metrics
 * subscribe here). The rules never call it: the wrappers at the edge do
 * (`createTenantAuth`'s `authenticate` and `.on` handlers, the Hono
 * middleware, the tool guard).
 */
import { randomUUID } from "node:crypto";
import type { AuditWriteStats } from "../audit/audit-write-stats.ts";
import type { DecisionLogMode } from "../config/decision-log-config.ts";
import type { RefusalReason } from "../errors.ts";
import {
  buildDecisionEvent, decisionKeyTarget, decisionTarget, type DecisionEvent, type DecisionHost, type DecisionInput, type DecisionOutcome, type DecisionRecord,
  type DecisionSource,
} from "./decision-event.ts";
import type { DecisionSink } from "./decision-sink.ts";
import { createFloodBound, type FloodBound, type FloodBoundOptions } from "./flood-bound.ts";
import { capDecisionLine } from "./line-cap.ts";
import { createStderrDecisionSink } from "./stderr-decision-sink.ts";

/**
 * Told of every decision handed to the log, whatever the mode and the flood
 * bound: each refusal (written or counted), and each allowed decision when
 * the log {@link DecisionLog.recordsAllowed}. Must not throw (a throw is ignored).
 */
export type DecisionObserver = (event: Readonly<DecisionEvent>) => void;

/**
 * What a counter is told of a decision: the fields a metric may carry, and
 * nothing else (no id, route, resources or subject).
 */
export interface DecisionCount {
  host: DecisionHost;
  source: DecisionSource;
  outcome: DecisionOutcome;
  reason: RefusalReason | null;
  event: string | null;
  /** The caller's tenant, from a verified token only. */
  tenant_id: string | null;
  target_tenant_id: string | null;
}

/**
 * Told of every decision handed to the log, whatever the mode and the flood
 * bound, as a {@link DecisionCount}: each refusal (written, counted into an
 * aggregate, or not logged at all with mode `off`) and each allowed
 * decision. Cheaper than an observer: an allowed decision builds no event
 * for it. Must not throw (a throw is ignored).
 */
export type DecisionCounter = (decision: Readonly<DecisionCount>) => void;

/** A timer the log can cancel; the default is an unref'd `setTimeout`. */
export type SetTimer = (run: () => void, ms: number) => { cancel(): void };

/** Options of {@link createDecisionLog}. */
export interface DecisionLogOptions {
  /** `refusals` (default), `all` or `off`. */
  mode?: DecisionLogMode;
  /** Default: one JSON line per event on standard error ({@link createStderrDecisionSink}). */
  sink?: DecisionSink;
  /** Clock, ms since the epoch. Default `Date.now`. */
  now?: () => number;
  /** New decision and aggregate ids. Default `crypto.randomUUID`. */
  newId?: () => string;
  /** The flood bound (window 60 s, burst 20, 100 keys, 50 per caller and 10 with a target by default: see `flood-bound.ts`). */
  flood?: Omit<FloodBoundOptions, "newId">;
  /** Schedules the write of a window's aggregates at its end. Default: an unref'd `setTimeout`. */
  setTimer?: SetTimer;
}

/** The decision log of a process (or of one `Auth`). */
export interface DecisionLog {
  readonly mode: DecisionLogMode;
  /**
   * True when allowed decisions must be handed in (mode `all`, or an
   * observer): a wrapper checks this before building anything on an allowed
   * path, so with the default mode an allowed request costs nothing here.
   */
  readonly recordsAllowed: boolean;
  /**
   * True when allowed decisions must at least be counted (a counter, see
   * {@link DecisionLog.onCount}): a wrapper that is not asked for the whole
   * decision ({@link DecisionLog.recordsAllowed}) may then hand in only the
   * host, source, outcome, event and caller.
   */
  readonly countsAllowed: boolean;
  /**
   * Record one decision. Returns the `decision_id` to send back to the
   * client for a refusal that is on the record (written or counted), else
   * `undefined` (mode `off`, or an allowed decision).
   */
  record(input: DecisionInput): string | undefined;
  /** Subscribe to every decision; returns the unsubscribe function. */
  onDecision(observer: DecisionObserver): () => void;
  /** Count every decision (see {@link DecisionCounter}); returns the unsubscribe function. */
  onCount(counter: DecisionCounter): () => void;
  /** The audit sink's records written and refused, when the sink writes to the audit trail; else `undefined`. */
  sinkStats(): AuditWriteStats | undefined;
  /** Write the aggregates of everything counted so far. */
  flush(): void;
  /** Flush, then close the sink. */
  close(): Promise<void>;
}

/** The fields of a decision a counter is told (a new object: a counter never sees the event). */
function countOf(input: DecisionInput): DecisionCount {
  return {
    host: input.host,
    source: input.source,
    outcome: input.outcome,
    reason: input.reason,
    event: input.event ?? null,
    tenant_id: input.caller?.tenant_id ?? null,
    target_tenant_id: decisionTarget(input.resources),
  };
}

const unrefTimer: SetTimer = (run, ms) => {
  const timer = setTimeout(run, ms);
  timer.unref?.();
  return { cancel: () => clearTimeout(timer) };
};

/**
 * Build a decision log.
 *
 * @throws {TypeError} an unknown mode, or a flood option out of range.
 * @example
 * const decisions = createDecisionLog({ mode: "refusals" });
 * const id = decisions.record({ host: "dev", source: "authenticate", outcome: "refused", status: 401, reason: "invalid_token" });
 */
export function createDecisionLog(options: DecisionLogOptions = {}): DecisionLog {
  const mode = options.mode ?? "refusals";
  if (mode !== "refusals" && mode !== "all" && mode !== "off") throw new TypeError('createDecisionLog: mode must be "refusals", "all" or "off"');
  const sink = options.sink ?? createStderrDecisionSink();
  const now = options.now ?? Date.now;
  const newId = options.newId ?? randomUUID;
  const setTimer = options.setTimer ?? unrefTimer;
  const bound: FloodBound = createFloodBound({ ...options.flood, newId });
  const observers = new Set<DecisionObserver>();
  const counters = new Set<DecisionCounter>();
  let timer: { cancel(): void } | undefined;

  const write = (record: DecisionRecord): void => {
    try {
      sink.write(capDecisionLine(record));
    } catch {
      // A sink that cannot write must not turn a refusal into a 500; the
      // request is answered all the same (the metrics can count such failures).
    }
  };

  const expire = (): void => {
    timer = undefined;
    for (const aggregate of bound.expire(now())) write(aggregate);
    schedule();
  };

  const schedule = (): void => {
    // One timer at a time (checked first: under a flood this runs for every counted refusal).
    if (timer !== undefined) return;
    const until = bound.pendingUntil;
    if (until === undefined) return;
    timer = setTimer(expire, Math.max(0, until - now()));
  };

  const notify = (event: DecisionEvent): void => {
    for (const observer of observers) {
      try {
        observer(event);
      } catch {
        // An observer (metrics) must never change a decision.
      }
    }
  };

  const count = (decision: DecisionCount): void => {
    for (const counter of counters) {
      try {
        counter(decision);
      } catch {
        // A counter (metrics) must never change a decision.
      }
    }
  };

  return {
    mode,
    get recordsAllowed() {
      return mode === "all" || observers.size > 0;
    },
    get countsAllowed() {
      return mode === "all" || observers.size > 0 || counters.size > 0;
    },
    record(input) {
      const refusal = input.outcome !== "allowed";
      const logged = mode === "all" || (mode === "refusals" && refusal);
      if (!logged && observers.size === 0) {
        // Nothing is written and nobody wants the event: counters get the few fields they count.
        if (counters.size > 0) count(countOf(input));
        return undefined;
      }
      const at = now();
      const event = buildDecisionEvent(input, "", new Date(at).toISOString());
      let id: string | undefined;
      if (logged && refusal) {
        const { verdict, ended } = bound.admit(event, at, decisionKeyTarget(input.resources));
        for (const aggregate of ended) write(aggregate);
        if (verdict.write) {
          event.decision_id = newId();
          write(event);
        } else {
          event.decision_id = `${verdict.aggregateId}:${verdict.seq}`;
          schedule();
        }
        id = event.decision_id;
      } else {
        event.decision_id = newId();
        if (logged) write(event);
      }
      if (observers.size > 0) notify(event);
      if (counters.size > 0) count(countOf(input));
      return id;
    },
    onDecision(observer) {
      if (typeof observer !== "function") throw new TypeError("onDecision: observer must be a function");
      observers.add(observer);
      return () => void observers.delete(observer);
    },
    onCount(counter) {
      if (typeof counter !== "function") throw new TypeError("onCount: counter must be a function");
      counters.add(counter);
      return () => void counters.delete(counter);
    },
    sinkStats: () => sink.auditStats?.(),
    flush() {
      for (const aggregate of bound.flush(now())) write(aggregate);
    },
    async close() {
      timer?.cancel();
      timer = undefined;
      for (const aggregate of bound.flush(now())) write(aggregate);
      await sink.close?.();
    },
  };
}
