/** The ambient tenant of `withTenantContext`, across awaits and nesting. */
import { describe, expect, it } from "vitest";
import { currentTenantId, withTenantContext } from "../../src/tenant/tenant-context.ts";
import { InvalidOptionError, InvalidTenantIdError } from "../../src/errors.ts";

describe("withTenantContext", () => {
  it("sets the tenant for everything the function awaits, and only there", async () => {
    expect(currentTenantId()).toBeUndefined();
    const seen = await withTenantContext("acme", async () => {
      await new Promise<void>((resolve) => setImmediate(resolve));
      const inner = withTenantContext("globex", () => currentTenantId());
      return [currentTenantId(), inner];
    });
    expect(seen).toEqual(["acme", "globex"]);
    expect(currentTenantId()).toBeUndefined();
  });

  it("returns what the function returns", () => {
    expect(withTenantContext("acme", () => 42)).toBe(42);
  });

  it("refuses a bad tenant id (400) and a non-function (500) before running anything", () => {
    for (const bad of ["", "a::b", " acme", 7]) {
      expect(() => withTenantContext(bad as string, () => 1), String(bad)).toThrow(InvalidTenantIdError);
    }
    expect(() => withTenantContext("acme", "nope" as unknown as () => number)).toThrow(
      expect.objectContaining({ name: "InvalidOptionError", status: 500, option: "fn", message: 'server_error: the deployment passed an invalid "fn": withTenantContext runs a function' }),
    );
    expect(() => withTenantContext("a::b", () => 1)).toThrow(expect.objectContaining({ status: 400, message: "invalid_tenant: the tenant id is not a valid tenant id" }));
    expect(() => withTenantContext("acme", undefined as unknown as () => number)).toThrow(InvalidOptionError);
  });
});
