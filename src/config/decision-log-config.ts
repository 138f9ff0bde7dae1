import { z } from "zod";
import { ConfigError } from "../errors.ts";
import { wholeNumberVariable } from "./whole-number-variable.ts";

/** Default flood window, seconds: 60. */
export const DEFAULT_DECISION_LOG_WINDOW_SECONDS = 60;
/** Default refusals of one reason and source written one by one per window: 20. */
export const DEFAULT_DECISION_LOG_BURST = 20;

/** `AUTH_DECISION_LOG`: which decisions are logged. */
export const DECISION_LOG_MODES = Object.freeze(["refusals", "all", "off"] as const);
/** One of {@link DECISION_LOG_MODES}. */
export type DecisionLogMode = (typeof DECISION_LOG_MODES)[number];

/** `AUTH_DECISION_LOG_SINK`: where decision events go. */
export const DECISION_LOG_SINKS = Object.freeze(["stderr", "audit"] as const);
/** One of {@link DECISION_LOG_SINKS}. */
export type DecisionLogSinkName = (typeof DECISION_LOG_SINKS)[number];

/** Settings of the decision log (`AUTH_DECISION_LOG*`). */
export interface DecisionLogConfig {
  /**
   * `refusals` (default): every refusal, no allowed decision; `all`: allowed
   * decisions too (one line each, see docs/performance.md for the cost);
   * `off`: nothing logged and no `decision_id` sent back.
   */
  mode: DecisionLogMode;
  /**
   * `stderr` (default): one JSON line per event on standard error; `audit`:
   * event records in the tamper-evident audit trail (`AUDIT_LOG_FILE`).
   */
  sink: DecisionLogSinkName;
  /**
   * The flood bound (`src/decision/flood-bound.ts`): `AUTH_DECISION_LOG_WINDOW`,
   * seconds per window (1 to 3600, default 60), and `AUTH_DECISION_LOG_BURST`,
   * refusals of one reason and source written one by one per window (0 to
   * 1000, default 20); the rest are counted into one aggregate event.
   */
  windowSeconds?: number;
  burst?: number;
}

/** The decision log's variables, merged into the schema of `readConfig`. */
export const DecisionLogEnvSchema = z.object({
  AUTH_DECISION_LOG: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(DECISION_LOG_MODES, { error: 'AUTH_DECISION_LOG must be "refusals", "all" or "off"' }))
    .default("refusals"),
  AUTH_DECISION_LOG_SINK: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(DECISION_LOG_SINKS, { error: 'AUTH_DECISION_LOG_SINK must be "stderr" or "audit"' }))
    .default("stderr"),
  AUTH_DECISION_LOG_WINDOW: wholeNumberVariable("AUTH_DECISION_LOG_WINDOW", 1, 3600, "seconds").default(DEFAULT_DECISION_LOG_WINDOW_SECONDS),
  AUTH_DECISION_LOG_BURST: wholeNumberVariable("AUTH_DECISION_LOG_BURST", 0, 1000).default(DEFAULT_DECISION_LOG_BURST),
});

/**
 * Turn the parsed variables into {@link DecisionLogConfig}.
 *
 * @example
 * toDecisionLogConfig(DecisionLogEnvSchema.parse({})); // { mode: "refusals", sink: "stderr", windowSeconds: 60, burst: 20 }
 */
export function toDecisionLogConfig(parsed: z.output<typeof DecisionLogEnvSchema>): DecisionLogConfig {
  return {
    mode: parsed.AUTH_DECISION_LOG,
    sink: parsed.AUTH_DECISION_LOG_SINK,
    windowSeconds: parsed.AUTH_DECISION_LOG_WINDOW,
    burst: parsed.AUTH_DECISION_LOG_BURST,
  };
}

/**
 * Read and validate only the decision log's variables (for the parts that
 * run without the rest of `readConfig`: the Hono middleware, the tool guard).
 * Empty strings count as unset.
 *
 * @throws {ConfigError} a value outside its list.
 * @example
 * readDecisionLogConfig(process.env); // { mode: "refusals", sink: "stderr" } by default
 */
export function readDecisionLogConfig(env: Record<string, string | undefined> = process.env): DecisionLogConfig {
  const input: Record<string, string> = {};
  for (const name of Object.keys(DecisionLogEnvSchema.shape)) {
    const value = env[name];
    if (value !== undefined && value.trim() !== "") input[name] = value;
  }
  const parsed = DecisionLogEnvSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((issue) => issue.message));
  return toDecisionLogConfig(parsed.data);
}
