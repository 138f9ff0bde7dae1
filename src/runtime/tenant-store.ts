import type { RunnableConfig } from "@langchain/core/runnables";
import {
  BaseStore,
  validateNamespace,
  type Item,
  type ListNamespacesOperation,
  type MatchCondition,
  type Operation,
  type OperationResults,
  type SearchItem,
} from "@langchain/langgraph-checkpoint";
import { InvalidOptionError, InvalidStoreNamespaceError, InvalidTenantIdError } from "../errors.ts";
import { withTenantContext } from "../tenant/tenant-context.ts";
import { isTenantId } from "../tenant/tenant-id.ts";
import { tenantNamespaceLabel } from "../tenant/tenant-namespace-label.ts";
import { recordInGraphRefusal } from "./in-graph-refusal.ts";
import { requireRunTenantIn, tenantIdOfRun, type TenantFromConfig } from "./run-tenant.ts";

/**
 * LangGraph's own namespace rules, as a coded error: its `InvalidNamespaceError`
 * is a plain error (a 500) whose message quotes the labels. Only a list is a
 * namespace (a string would be spread into one-character labels).
 */
function requireNamespace(namespace: unknown, options: { allowEmpty: boolean; allowReservedRoot: boolean }): void {
  if (!Array.isArray(namespace)) throw new InvalidStoreNamespaceError("a store namespace must be a list of labels");
  try {
    validateNamespace(namespace, options);
  } catch (error) {
    throw new InvalidStoreNamespaceError(undefined, { cause: error });
  }
}

function isListNamespaces(op: Operation): op is ListNamespacesOperation {
  return "limit" in op && "offset" in op && !("namespacePrefix" in op) && !("namespace" in op);
}

function suffixMatches(condition: MatchCondition, namespace: readonly string[]): boolean {
  const { path } = condition;
  if (path.length > namespace.length) return false;
  return path.every((label, i) => label === "*" || namespace[namespace.length - path.length + i] === label);
}

/**
 * A LangGraph store bound to one tenant: the tenant's namespace label
 * (`tenantNamespaceLabel`: the tenant id, with `.` and `_` escaped as `~2E`
 * and `~5F`, which every LangGraph store accepts) is put first in every
 * namespace it passes to the wrapped `BaseStore`, and taken off again in
 * every item and namespace it returns, for put, get, search,
 * listNamespaces, delete and batch. Whatever namespace the caller names, it
 * stays under `[tenant, ...]`; anything read back outside it is dropped.
 *
 * The tenant is bound when the wrapper is made (LangGraph runs store
 * operations from a background batching loop, where no run context can be
 * trusted); build one per run with {@link createTenantStoreForRun}.
 *
 * @example
 * const store = createTenantStore(new InMemoryStore(), "acme");
 * await store.put(["memories"], "m1", { text: "likes tea" }); // stored under ["acme", "memories"]
 */
export class TenantStore extends BaseStore {
  readonly store: BaseStore;
  readonly tenantId: string;
  /** The tenant's first namespace label in the wrapped store (`tenantNamespaceLabel`: `acme.eu` → `acme~2Eeu`). */
  readonly label: string;

  /** The run's config when built for a run: its verified user is the caller its refusals name. */
  readonly #config: RunnableConfig | undefined;

  /**
   * @param config The run's config, when the store is made for a run
   * ({@link createTenantStoreForRun}): its refusals then name the caller.
   */
  constructor(store: BaseStore, tenantId: string, config?: RunnableConfig) {
    super();
    this.#config = config;
    // Built per run or per request, so a bad store is a coded error (a graph compiled without a store has none in its config).
    if (!store || typeof store.batch !== "function") {
      throw this.#refused(new InvalidOptionError("store", "must be a LangGraph BaseStore (was the graph compiled with a store?)"));
    }
    if (!isTenantId(tenantId)) throw this.#refused(new InvalidTenantIdError());
    // Inside a run, `config.store` is LangGraph's AsyncBatchedStore, whose own
    // `batch` throws by design; wrap the store it batches for, as LangGraph does.
    const batched = store as BaseStore & { lg_name?: string; store?: BaseStore };
    this.store = batched.lg_name === "AsyncBatchedStore" && batched.store ? batched.store : store;
    this.tenantId = tenantId;
    this.label = tenantNamespaceLabel(tenantId);
  }

