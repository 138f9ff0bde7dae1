import { isBearerTokenSyntax } from "../bearer/extract-bearer-token.ts";
import type { TokenCacheConfig } from "../config/token-cache-config.ts";
import type { KeyStore } from "../verify/key-store.ts";
import { createTokenCache, verifiedKid, type TokenCache } from "../verify/token-cache.ts";
import { createVerifiedTokenReader, toAuthError, type TokenVerifierOptions } from "../verify/verify-access-token.ts";
import { toPrincipal, type ClaimMapping, type Principal, type TenantResolution } from "../tenant/principal.ts";

/**
 * Everything that decides what a token verifies to: the verifier's options
 * (passed to `createVerifiedTokenReader` as they are) and the rules that turn
 * verified claims into a principal.
 */
export interface PrincipalRules {
  verification: TokenVerifierOptions;
  mapping: ClaimMapping;
  tenancy: TenantResolution;
}

/**
 * What the verified-token cache has done since it was built, for the metrics
 * (`src/metrics/`) and tests: plain counters, so a lookup costs an increment.
 */
export interface TokenCacheStats {
  /** Requests (or bare tokens) answered from the cache. */
  hits: number;
  /**
   * Lookups that found no valid entry (none, or one dropped on the spot: past
   * `exp`, before `nbf`, its key gone) and went on to a full verification.
   * A request is counted once, even when it was looked up twice on its way.
   */
  misses: number;
  /** Entries now. */
  entries: number;
  /** The LRU cap (`AUTH_TOKEN_CACHE_MAX_ENTRIES`). */
  maxEntries: number;
}

/** Verification of a token into a principal, with the verified-token cache when there is one. */
export interface PrincipalVerifier {
  /**
   * The frozen rules this verifier was built from: the very objects handed to
   * the token verifier and to `toPrincipal`, and serialised into every cache key.
   */
  readonly rules: Readonly<PrincipalRules>;
  /** Whether there is a cache (configured on, and every key store has `hasKid`). */
  readonly caching: boolean;
  /** Entries in the cache (0 without one). */
  readonly size: number;
  /** The cache's hits, misses and size; `undefined` without a cache. */
  cacheStats(): TokenCacheStats | undefined;
  /**
   * The cache key of a token: SHA-256 of {@link verificationScope}(`rules`)
   * and SHA-256 of the token. Only with a cache (`caching`).
   */
  keyOf(token: string): string;
  /** A hit as a resolved promise (the caller's own copy), or `undefined`; anything thrown becomes a rejected 401. */
  lookup(key: string): Promise<Principal> | undefined;
  /**
   * A hit at once (the caller's own copy), or `undefined` for a miss, no
   * cache, or anything thrown while checking the entry (`lookup` then reports it).
   */
  hit(key: string): Principal | undefined;
  /**
   * Full verification. With a `key`, the result is remembered under it, but
   * only for a token of bearer syntax, so every key stands for a token the
   * bearer rules accept (which lets a hit skip them, see `peekBearerToken`).
   * @throws {AuthError} as a rejection, never anything else (see `toAuthError`).
   */
  verify(token: string, key?: string): Promise<Principal>;
  /** `lookup` then `verify`: a hit costs a digest and a map lookup, not a verification. */
  verifyToken(token: string): Promise<Principal>;
}

/**
 * Build the one owner of the verified-token cache: its key, lookup and store.
 * `rules` are copied and frozen once; that frozen object is both what the
 * verifier and `toPrincipal` use and what {@link verificationScope} hashes
 * into every key, so an option cannot reach the verifier without reaching
 * the key as well. Entries follow `createTokenCache`'s rules (never past
 * `exp`, `iat` + `maxTokenAgeSeconds` or the cache's max age; `nbf` and the
 * key set re-checked on every hit; failures never cached).
 *
 * There is no cache when `cache.enabled` is false, or when a key store cannot
 * say whether a key is still in its set (`hasKid`): a rotated-out key's
 * tokens could otherwise outlive it (fail closed).
 *
 * @param cache `AUTH_TOKEN_CACHE*` settings. Default: on, 10000 entries, 300 s.
 * @example
 * const verifier = createPrincipalVerifier({ verification, mapping, tenancy }, config.tokenCache);
 * const principal = await verifier.verifyToken(token);
 */
