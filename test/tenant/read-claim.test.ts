/** Claims by name or dotted path, own properties only. */
import { describe, expect, it } from "vitest";
import { readClaim } from "../../src/tenant/read-claim.ts";

describe("readClaim", () => {
  it("prefers an exact top-level key, even one with dots", () => {
    expect(readClaim({ "https://example.com/org": "acme" }, "https://example.com/org")).toBe("acme");
    expect(readClaim({ "a.b": "flat", a: { b: "nested" } }, "a.b")).toBe("flat");
    expect(readClaim({ org: "acme" }, "org")).toBe("acme");
    expect(readClaim({ org: null }, "org")).toBeNull();
  });

  it("walks nested plain objects for a dotted path", () => {
    expect(readClaim({ app_metadata: { tenant: { id: "acme" } } }, "app_metadata.tenant.id")).toBe("acme");
    expect(readClaim({ a: { b: 0 } }, "a.b")).toBe(0);
  });

  it("finds nothing for a missing name, through arrays, null or primitives", () => {
    expect(readClaim({ org: "acme" }, "tenant")).toBeUndefined();
    expect(readClaim({ a: { b: 1 } }, "a.c")).toBeUndefined();
    expect(readClaim({ a: [{ b: 1 }] }, "a.0.b")).toBeUndefined();
    expect(readClaim({ a: ["x"] }, "a.0")).toBeUndefined();
    expect(readClaim({ a: null }, "a.b")).toBeUndefined();
    expect(readClaim({ a: "text" }, "a.length")).toBeUndefined();
    expect(readClaim({ a: { b: 1 } }, "a.b.c")).toBeUndefined();
  });

  it("never resolves inherited properties", () => {
    expect(readClaim({}, "constructor")).toBeUndefined();
    expect(readClaim({}, "toString")).toBeUndefined();
    expect(readClaim({ a: {} }, "a.constructor.name")).toBeUndefined();
    expect(readClaim({ a: {} }, "a.__proto__")).toBeUndefined();
    expect(readClaim({ a: Object.create({ b: "inherited" }) }, "a.b")).toBeUndefined();
  });
});