  /**
   * Every refusal of this store is thrown through here (the constructor and
   * {@link TenantStore.#requireNamespace}): one decision event each (source
   * `runtime`, event `store`), on the process's decision log.
   */
  #refused(error: unknown): unknown {
    return recordInGraphRefusal(error, { helper: "store", config: this.#config });
  }

  /** LangGraph's namespace rules ({@link requireNamespace}), a refusal on the record. */
  #requireNamespace(namespace: unknown, options: { allowEmpty: boolean; allowReservedRoot: boolean }): void {
    try {
      requireNamespace(namespace, options);
    } catch (error) {
      throw this.#refused(error);
    }
  }

  #in(namespace: readonly string[]): string[] {
    return [this.label, ...namespace];
  }

  /** The caller's view of a wrapped namespace, or `undefined` if it is not this tenant's. */
  #out(namespace: readonly string[] | undefined): string[] | undefined {
    if (!Array.isArray(namespace) || namespace[0] !== this.label) return undefined;
    return namespace.slice(1);
  }

  #item<T extends Item | SearchItem>(item: T | null | undefined): T | null {
    if (!item) return null;
    const namespace = this.#out(item.namespace);
    // A copy: the wrapped store may hand out its own stored object.
    return namespace ? { ...item, namespace } : null;
  }

  // BaseStore's get, search, put, delete and listNamespaces check the
  // namespace before they reach `batch`, with LangGraph's plain error: the
  // same checks run first here, as coded errors.
  override async get(namespace: string[], key: string): Promise<Item | null> {
    this.#requireNamespace(namespace, { allowEmpty: true, allowReservedRoot: true });
    return super.get(namespace, key);
  }

  override async search(namespacePrefix: string[], options?: Parameters<BaseStore["search"]>[1]): Promise<SearchItem[]> {
    this.#requireNamespace(namespacePrefix, { allowEmpty: true, allowReservedRoot: true });
    return super.search(namespacePrefix, options);
  }

  override async put(namespace: string[], key: string, value: Record<string, unknown>, index?: false | string[]): Promise<void> {
    this.#requireNamespace(namespace, { allowEmpty: false, allowReservedRoot: false });
    return super.put(namespace, key, value, index);
  }

  override async delete(namespace: string[], key: string): Promise<void> {
    this.#requireNamespace(namespace, { allowEmpty: true, allowReservedRoot: true });
    return super.delete(namespace, key);
  }

  override async listNamespaces(options: Parameters<BaseStore["listNamespaces"]>[0] = {}): Promise<string[][]> {
    if (options?.prefix) this.#requireNamespace(options.prefix, { allowEmpty: true, allowReservedRoot: true });
    if (options?.suffix) this.#requireNamespace(options.suffix, { allowEmpty: true, allowReservedRoot: true });
    return super.listNamespaces(options);
  }

  override async batch<Op extends Operation[]>(operations: Op): Promise<OperationResults<Op>> {
    type Post = (result: unknown) => unknown;
    const inner: Operation[] = [];
    const post: Post[] = [];
    if (!Array.isArray(operations)) throw new InvalidOptionError("operations", "TenantStore.batch takes a list of store operations");
    for (const op of operations) {
      if (op === null || typeof op !== "object") throw new InvalidOptionError("operations", "every store operation must be an object");
      if ("namespacePrefix" in op) {
        this.#requireNamespace(op.namespacePrefix, { allowEmpty: true, allowReservedRoot: true });
        inner.push({ ...op, namespacePrefix: this.#in(op.namespacePrefix) });
        post.push((r) => ((r as SearchItem[] | null) ?? []).map((i) => this.#item(i)).filter((i): i is SearchItem => i !== null));
      } else if ("namespace" in op && "value" in op) {
        this.#requireNamespace(op.namespace, { allowEmpty: op.value === null, allowReservedRoot: true });
        inner.push({ ...op, namespace: this.#in(op.namespace) });
        post.push(() => undefined);
      } else if ("namespace" in op) {
        this.#requireNamespace(op.namespace, { allowEmpty: true, allowReservedRoot: true });
        inner.push({ ...op, namespace: this.#in(op.namespace) });
        post.push((r) => this.#item(r as Item | null));
      } else if (isListNamespaces(op)) {
        const { op: listOp, post: listPost } = this.#listNamespaces(op);
        inner.push(listOp);
        post.push(listPost);
      } else {
        throw new InvalidOptionError("operations", "TenantStore.batch was given an unknown store operation");
      }
    }
    const results = await withTenantContext(this.tenantId, () => this.store.batch(inner));
    return results.map((r, i) => post[i]!(r)) as OperationResults<Op>;
  }

  #listNamespaces(op: ListNamespacesOperation): { op: ListNamespacesOperation; post: (r: unknown) => string[][] } {
    const conditions = op.matchConditions ?? [];
    if (!Array.isArray(conditions)) throw new InvalidOptionError("operations", "matchConditions must be a list");
    for (const c of conditions) this.#requireNamespace(c?.path, { allowEmpty: true, allowReservedRoot: true });
    const prefixes = conditions.filter((c) => c.matchType === "prefix");
    const suffixes = conditions.filter((c) => c.matchType === "suffix");
    const innerConditions: MatchCondition[] = prefixes.length
      ? prefixes.map((c) => ({ matchType: "prefix", path: this.#in(c.path) }))
      : [{ matchType: "prefix", path: [this.label] }];
    const strip = (r: unknown) =>
      ((r as string[][] | null) ?? []).map((ns) => this.#out(ns)).filter((ns): ns is string[] => ns !== undefined && ns.length > 0);
    if (suffixes.length === 0) {
      return {
        op: { ...op, matchConditions: innerConditions, ...(op.maxDepth !== undefined ? { maxDepth: op.maxDepth + 1 } : {}) },
        post: strip,
      };
    }
    // A suffix could match the tenant label itself in the wrapped store
    // (`["*", "x"]` against `[tenant, "x"]`): filter, cut to depth and page here.
    return {
      op: { matchConditions: innerConditions, limit: Number.MAX_SAFE_INTEGER, offset: 0 },
      post: (r) => {
        const seen = new Set<string>();
        const out: string[][] = [];
        for (const ns of strip(r)) {
          if (!suffixes.every((c) => suffixMatches(c, ns))) continue;
          const cut = op.maxDepth !== undefined ? ns.slice(0, op.maxDepth) : ns;
          const id = JSON.stringify(cut);
          if (seen.has(id)) continue;
          seen.add(id);
          out.push(cut);
        }
        return out.slice(op.offset ?? 0, (op.offset ?? 0) + (op.limit ?? out.length));
      },
    };
  }

  override start(): void | Promise<void> {
    return this.store.start();
  }

  override stop(): void | Promise<void> {
    return this.store.stop();
  }
}

/**
 * Wrap a LangGraph store for one tenant. See {@link TenantStore}.
 *
 * @throws {InvalidOptionError} `store` is not a `BaseStore` (500).
 * @throws {InvalidTenantIdError} the tenant id breaks the rule (400).
 * @example
 * const store = createTenantStore(new InMemoryStore(), principal.tenant_id);
 */
export function createTenantStore(store: BaseStore, tenantId: string): TenantStore {
  return new TenantStore(store, tenantId);
}

/**
 * Wrap a LangGraph store for the tenant of a run: inside a node, with the
 * tenant taken from `configurable.langgraph_auth_user.tenant_id`.
 *
 * @throws {MissingTenantContextError} no tenant in the run's config (403).
 * @throws {InvalidOptionError} `store` is not a `BaseStore`, e.g. a graph compiled without one (500).
 * @example
 * async function remember(state, config) {
 *   const store = createTenantStoreForRun(config.store, config);
 *   await store.put(["memories"], crypto.randomUUID(), { text: state.note });
 * }
 */
export function createTenantStoreForRun(
  store: BaseStore,
  config: RunnableConfig | undefined,
  tenantFromConfig?: TenantFromConfig,
): TenantStore {
  return new TenantStore(store, requireRunTenantIn(config, tenantFromConfig ?? tenantIdOfRun, { helper: "store" }), config);
}
