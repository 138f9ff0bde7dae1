import { randomUUID } from "node:crypto";
import { ToolMessage, isBaseMessage } from "@langchain/core/messages";
import type { ToolCall } from "@langchain/core/messages/tool";
import type { RunnableConfig } from "@langchain/core/runnables";
import { isGraphInterrupt } from "@langchain/langgraph";
import { ToolNode } from "@langchain/langgraph/prebuilt";
import { NO_TENANT, digestArguments, type AuditDecision, type AuditEntry } from "../audit/audit-record.ts";
import type { AuditLog } from "../audit/audit-log.ts";
import { InvalidOptionError } from "../errors.ts";
import { canonicalJson } from "../audit/canonical-json.ts";
import { readToolCaller, type Named, type ToolPolicy } from "../policy/tool-policy.ts";
import type { Principal } from "../tenant/principal.ts";
import type { RefusalReason } from "../errors.ts";
import { decisionCaller, type DecisionHost } from "../decision/decision-event.ts";
import type { DecisionLog } from "../decision/decision-log.ts";
import { decisionLogFromEnv } from "../decision/shared-decision-log.ts";
import type { AuthMetrics } from "../metrics/create-auth-metrics.ts";
import { metricsFromEnv } from "../metrics/metrics-from-env.ts";

/** A tool a `ToolNode` accepts. */
export type GuardableTool = ConstructorParameters<typeof ToolNode>[0][number];

/** Options of a `ToolNode` (name, tags, handleToolErrors). */
export type GuardedToolNodeOptions = ConstructorParameters<typeof ToolNode>[1];

/** Who runs a tool call, read from the run's config. */
export interface RunCaller {
  /** The principal, or `undefined` when the run has no valid user (it then gets no tools). */
  user: Principal | undefined;
  tenant_id: string;
  user_id: string | null;
  thread_id: string | null;
  run_id: string | null;
}

/**
 * Read the caller of a run: `configurable.langgraph_auth_user` (which the
 * LangGraph server sets from `authenticate` and overwrites over anything a
 * client sends), `thread_id` and `run_id`.
 *
 * @example
 * const { user, thread_id } = readRunCaller(config);
 */
export function readRunCaller(config: RunnableConfig | undefined): RunCaller {
  const configurable = (config?.configurable ?? {}) as Record<string, unknown>;
  const user = readToolCaller(configurable.langgraph_auth_user);
  const text = (value: unknown) => (typeof value === "string" && value !== "" ? value : null);
  return {
    user,
    tenant_id: user?.tenant_id ?? NO_TENANT,
    user_id: user?.identity ?? null,
    thread_id: text(configurable.thread_id),
    run_id: text(configurable.run_id),
  };
}

/** Options of {@link createToolGuard}. */
export interface ToolGuardOptions {
  policy: ToolPolicy;
  audit: AuditLog;
  /**
   * Put (redacted) arguments into the record: the hook gets the arguments
   * and the tool name and returns what to store. Default: none, only the
   * SHA-256 digest of the arguments is stored.
   */
  captureArguments?: (args: unknown, tool: string) => unknown;
  /** Clock for the record's `time`. Default `() => new Date()`. */
  clock?: () => Date;
  /** Monotonic milliseconds for `duration_ms`. Default `performance.now`. */
  timer?: () => number;
  /** The `call_id` linking a call's records (unique per call). Default `crypto.randomUUID`. */
  callId?: () => string;
  /**
   * Where refusals are also recorded as decision events (source
   * `tool_guard`, reason code, `decision_id`; see `src/decision/`). Default:
   * the process's decision log for `AUTH_DECISION_LOG*`. The refused
   * record carries the same `reason_code` and `decision_id` either way.
   */
  decisions?: DecisionLog;
  /** The `host` of those events. Default `app` (the graph is not told which server runs it). */
  host?: DecisionHost;
  /**
   * Where the metrics go (see `src/metrics/`): the refusals, and the audit
   * records written and refused (writer `tool_guard`). Default: the
   * process's (`metricsFromEnv(process.env)`), which record nothing when no
   * OpenTelemetry SDK is registered.
   */
  metrics?: AuthMetrics;
}

/** Tool binding and execution for one policy and one audit log. */
export interface ToolGuard {
  /** The tools the run's caller may use: bind exactly these. No user, no tools. */
  toolsFor<T extends Named>(config: RunnableConfig | undefined, tools: readonly T[]): T[];
  /**
   * Run one tool call as the run's caller, whatever the model emitted. A
   * refused call never reaches the tool and comes back as an error
   * `ToolMessage` the model can read, recorded as `"refused"`. An allowed
   * call is recorded as `"started"` before the tool runs (write-ahead: a
   * process that dies meanwhile leaves that record), then as `"finished"`
   * or `"failed"`, both with the same `call_id`.
   *
   * @throws {AuditWriteError} a record could not be written: the started
   * record (the tool then does not run) or the outcome (after the tool ran).
   * @throws {InvalidOptionError} `tools` is not a list of uniquely named
   * tools, or the `callId` option returned no id (500: the deployment's mistake).
   */
  invoke(tools: readonly GuardableTool[], call: ToolCall, config: RunnableConfig | undefined): Promise<ToolMessage>;
  /**
   * A LangGraph `ToolNode` whose every call goes through this guard.
   *
   * @throws {TypeError} at construction: a tool without a string name, or two tools of one name.
   */
  createToolNode(tools: GuardableTool[], options?: GuardedToolNodeOptions): ToolNode;
}

