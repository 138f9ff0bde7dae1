import { RouteRefusedError, TenantForbiddenError } from "../errors.ts";
import type { Principal } from "../tenant/principal.ts";

/**
 * Require that a store namespace lies inside the caller's tenant: its first
 * segment is the tenant id. With `owner` visibility the second segment must
 * also be the caller's identity (`[tenant, user, ...]`).
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
  if (!Array.isArray(namespace) || namespace[0] !== principal.tenant_id) {
    throw new TenantForbiddenError(`store namespaces must start with your tenant ("${principal.tenant_id}")`);
  }
  if (namespace.some((label) => typeof label !== "string" || label.includes(":"))) {
    throw new RouteRefusedError(400, 'store namespace labels cannot contain ":"');
  }
  if (options.owner && namespace[1] !== principal.identity) {
    throw new TenantForbiddenError("store namespaces must be [tenant, user, ...] with owner visibility");
  }
}
