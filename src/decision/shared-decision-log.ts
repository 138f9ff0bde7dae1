/**
 * The decision log of the process, built from `AUTH_DECISION_LOG*`: the
 * `Auth`, the Hono middleware and the tool guard of one process share it
 * (one flood bound, one writer), unless they are handed their own.
 */
import { createAuditLog } from "../audit/audit-log.ts";
import { requireChainKey, type ChainKey } from "../audit/audit-record.ts";
import { createJsonLinesSink } from "../audit/json-lines-sink.ts";
import {
  DEFAULT_DECISION_LOG_BURST,
  DEFAULT_DECISION_LOG_WINDOW_SECONDS,
  readDecisionLogConfig,
  type DecisionLogConfig,
} from "../config/decision-log-config.ts";
import { ConfigError } from "../errors.ts";
import { createAuditDecisionSink } from "./audit-decision-sink.ts";
import { createDecisionLog, type DecisionLog } from "./decision-log.ts";
import type { DecisionSink } from "./decision-sink.ts";
import { createStderrDecisionSink } from "./stderr-decision-sink.ts";

const shared = new Map<string, DecisionLog>();

/** How long a stopping process waits for the audit trail to take its last aggregates, ms. */
const SIGNAL_GRACE_MS = 2000;

let hooked = false;

/** Write every shared log's pending aggregates (standard error: synchronously). */
function flushAll(): void {
  for (const log of shared.values()) {
    try {
      log.flush();
    } catch {
      // A log that cannot flush must not stop the others, nor the exit.
    }
  }
}

/**
 * On SIGTERM or SIGINT (a container stop, Ctrl-C): flush, then behave as
 * Node would have without this listener. When the application has its own
 * listener for the signal, that listener decides (nothing more is done
 * here). Otherwise the process is ended by the same signal, once the audit
 * trail has taken the last aggregates (at most {@link SIGNAL_GRACE_MS}): the
 * listener is gone by then, so the re-raised signal takes Node's default
 * action (the exit status a supervisor expects, 128 + signal number).
 */
function onSignal(signal: NodeJS.Signals): void {
  flushAll();
  if (process.listenerCount(signal) > 0) return;
  const die = () => process.kill(process.pid, signal);
  const closing = [...shared.values()].map((log) => log.close());
  // A ref'd timer: the process must not end with status 0 before the signal is raised again.
  const grace = setTimeout(die, SIGNAL_GRACE_MS);
  void Promise.allSettled(closing).then(() => {
    clearTimeout(grace);
    die();
  });
}

/** Once per process: flush on exit, on SIGTERM and on SIGINT. */
function hookProcess(): void {
  if (hooked) return;
  hooked = true;
  process.once("exit", flushAll);
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
}

/**
 * The `audit` sink from the environment: the JSON-lines audit trail of
 * `AUDIT_LOG_FILE` (required: a decision event must not land on standard
 * output among the server's logs), keyed with `AUDIT_CHAIN_KEY` when set,
 * falling back to standard error for an event the trail refuses.
 */
function auditSinkFromEnv(env: Record<string, string | undefined>): DecisionSink {
  const file = env.AUDIT_LOG_FILE?.trim();
  const problems: string[] = [];
  if (!file) problems.push("AUTH_DECISION_LOG_SINK=audit needs AUDIT_LOG_FILE (the audit trail's JSON-lines file)");
  let chainKey: ChainKey | undefined;
  const key = env.AUDIT_CHAIN_KEY;
  if (key !== undefined && key !== "") {
    try {
      chainKey = requireChainKey(key, "AUDIT_CHAIN_KEY");
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const audit = createAuditLog({ sink: createJsonLinesSink({ file, chainKey }), chainKey });
  return createAuditDecisionSink({ audit, fallback: createStderrDecisionSink(), ownsAudit: true });
}

/**
 * The process's decision log for a configuration: one instance per mode,
 * sink (and audit file). Aggregates are written at the end of each window
 * (an unref'd timer), and what is pending when the process exits or
 * receives SIGTERM or SIGINT (standard error is written synchronously, so
 * the last aggregates are not lost there). The signals keep Node's default
 * behaviour: without a listener of the application's, the process still
 * ends by that signal, after the flush.
 *
 * @param env Read for the `audit` sink: `AUDIT_LOG_FILE`, `AUDIT_CHAIN_KEY`. Default `process.env`.
 * @throws {ConfigError} the `audit` sink without `AUDIT_LOG_FILE`, or with a chain key under 32 bytes.
 * @example
 * const decisions = sharedDecisionLog(readConfig().decisionLog ?? { mode: "refusals", sink: "stderr" });
 */
export function sharedDecisionLog(config: DecisionLogConfig, env: Record<string, string | undefined> = process.env): DecisionLog {
  const windowMs = (config.windowSeconds ?? DEFAULT_DECISION_LOG_WINDOW_SECONDS) * 1000;
  const burst = config.burst ?? DEFAULT_DECISION_LOG_BURST;
  const key = [config.mode, config.sink, windowMs, burst, config.sink === "audit" ? (env.AUDIT_LOG_FILE ?? "") : ""].join("|");
  let log = shared.get(key);
  if (log !== undefined) return log;
  const sink = config.sink === "audit" ? auditSinkFromEnv(env) : createStderrDecisionSink();
  log = createDecisionLog({ mode: config.mode, sink, flood: { windowMs, burst } });
  shared.set(key, log);
  hookProcess();
  return log;
}

/**
 * {@link sharedDecisionLog} for the `AUTH_DECISION_LOG*` (and, for the
 * `audit` sink, `AUDIT_*`) variables of `env`.
 *
 * @throws {ConfigError} a bad value of either variable, or an `audit` sink without its file.
 * @example
 * createTenantMiddleware({ authenticator, decisions: decisionLogFromEnv(process.env) });
 */
export function decisionLogFromEnv(env: Record<string, string | undefined> = process.env): DecisionLog {
  return sharedDecisionLog(readDecisionLogConfig(env), env);
}