/**
 * The refusal the model reads. It does not say whether the tool exists, so
 * a probing prompt learns nothing about tools it was not given.
 *
 * @example
 * refusalMessage({ name: "refund", args: {}, id: "call_1" }).status; // "error"
 */
export function refusalMessage(call: ToolCall): ToolMessage {
  return new ToolMessage({
    status: "error",
    name: call.name,
    tool_call_id: call.id ?? "",
    content: `Error: the tool "${String(call.name).slice(0, 64)}" is not available to this user, so it was not run. Do not call it again; tell the user this needs other permissions.`,
  });
}

/**
 * The tools' names, each once. `when`: a `ToolNode` is built once, so its
 * tools are checked like any option (a `TypeError`); `invoke` gets them with
 * every call, so there the mistake is a coded error of the request.
 */
function requireUniqueNames(tools: readonly Named[], when: "construction" | "request"): Set<string> {
  const fail = (problem: string) => (when === "request" ? new InvalidOptionError("tools", problem) : new TypeError(`tools: ${problem}`));
  if (!Array.isArray(tools)) throw fail("must be a list of tools");
  const names = new Set<string>();
  for (const tool of tools) {
    if (!tool || typeof tool.name !== "string") throw fail("every tool needs a string name");
    if (names.has(tool.name)) throw fail(`two tools are named "${tool.name}"; a call would be ambiguous`);
    names.add(tool.name);
  }
  return names;
}

type Outcome = ToolMessage | unknown;

/**
 * Build the guard: binding filter, plain-call runner and `ToolNode` factory,
 * all checking the same policy and writing the same audit log.
 *
 * @example
 * const guard = createToolGuard({ policy, audit });
 * const model = chatModel.bindTools(guard.toolsFor(config, tools)); // in the agent node
 * graph.addNode("tools", guard.createToolNode(tools));              // refuses what the model should not call
 */
