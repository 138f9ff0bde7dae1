import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidTenantIdError, InvalidTenantKeyError } from "../../src/errors.ts";
import { isKeyOfTenant, isResourceId, parseTenantKey, tenantKey } from "../../src/tenant/tenant-key.ts";

describe("tenantKey", () => {
  it("joins a valid tenant and resource with ::", () => {
    expect(tenantKey("acme", "thread-1")).toBe("acme::thread-1");
    expect(tenantKey("a.b_c-1", "3f2a9c1e-0b7d-4c3e-9f00-000000000001")).toBe("a.b_c-1::3f2a9c1e-0b7d-4c3e-9f00-000000000001");
  });

  it.each([
    ["a forged prefix", "acme::x"],
    ["an empty tenant", ""],
    ["a colon", "acme:"],
    ["whitespace", "acme "],
    ["a Cyrillic look-alike", "аcme"],
    ["a fullwidth look-alike", "ａcme"],
    ["a zero-width space", "ac\u200bme"],
    ["SQL", "acme'; DROP TABLE x; --"],
    ["a leading dot", ".acme"],
    ["129 characters", "a".repeat(129)],
  ])("refuses a tenant id with %s (ERR_TENANT_ID_INVALID, 400)", (_why, tenant) => {
    const error = (() => {
      try {
        tenantKey(tenant, "t1");
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InvalidTenantIdError);
    expect(error).toMatchObject({ code: "ERR_TENANT_ID_INVALID", status: 400 });
  });

  it.each([
    ["an empty id", "", /empty/],
    ["the separator", "x::acme2", /"::"/],
    ["a separator at the start", "::x", /"::"/],
    ["a leading colon (acme:::x)", ":x", /starts or ends/],
    ["a trailing colon", "x:", /starts or ends/],
    ["a fullwidth colon pair", "x\uff1a\uff1ay", /colon/],
    ["a ratio sign pair", "x\u2236\u2236y", /colon/],
    ["a modifier letter colon", "x\ua789\ua789y", /colon/],
    ["a zero-width joiner", "thr\u200deadx", /invisible/],
    ["a right-to-left override", "t\u202e1", /invisible/],
    ["a newline", "t\n1", /invisible/],
    ["a NUL", "t\u00001", /invisible/],
    ["an unpaired surrogate", "t\ud8001", /invisible/],
    ["a fullwidth letter", "ｔhread", /NFKC/],
    ["1025 characters", "x".repeat(1025), /longer/],
  ])("refuses a resource id with %s (ERR_TENANT_KEY_INVALID, 400)", (_why, resource, message) => {
    expect(() => tenantKey("acme", resource)).toThrow(InvalidTenantKeyError);
    expect(() => tenantKey("acme", resource)).toThrow(message);
    try {
      tenantKey("acme", resource);
    } catch (e) {
      expect(e).toMatchObject({ code: "ERR_TENANT_KEY_INVALID", status: 400 });
      // Never echo attacker input.
      if (resource.length > 3) expect((e as Error).message).not.toContain(resource);
    }
  });

  it("refuses non-strings", () => {
    expect(() => tenantKey("acme", 42 as unknown as string)).toThrow(InvalidTenantKeyError);
    expect(() => tenantKey(undefined as unknown as string, "x")).toThrow(InvalidTenantIdError);
  });
});

describe("parseTenantKey", () => {
  it("splits at the first separator", () => {
    expect(parseTenantKey("acme::thread-1")).toEqual({ tenantId: "acme", resourceId: "thread-1" });
  });

  it.each([
    ["no separator", "acme-thread", InvalidTenantKeyError],
    ["an empty tenant", "::thread", InvalidTenantKeyError],
    ["an empty resource", "acme::", InvalidTenantKeyError],
    ["a second separator", "acme::x::y", InvalidTenantKeyError],
    ["a triple colon", "acme:::x", InvalidTenantKeyError],
    ["a look-alike tenant", "аcme::x", InvalidTenantIdError],
    ["a tenant with a space", "ac me::x", InvalidTenantIdError],
  ])("refuses a key with %s", (_why, key, type) => {
    expect(() => parseTenantKey(key)).toThrow(type);
  });

  it("is the exact inverse of tenantKey (property)", () => {
    const tenant = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/);
    const resource = fc.string({ minLength: 1, maxLength: 40, unit: "grapheme" });
    fc.assert(
      fc.property(tenant, resource, (t, r) => {
        if (!isResourceId(r)) {
          expect(() => tenantKey(t, r)).toThrow(InvalidTenantKeyError);
          return;
        }
        const key = tenantKey(t, r);
        expect(parseTenantKey(key)).toEqual({ tenantId: t, resourceId: r });
        expect(isKeyOfTenant(key, t)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("never lets two different (tenant, resource) pairs share a key (property)", () => {
    const tenant = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,8}$/);
    const resource = fc.stringMatching(/^[a-z:]{1,8}$/);
    fc.assert(
      fc.property(tenant, resource, tenant, resource, (t1, r1, t2, r2) => {
        let k1: string, k2: string;
        try {
          k1 = tenantKey(t1, r1);
          k2 = tenantKey(t2, r2);
        } catch {
          return;
        }
        if (t1 !== t2 || r1 !== r2) expect(k1).not.toBe(k2);
      }),
      { numRuns: 1000 },
    );
  });

  it("isKeyOfTenant is false for another tenant, a longer tenant name and garbage", () => {
    expect(isKeyOfTenant("acme2::t", "acme")).toBe(false);
    expect(isKeyOfTenant("acm::t", "acme")).toBe(false);
    expect(isKeyOfTenant("acme::", "acme")).toBe(false);
    expect(isKeyOfTenant(7, "acme")).toBe(false);
  });
});

describe("tenant keys: each refusal in its own words", () => {
  const message = (run: () => unknown): string => {
    try {
      run();
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error("not refused");
  };

  it("names what is wrong with a resource id, never the value", () => {
    for (const [resourceId, words] of [
      [7, "the resource id must be a string"],
      ["", "the resource id is empty"],
      ["r".repeat(1025), "the resource id is longer than 1024 characters"],
      ["a::b", 'the resource id contains the "::" separator'],
      [":a", 'the resource id starts or ends with ":"'],
      ["a:", 'the resource id starts or ends with ":"'],
      ["a b", "the resource id contains whitespace, control or invisible characters"],
      ["a\u2236b", "the resource id contains a character that looks like a colon"],
      ["ａ", "the resource id is not in NFKC normal form (look-alike characters)"],
    ] as const) {
      expect(message(() => tenantKey("acme", resourceId as string)), String(resourceId).slice(0, 20)).toBe(`invalid_tenant_key: ${words}`);
    }
    expect(tenantKey("acme", "r".repeat(1024))).toBe(`acme::${"r".repeat(1024)}`);
    expect(tenantKey("acme", "a:b")).toBe("acme::a:b");
  });

  it("parseTenantKey: not a string, no separator, an empty tenant part, a bad tenant part, each its own error", () => {
    expect(message(() => parseTenantKey(7 as never))).toBe("invalid_tenant_key: the key must be a string");
    expect(message(() => parseTenantKey("acme:t"))).toBe('invalid_tenant_key: the key has no "::" separator');
    expect(message(() => parseTenantKey("::t"))).toBe("invalid_tenant_key: the key's tenant part is empty");
    expect(() => parseTenantKey("a b::t")).toThrow(InvalidTenantIdError);
    expect(message(() => parseTenantKey("a b::t"))).toBe("invalid_tenant: the key's tenant part is not a valid tenant id");
    expect(message(() => parseTenantKey("acme::"))).toBe("invalid_tenant_key: the resource id is empty");
    // The first "::" splits: the rest is the resource id, which may not hold another.
    expect(message(() => parseTenantKey("acme::x::y"))).toBe('invalid_tenant_key: the resource id contains the "::" separator');
    expect(parseTenantKey("acme::x:y")).toEqual({ tenantId: "acme", resourceId: "x:y" });
    expect(parseTenantKey("a::b")).toEqual({ tenantId: "a", resourceId: "b" });
  });

  it("isKeyOfTenant: false for anything but a string key of that very tenant, without throwing", () => {
    expect(isKeyOfTenant("acme::t1", "acme")).toBe(true);
    for (const key of [7, null, undefined, ["acme::t1"], "acme::", "acme", "acme2::t1", "acm::t1"]) {
      expect(isKeyOfTenant(key, "acme"), String(key)).toBe(false);
    }
  });
});
