/**
 * The package's metrics over an OpenTelemetry meter (see `metric-names.ts`
 * for the list). The parts they describe keep plain counters of their own
 * (the token cache, the key stores, the audit writers) or tell a counter
 * (the decision log's `onCount`); this module reads those counters when the
 * SDK collects, through observable instruments, so a request pays for an
 * increment, not for a metric call. Only `authenticate`'s duration is
 * recorded as it happens (a histogram).
 *
 * Nothing a client sends becomes an attribute: attributes are codes from
 * closed lists (outcome, reason, host, source, the server's event names),
 * the configured issuer, and, only with `tenantLabel`, the caller's tenant
 * from a verified token. The tenant whose resource a refused request named
 * is never a label: a store namespace names it as the client wrote it, so it
 * would let a client mint series (the decision log keeps it).
 */
import type { AuditLog } from "../audit/audit-log.ts";
import { createAuditWriteTally, tallyAuditWrites, type AuditWriteStats, type AuditWriteTally } from "../audit/audit-write-stats.ts";
import type { AuthenticatorStats } from "../authenticate/create-authenticator.ts";
import type { DecisionHost, DecisionOutcome } from "../decision/decision-event.ts";
import type { DecisionCount, DecisionLog } from "../decision/decision-log.ts";
import type { BatchObservableResultLike, HistogramLike, MeterLike, MetricAttributesLike, ObservableLike } from "./meter-like.ts";
import { METRIC_DEFINITIONS, METRIC_ATTRIBUTES as A, METRIC_PREFIX } from "./metric-names.ts";

/** Whose audit trail a tally counts. */
export type AuditWriter = "tool_guard" | "decision_log";

/**
 * Records how long one `authenticate` took: `startedAt` is `performance.now()`
 * when it began, `outcome` how it ended.
 */
export type AuthenticateTimer = (startedAt: number, outcome: DecisionOutcome) => void;

/** The recording side the package's parts are handed (see {@link createAuthMetrics}). */
export interface AuthMetrics {
  /** False for {@link NO_METRICS}: nothing is recorded, and a part pays nothing for it. */
  readonly enabled: boolean;
  /** Whether the decisions counter carries tenant ids (`AUTH_METRICS_TENANT_LABEL`). */
  readonly tenantLabel: boolean;
  /** Count every decision of a log (once per log, however often it is asked). */
  observeDecisions(log: DecisionLog): void;
  /** Read an authenticator's token cache and key sets when the SDK collects (once per authenticator). */
  observeAuthenticator(authenticator: object): void;
  /** The audit log to write through: `audit` itself, or one that counts its writes as `writer`'s. */
  observeAudit(audit: AuditLog, writer: AuditWriter): AuditLog;
  /** A timer for `authenticate` on `host`, or `undefined` when metrics are off (then do not read the clock). */
  authenticateTimer(host: DecisionHost): AuthenticateTimer | undefined;
}

/** Options of {@link createAuthMetrics}. */
export interface AuthMetricsOptions {
  /** The meter to record into: `metrics.getMeter(...)` of your `MeterProvider`. */
  meter: MeterLike;
  /** Add the caller's tenant to the decisions counter (`AUTH_METRICS_TENANT_LABEL=true`). Default false. */
  tenantLabel?: boolean;
  /** Series the decisions counter keeps before it counts new ones under `otel.metric.overflow`. Default 2000 (the SDK's own default limit). */
  maxSeries?: number;
}

/**
 * Metrics that record nothing: what the parts get when no OpenTelemetry SDK
 * is registered. Frozen.
 *
 * @example
 * createTenantMiddleware({ authenticator, metrics: NO_METRICS }); // never records, whatever is registered
 */
export const NO_METRICS: AuthMetrics = Object.freeze({
  enabled: false,
  tenantLabel: false,
  observeDecisions: () => undefined,
  observeAuthenticator: () => undefined,
  observeAudit: (audit: AuditLog) => audit,
  authenticateTimer: () => undefined,
});

/**
 * `authenticate` takes about 2 µs on a cache hit in a loop, tens of µs on a
 * busy server, about 0.1 ms to verify a signature, and up to the key set
 * timeout (5 s) when it must fetch keys: buckets from 10 µs to 10 s.
 */
