/**
 * The tenant filter, the stamp and the checks on stored metadata, each on its
 * own: what matches, what never matches, and why something is outside.
 */
import { describe, expect, it } from "vitest";
import { isInTenant, outsideReason, tenantFilter, tenantOf, tenantStamp } from "../../src/policy/tenant-filter.ts";
import { MissingTenantContextError } from "../../src/errors.ts";
import { makePrincipal } from "../support/principal.ts";

const alice = makePrincipal({ identity: "alice", tenant_id: "acme" });

describe("isInTenant", () => {
  it("matches the caller's tenant, and with owner visibility only the caller's own", () => {
    expect(isInTenant({ tenant_id: "acme", owner: "bob" }, alice, "tenant")).toBe(true);
    expect(isInTenant({ tenant_id: "acme", owner: "alice" }, alice, "owner")).toBe(true);
    expect(isInTenant({ tenant_id: "acme", owner: "bob" }, alice, "owner")).toBe(false);
    expect(isInTenant({ tenant_id: "acme" }, alice, "owner")).toBe(false);
    expect(isInTenant({ tenant_id: "globex", owner: "alice" }, alice, "tenant")).toBe(false);
    expect(isInTenant({ tenant_id: "globex", owner: "alice" }, alice, "owner")).toBe(false);
  });

  it("never matches metadata that is not an object, or a principal without a tenant or identity", () => {
    for (const metadata of [null, undefined, "acme", 1, true]) expect(isInTenant(metadata, alice, "tenant"), String(metadata)).toBe(false);
    expect(isInTenant({}, alice, "tenant")).toBe(false);
    expect(isInTenant({ tenant_id: "acme" }, makePrincipal({ identity: "", tenant_id: "acme" }), "tenant")).toBe(false);
    expect(isInTenant({ tenant_id: "a::b" }, makePrincipal({ tenant_id: "a::b" }), "tenant")).toBe(false);
    expect(isInTenant({ tenant_id: "acme" }, makePrincipal({ identity: 7 as unknown as string, tenant_id: "acme" }), "tenant")).toBe(false);
    expect(isInTenant({ tenant_id: "acme" }, null as unknown as typeof alice, "tenant")).toBe(false);
  });

  it("compares with strict equality, so an operator object or a look-alike value never matches", () => {
    expect(isInTenant({ tenant_id: { $ne: "x" } }, alice, "tenant")).toBe(false);
    expect(isInTenant({ tenant_id: ["acme"] }, alice, "tenant")).toBe(false);
    expect(isInTenant({ tenant_id: "ACME" }, alice, "tenant")).toBe(false);
  });
});

describe("tenantFilter / tenantStamp", () => {
  it("refuses a principal with an identity that is not a non-empty string (403)", () => {
    for (const identity of ["", 7, undefined]) {
      const bad = makePrincipal({ identity: identity as string, tenant_id: "acme" });
      expect(() => tenantFilter(bad, "tenant"), String(identity)).toThrow(MissingTenantContextError);
      expect(() => tenantStamp(bad), String(identity)).toThrow(
        expect.objectContaining({ code: "ERR_TENANT_CONTEXT_MISSING", status: 403, message: expect.stringContaining("no valid tenant and identity") }),
      );
    }
  });
});

describe("tenantOf", () => {
  it("reads a non-empty string tenant_id and nothing else", () => {
    expect(tenantOf({ tenant_id: "acme" })).toBe("acme");
    expect(tenantOf({ tenant_id: "" })).toBeUndefined();
    expect(tenantOf({ tenant_id: 7 })).toBeUndefined();
    expect(tenantOf({})).toBeUndefined();
    expect(tenantOf(null)).toBeUndefined();
    expect(tenantOf("acme")).toBeUndefined();
  });
});

describe("outsideReason", () => {
  it("says cross_owner for the caller's own tenant and cross_tenant for any other or none", () => {
    expect(outsideReason({ tenant_id: "acme", owner: "bob" }, alice)).toBe("cross_owner");
    expect(outsideReason({ tenant_id: "globex" }, alice)).toBe("cross_tenant");
    expect(outsideReason({}, alice)).toBe("cross_tenant");
    expect(outsideReason(null, alice)).toBe("cross_tenant");
    expect(outsideReason("acme", alice)).toBe("cross_tenant");
    // No metadata at all (a stored object without the field), without throwing.
    expect(outsideReason(undefined, alice)).toBe("cross_tenant");
    expect(tenantOf(undefined)).toBeUndefined();
  });
});
