import { MissingTenantContextError } from "../errors.ts";
import type { Principal } from "../tenant/principal.ts";
import { isTenantId } from "../tenant/tenant-id.ts";
import type { RefusalReason } from "../errors.ts";

/** Visibility inside a tenant: shared by members, or per owner. */
export type Visibility = "tenant" | "owner";

/** The metadata filter LangGraph applies to reads: plain values only (strict equality). */
export type TenantFilter = { tenant_id: string; owner?: string };

/**
 * The filter that matches only the caller's tenant (and, with `owner`
 * visibility, only what the caller created).
 *
 * Plain values are used on purpose: the server treats `{ $eq: "" }` and
 * unknown operators as "match everything", while a plain non-empty string is
 * strict equality. Both values were validated when the principal was built.
 *
 * @throws {MissingTenantContextError} the principal has no valid tenant or no
 * identity (403: never a match-all filter, never a plain error the server answers with 500).
 * @example
 * tenantFilter(principal, "tenant"); // { tenant_id: "acme" }
 * tenantFilter(principal, "owner");  // { tenant_id: "acme", owner: "alice" }
 */
export function tenantFilter(principal: Principal, visibility: Visibility): TenantFilter {
  requireScopedPrincipal(principal);
  return visibility === "owner"
    ? { tenant_id: principal.tenant_id, owner: principal.identity }
    : { tenant_id: principal.tenant_id };
}

/** A principal a filter or a stamp can be made of: a valid tenant id and a non-empty identity. */
function isScopedPrincipal(principal: Principal | null | undefined): principal is Principal {
  return isTenantId(principal?.tenant_id) && typeof principal.identity === "string" && principal.identity !== "";
}

function requireScopedPrincipal(principal: Principal | null | undefined): asserts principal is Principal {
  if (!isScopedPrincipal(principal)) {
    throw new MissingTenantContextError("the caller has no valid tenant and identity to scope this request to");
  }
}

/**
 * Metadata stamped on every resource a caller creates.
 *
 * @throws {MissingTenantContextError} the principal has no valid tenant or no identity (403): nothing is stamped with a missing tenant.
 * @example
 * tenantStamp(principal); // { tenant_id: "acme", owner: "alice" }
 */
export function tenantStamp(principal: Principal): { tenant_id: string; owner: string } {
  requireScopedPrincipal(principal);
  return { tenant_id: principal.tenant_id, owner: principal.identity };
}

/**
 * True when stored metadata matches the caller's tenant filter, with the
 * server's semantics for plain values (strict equality on every key).
 * False, never a throw, for a principal without a valid tenant and identity.
 *
 * @example
 * isInTenant(thread.metadata, principal, "tenant");
 */
export function isInTenant(metadata: unknown, principal: Principal, visibility: Visibility): boolean {
  if (metadata === null || typeof metadata !== "object" || !isScopedPrincipal(principal)) return false;
  const record = metadata as Record<string, unknown>;
  return Object.entries(tenantFilter(principal, visibility)).every(([key, expected]) => record[key] === expected);
}

/**
 * The tenant stored metadata names (`tenant_id`), or `undefined`.
 *
 * @example
 * tenantOf(thread.metadata); // "acme"
 */
export function tenantOf(metadata: unknown): string | undefined {
  const tenant = metadata !== null && typeof metadata === "object" ? (metadata as Record<string, unknown>).tenant_id : undefined;
  return typeof tenant === "string" && tenant !== "" ? tenant : undefined;
}

/**
 * The owner tenant of stored metadata, as a refusal's resources name it: the
 * tenant, marked as looked up in storage (so the decision log may key on it),
 * or nothing when the metadata names none.
 *
 * @example
 * lookedUpTenant(thread.metadata); // { tenant_id: "acme", tenant_looked_up: true }
 */
export function lookedUpTenant(metadata: unknown): { tenant_id?: string; tenant_looked_up?: true } {
  const tenant = tenantOf(metadata);
  return tenant === undefined ? {} : { tenant_id: tenant, tenant_looked_up: true };
}

/**
 * Why stored metadata that fails {@link isInTenant} is not the caller's: it
 * belongs to another tenant (`cross_tenant`), or, with `owner` visibility,
 * to another member of the caller's own tenant (`cross_owner`).
 *
 * @example
 * outsideReason(thread.metadata, principal); // "cross_tenant" for another tenant's thread
 */
export function outsideReason(metadata: unknown, principal: Principal): Extract<RefusalReason, "cross_tenant" | "cross_owner"> {
  const tenant = metadata !== null && typeof metadata === "object" ? (metadata as Record<string, unknown>).tenant_id : undefined;
  return tenant === principal.tenant_id ? "cross_owner" : "cross_tenant";
}
