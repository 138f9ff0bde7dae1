import { accessSync, constants, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { ConfigError } from "../errors.ts";
import { setVariables } from "./set-variables.ts";
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

/** Why a file cannot be appended to by this process, or `undefined` when it can (as far as the file system says before a write). */
function unwritable(file: string): string | undefined {
  const path = resolve(file);
  try {
    const stat = statSync(path, { throwIfNoEntry: false });
    if (stat !== undefined) {
      if (!stat.isFile()) return "it is not a regular file";
      accessSync(path, constants.W_OK);
      return undefined;
    }
    const folder = statSync(dirname(path), { throwIfNoEntry: false });
    // (A folder that is a file made the first statSync throw ENOTDIR.)
    if (folder === undefined) return "its folder does not exist";
    accessSync(dirname(path), constants.W_OK | constants.X_OK);
    return undefined;
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    return typeof code === "string" ? `the file system says ${code}` : "it cannot be checked";
  }
}

/**
 * What stops the decision log of `config` from running as configured: the
 * `audit` sink needs `AUDIT_LOG_FILE`, a file this process can append to (or
 * create, in a folder that exists). A configuration the package cannot
 * honour is refused at start, not found on the first refusal it cannot write.
 * The file is only checked, never created here.
 *
 * @example
 * decisionLogProblems({ mode: "refusals", sink: "audit" }, {}); // ["AUTH_DECISION_LOG_SINK=audit needs AUDIT_LOG_FILE …"]
 */
export function decisionLogProblems(config: Pick<DecisionLogConfig, "sink">, env: Record<string, string | undefined>): string[] {
  if (config.sink !== "audit") return [];
  const file = env.AUDIT_LOG_FILE?.trim();
  if (!file) {
    return ["AUTH_DECISION_LOG_SINK=audit needs AUDIT_LOG_FILE: set it to the audit trail's JSON-lines file (one this process can append to), or set AUTH_DECISION_LOG_SINK=stderr"];
  }
  const why = unwritable(file);
  return why === undefined
    ? []
    : [`AUDIT_LOG_FILE: "${file}" cannot be appended to (${why}), and AUTH_DECISION_LOG_SINK=audit writes there: set it to a file in a folder this process can write, or set AUTH_DECISION_LOG_SINK=stderr`];
}

/**
 * Read and validate only the decision log's variables (for the parts that
 * run without the rest of `readConfig`: the Hono middleware, the tool guard).
 * Empty strings count as unset.
 *
 * @throws {ConfigError} a value outside its list, or the `audit` sink without a file it can append to (see {@link decisionLogProblems}).
 * @example
 * readDecisionLogConfig(process.env); // { mode: "refusals", sink: "stderr" } by default
 */
export function readDecisionLogConfig(env: Record<string, string | undefined> = process.env): DecisionLogConfig {
  const input = setVariables(env, Object.keys(DecisionLogEnvSchema.shape));
  const parsed = DecisionLogEnvSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((issue) => issue.message));
  const config = toDecisionLogConfig(parsed.data);
  const problems = decisionLogProblems(config, env);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
