import type { RunnableConfig } from "@langchain/core/runnables";
import { AsyncLocalStorageProviderSingleton } from "@langchain/core/singletons";
import {
  BaseCheckpointSaver,
  type ChannelVersions,
  type Checkpoint,
  type CheckpointListOptions,
  type CheckpointMetadata,
  type CheckpointTuple,
  type DeltaChannelHistory,
  type PendingWrite,
} from "@langchain/langgraph-checkpoint";
import { InvalidTenantKeyError } from "../errors.ts";
import { withTenantContext } from "../tenant/tenant-context.ts";
import { parseTenantKey, tenantKey } from "../tenant/tenant-key.ts";
import type { DecisionHost } from "../decision/decision-event.ts";
import type { DecisionLog } from "../decision/decision-log.ts";
import { recordInGraphRefusal } from "./in-graph-refusal.ts";
import { requireRunTenantIn, tenantIdOfRun, type TenantFromConfig } from "./run-tenant.ts";

/** Options of {@link createTenantCheckpointer}. */
export interface TenantCheckpointerOptions {
  /**
   * Reads the tenant id from a run's config.
   * Default {@link tenantIdOfRun}: `configurable.langgraph_auth_user.tenant_id`.
   */
  tenantFromConfig?: TenantFromConfig;
  /**
   * Where its refusals go, one decision event each (source `runtime`, event
   * `checkpointer`: no tenant in the run's config, a thread id that breaks
   * the key rule). Default: the process's decision log (`AUTH_DECISION_LOG*`).
   */
  decisions?: DecisionLog;
  /** The `host` of those events. Default `app`. */
  host?: DecisionHost;
}

function configurableOf(config: RunnableConfig | undefined): Record<string, unknown> {
  return (config?.configurable ?? {}) as Record<string, unknown>;
}

function rawThreadId(config: RunnableConfig | undefined): string {
  const threadId = configurableOf(config).thread_id;
  if (threadId === undefined || threadId === null || threadId === "") {
    throw new InvalidTenantKeyError("configurable.thread_id is required");
  }
  if (typeof threadId !== "string") throw new InvalidTenantKeyError("configurable.thread_id must be a string");
  return threadId;
}

/** The config with its thread id namespaced as `{tenant}::{thread}`. */
function scoped(config: RunnableConfig, tenant: string): RunnableConfig {
  return { ...config, configurable: { ...config.configurable, thread_id: tenantKey(tenant, rawThreadId(config)) } };
}

/**
 * The config a wrapped saver returned, with the caller's raw thread id back,
 * or `undefined` when it names another tenant's (or an unscoped) thread.
 */
function unscoped(config: RunnableConfig | undefined, tenant: string): RunnableConfig | undefined {
  const threadId = configurableOf(config).thread_id;
  if (typeof threadId !== "string") return undefined;
  let parts;
  try {
    parts = parseTenantKey(threadId);
  } catch {
    return undefined;
  }
  if (parts.tenantId !== tenant) return undefined;
  return { ...config, configurable: { ...config!.configurable, thread_id: parts.resourceId } };
}

function unscopedTuple(tuple: CheckpointTuple | undefined, tenant: string): CheckpointTuple | undefined {
  if (!tuple) return undefined;
  const config = unscoped(tuple.config, tenant);
  if (!config) return undefined;
  const result: CheckpointTuple = { ...tuple, config };
  if (tuple.parentConfig) {
    const parentConfig = unscoped(tuple.parentConfig, tenant);
    if (parentConfig) result.parentConfig = parentConfig;
    else delete result.parentConfig;
  }
  return result;
}

/**
 * A checkpointer that keeps each tenant's threads apart inside any LangGraph
 * `BaseCheckpointSaver` (memory, SQLite, Postgres…).
 *
 * The tenant comes from the run's config (where the LangGraph server puts the
 * authenticated user); the thread id is stored as `{tenant}::{thread}` on
 * put, putWrites, getTuple, list and deleteThread. Whatever thread id a
 * caller asks for, it can only reach keys under its own tenant prefix, and
 * every tuple read back is checked again before it is returned, with the
 * caller's raw thread id. No tenant in the config: refused (fail closed).
 *
 * The wrapped saver runs inside {@link withTenantContext}, so a Postgres
 * saver built on `createTenantScopedPool` also gets row-level security.
 *
 * @example
 * import { MemorySaver } from "@langchain/langgraph";
 * const graph = builder.compile({ checkpointer: createTenantCheckpointer(new MemorySaver()) });
 * await graph.invoke(input, { configurable: { thread_id: "t1", langgraph_auth_user: { tenant_id: "acme" } } });
 */
export class TenantCheckpointSaver<V extends string | number = number> extends BaseCheckpointSaver<V> {
  readonly saver: BaseCheckpointSaver<V>;
  readonly #tenantFromConfig: TenantFromConfig;
  readonly #decisions: DecisionLog | undefined;
  readonly #host: DecisionHost | undefined;

  constructor(saver: BaseCheckpointSaver<V>, options: TenantCheckpointerOptions = {}) {
    if (!saver || typeof saver.getTuple !== "function" || typeof saver.put !== "function") {
      throw new TypeError("createTenantCheckpointer: `saver` must be a BaseCheckpointSaver");
    }
    if (options.tenantFromConfig !== undefined && typeof options.tenantFromConfig !== "function") {
      throw new TypeError("createTenantCheckpointer: `tenantFromConfig` must be a function");
    }
    super(saver.serde);
    this.saver = saver;
    this.#tenantFromConfig = options.tenantFromConfig ?? tenantIdOfRun;
    this.#decisions = options.decisions;
    this.#host = options.host;
  }

