/**
 * Refusals made inside a graph, on the record: the tenant checkpointer and
 * store and `requireRunTenant` refuse with coded errors (no tenant in the
 * run's config, a tenant id or `{tenant}::{id}` key that breaks the rules, a
 * store namespace LangGraph refuses). They are refusals of this package like
 * those of the `Auth`, so each becomes one decision event (source
 * `runtime`). This is the one place that records them: the runtime helpers
 * hand every such error here where they throw it, and the rules below them
 * (`src/tenant/`) only throw.
 */
import type { RunnableConfig } from "@langchain/core/runnables";
import { decisionCaller, type DecisionHost } from "../decision/decision-event.ts";
import type { DecisionLog } from "../decision/decision-log.ts";
import { decisionLogFromEnv } from "../decision/shared-decision-log.ts";
import { AuthError, InvalidTenantKeyError, type ResourceIds } from "../errors.ts";
import { readToolCaller } from "../policy/tool-policy.ts";

/** Which runtime helper refused: the event's `event` field. */
export type InGraphHelper = "checkpointer" | "store" | "run_config";

/** Where an in-graph refusal happened, as the helper that threw it knows. */
export interface InGraphWhere {
  helper: InGraphHelper;
  /** The run's config: its verified user (`configurable.langgraph_auth_user`) is the caller, its `thread_id` and `run_id` the resources. */
  config?: RunnableConfig | undefined;
  /** Where the event goes. Default: the process's decision log (`AUTH_DECISION_LOG*`), the one the `Auth` of the same process uses. */
  decisions?: DecisionLog | undefined;
  /** The event's `host`. Default `app` (a graph is not told which server runs it). */
  host?: DecisionHost | undefined;
}

/** Errors already on the record: a refusal that passes through two helpers (a store made for a run) is recorded once. */
const recorded = new WeakSet<object>();

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** The process's log, or none when its variables are bad (then the `Auth` of the process refused to start already). */
function processLog(): DecisionLog | undefined {
  try {
    return decisionLogFromEnv(process.env);
  } catch {
    return undefined;
  }
}

/**
 * Record an in-graph refusal once, and return the error for the helper to
 * throw (unchanged). Anything that is not one of the package's coded errors
 * is returned as it is, unrecorded (the helper did not refuse: the wrapped
 * saver or store failed). A thread id that broke the key rule is not
 * recorded (it is the offending value, like the labels of a bad namespace,
 * which are never recorded either).
 *
 * @example
 * try { return requireRunTenant(config); } catch (error) { throw recordInGraphRefusal(error, { helper: "run_config", config }); }
 */
export function recordInGraphRefusal(error: unknown, where: InGraphWhere): unknown {
  if (!(error instanceof AuthError) || recorded.has(error)) return error;
  recorded.add(error);
  const decisions = where.decisions ?? processLog();
  if (decisions === undefined) return error;
  const configurable = (where.config?.configurable ?? {}) as Record<string, unknown>;
  const resources: ResourceIds = {};
  const threadId = text(configurable.thread_id);
  if (threadId !== undefined && !(error instanceof InvalidTenantKeyError)) resources.thread_id = threadId;
  const runId = text(configurable.run_id);
  if (runId !== undefined) resources.run_id = runId;
  try {
    decisions.record({
      host: where.host ?? "app",
      source: "runtime",
      outcome: error.status >= 500 ? "error" : "refused",
      status: error.status,
      reason: error.reason,
      event: where.helper,
      resources,
      caller: decisionCaller(readToolCaller(configurable.langgraph_auth_user)),
    });
  } catch {
    // The record must never replace the refusal.
  }
  return error;
}
