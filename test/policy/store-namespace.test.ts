/**
 * Store namespaces of tenants of every legal shape, as the store handlers
 * and the route policy check them (both through these functions).
 */
import { describe, expect, it } from "vitest";
import { TenantForbiddenError } from "../../src/errors.ts";
import { createRoutePolicy } from "../../src/policy/route-policy.ts";
import { isTenantNamespace, requireTenantNamespace, storeNamespaceHint } from "../../src/policy/store-namespace.ts";
import { makePrincipal } from "../support/principal.ts";

const dotted = makePrincipal({ tenant_id: "acme.eu" });
const underscored = makePrincipal({ tenant_id: "acme_eu" });
const dashed = makePrincipal({ tenant_id: "acme-eu" });

describe("store namespaces start with the tenant's label", () => {
  it("accepts each tenant's own label, and only that", () => {
    expect(() => requireTenantNamespace(["acme~2Eeu", "notes"], dotted)).not.toThrow();
    expect(() => requireTenantNamespace(["acme~5Feu", "notes"], underscored)).not.toThrow();
    expect(() => requireTenantNamespace(["acme-eu", "notes"], dashed)).not.toThrow();
    // The labels of the other two, the raw ids, and a naive encoding's answers.
    for (const [principal, foreign] of [
      [dotted, ["acme~5Feu", "acme-eu", "acme.eu", "acme_eu", "acme", "acme~2eeu"]],
      [underscored, ["acme~2Eeu", "acme-eu", "acme_eu", "acme.eu"]],
      [dashed, ["acme~2Eeu", "acme~5Feu", "acme.eu", "acme_eu"]],
    ] as const) {
      for (const label of foreign) {
        expect(() => requireTenantNamespace([label, "notes"], principal)).toThrow(TenantForbiddenError);
        expect(isTenantNamespace([label], principal)).toBe(false);
      }
    }
  });

  it("names the label to use in the refusal", () => {
    expect(() => requireTenantNamespace(["acme.eu"], dotted)).toThrow('store namespaces must start with your tenant\'s label ("acme~2Eeu" for tenant "acme.eu")');
    expect(storeNamespaceHint("acme")).toBe('store namespaces must start with your tenant ("acme")');
  });

  it("never throws anything but a 403 for a principal whose tenant breaks the rule", () => {
    const broken = makePrincipal({ tenant_id: "acme::x" });
    expect(isTenantNamespace(["acme::x"], broken)).toBe(false);
    expect(() => requireTenantNamespace(["acme::x"], broken)).toThrow(TenantForbiddenError);
    expect(storeNamespaceHint("acme::x")).toBe("store namespaces must start with your tenant's label");
  });

  it("the route policy checks store search and namespace prefixes the same way", () => {
    const policy = createRoutePolicy();
    const decide = (path: string, body: unknown) =>
      policy.decide({ method: "POST", path, query: new URLSearchParams(), body, headers: new Headers() } as never, dotted);
    expect(decide("/store/items/search", { namespace_prefix: ["acme~2Eeu"] })).toMatchObject({ allow: true });
    expect(decide("/store/namespaces", { prefix: ["acme~2Eeu", "notes"] })).toMatchObject({ allow: true });
    expect(decide("/store/items/search", { namespace_prefix: ["acme.eu"] })).toMatchObject({ allow: false, status: 403 });
    expect(decide("/store/namespaces", { prefix: ["acme_eu"] })).toMatchObject({ allow: false, status: 403 });
  });
});
