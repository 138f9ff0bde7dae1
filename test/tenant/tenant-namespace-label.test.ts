import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidTenantIdError } from "../../src/errors.ts";
import { isTenantId } from "../../src/tenant/tenant-id.ts";
import { NAMESPACE_LABEL_ESCAPE, tenantIdFromNamespaceLabel, tenantNamespaceLabel } from "../../src/tenant/tenant-namespace-label.ts";

/** Every legal tenant id: the tenant rule's alphabet, with `.`, `_`, `-` and the escape's look-alikes over-represented. */
const tenantId = fc
  .tuple(
    fc.constantFrom(..."aAz09lL"),
    fc.array(fc.constantFrom(..."._-aZ9l2E5F6C"), { maxLength: 127 }),
  )
  .map(([first, rest]) => first + rest.join(""));

/** What LangGraph's stores refuse in a label (checkpoint `validateNamespace`, PostgresStore's LIKE guard) or the dev server splits on. */
function refusedByAStore(label: string): boolean {
  return label === "" || label === "langgraph" || /[.:%_\\\u0000]/.test(label);
}

describe("tenantNamespaceLabel", () => {
  it.each([
    ["acme", "acme"],
    ["acme-eu", "acme-eu"],
    ["acme.eu", "acme~2Eeu"],
    ["acme_eu", "acme~5Feu"],
    ["a.b_c", "a~2Eb~5Fc"],
    ["langgraph", "~6Canggraph"],
    ["langgraph2", "langgraph2"],
  ])("%s → %s", (tenant, label) => {
    expect(tenantNamespaceLabel(tenant)).toBe(label);
    expect(tenantIdFromNamespaceLabel(label)).toBe(tenant);
  });

  it("refuses what is not a tenant id", () => {
    for (const bad of ["", "acme::x", "~2E", "a b", "x".repeat(129)]) expect(() => tenantNamespaceLabel(bad)).toThrow(InvalidTenantIdError);
  });

  it("gives every legal tenant a label every LangGraph store accepts, that survives a split on \".\" and needs no URL escaping", () => {
    fc.assert(
      fc.property(tenantId, (tenant) => {
        const label = tenantNamespaceLabel(tenant);
        expect(refusedByAStore(label)).toBe(false);
        expect(label.split(".")).toEqual([label]);
        expect(encodeURIComponent(label)).toBe(label);
      }),
      { numRuns: 3000 },
    );
  });

  it("is reversible and collision-free: the label maps back to exactly its tenant", () => {
    fc.assert(
      fc.property(tenantId, tenantId, (a, b) => {
        expect(isTenantId(a)).toBe(true);
        expect(tenantIdFromNamespaceLabel(tenantNamespaceLabel(a))).toBe(a);
        expect(tenantNamespaceLabel(a) === tenantNamespaceLabel(b)).toBe(a === b);
      }),
      { numRuns: 3000 },
    );
  });

  it("the escape character is outside the tenant rule, so it never stands for itself", () => {
    expect(isTenantId(`a${NAMESPACE_LABEL_ESCAPE}b`)).toBe(false);
  });
});

describe("tenantIdFromNamespaceLabel", () => {
  it.each(["acme.eu", "acme~2eeu", "acme~", "acme~2", "acme~41", "~6Cabc", "acme~5F~", "", "a:b", 42, null, ["acme"]])(
    "%j is no tenant's label",
    (label) => expect(tenantIdFromNamespaceLabel(label)).toBeUndefined(),
  );

  it("any string is either the one label of a tenant or of none", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (label) => {
        const tenant = tenantIdFromNamespaceLabel(label);
        if (tenant !== undefined) expect(tenantNamespaceLabel(tenant)).toBe(label);
      }),
      { numRuns: 3000 },
    );
  });
});
