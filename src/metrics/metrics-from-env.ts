import { readMetricsConfig } from "../config/metrics-config.ts";
import { createAuthMetrics, NO_METRICS, type AuthMetrics } from "./create-auth-metrics.ts";
import { METER_NAME } from "./metric-names.ts";
import { registeredMeter, type OtelApiLoader } from "./registered-meter.ts";

/**
 * The process's metrics: into the meter of the OpenTelemetry SDK the
 * application registered, with `AUTH_METRICS_TENANT_LABEL` of `env`; or
 * {@link NO_METRICS} when no SDK is registered (or `@opentelemetry/api` is not
 * installed), which costs the parts nothing. The `Auth`, the Hono middleware
 * and the tool guard use this by default, so registering an SDK before they
 * are built is all it takes.
 *
 * @param load How to load `@opentelemetry/api` (tests). Default: `require` from this package.
 * @throws {ConfigError} `AUTH_METRICS_TENANT_LABEL` other than `true` or `false`.
 * @throws {TypeError} the registered meter already records with the other `AUTH_METRICS_TENANT_LABEL`.
 * @example
 * createTenantMiddleware({ authenticator, metrics: metricsFromEnv(process.env) });
 */
export function metricsFromEnv(env: Record<string, string | undefined> = process.env, load?: OtelApiLoader): AuthMetrics {
  const { tenantLabel } = readMetricsConfig(env);
  const meter = registeredMeter(METER_NAME, load);
  return meter === undefined ? NO_METRICS : createAuthMetrics({ meter, tenantLabel });
}
