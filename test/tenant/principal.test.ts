import { describe, expect, it } from "vitest";
import { DEFAULT_CLAIM_MAPPING, toPrincipal } from "../../src/tenant/principal.ts";
import { readClaim } from "../../src/tenant/read-claim.ts";
import { isTenantId } from "../../src/tenant/tenant-id.ts";
import { InvalidTokenError } from "../../src/errors.ts";

const multi = { mode: "multi" as const, singleTenantId: "default" };
const base = { iss: "https://id.example.com/", sub: "alice", org_id: "acme" };

describe("toPrincipal: permissions", () => {
  it("merges the scope string and the permissions array, without duplicates", () => {
    const principal = toPrincipal(
      { ...base, scope: "threads:read  store:write threads:read", permissions: ["store:write", "assistants:read"] },
      DEFAULT_CLAIM_MAPPING,
      multi,
    );
    expect(principal.permissions).toEqual(["threads:read", "store:write", "assistants:read"]);
  });

  it("reads only a string scope and only the strings of a permissions array", () => {
    const principal = toPrincipal(
      { ...base, scope: ["threads:read"], permissions: ["crons:read", 7, null, { p: 1 }, "with space", "x".repeat(201)] },
      DEFAULT_CLAIM_MAPPING,
      multi,
    );
    expect(principal.permissions).toEqual(["crons:read"]);
  });

  it("a permissions claim given as a space-delimited string is read too", () => {
    expect(toPrincipal({ ...base, permissions: "threads:read threads:write" }, DEFAULT_CLAIM_MAPPING, multi).permissions).toEqual([
      "threads:read",
      "threads:write",
    ]);
  });

  it("no scope and no permissions: an empty list", () => {
    expect(toPrincipal(base, DEFAULT_CLAIM_MAPPING, multi).permissions).toEqual([]);
  });

  it("uses the claim names of the mapping (data, so presets can override them)", () => {
    const principal = toPrincipal(
      { ...base, scp: "threads:read", perms: ["store:read"], "https://x/roles": ["admin"], scope: "crons:write" },
      { ...DEFAULT_CLAIM_MAPPING, scopeClaims: ["scp"], permissionClaims: ["perms"], roleClaims: ["https://x/roles"] },
      multi,
    );
    expect(principal.permissions).toEqual(["threads:read", "store:read"]);
    expect(principal.roles).toEqual(["admin"]);
  });
});

describe("toPrincipal: identity", () => {
  it("refuses an over-long sub", () => {
    expect(() => toPrincipal({ ...base, sub: "x".repeat(256) }, DEFAULT_CLAIM_MAPPING, multi)).toThrow(InvalidTokenError);
    expect(toPrincipal({ ...base, sub: "x".repeat(255) }, DEFAULT_CLAIM_MAPPING, multi).identity).toHaveLength(255);
  });

  it("ignores a non-string or over-long name", () => {
    expect(toPrincipal({ ...base, name: 42, email: "a@b.c" }, DEFAULT_CLAIM_MAPPING, multi).display_name).toBe("a@b.c");
    expect(toPrincipal({ ...base, name: "n".repeat(201) }, DEFAULT_CLAIM_MAPPING, multi).display_name).toBe("alice");
  });
});

describe("readClaim", () => {
  it("prefers an exact top-level key, then walks a dotted path through plain objects only", () => {
    expect(readClaim({ "a.b": 1, a: { b: 2 } }, "a.b")).toBe(1);
    expect(readClaim({ a: { b: { c: "x" } } }, "a.b.c")).toBe("x");
    expect(readClaim({ a: [{ b: 1 }] }, "a.0.b")).toBeUndefined();
    expect(readClaim({ a: null }, "a.b")).toBeUndefined();
    expect(readClaim({}, "toString")).toBeUndefined();
    expect(readClaim({ a: {} }, "a.__proto__")).toBeUndefined();
    expect(readClaim({ a: {} }, "a.constructor")).toBeUndefined();
  });
});

describe("isTenantId", () => {
  it.each(["a", "A", "0", "acme", "acme.eu", "acme_eu-1", "x".repeat(128)])("%s is a tenant id", (id) => expect(isTenantId(id)).toBe(true));
  it.each(["", "-a", ".a", "_a", "a::b", "a:b", "a b", "a/b", "x".repeat(129), "\u0430", "a\n", 1, null, undefined, ["a"]])(
    "%j is not",
    (id) => expect(isTenantId(id)).toBe(false),
  );
});
