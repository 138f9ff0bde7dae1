import type { RunnableConfig } from "@langchain/core/runnables";
import { InvalidOptionError, MissingTenantContextError } from "../errors.ts";
import { isTenantId } from "../tenant/tenant-id.ts";
import { recordInGraphRefusal, type InGraphWhere } from "./in-graph-refusal.ts";

/** Reads the tenant id out of a run's config. */
export type TenantFromConfig = (config: RunnableConfig | undefined) => unknown;

/**
 * Where the LangGraph server puts the authenticated user of a run:
 * `config.configurable.langgraph_auth_user` (see `applyAuthToRunConfig` in
 * `@langchain/langgraph-api`), whose `tenant_id` our `authenticate` sets.
 *
 * @example
 * tenantIdOfRun({ configurable: { langgraph_auth_user: { tenant_id: "acme" } } }); // "acme"
 */
export const tenantIdOfRun: TenantFromConfig = (config) => {
  const user = (config?.configurable as Record<string, unknown> | undefined)?.langgraph_auth_user;
  if (user === null || typeof user !== "object") return undefined;
  return (user as Record<string, unknown>).tenant_id;
};

/**
 * The run's tenant id, checked with the tenant id rule; fails closed.
 *
 * Its refusal is one decision event (source `runtime`, event `run_config`)
 * of the process's decision log.
 *
 * @throws {MissingTenantContextError} no tenant in the config, or one that breaks the rule (403).
 * @throws {InvalidOptionError} `read` is not a function (500: the deployment's mistake, found at request time).
 * @example
 * const tenant = requireRunTenant(config);
 */
export function requireRunTenant(config: RunnableConfig | undefined, read: TenantFromConfig = tenantIdOfRun): string {
  return requireRunTenantIn(config, read, { helper: "run_config" });
}

/**
 * {@link requireRunTenant} for a runtime helper: its refusal is on the
 * record (`recordInGraphRefusal`) as the helper's.
 *
 * @example
 * const tenant = requireRunTenantIn(config, tenantIdOfRun, { helper: "checkpointer", decisions });
 */
export function requireRunTenantIn(config: RunnableConfig | undefined, read: TenantFromConfig, where: Omit<InGraphWhere, "config">): string {
  try {
    if (typeof read !== "function") throw new InvalidOptionError("tenantFromConfig", "must be a function of the run's config");
    const tenant = read(config);
    if (tenant === undefined || tenant === null || tenant === "") throw new MissingTenantContextError();
    if (!isTenantId(tenant)) throw new MissingTenantContextError("the run's tenant id is not a valid tenant id");
    return tenant;
  } catch (error) {
    throw recordInGraphRefusal(error, { ...where, config });
  }
}
