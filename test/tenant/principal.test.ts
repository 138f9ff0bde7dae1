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

describe("toPrincipal, every rule exactly", () => {
  const map = (extra: Partial<typeof DEFAULT_CLAIM_MAPPING> & Record<string, unknown> = {}) => ({ ...DEFAULT_CLAIM_MAPPING, ...extra }) as typeof DEFAULT_CLAIM_MAPPING;
  function refusal(claims: Record<string, unknown>, mapping = map(), tenancy: { mode: "multi" | "single"; singleTenantId: string } = multi): unknown {
    try {
      toPrincipal(claims, mapping, tenancy);
    } catch (error) {
      return error;
    }
    throw new Error("not refused");
  }

  it("the whole principal: identity, tenant, permissions, roles, display name, issuer", () => {
    expect(toPrincipal({ ...base, scope: "threads:read", roles: ["admin"], name: "Alice A." }, map(), multi)).toEqual({
      identity: "alice", tenant_id: "acme", permissions: ["threads:read"], roles: ["admin"], display_name: "Alice A.", issuer: "https://id.example.com/", is_authenticated: true,
    });
    expect(toPrincipal({ sub: "alice", org_id: "acme" }, map(), multi)).toMatchObject({ issuer: "", display_name: "alice", permissions: [], roles: [] });
  });

  it("the display name: name, else email, else sub; empty or over 200 characters skipped", () => {
    expect(toPrincipal({ ...base, name: "", email: "a@example.com" }, map(), multi).display_name).toBe("a@example.com");
    expect(toPrincipal({ ...base, name: "x".repeat(201), email: "a@example.com" }, map(), multi).display_name).toBe("a@example.com");
    expect(toPrincipal({ ...base, name: "x".repeat(200) }, map(), multi).display_name).toBe("x".repeat(200));
    expect(toPrincipal({ ...base, email: 7 }, map(), multi).display_name).toBe("alice");
  });

  it("sub: a string of 1 to 255 characters", () => {
    expect(toPrincipal({ ...base, sub: "s".repeat(255) }, map(), multi).identity).toBe("s".repeat(255));
    for (const sub of ["", "s".repeat(256), 7, undefined, null]) {
      expect(refusal({ ...base, sub }), String(sub)).toMatchObject({ name: "InvalidTokenError", status: 401, message: 'invalid_token: missing or invalid "sub" claim' });
    }
  });

  it("single mode: the configured tenant, whatever the token says or lacks", () => {
    const single = { mode: "single" as const, singleTenantId: "default" };
    expect(toPrincipal({ sub: "alice" }, map(), single).tenant_id).toBe("default");
    expect(toPrincipal({ ...base, org_id: "a::b" }, map(), single).tenant_id).toBe("default");
  });

  it("multi mode: a missing or empty tenant claim, then one that is not a tenant id, each with its own words", () => {
    for (const org_id of [undefined, null, ""]) {
      expect(refusal({ ...base, org_id }), String(org_id)).toMatchObject({ message: 'invalid_token: missing tenant claim "org_id"', reason: "invalid_tenant_claim" });
    }
    for (const org_id of ["a::b", 7, ["acme"], { acme: true }]) {
      expect(refusal({ ...base, org_id }), JSON.stringify(org_id)).toMatchObject({ message: 'invalid_token: the tenant claim "org_id" is not a valid tenant id', reason: "invalid_tenant_claim" });
    }
  });

  it("tenantShape string (the default): a one-entry array or a one-key object is not reduced to a tenant, it is refused", () => {
    for (const org_id of [["acme"], { acme: { role: "x" } }]) {
      expect(refusal({ ...base, org_id }), JSON.stringify(org_id)).toMatchObject({ message: 'invalid_token: the tenant claim "org_id" is not a valid tenant id', reason: "invalid_tenant_claim" });
      expect(refusal({ ...base, org_id }, map({ tenantShape: "string" })), JSON.stringify(org_id)).toMatchObject({ reason: "invalid_tenant_claim" });
    }
  });

  it("tenantShape single: one array entry or one object key is the tenant; more than one is refused", () => {
    const single = map({ tenantShape: "single" });
    expect(toPrincipal({ ...base, org_id: ["acme"] }, single, multi).tenant_id).toBe("acme");
    expect(toPrincipal({ ...base, org_id: { acme: { role: "x" } } }, single, multi).tenant_id).toBe("acme");
    expect(toPrincipal({ ...base, org_id: "acme" }, single, multi).tenant_id).toBe("acme");
    for (const org_id of [["acme", "globex"], { acme: 1, globex: 2 }]) {
      expect(refusal({ ...base, org_id }, single), JSON.stringify(org_id)).toMatchObject({ message: 'invalid_token: the tenant claim "org_id" names more than one tenant', reason: "invalid_tenant_claim" });
    }
    for (const org_id of [[], {}, null]) {
      expect(refusal({ ...base, org_id }, single), JSON.stringify(org_id)).toMatchObject({ message: 'invalid_token: missing tenant claim "org_id"' });
    }
    expect(refusal({ ...base, org_id: 7 }, single)).toMatchObject({ message: 'invalid_token: the tenant claim "org_id" is not a valid tenant id' });
    expect(refusal({ ...base, org_id: [7] }, single)).toMatchObject({ message: 'invalid_token: the tenant claim "org_id" is not a valid tenant id' });
  });

  it("tenantInIssuer: the tenant must be a whole segment of the issuer URL's path", () => {
    const inIssuer = map({ tenantInIssuer: true });
    expect(toPrincipal({ ...base, iss: "https://id.example.com/realms/acme" }, inIssuer, multi).tenant_id).toBe("acme");
    expect(toPrincipal({ ...base, iss: "https://id.example.com/acme/v2.0" }, inIssuer, multi).tenant_id).toBe("acme");
    for (const iss of ["https://id.example.com/realms/globex", "https://id.example.com/realms/acme-x", "https://acme.example.com/", "acme", undefined, 7]) {
      expect(refusal({ ...base, iss }, inIssuer), String(iss)).toMatchObject({ message: 'invalid_token: the tenant claim "org_id" does not match the token\'s issuer', reason: "invalid_tenant_claim" });
    }
    // Without the option the issuer is not compared.
    expect(toPrincipal({ ...base, iss: "https://id.example.com/realms/globex" }, map(), multi).tenant_id).toBe("acme");
  });

  it("permission and role names: printable ASCII, 1 to 200 characters, split on spaces", () => {
    const principal = toPrincipal({ ...base, scope: "a  b\tc " + "x".repeat(201), permissions: ["d", 7, "é", "y".repeat(200)], roles: "r1 r2" }, map(), multi);
    expect(principal.permissions).toEqual(["a", "d", "y".repeat(200)]);
    expect(principal.roles).toEqual(["r1", "r2"]);
    expect(toPrincipal({ ...base, roles: 7, permissions: { a: 1 } }, map(), multi)).toMatchObject({ roles: [], permissions: [] });
    expect(toPrincipal({ ...base, roles: ["ok", "bad role", null] }, map(), multi).roles).toEqual(["ok"]);
  });

  it("permissionPrefixes: adds the name without the prefix, keeps the original, never an empty name", () => {
    const prefixed = map({ permissionPrefixes: ["", "app:"] });
    expect(toPrincipal({ ...base, scope: "app:threads:read app: other" }, prefixed, multi).permissions).toEqual(["app:threads:read", "app:", "other", "threads:read"]);
  });

  it("grants and permissionAliases: own keys only, arrays of valid names only, at most 256 permissions", () => {
    const mapping = map({
      grants: { admin: ["threads:write", 7, "bad name"], viewer: "threads:read", ["__proto__"]: ["x"] },
      permissionAliases: { "read:all": ["threads:read", "assistants:read"] },
    } as never);
    expect(toPrincipal({ ...base, scope: "read:all", roles: ["admin", "viewer", "toString", "constructor"] }, mapping, multi).permissions).toEqual([
      "read:all", "threads:read", "assistants:read", "threads:write",
    ]);
    const many = map({ grants: { admin: Array.from({ length: 300 }, (_, i) => `p${i}`) } });
    const granted = toPrincipal({ ...base, scope: "own", roles: ["admin"] }, many, multi).permissions;
    expect(granted).toHaveLength(256);
    expect(granted.slice(0, 3)).toEqual(["own", "p0", "p1"]);
    expect(granted.at(-1)).toBe("p254");
  });

  it("checks: each passes when one of its claims is present (or one of the accepted values), else its description is the refusal", () => {
    const present = map({ checks: [{ claims: ["token_use", "typ"], description: "needs a token type" }] });
    for (const value of ["access", 0, false, ["x"]]) expect(toPrincipal({ ...base, typ: value }, present, multi).identity, String(value)).toBe("alice");
    for (const value of [undefined, null, "", []]) {
      expect(refusal({ ...base, typ: value }, present), JSON.stringify(value)).toMatchObject({ name: "InvalidTokenError", message: "invalid_token: needs a token type" });
    }
    const oneOf = map({ checks: [{ claims: ["token_use"], oneOf: ["access", 1], description: 'Cognito "token_use" must be "access"' }] });
    expect(toPrincipal({ ...base, token_use: "access" }, oneOf, multi).identity).toBe("alice");
    expect(toPrincipal({ ...base, token_use: 1 }, oneOf, multi).identity).toBe("alice");
    for (const token_use of ["id", "1", undefined, ["access"]]) {
      expect(refusal({ ...base, token_use }, oneOf), String(token_use)).toMatchObject({ message: 'invalid_token: Cognito "token_use" must be "access"' });
    }
    // The checks run before the tenant is read: a failed check is the refusal, even without a tenant.
    expect(refusal({ sub: "alice" }, present)).toMatchObject({ message: "invalid_token: needs a token type" });
  });
});