export function createToolGuard(options: ToolGuardOptions): ToolGuard {
  const { policy } = options ?? ({} as ToolGuardOptions);
  if (!policy || typeof policy.isAllowed !== "function") throw new TypeError("createToolGuard: options.policy must be a ToolPolicy");
  if (!options?.audit || typeof options.audit.record !== "function") throw new TypeError("createToolGuard: options.audit must be an AuditLog");
  if (options.captureArguments !== undefined && typeof options.captureArguments !== "function") {
    throw new TypeError("createToolGuard: options.captureArguments must be a function");
  }
  const clock = options.clock ?? (() => new Date());
  const timer = options.timer ?? (() => performance.now());
  if (options.callId !== undefined && typeof options.callId !== "function") {
    throw new TypeError("createToolGuard: options.callId must be a function");
  }
  const makeCallId = options.callId ?? (() => randomUUID());
  const decisions = options.decisions ?? decisionLogFromEnv(process.env);
  const host = options.host ?? "app";
  const metrics = options.metrics ?? metricsFromEnv(process.env);
  metrics.observeDecisions(decisions);
  // With metrics, the records go through a log that counts them.
  const audit = metrics.observeAudit(options.audit, "tool_guard");
  const callId = () => {
    const id = makeCallId();
    // The record's schema bounds it; a bad id would only surface at verify time.
    if (typeof id !== "string" || id.length < 1 || id.length > 128) throw new InvalidOptionError("callId", "must return 1 to 128 characters");
    return id;
  };

  async function guarded(
    call: ToolCall,
    config: RunnableConfig | undefined,
    available: ReadonlySet<string>,
    run: () => Promise<Outcome>,
  ): Promise<Outcome> {
    const caller = readRunCaller(config);
    const name = typeof call?.name === "string" ? call.name : "";
    const base = {
      tenant_id: caller.tenant_id,
      user_id: caller.user_id,
      thread_id: caller.thread_id,
      run_id: caller.run_id,
      tool: name.slice(0, 256),
      tool_call_id: typeof call?.id === "string" ? call.id.slice(0, 256) : null,
      call_id: callId(),
    };
    let argsDigest: string;
    let refusal: { reason: string; code: RefusalReason } | undefined;
    try {
      argsDigest = digestArguments(call.args ?? {});
    } catch {
      argsDigest = digestArguments(null);
      refusal = { reason: "the arguments have no JSON form", code: "tool_arguments_unreadable" };
    }
    if (!caller.user) refusal ??= { reason: "the run has no authenticated user", code: "tool_run_unauthenticated" };
    else if (!available.has(name)) refusal ??= { reason: "no tool of this name is installed", code: "tool_unknown" };
    else if (!policy.isAllowed(caller.user, name)) refusal ??= { reason: "the policy does not allow this tool for this user", code: "tool_not_allowed" };
    let captured: unknown;
    if (refusal === undefined && options.captureArguments) {
      // A redaction hook that fails must not let unredacted arguments through
      // or leave the call unrecorded: the call is refused and says why.
      try {
        captured = options.captureArguments(call.args, name);
        if (captured !== undefined) canonicalJson(captured); // must have a JSON form to be sealed
      } catch {
        refusal = { reason: "the argument capture hook failed", code: "tool_capture_failed" };
      }
    }

    // Every record of this call: the same caller, tool, call_id and digest.
    // Built field by field, not by spreading: this runs twice per call.
    const write = (
      decision: AuditDecision,
      reason: string | null,
      more: Partial<Pick<AuditEntry, "duration_ms" | "args" | "reason_code" | "decision_id">> = {},
    ) =>
      audit.record({
        tenant_id: base.tenant_id, user_id: base.user_id, thread_id: base.thread_id, run_id: base.run_id, tool: base.tool,
        tool_call_id: base.tool_call_id, call_id: base.call_id, time: clock().toISOString(), decision, reason,
        duration_ms: more.duration_ms ?? 0, args_sha256: argsDigest, args: more.args,
        ...(more.reason_code !== undefined ? { reason_code: more.reason_code, decision_id: more.decision_id } : {}),
      });

    if (refusal !== undefined) {
      // The decision is recorded once, here (the tool's name stays in the audit record only: the model chose it).
      const recorded = decisions.record({
        host,
        source: "tool_guard",
        outcome: "refused",
        status: null,
        reason: refusal.code,
        event: "tool_call",
        resources: { ...(caller.thread_id ? { thread_id: caller.thread_id } : {}), ...(caller.run_id ? { run_id: caller.run_id } : {}) },
        caller: decisionCaller(caller.user),
      });
      await write("refused", refusal.reason, { reason_code: refusal.code, decision_id: recorded ?? randomUUID() });
      return refusalMessage({ ...call, name });
    }

    // A sink that cannot write stops the call before the tool does anything,
    // and the started record is on the sink before the tool runs: if the
    // process dies while it runs, the call is still on record (unfinished).
    await audit.ready();
    await write("started", null, captured !== undefined ? { args: captured } : {});
    const started = timer();
    let decision: AuditDecision = "failed";
    let reason: string | null = "the tool threw an error";
    try {
      const outcome = await run();
      if (isBaseMessage(outcome) && ToolMessage.isInstance(outcome) && outcome.status === "error") {
        reason = "the tool reported an error";
      } else {
        decision = "finished";
        reason = null;
      }
      return outcome;
    } catch (error) {
      if (isGraphInterrupt(error)) {
        decision = "finished";
        reason = "the tool interrupted the run";
      } else {
        // The error's name only: its message may quote arguments or secrets.
        const errorName = (error as Error | undefined)?.name;
        reason = `the tool threw ${typeof errorName === "string" && errorName !== "" ? errorName.slice(0, 100) : "an error"}`;
      }
      throw error;
    } finally {
      // Awaited in `finally`: a tool that throws cannot skip its record, and
      // a record that cannot be written replaces the outcome with its error.
      // The captured arguments are in the started record already.
      await write(decision, reason, { duration_ms: Math.max(0, Math.round((timer() - started) * 1000) / 1000) });
    }
  }

  class GuardedToolNode extends ToolNode {
    private readonly names: Set<string>;
    constructor(tools: GuardableTool[], nodeOptions?: GuardedToolNodeOptions) {
      const names = requireUniqueNames(tools, "construction");
      super(tools, nodeOptions);
      this.names = names;
    }
    protected override async runTool(call: ToolCall, config: RunnableConfig, state: unknown) {
      return (await guarded(call, config, this.names, () => super.runTool(call, config, state))) as Awaited<
        ReturnType<ToolNode["runTool"]>
      >;
    }
  }

  return {
    toolsFor: (config, tools) => policy.toolsFor(readRunCaller(config).user, tools),
    async invoke(tools, call, config) {
      const names = requireUniqueNames(tools, "request");
      const outcome = await guarded(call, config, names, async () => {
        const tool = tools.find((t) => t.name === call.name)!;
        try {
          const output = await tool.invoke({ ...call, type: "tool_call" }, config);
          if (isBaseMessage(output) && ToolMessage.isInstance(output)) return output;
          return new ToolMessage({
            status: "success",
            name: tool.name,
            tool_call_id: call.id ?? "",
            content: typeof output === "string" ? output : JSON.stringify(output),
          });
        } catch (error) {
          if (isGraphInterrupt(error)) throw error;
          // As ToolNode does: the model reads the failure and may recover.
          return new ToolMessage({
            status: "error",
            name: tool.name,
            tool_call_id: call.id ?? "",
            content: `Error: ${(error as Error)?.message ?? String(error)}\n Please fix your mistakes.`,
          });
        }
      });
      return outcome as ToolMessage;
    },
    createToolNode: (tools, nodeOptions) => new GuardedToolNode(tools, nodeOptions),
  };
}