export function createPrincipalVerifier(rules: PrincipalRules, cache?: TokenCacheConfig): PrincipalVerifier {
  const frozen = freezeRules(rules);
  const { verification, mapping, tenancy } = frozen;
  const read = createVerifiedTokenReader(verification);
  const stores = issuerStores(verification);
  const entries = createCache(frozen, stores, cache);
  const maxTokenBytes = verification.maxTokenBytes;
  const maxTokenAge = verification.maxTokenAgeSeconds;

  const verify = async (token: string, key?: string): Promise<Principal> => {
    try {
      const { payload: claims, header } = await read(token);
      const principal = toPrincipal(claims, mapping, tenancy);
      if (entries === undefined || key === undefined || !isBearerTokenSyntax(token, maxTokenBytes)) return principal;
      const kid = verifiedKid(header);
      if (kid !== undefined && typeof claims.iss === "string") {
        // With a max token age the token also ends at iat + max age.
        const exp = maxTokenAge !== undefined && typeof claims.iat === "number"
          ? Math.min(claims.exp as number, claims.iat + maxTokenAge)
          : (claims.exp as number);
        entries.set(key, principal, { exp, nbf: claims.nbf, kid: keyRef(claims.iss, kid) });
      }
      return copyPrincipal(principal);
    } catch (error) {
      throw toAuthError(error);
    }
  };

  // A miss is counted by `lookup` only: `hit` is a first look, and on a miss
  // the caller goes on to `authenticateRequest`, whose lookup counts it.
  let hits = 0;
  let misses = 0;

  const lookup = (key: string): Promise<Principal> | undefined => {
    try {
      const hit = entries?.get(key);
      if (hit === undefined) {
        if (entries !== undefined) misses += 1;
        return undefined;
      }
      hits += 1;
      return Promise.resolve(copyPrincipal(hit));
    } catch (error) {
      return Promise.reject(toAuthError(error));
    }
  };

  const hit = (key: string): Principal | undefined => {
    try {
      const found = entries?.get(key);
      if (found === undefined) return undefined;
      hits += 1;
      return copyPrincipal(found);
    } catch {
      return undefined;
    }
  };

  const keyOf = (token: string): string => {
    if (entries === undefined) throw new TypeError("keyOf: this verifier has no cache");
    return entries.keyOf(token);
  };

  return {
    rules: frozen,
    caching: entries !== undefined,
    get size() {
      return entries?.size ?? 0;
    },
    cacheStats: () => (entries === undefined ? undefined : { hits, misses, entries: entries.size, maxEntries: entries.maxEntries }),
    keyOf,
    lookup,
    hit,
    verify,
    verifyToken(token) {
      if (entries === undefined) return verify(token);
      let key: string;
      try {
        key = entries.keyOf(token);
      } catch (error) {
        return Promise.reject(toAuthError(error));
      }
      return lookup(key) ?? verify(token, key);
    },
  };
}

/**
 * The canonical serialisation of everything that decides what a token
 * verifies to, hashed into every cache key. Every own property at every depth
 * takes part, whatever its name, so an option added to the rules is in the key
 * without anyone listing it. Plain objects are written with sorted keys;
 * functions and stateful objects (a key store, a clock) by identity within
 * this process, which only ever separates entries; a key store given as a
 * function of the issuer is written as the store of each configured issuer
 * (a store's own settings, such as its JWKS URL, count through its identity:
 * one store, one key set).
 *
 * @throws {TypeError} on a value it cannot write (a symbol, a cycle).
 * @example
 * verificationScope(verifier.rules); // '["o",["mapping",["o",…'
 */
export function verificationScope(rules: Readonly<PrincipalRules>): string {
  const { verification } = rules;
  const perIssuer = typeof verification.keyStore === "function" ? Object.fromEntries(issuerStores(verification)) : verification.keyStore;
  // Each part is an options object (functions among its values): walked key
  // by key whatever it holds, so every option of every part is written out.
  const parts: Record<string, object> = { ...rules, verification: { ...verification, keyStore: perIssuer } };
  return JSON.stringify(
    ["o", ...Object.keys(parts).sort().map((part) => [part, canonicalFields(parts[part]!, new Set())])],
  );
}

/** Object identities for {@link verificationScope}: a number per function or stateful object. */
const identities = new WeakMap<object, number>();
let nextIdentity = 1;

function identityOf(value: object): number {
  let id = identities.get(value);
  if (id === undefined) identities.set(value, (id = nextIdentity++));
  return id;
}

/** Tagged JSON: no two different values write the same text (NaN, -0, undefined included). */
function canonical(value: unknown, ancestors: Set<object>): unknown {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      return ["n", Object.is(value, -0) ? "-0" : String(value)];
    case "bigint":
      return ["b", String(value)];
    case "undefined":
      return ["u"];
    case "function":
      return ["ref", identityOf(value)];
    case "symbol":
      throw new TypeError("verificationScope: a symbol cannot be part of the verification rules");
  }
  if (value === null) return null;
  const object = value as object;
  if (!isPlainData(object)) return ["ref", identityOf(object)];
  return Array.isArray(object) ? canonicalItems(object, ancestors) : canonicalFields(object, ancestors);
}

