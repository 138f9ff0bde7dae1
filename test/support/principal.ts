/** A principal for unit tests, as `toPrincipal` would build it; fields override the defaults. */
import type { Principal } from "../../src/tenant/principal.ts";

export function makePrincipal(fields: Partial<Principal> = {}): Principal {
  const identity = fields.identity ?? "bob";
  return {
    identity,
    tenant_id: "tenant-b",
    permissions: [],
    roles: [],
    display_name: identity,
    issuer: "https://issuer.example",
    is_authenticated: true,
    ...fields,
  };
}
