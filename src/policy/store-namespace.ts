import { RouteRefusedError, TenantForbiddenError, type RefusalReason, type ResourceIds } from "../errors.ts";
import type { Principal } from "../tenant/principal.ts";
import { isTenantId } from "../tenant/tenant-id.ts";
import { tenantIdFromNamespaceLabel, tenantNamespaceLabel } from "../tenant/tenant-namespace-label.ts";

/**
 * Require that a store namespace lies inside the caller's tenant: its first
 * segment is the tenant's namespace label (`tenantNamespaceLabel`: the
 * tenant id itself, except that `.` and `_` are written `~2E` and `~5F`).
 * With `owner` visibility the second segment must also be the caller's
 * identity (`[tenant, user, ...]`).
 *
 * A label containing `:` is refused (400): the server's in-memory store keys
 * items by `namespace.join(":")` and throws a plain error for such a label,
 * which the server answers with a 500 (it checks only for `.` itself).
 *
 * @throws {TenantForbiddenError} missing, empty or foreign namespace (403).
 * @throws {RouteRefusedError} a label with a `:` (400).
 * @example
 * requireTenantNamespace(["acme", "memories"], principal); // passes for tenant "acme"
 */
export function requireTenantNamespace(
  namespace: readonly unknown[] | null | undefined,
  principal: Principal,
  options: { owner?: boolean } = {},
): void {
  if (!isTenantNamespace(namespace, principal)) {
    throw new TenantForbiddenError(storeNamespaceHint(principal.tenant_id), refusedNamespaceReason(namespace), { resources: namespaceResources(namespace) });
  }
  if (namespace.some((label) => typeof label !== "string" || label.includes(":"))) {
    throw new RouteRefusedError(400, 'store namespace labels cannot contain ":"', "store_namespace_refused");
  }
  if (options.owner && namespace[1] !== principal.identity) {
    throw new TenantForbiddenError("store namespaces must be [tenant, user, ...] with owner visibility", "cross_owner", { resources: namespaceResources(namespace) });
  }
}

/**
 * Why a namespace outside the caller's tenant is refused: its first label is
 * another tenant's label (`cross_tenant`), or it names no tenant at all
 * (`store_namespace_refused`: none, empty, not a label).
 *
 * @example
 * refusedNamespaceReason(["globex", "notes"]); // "cross_tenant"
 */
export function refusedNamespaceReason(namespace: unknown): Extract<RefusalReason, "cross_tenant" | "store_namespace_refused"> {
  const first = Array.isArray(namespace) ? (namespace[0] as unknown) : undefined;
  return typeof first === "string" && tenantIdFromNamespaceLabel(first) !== undefined ? "cross_tenant" : "store_namespace_refused";
}

/**
 * A namespace as a refusal records it, for the decision log: its labels
 * (when all are strings) and the tenant its first label names.
 *
 * @example
 * namespaceResources(["globex", "notes"]); // { namespace: ["globex", "notes"], tenant_id: "globex" }
 */
export function namespaceResources(namespace: unknown): ResourceIds {
  if (!Array.isArray(namespace)) return {};
  const tenant = tenantIdFromNamespaceLabel(namespace[0]);
  return {
    ...(namespace.every((label) => typeof label === "string") ? { namespace: namespace as string[] } : {}),
    ...(tenant !== undefined ? { tenant_id: tenant } : {}),
  };
}

/**
 * True when `namespace` is an array whose first label is the caller's
 * tenant label (`tenantNamespaceLabel`). False for anything else, a
 * principal whose tenant breaks the rule included: never throws.
 *
 * @example
 * isTenantNamespace(["acme~2Eeu", "notes"], principal); // true for tenant "acme.eu"
 */
export function isTenantNamespace(namespace: unknown, principal: Principal): namespace is readonly unknown[] {
  return Array.isArray(namespace) && isTenantId(principal.tenant_id) && namespace[0] === tenantNamespaceLabel(principal.tenant_id);
}

/**
 * The words of a refused store namespace: which first label the caller's
 * tenant must use. Shared by the store handlers and the route policy.
 *
 * @example
 * storeNamespaceHint("acme.eu"); // 'store namespaces must start with your tenant\'s label ("acme~2Eeu" for tenant "acme.eu")'
 */
export function storeNamespaceHint(tenantId: string): string {
  if (!isTenantId(tenantId)) return "store namespaces must start with your tenant's label";
  const label = tenantNamespaceLabel(tenantId);
  return label === tenantId
    ? `store namespaces must start with your tenant ("${tenantId}")`
    : `store namespaces must start with your tenant's label ("${label}" for tenant "${tenantId}")`;
}
