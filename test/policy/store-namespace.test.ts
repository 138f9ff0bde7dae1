/**
 * Store namespaces of tenants of every legal shape, as the store handlers
 * and the route policy check them (both through these functions).
 */
import { describe, expect, it } from "vitest";
import { TenantForbiddenError } from "../../src/errors.ts";
import { createRoutePolicy } from "../../src/policy/route-policy.ts";
import { isTenantNamespace, namespaceResources, refusedNamespaceReason, requireTenantNamespace, storeNamespaceHint } from "../../src/policy/store-namespace.ts";
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

describe("what a refused store namespace records", () => {
  const acme = makePrincipal({ identity: "alice", tenant_id: "acme" });

  function refusal(namespace: readonly unknown[] | null | undefined, options?: { owner?: boolean }): unknown {
    try {
      requireTenantNamespace(namespace, acme, options);
    } catch (error) {
      return error;
    }
    throw new Error("not refused");
  }

  it("a foreign tenant's namespace: 403 cross_tenant, with the labels and the tenant they name", () => {
    expect(refusal(["globex", "notes"])).toMatchObject({
      name: "TenantForbiddenError",
      status: 403,
      message: 'forbidden: store namespaces must start with your tenant ("acme")',
      reason: "cross_tenant",
      resources: { namespace: ["globex", "notes"], tenant_id: "globex" },
    });
  });

  it("a namespace that names no tenant: 403 store_namespace_refused", () => {
    for (const namespace of [[], null, undefined, [7, "notes"], ["acme.eu"], ["~"]]) {
      expect(refusal(namespace)).toMatchObject({ status: 403, reason: "store_namespace_refused" });
    }
  });

  it("another owner's namespace under owner visibility: 403 cross_owner, with the labels", () => {
    const error = refusal(["acme", "bob", "notes"], { owner: true });
    expect(error).toMatchObject({
      name: "TenantForbiddenError",
      message: "forbidden: store namespaces must be [tenant, user, ...] with owner visibility",
      reason: "cross_owner",
      resources: { namespace: ["acme", "bob", "notes"], tenant_id: "acme" },
    });
  });

  it("a label with a ':' in the caller's own namespace: 400 store_namespace_refused", () => {
    expect(refusal(["acme", "a:b"])).toMatchObject({ name: "RouteRefusedError", status: 400, reason: "store_namespace_refused", message: 'bad request: store namespace labels cannot contain ":"' });
    expect(() => requireTenantNamespace(["acme", "ab", "notes"], acme)).not.toThrow();
  });

  it("refusedNamespaceReason: cross_tenant only for an array whose first label is a tenant's exact label", () => {
    expect(refusedNamespaceReason(["globex", "notes"])).toBe("cross_tenant");
    expect(refusedNamespaceReason(["acme~2Eeu"])).toBe("cross_tenant");
    for (const namespace of [[], ["acme.eu"], ["acme~2eeu"], [7], [null], "globex", "g", { 0: "globex" }, null, undefined]) {
      expect(refusedNamespaceReason(namespace)).toBe("store_namespace_refused");
    }
  });

  it("namespaceResources: the labels only when all are strings, the tenant only when the first label names one", () => {
    expect(namespaceResources(["globex", "notes"])).toEqual({ namespace: ["globex", "notes"], tenant_id: "globex" });
    expect(namespaceResources(["acme~2Eeu"])).toEqual({ namespace: ["acme~2Eeu"], tenant_id: "acme.eu" });
    expect(namespaceResources(["globex", 7])).toStrictEqual({ tenant_id: "globex" });
    expect(namespaceResources(["acme.eu", "notes"])).toStrictEqual({ namespace: ["acme.eu", "notes"] });
    expect(namespaceResources([7, "notes"])).toStrictEqual({});
    expect(namespaceResources([])).toStrictEqual({ namespace: [] });
    for (const notArray of ["globex", { 0: "globex" }, null, undefined, 7]) expect(namespaceResources(notArray)).toEqual({});
  });

  it("isTenantNamespace: an array only, never a string whose first character is the tenant", () => {
    const a = makePrincipal({ tenant_id: "a" });
    expect(isTenantNamespace(["a"], a)).toBe(true);
    expect(isTenantNamespace("a", a)).toBe(false);
    expect(isTenantNamespace("abc", a)).toBe(false);
    expect(isTenantNamespace({ 0: "a" }, a)).toBe(false);
  });
});
