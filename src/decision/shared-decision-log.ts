/**
 * The decision log of the process, built from `AUTH_DECISION_LOG*`: the
 * `Auth`, the Hono middleware and the tool guard of one process share it
 * (one flood bound, one writer), unless they are handed their own.
 */
import { readDecisionLogConfig, type DecisionLogConfig } from "../config/decision-log-config.ts";
import { ConfigError } from "../errors.ts";
import { createDecisionLog, type DecisionLog } from "./decision-log.ts";

const shared = new Map<string, DecisionLog>();

/**
 * The process's decision log for a configuration: one instance per mode and
 * sink, flushed when the process exits (standard error is written
 * synchronously, so the last aggregates are not lost).
 *
 * @throws {ConfigError} `audit` as the sink (the audit sink needs an audit log: pass `createDecisionLog({ sink })`).
 * @example
 * const decisions = sharedDecisionLog(readConfig().decisionLog ?? { mode: "refusals", sink: "stderr" });
 */
export function sharedDecisionLog(config: DecisionLogConfig): DecisionLog {
  const key = `${config.mode}|${config.sink}`;
  let log = shared.get(key);
  if (log !== undefined) return log;
  if (config.sink !== "stderr") {
    throw new ConfigError(["AUTH_DECISION_LOG_SINK=audit is not available in this build: use stderr"]);
  }
  log = createDecisionLog({ mode: config.mode });
  shared.set(key, log);
  const last = log;
  process.once("exit", () => last.flush());
  return log;
}

/**
 * {@link sharedDecisionLog} for the `AUTH_DECISION_LOG*` variables of `env`.
 *
 * @throws {ConfigError} a bad value of either variable.
 * @example
 * createTenantMiddleware({ authenticator, decisions: decisionLogFromEnv(process.env) });
 */
export function decisionLogFromEnv(env: Record<string, string | undefined> = process.env): DecisionLog {
  return sharedDecisionLog(readDecisionLogConfig(env));
}
