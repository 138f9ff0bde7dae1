import { z } from "zod";
import { ConfigError } from "../errors.ts";
import { setVariables } from "./set-variables.ts";

/** Settings of the OpenTelemetry metrics (`AUTH_METRICS_*`). */
export interface MetricsConfig {
  /**
   * `AUTH_METRICS_TENANT_LABEL=true`: the decisions counter also carries the
   * caller's tenant (from a verified token). One series per tenant and label
   * combination, so the number of series grows with the number of tenants
   * (see docs/observability.md). Default false: no tenant or user label on
   * any metric.
   */
  tenantLabel: boolean;
}

/** The metrics' variables, merged into the schema of `readConfig`. */
export const MetricsEnvSchema = z.object({
  AUTH_METRICS_TENANT_LABEL: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(["true", "false"], { error: 'AUTH_METRICS_TENANT_LABEL must be "true" or "false"' }))
    .default("false"),
});

/**
 * Turn the parsed variables into {@link MetricsConfig}.
 *
 * @example
 * toMetricsConfig(MetricsEnvSchema.parse({})); // { tenantLabel: false }
 */
export function toMetricsConfig(parsed: z.output<typeof MetricsEnvSchema>): MetricsConfig {
  return { tenantLabel: parsed.AUTH_METRICS_TENANT_LABEL === "true" };
}

/**
 * Read and validate only the metrics' variables (for the parts that run
 * without the rest of `readConfig`: the Hono middleware, the tool guard).
 * Empty strings count as unset.
 *
 * @throws {ConfigError} a value other than `true` or `false`.
 * @example
 * readMetricsConfig(process.env); // { tenantLabel: false } by default
 */
export function readMetricsConfig(env: Record<string, string | undefined> = process.env): MetricsConfig {
  const input = setVariables(env, Object.keys(MetricsEnvSchema.shape));
  const parsed = MetricsEnvSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((issue) => issue.message));
  return toMetricsConfig(parsed.data);
}
