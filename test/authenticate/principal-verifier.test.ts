/**
 * The verified-token cache's key is derived from the very options the
 * verifier runs on: changing any of them, at any depth, changes the key.
 * The options are walked programmatically, so an option added later is
 * covered without touching this test (and `Complete<…>` below makes the
 * compiler ask for a value for it).
 */
import { describe, expect, it } from "vitest";
import {
  createPrincipalVerifier,
  verificationScope,
  type PrincipalRules,
} from "../../src/authenticate/principal-verifier.ts";
import type { ClaimMapping, TenantResolution } from "../../src/tenant/principal.ts";
import type { KeyStore } from "../../src/verify/key-store.ts";
import type { TokenVerifierOptions } from "../../src/verify/verify-access-token.ts";

/** Every option present and defined, so each one is mutated below. */
type Complete<T> = { [K in keyof T]-?: Exclude<T[K], undefined> };

/** One key store per issuer, the same one each time it is asked (as the authenticator's map). */
const stores = new Map<string, KeyStore>();
function storeFor(issuer: string): KeyStore {
  let store = stores.get(issuer);
  if (store === undefined) {
    store = {
      getKey: () => Promise.reject(new Error("no verification in this test")),
      hasKid: () => true,
    };
    stores.set(issuer, store);
  }
  return store;
}

function baseline(): PrincipalRules {
  const verification: Complete<TokenVerifierOptions> = {
    issuer: ["https://issuer.example/", "https://other.example/"],
    audience: ["api"],
    audienceClaim: "aud",
    algorithms: ["RS256", "ES256"],
    clockToleranceSeconds: 5,
    keyStore: storeFor,
    requiredTyp: "at+jwt",
    requiredClaims: ["iat"],
    maxTokenAgeSeconds: 600,
    maxTokenBytes: 8192,
    now: Date.now,
  };
  const mapping: Complete<ClaimMapping> = {
    tenantClaim: "org_id",
    scopeClaims: ["scope"],
    permissionClaims: ["permissions"],
    roleClaims: ["roles"],
    grants: { admin: ["threads:read", "threads:write"] },
    permissionAliases: { "Threads.ReadWrite": ["threads:read"] },
    permissionPrefixes: ["org:"],
    checks: [{ claims: ["token_use"], oneOf: ["access", 1, true], description: "token_use must be access" }],
    tenantShape: "string",
    tenantInIssuer: false,
  };
  const tenancy: Complete<TenantResolution> = { mode: "multi", singleTenantId: "default" };
  return { verification, mapping, tenancy };
}

/** A value of the same kind that is not the same: what "changing an option" means for each kind. */
function changed(value: unknown): unknown {
  switch (typeof value) {
    case "string":
      return `${value}x`;
    case "number":
      return value + 1;
    case "boolean":
      return !value;
    case "function": {
      // Another function whose results are other objects (a key store
      // resolver that hands out other stores, another clock).
      const original = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]) => {
        const result = original(...args);
        return typeof result === "object" && result !== null ? { ...result } : result;
      };
    }
    case "object":
      if (value !== null) return { ...value };
  }
  throw new Error(`no way to change ${String(value)}`);
}

/** Arrays and object literals are walked into; anything else is one option. */
const isPlainData = (value: unknown): value is Record<string, unknown> | unknown[] =>
  Array.isArray(value) || (typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype);

/**
 * Every single change of `value`: each leaf changed in place, and each array
 * one element longer. Named by path, e.g. `verification.audience[0]`.
 */
function* variants(value: unknown, path: string): Generator<[string, unknown]> {
  if (value === undefined) throw new Error(`${path} has no value in the baseline: give it one so it is covered`);
  if (!isPlainData(value)) {
    yield [path, changed(value)];
    return;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) throw new Error(`${path} is empty in the baseline: give it an element so it is covered`);
    for (const [index, item] of value.entries()) {
      for (const [sub, other] of variants(item, `${path}[${index}]`)) yield [sub, value.map((v, i) => (i === index ? other : v))];
    }
    yield [`${path}.length`, [...value, value[0]]];
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    for (const [sub, other] of variants(item, path ? `${path}.${key}` : key)) yield [sub, { ...value, [key]: other }];
  }
}

const TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln";