  // Every refusal of this saver is thrown by the three methods below, each on the record once.

  #tenant(config: RunnableConfig | undefined): string {
    return requireRunTenantIn(config, this.#tenantFromConfig, { helper: "checkpointer", decisions: this.#decisions, host: this.#host });
  }

  /** `config` with its thread id scoped to the tenant ({@link scoped}); a thread id that breaks the key rule is a recorded refusal. */
  #scoped(config: RunnableConfig, tenant: string): RunnableConfig {
    try {
      return scoped(config, tenant);
    } catch (error) {
      throw this.#refused(error, config);
    }
  }

  #refused(error: unknown, config: RunnableConfig | undefined): unknown {
    return recordInGraphRefusal(error, { helper: "checkpointer", config, decisions: this.#decisions, host: this.#host });
  }

  override async getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
    const tenant = this.#tenant(config);
    const inner = this.#scoped(config, tenant);
    const tuple = await withTenantContext(tenant, () => this.saver.getTuple(inner));
    return unscopedTuple(tuple, tenant);
  }

  override async *list(config: RunnableConfig, options?: CheckpointListOptions): AsyncGenerator<CheckpointTuple> {
    const tenant = this.#tenant(config);
    const opts: CheckpointListOptions = { ...options };
    if (opts.before && configurableOf(opts.before).thread_id !== undefined) opts.before = this.#scoped(opts.before, tenant);
    const hasThread = configurableOf(config).thread_id !== undefined;
    let inner: RunnableConfig;
    if (hasThread) {
      inner = this.#scoped(config, tenant);
    } else {
      // Listing across threads: the wrapped saver cannot filter by prefix,
      // so read without its limit, keep this tenant's tuples, apply the limit here.
      const { thread_id: _omit, ...rest } = configurableOf(config);
      inner = { ...config, configurable: rest };
      delete opts.limit;
    }
    const limit = options?.limit;
    if (limit !== undefined && limit <= 0) return;
    const iterator = withTenantContext(tenant, () => this.saver.list(inner, opts));
    let yielded = 0;
    try {
      while (true) {
        // Each step of the wrapped generator runs in the tenant context.
        const step = await withTenantContext(tenant, () => iterator.next());
        if (step.done) return;
        const tuple = unscopedTuple(step.value, tenant);
        if (!tuple) continue;
        yield tuple;
        yielded += 1;
        if (limit !== undefined && yielded >= limit) return;
      }
    } finally {
      await withTenantContext(tenant, () => iterator.return?.(undefined));
    }
  }

  override async put(
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    newVersions: ChannelVersions,
  ): Promise<RunnableConfig> {
    const tenant = this.#tenant(config);
    const inner = this.#scoped(config, tenant);
    const saved = await withTenantContext(tenant, () => this.saver.put(inner, checkpoint, metadata, newVersions));
    const result = unscoped(saved, tenant);
    if (!result) throw this.#refused(new InvalidTenantKeyError("the wrapped checkpointer returned a thread outside the tenant"), config);
    return result;
  }

  override async putWrites(config: RunnableConfig, writes: PendingWrite[], taskId: string, taskPath?: string): Promise<void> {
    const tenant = this.#tenant(config);
    const inner = this.#scoped(config, tenant);
    await withTenantContext(tenant, () => this.saver.putWrites(inner, writes, taskId, taskPath));
  }

  /**
   * Delete one of the caller's threads. The base signature carries no config,
   * so the tenant comes from `config` when given, otherwise from the config
   * of the run this is called in (LangChain's async-local run config).
   *
   * @throws {MissingTenantContextError} no tenant in either (403).
   */
  override async deleteThread(threadId: string, config?: RunnableConfig): Promise<void> {
    const runConfig = config ?? (AsyncLocalStorageProviderSingleton.getRunnableConfig() as RunnableConfig | undefined);
    const tenant = this.#tenant(runConfig);
    const key = this.#scoped({ ...runConfig, configurable: { ...runConfig?.configurable, thread_id: threadId } }, tenant).configurable!.thread_id as string;
    await withTenantContext(tenant, () => this.saver.deleteThread(key));
  }

  override async getDeltaChannelHistory(options: {
    config: RunnableConfig;
    channels: string[];
  }): Promise<Record<string, DeltaChannelHistory>> {
    const tenant = this.#tenant(options.config);
    const inner = this.#scoped(options.config, tenant);
    return withTenantContext(tenant, () => this.saver.getDeltaChannelHistory({ config: inner, channels: options.channels }));
  }

  override getNextVersion(current: V | undefined): V {
    return this.saver.getNextVersion(current);
  }
}

/**
 * Wrap a LangGraph checkpointer so that each tenant only ever reaches its own
 * threads. See {@link TenantCheckpointSaver}.
 *
 * @throws {TypeError} `saver` is not a checkpointer, or a bad option.
 * @example
 * const checkpointer = createTenantCheckpointer(PostgresSaver.fromConnString(url));
 */
export function createTenantCheckpointer<V extends string | number = number>(
  saver: BaseCheckpointSaver<V>,
  options: TenantCheckpointerOptions = {},
): TenantCheckpointSaver<V> {
  return new TenantCheckpointSaver(saver, options);
}
