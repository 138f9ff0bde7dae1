/**
 * The package's metrics, in one place: names, units, instruments and
 * attributes, following OpenTelemetry's semantic conventions (lowercase,
 * dot-separated namespaces under one prefix, snake_case within a component,
 * UCUM units with `{annotations}` for counts and `s` for durations, counts of
 * countable things pluralised, no `_total` in a name, attributes of our own
 * under our namespace). docs/observability.md lists the same metrics, and
 * `test/metrics/metric-names.test.ts` checks the two agree.
 */
import { deepFreeze } from "../lib/deep-freeze.ts";

/**
 * The prefix (and namespace) of every metric and attribute of this package.
 *
 * @example
 * `${METRIC_PREFIX}.decisions`; // "langgraph_tenant_auth.decisions"
 */
export const METRIC_PREFIX = "langgraph_tenant_auth";

/**
 * The instrumentation scope (meter) name: the package's name.
 *
 * @example
 * createAuthMetrics({ meter: meterProvider.getMeter(METER_NAME) });
 */
export const METER_NAME = "langgraph-tenant-auth";

/**
 * The attribute names of the metrics (frozen).
 *
 * @example
 * METRIC_ATTRIBUTES.reason; // "langgraph_tenant_auth.decision.reason"
 */
export const METRIC_ATTRIBUTES = deepFreeze({
  /** `dev`, `js`, `platform` or `app`: where the decision was made. */
  host: `${METRIC_PREFIX}.host`,
  /** `allowed`, `refused` or `error`. */
  outcome: `${METRIC_PREFIX}.decision.outcome`,
  /** A code of `REFUSAL_REASONS`; absent on an allowed decision. */
  reason: `${METRIC_PREFIX}.decision.reason`,
  /** `authenticate`, `handler`, `server_filter`, `middleware`, `tool_guard` or `runtime`. */
  source: `${METRIC_PREFIX}.decision.source`,
  /** The `.on` event (`threads:read`…) or `tool_call`; absent for `authenticate` and the middleware. */
  event: `${METRIC_PREFIX}.decision.event`,
  /** With `AUTH_METRICS_TENANT_LABEL=true` only: the caller's tenant (from a verified token). */
  tenant: `${METRIC_PREFIX}.tenant.id`,
  /** `hit` or `miss`. */
  cacheResult: `${METRIC_PREFIX}.token_cache.result`,
  /** The configured issuer (`AUTH_ISSUER`). */
  issuer: `${METRIC_PREFIX}.key_set.issuer`,
  /** `success` or `failure`. */
  refreshResult: `${METRIC_PREFIX}.key_set.refresh.result`,
  /** `tool_guard` or `decision_log`: whose audit trail. */
  auditWriter: `${METRIC_PREFIX}.audit.writer`,
  /** `written` or `failed`. */
  auditResult: `${METRIC_PREFIX}.audit.result`,
  /** OpenTelemetry's own attribute for a series past a cardinality limit. */
  overflow: "otel.metric.overflow",
} as const);

/** An OpenTelemetry instrument kind, as the semantic conventions name them. */
export type MetricInstrument = "counter" | "updowncounter" | "gauge" | "histogram";

/** One metric of this package. */
export interface MetricDefinition {
  name: string;
  instrument: MetricInstrument;
  unit: string;
  description: string;
  /** Attribute names (keys of {@link METRIC_ATTRIBUTES}' values), those with `AUTH_METRICS_TENANT_LABEL=true` included. */
  attributes: readonly string[];
}

const A = METRIC_ATTRIBUTES;

/**
 * Every metric this package records (frozen): what docs/observability.md lists.
 *
 * @example
 * METRIC_DEFINITIONS.map((m) => `${m.name} (${m.instrument}, ${m.unit})`);
 */
export const METRIC_DEFINITIONS: readonly MetricDefinition[] = deepFreeze([
  {
    name: `${METRIC_PREFIX}.decisions`,
    instrument: "counter",
    unit: "{decision}",
    description: "Decisions of the package: every refusal (also those the flood bound counts into an aggregate) and every allowed request and event.",
    attributes: [A.outcome, A.reason, A.host, A.source, A.event, A.tenant],
  },
  {
    name: `${METRIC_PREFIX}.authenticate.duration`,
    instrument: "histogram",
    unit: "s",
    description: "Time the Auth's authenticate (token and route policy) or the Hono middleware took to decide a request.",
    attributes: [A.host, A.outcome],
  },
  {
    name: `${METRIC_PREFIX}.token_cache.lookups`,
    instrument: "counter",
    unit: "{lookup}",
    description: "Lookups in the verified-token cache, by result.",
    attributes: [A.cacheResult],
  },
  {
    name: `${METRIC_PREFIX}.token_cache.entry.count`,
    instrument: "updowncounter",
    unit: "{entry}",
    description: "Entries in the verified-token cache.",
    attributes: [],
  },
  {
    name: `${METRIC_PREFIX}.token_cache.entry.limit`,
    instrument: "updowncounter",
    unit: "{entry}",
    description: "The verified-token cache's cap (AUTH_TOKEN_CACHE_MAX_ENTRIES).",
    attributes: [],
  },
  {
    name: `${METRIC_PREFIX}.key_set.refreshes`,
    instrument: "counter",
    unit: "{refresh}",
    description: "Fetches of an issuer's key set (discovery and JWKS), by result.",
    attributes: [A.issuer, A.refreshResult],
  },
  {
    name: `${METRIC_PREFIX}.key_set.age`,
    instrument: "gauge",
    unit: "s",
    description: "Age of the key set in use, per issuer (absent until a key set was fetched).",
    attributes: [A.issuer],
  },
  {
    name: `${METRIC_PREFIX}.key_set.stale_lookups`,
    instrument: "counter",
    unit: "{lookup}",
    description: "Key lookups answered from a stale key set because the identity provider failed (stale-if-error).",
    attributes: [A.issuer],
  },
  {
    name: `${METRIC_PREFIX}.key_set.unavailable_refusals`,
    instrument: "counter",
    unit: "{refusal}",
    description: "Requests refused with 503 key_set_unavailable: no usable key set could be had.",
    attributes: [A.issuer],
  },
  {
    name: `${METRIC_PREFIX}.audit.records`,
    instrument: "counter",
    unit: "{record}",
    description: "Audit records handed to the audit trail, by writer and result.",
    attributes: [A.auditWriter, A.auditResult],
  },
  {
    name: `${METRIC_PREFIX}.audit.stopped`,
    instrument: "gauge",
    unit: "1",
    description: "1 while the writer's audit trail refuses writes (its last append or readiness check failed), else 0.",
    attributes: [A.auditWriter],
  },
] satisfies MetricDefinition[]);