const DURATION_BUCKETS = Object.freeze([
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);

const byMeter = new WeakMap<MeterLike, AuthMetrics>();

const definition = (name: string) => METRIC_DEFINITIONS.find((m) => m.name === `${METRIC_PREFIX}.${name}`)!;
const options = (name: string) => ({ unit: definition(name).unit, description: definition(name).description });

/** One series of the decisions counter. */
interface Series {
  attributes: MetricAttributesLike;
  count: number;
}

/**
 * Build the package's metrics over a meter. One set per meter: asking again
 * for the same meter gives the same object (instruments are registered once).
 *
 * @throws {TypeError} no meter, or a meter already used with another `tenantLabel`.
 * @example
 * const reader = new PeriodicExportingMetricReader({ exporter });
 * const provider = new MeterProvider({ readers: [reader] });
 * const metrics = createAuthMetrics({ meter: provider.getMeter("langgraph-tenant-auth") });
 * createTenantAuth({ authenticator, metrics });
 */
export function createAuthMetrics(opts: AuthMetricsOptions): AuthMetrics {
  const meter = opts?.meter;
  if (!meter || typeof meter.createObservableCounter !== "function" || typeof meter.addBatchObservableCallback !== "function") {
    throw new TypeError("createAuthMetrics: options.meter must be an OpenTelemetry Meter");
  }
  const tenantLabel = opts.tenantLabel ?? false;
  const maxSeries = opts.maxSeries ?? 2000;
  if (!Number.isInteger(maxSeries) || maxSeries < 1) throw new TypeError("createAuthMetrics: options.maxSeries must be a whole number of at least 1");
  const existing = byMeter.get(meter);
  if (existing !== undefined) {
    if (existing.tenantLabel !== tenantLabel) throw new TypeError(`createAuthMetrics: this meter already records with tenantLabel ${existing.tenantLabel}`);
    return existing;
  }

  const duration: HistogramLike = meter.createHistogram(`${METRIC_PREFIX}.authenticate.duration`, {
    ...options("authenticate.duration"),
    advice: { explicitBucketBoundaries: [...DURATION_BUCKETS] },
  });
  const decisions = meter.createObservableCounter(`${METRIC_PREFIX}.decisions`, options("decisions"));
  const lookups = meter.createObservableCounter(`${METRIC_PREFIX}.token_cache.lookups`, options("token_cache.lookups"));
  const entries = meter.createObservableUpDownCounter(`${METRIC_PREFIX}.token_cache.entry.count`, options("token_cache.entry.count"));
  const limit = meter.createObservableUpDownCounter(`${METRIC_PREFIX}.token_cache.entry.limit`, options("token_cache.entry.limit"));
  const refreshes = meter.createObservableCounter(`${METRIC_PREFIX}.key_set.refreshes`, options("key_set.refreshes"));
  const age = meter.createObservableGauge(`${METRIC_PREFIX}.key_set.age`, options("key_set.age"));
  const stale = meter.createObservableCounter(`${METRIC_PREFIX}.key_set.stale_lookups`, options("key_set.stale_lookups"));
  const unavailable = meter.createObservableCounter(`${METRIC_PREFIX}.key_set.unavailable_refusals`, options("key_set.unavailable_refusals"));
  const auditRecords = meter.createObservableCounter(`${METRIC_PREFIX}.audit.records`, options("audit.records"));
  const auditStopped = meter.createObservableGauge(`${METRIC_PREFIX}.audit.stopped`, options("audit.stopped"));

  // Decisions: one count per attribute set, keyed by a string of the same fields.
  const series = new Map<string, Series>();
  const overflow: Series = { attributes: { [A.overflow]: true }, count: 0 };
  const countDecision = (d: Readonly<DecisionCount>): void => {
    const tenant = tenantLabel ? d.tenant_id : null;
    const key = `${d.outcome}|${d.reason ?? ""}|${d.host}|${d.source}|${d.event ?? ""}|${tenant ?? ""}`;
    let found = series.get(key);
    if (found === undefined) {
      if (series.size >= maxSeries) {
        overflow.count += 1;
        return;
      }
      const attributes: MetricAttributesLike = { [A.outcome]: d.outcome, [A.host]: d.host, [A.source]: d.source };
      if (d.reason !== null) attributes[A.reason] = d.reason;
      if (d.event !== null) attributes[A.event] = d.event;
      if (tenant !== null) attributes[A.tenant] = tenant;
      series.set(key, (found = { attributes, count: 0 }));
    }
    found.count += 1;
  };

  const logs = new Set<DecisionLog>();
  const authenticators = new Set<{ stats(): AuthenticatorStats }>();
  const tallies = new Map<AuditWriter, AuditWriteTally>();
  const tallyOf = (writer: AuditWriter): AuditWriteTally => {
    let tally = tallies.get(writer);
    if (tally === undefined) tallies.set(writer, (tally = createAuditWriteTally()));
    return tally;
  };

  const collect = (result: BatchObservableResultLike): void => {
    for (const { attributes, count } of series.values()) result.observe(decisions, count, attributes);
    if (overflow.count > 0) result.observe(decisions, overflow.count, overflow.attributes);

    let hits = 0;
    let misses = 0;
    let cached = 0;
    let cap = 0;
    let caching = false;
    const issuers = new Map<string, { successes: number; failures: number; stale: number; unavailable: number; ageMs: number | null }>();
    for (const authenticator of authenticators) {
      let stats: AuthenticatorStats;
      try {
        stats = authenticator.stats();
      } catch {
        continue;
      }
      if (stats.tokenCache !== null) {
        caching = true;
        hits += stats.tokenCache.hits;
        misses += stats.tokenCache.misses;
        cached += stats.tokenCache.entries;
        cap += stats.tokenCache.maxEntries;
      }
      for (const set of stats.keySets) {
        const sum = issuers.get(set.issuer) ?? { successes: 0, failures: 0, stale: 0, unavailable: 0, ageMs: null };
        sum.successes += set.fetchSuccesses;
        sum.failures += set.fetchFailures;
        sum.stale += set.staleIfErrorServed;
        sum.unavailable += set.unavailable;
        // Two stores of one issuer (two authenticators): the older set in use is the one to watch.
        if (set.keySetAgeMs !== null) sum.ageMs = Math.max(sum.ageMs ?? 0, set.keySetAgeMs);
        issuers.set(set.issuer, sum);
      }
    }
    if (caching) {
      result.observe(lookups, hits, { [A.cacheResult]: "hit" });
      result.observe(lookups, misses, { [A.cacheResult]: "miss" });
      result.observe(entries, cached);
      result.observe(limit, cap);
    }
    for (const [issuer, sum] of issuers) {
      result.observe(refreshes, sum.successes, { [A.issuer]: issuer, [A.refreshResult]: "success" });
      result.observe(refreshes, sum.failures, { [A.issuer]: issuer, [A.refreshResult]: "failure" });
      result.observe(stale, sum.stale, { [A.issuer]: issuer });
      result.observe(unavailable, sum.unavailable, { [A.issuer]: issuer });
      if (sum.ageMs !== null) result.observe(age, sum.ageMs / 1000, { [A.issuer]: issuer });
    }

    const writers = new Map<AuditWriter, AuditWriteStats>();
    for (const [writer, tally] of tallies) writers.set(writer, tally.stats());
    for (const log of logs) {
      const stats = log.sinkStats();
      if (stats === undefined) continue;
      const sum = writers.get("decision_log") ?? { written: 0, failed: 0, stopped: false };
      writers.set("decision_log", { written: sum.written + stats.written, failed: sum.failed + stats.failed, stopped: sum.stopped || stats.stopped });
    }
    for (const [writer, stats] of writers) {
      result.observe(auditRecords, stats.written, { [A.auditWriter]: writer, [A.auditResult]: "written" });
      result.observe(auditRecords, stats.failed, { [A.auditWriter]: writer, [A.auditResult]: "failed" });
      result.observe(auditStopped, stats.stopped ? 1 : 0, { [A.auditWriter]: writer });
    }
  };
  const observables: ObservableLike[] = [decisions, lookups, entries, limit, refreshes, age, stale, unavailable, auditRecords, auditStopped];
  meter.addBatchObservableCallback(collect, observables);

  const outcomes = new Map<string, MetricAttributesLike>();
  const metrics: AuthMetrics = Object.freeze({
    enabled: true,
    tenantLabel,
    observeDecisions(log: DecisionLog) {
      if (logs.has(log)) return;
      logs.add(log);
      log.onCount(countDecision);
    },
    observeAuthenticator(authenticator: object) {
      const counted = authenticator as Partial<{ stats(): AuthenticatorStats }>;
      if (typeof counted.stats !== "function") return;
      authenticators.add(counted as { stats(): AuthenticatorStats });
    },
    observeAudit: (audit: AuditLog, writer: AuditWriter) => tallyAuditWrites(audit, tallyOf(writer)),
    authenticateTimer(host: DecisionHost): AuthenticateTimer {
      const attributesOf = (outcome: DecisionOutcome): MetricAttributesLike => {
        const key = `${host}|${outcome}`;
        let attributes = outcomes.get(key);
        if (attributes === undefined) outcomes.set(key, (attributes = { [A.host]: host, [A.outcome]: outcome }));
        return attributes;
      };
      return (startedAt, outcome) => duration.record((performance.now() - startedAt) / 1000, attributesOf(outcome));
    },
  });
  byMeter.set(meter, metrics);
  return metrics;
}