function canonicalItems(items: readonly unknown[], ancestors: Set<object>): unknown {
  enter(items, ancestors);
  const written = ["a", ...items.map((item) => canonical(item, ancestors))];
  ancestors.delete(items);
  return written;
}

/** Every own enumerable field, sorted by name. */
function canonicalFields(object: object, ancestors: Set<object>): unknown {
  enter(object, ancestors);
  const record = object as Record<string, unknown>;
  const written = ["o", ...Object.keys(record).sort().map((key) => [key, canonical(record[key], ancestors)])];
  ancestors.delete(object);
  return written;
}

function enter(object: object, ancestors: Set<object>): void {
  if (ancestors.has(object)) throw new TypeError("verificationScope: the verification rules contain a cycle");
  ancestors.add(object);
}

/**
 * An array, or an object of `Object`'s (or no) prototype holding no function
 * and no accessor: data, copied and written out. Anything else (a key store,
 * a class instance) is stateful and goes by identity.
 */
function isPlainData(value: object): boolean {
  if (Array.isArray(value)) return true;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  return Object.values(Object.getOwnPropertyDescriptors(value)).every(
    (d) => d.get === undefined && d.set === undefined && typeof d.value !== "function",
  );
}

/** A frozen deep copy of data; stateful objects and functions are kept as they are. */
function frozenCopy<T>(value: T): T {
  if (typeof value !== "object" || value === null || !isPlainData(value)) return value;
  const copy = Array.isArray(value)
    ? value.map((item) => frozenCopy(item))
    : Object.fromEntries(Object.entries(value).map(([key, item]) => [key, frozenCopy(item)]));
  return Object.freeze(copy) as T;
}

function freezeRules(rules: PrincipalRules): Readonly<PrincipalRules> {
  const verification = Object.freeze(
    Object.fromEntries(Object.entries(rules.verification).map(([key, item]) => [key, frozenCopy(item)])),
  ) as unknown as TokenVerifierOptions;
  return Object.freeze({ ...rules, verification, mapping: frozenCopy(rules.mapping), tenancy: frozenCopy(rules.tenancy) });
}

/** Each configured issuer's key store, resolved as the verifier resolves it. */
function issuerStores(verification: TokenVerifierOptions): Map<string, KeyStore> {
  const issuers = typeof verification.issuer === "string" ? [verification.issuer] : verification.issuer;
  const { keyStore } = verification;
  return new Map(issuers.map((issuer) => [issuer, typeof keyStore === "function" ? keyStore(issuer) : keyStore]));
}

/** Key references whose check is kept: far more than the kids of a few key sets. */
const MAX_KID_CHECKS = 256;

/** An entry's key reference: the issuer whose store verified it, and the kid. */
const keyRef = (issuer: string, kid: string): string => `${issuer}\u0000${kid}`;

function createCache(
  rules: Readonly<PrincipalRules>,
  stores: Map<string, KeyStore>,
  settings: TokenCacheConfig | undefined,
): TokenCache<Principal> | undefined {
  if (settings?.enabled === false) return undefined;
  if ([...stores.values()].some((store) => typeof store?.hasKid !== "function")) return undefined;
  const { clockToleranceSeconds, now } = rules.verification;
  // Every hit asks whether the entry's key is still in its set. Its issuer's
  // store and kid are split out of the reference once (there are a few per
  // key set), not on every hit; the store still answers every time.
  const kidChecks = new Map<string, () => boolean>();
  return createTokenCache<Principal>({
    scope: verificationScope(rules),
    clockToleranceSeconds,
    hasKid: (ref) => {
      let check = kidChecks.get(ref);
      if (check === undefined) {
        const split = ref.indexOf("\u0000");
        const store = stores.get(ref.slice(0, split));
        const kid = ref.slice(split + 1);
        check = () => store?.hasKid?.(kid) ?? false;
        if (kidChecks.size >= MAX_KID_CHECKS) kidChecks.clear();
        kidChecks.set(ref, check);
      }
      return check();
    },
    ...(settings ? { maxEntries: settings.maxEntries, maxAgeSeconds: settings.maxAgeSeconds } : {}),
    ...(now ? { clock: now } : {}),
  });
}

/** Each caller gets its own principal, so no one can change a cached one. */
function copyPrincipal(principal: Principal): Principal {
  return { ...principal, permissions: principal.permissions.slice(), roles: principal.roles.slice() };
}