describe("createPrincipalVerifier: one options object for the verifier and the cache key", () => {
  it("changes the cache key when any verification option changes, at any depth", () => {
    const base = createPrincipalVerifier(baseline());
    expect(base.caching).toBe(true);
    const baseKey = base.keyOf(TOKEN);
    const seen: string[] = [];
    // Walk the frozen rules the verifier actually runs on, not the input.
    for (const [path, rules] of variants(base.rules, "")) {
      seen.push(path);
      const other = createPrincipalVerifier(rules as PrincipalRules);
      expect(other.caching, path).toBe(true);
      expect(other.keyOf(TOKEN), path).not.toBe(baseKey);
      expect(verificationScope(other.rules), path).not.toBe(verificationScope(base.rules));
    }
    // Every top-level option of each part was reached (the walk is not vacuous).
    const options = [
      ...Object.keys(base.rules.verification).map((key) => `verification.${key}`),
      ...Object.keys(base.rules.mapping).map((key) => `mapping.${key}`),
      ...Object.keys(base.rules.tenancy).map((key) => `tenancy.${key}`),
    ];
    expect(options.length).toBeGreaterThanOrEqual(23);
    for (const option of options) expect(seen.some((path) => path === option || path.startsWith(`${option}[`) || path.startsWith(`${option}.`)), option).toBe(true);
  });

  it("gives the same key for the same options, and for another resolver handing out the same per-issuer stores", () => {
    const a = createPrincipalVerifier(baseline());
    const b = createPrincipalVerifier(baseline());
    expect(b.keyOf(TOKEN)).toBe(a.keyOf(TOKEN));
    const rules = baseline();
    const c = createPrincipalVerifier({ ...rules, verification: { ...rules.verification, keyStore: (issuer) => storeFor(issuer) } });
    expect(c.keyOf(TOKEN)).toBe(a.keyOf(TOKEN));
    expect(a.keyOf(`${TOKEN}x`)).not.toBe(a.keyOf(TOKEN));
  });

  it("runs on a frozen copy: changing the caller's options afterwards changes neither the verifier nor its key", () => {
    const rules = baseline();
    const verifier = createPrincipalVerifier(rules);
    const key = verifier.keyOf(TOKEN);
    (rules.verification.audience as string[]).push("evil");
    rules.mapping.tenantClaim = "sub";
    (rules.mapping.grants!.admin as string[]).push("store:write");
    expect(verifier.rules.verification.audience).toEqual(["api"]);
    expect(verifier.rules.mapping.tenantClaim).toBe("org_id");
    expect(verifier.keyOf(TOKEN)).toBe(key);
    expect(Object.isFrozen(verifier.rules)).toBe(true);
    expect(Object.isFrozen(verifier.rules.verification)).toBe(true);
    expect(Object.isFrozen(verifier.rules.verification.audience)).toBe(true);
    expect(Object.isFrozen(verifier.rules.mapping.grants!.admin)).toBe(true);
    expect(() => (verifier.rules.verification.algorithms as string[]).push("none")).toThrow(TypeError);
  });

  it("tells apart values that plain JSON would write alike", () => {
    const scope = (maxTokenBytes: number | undefined) => {
      const rules = baseline();
      return verificationScope({ ...rules, verification: { ...rules.verification, maxTokenBytes } });
    };
    expect(new Set([scope(undefined), scope(Number.NaN), scope(Number.POSITIVE_INFINITY), scope(0), scope(-0)]).size).toBe(5);
  });

  it("has no cache when it is off or a key store cannot tell whether a key left the set", () => {
    expect(createPrincipalVerifier(baseline(), { enabled: false, maxEntries: 10, maxAgeSeconds: 10 }).caching).toBe(false);
    const rules = baseline();
    const blind = createPrincipalVerifier({
      ...rules,
      verification: { ...rules.verification, keyStore: (issuer) => ({ getKey: storeFor(issuer).getKey }) },
    });
    expect(blind.caching).toBe(false);
    expect(blind.size).toBe(0);
    expect(() => blind.keyOf(TOKEN)).toThrow(TypeError);
  });

  it("refuses rules it cannot write into a key", () => {
    const rules = baseline();
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(() => verificationScope({ ...rules, mapping: { ...rules.mapping, grants: cyclic as never } })).toThrow(/cycle/);
    expect(() => verificationScope({ ...rules, tenancy: { ...rules.tenancy, mode: Symbol("multi") as never } })).toThrow(/symbol/);
  });
});
