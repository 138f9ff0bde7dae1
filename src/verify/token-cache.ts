import { hash } from "node:crypto";
import {
  DEFAULT_TOKEN_CACHE_MAX_AGE_SECONDS,
  DEFAULT_TOKEN_CACHE_MAX_ENTRIES,
} from "../config/token-cache-config.ts";

/** Options of {@link createTokenCache}. */
export interface TokenCacheOptions {
  /**
   * Everything that changes what a token verifies to (issuer, audiences,
   * algorithms, tenant claim, mode…), serialised. It is hashed into every key,
   * so a cache can never answer for a differently configured verifier.
   */
  scope: string;
  /** LRU cap. Default 10000. */
  maxEntries?: number;
  /** Longest life of an entry in seconds, whatever the token's `exp`. Default 300. */
  maxAgeSeconds?: number;
  /** Skew allowed on `exp`/`nbf`, as in verification. Default 0. */
  clockToleranceSeconds?: number;
  /** Current time in ms. Default `Date.now`. */
  clock?: () => number;
  /**
   * Whether the key set still holds the key that verified an entry (see
   * `KeyStore.hasKid`). Asked on every hit; `false` drops the entry.
   */
  hasKid: (kid: string) => boolean;
}

/** What verification learnt about a token that the cache must re-check. */
export interface VerifiedTokenFacts {
  /** `exp` (required by verification), in seconds since the epoch. */
  exp: number;
  /** `nbf`, when the token has one. */
  nbf?: number | undefined;
  /** `kid` of the key that verified the signature. */
  kid: string;
}

/** A bounded cache of verified tokens: the result of verifying them, by digest. */
export interface TokenCache<V> {
  /** The key of a token: the SHA-256 of the scope and the SHA-256 of the exact token bytes (the token itself is never kept). */
  keyOf(token: string): string;
  /** The cached value, if the entry is still valid now; an invalid entry is dropped. */
  get(key: string): V | undefined;
  /** Remember a verified token; ignored when it is already past `exp`, has no usable `kid`, or has an `nbf` that is not a finite number. */
  set(key: string, value: V, facts: VerifiedTokenFacts): void;
  delete(key: string): void;
  clear(): void;
  readonly size: number;
  /** The LRU cap (`maxEntries`). */
  readonly maxEntries: number;
}

interface Entry<V> {
  value: V;
  /** ms: the entry is gone at min(exp, stored + maxAge). */
  deadline: number;
  /** ms: before this the token is not yet valid (nbf − tolerance); 0 without `nbf`. */
  notBefore: number;
  kid: string;
  /** Hit since the eviction hand last passed it (CLOCK, a cheap LRU: a hit writes a flag, it moves nothing). */
  used: boolean;
}

/**
 * Build a verified-token cache. Rules, each re-checked on every hit:
 * - an entry never outlives the token's `exp` nor `maxAgeSeconds`;
 * - `exp` and `nbf` are checked again against the clock (RFC 7519 §4.1.4,
 *   §4.1.5): a hit needs `now < exp` (stricter than verification: the
 *   tolerance after `exp` is left to a full verification) and
 *   `now >= nbf − tolerance`, so a clock that moves back cannot revive a token
 *   ahead of its `nbf`;
 * - an entry whose `kid` has left the key set is dropped (the key was rotated
 *   out or revoked, so its tokens must be verified again and fail);
 * - at most `maxEntries` entries, so a flood of distinct tokens costs a bounded
 *   amount of memory. Eviction is least recently used, approximated by CLOCK
 *   (second chance): the oldest entry not hit since it was last passed goes
 *   first, and a hit costs a flag instead of a reordering.
 *
 * Failures are never cached: a bad token is verified (and refused) every time.
 *
 * @example
 * const cache = createTokenCache<Principal>({ scope: JSON.stringify(config), hasKid: (kid) => keyStore.hasKid!(kid) });
 * const key = cache.keyOf(token);
 * const principal = cache.get(key) ?? remember(await verify(token));
 */
export function createTokenCache<V>(options: TokenCacheOptions): TokenCache<V> {
  const maxEntries = options.maxEntries ?? DEFAULT_TOKEN_CACHE_MAX_ENTRIES;
  const maxAgeSeconds = options.maxAgeSeconds ?? DEFAULT_TOKEN_CACHE_MAX_AGE_SECONDS;
  const toleranceSeconds = options.clockToleranceSeconds ?? 0;
  if (typeof options.scope !== "string") throw new TypeError("scope must be a string");
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new TypeError("maxEntries must be a whole number of at least 1");
  if (!Number.isFinite(maxAgeSeconds) || maxAgeSeconds <= 0) throw new TypeError("maxAgeSeconds must be a positive number");
  if (!Number.isFinite(toleranceSeconds) || toleranceSeconds < 0) {
    throw new TypeError("clockToleranceSeconds must be a non-negative number");
  }
  if (typeof options.hasKid !== "function") throw new TypeError("hasKid must be a function");
  const clock = options.clock ?? Date.now;
  const hasKid = options.hasKid;
  const maxAgeMs = maxAgeSeconds * 1000;
  const toleranceMs = toleranceSeconds * 1000;
  // A key is the scope's digest and the token's digest side by side, both
  // fixed length, so no two (scope, token) pairs share a key unless SHA-256
  // collides; hashing the token alone spares copying it into a longer string.
  const prefix = hash("sha256", options.scope, "base64");
  // A Map iterates in insertion order: the first key is the oldest, and the
  // eviction hand gives a used entry a second chance by re-inserting it.
  const entries = new Map<string, Entry<V>>();

  return {
    keyOf: (token) => prefix + hash("sha256", token, "base64"),
    get(key) {
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      const now = clock();
      if (now >= entry.deadline || now < entry.notBefore || !hasKid(entry.kid)) {
        entries.delete(key);
        return undefined;
      }
      entry.used = true;
      return entry.value;
    },
    set(key, value, facts) {
      if (typeof facts.kid !== "string" || facts.kid === "" || !Number.isFinite(facts.exp)) return;
      // An nbf that is there but not a finite number cannot be re-checked on a hit: fail closed, store nothing
      // (verification refuses such a token first; this holds for any other caller of the cache too).
      if (facts.nbf !== undefined && !Number.isFinite(facts.nbf)) return;
      const now = clock();
      const deadline = Math.min(facts.exp * 1000, now + maxAgeMs);
      if (now >= deadline) return;
      const notBefore = facts.nbf === undefined ? 0 : facts.nbf * 1000 - toleranceMs;
      entries.delete(key);
      entries.set(key, { value, deadline, notBefore, kid: facts.kid, used: false });
      // Terminates: each pass clears a flag, so within two rounds an entry is unused.
      while (entries.size > maxEntries) {
        const oldest = entries.entries().next();
        if (oldest.done) break;
        const [oldestKey, oldestEntry] = oldest.value;
        entries.delete(oldestKey);
        if (oldestEntry.used && oldestKey !== key) {
          oldestEntry.used = false;
          entries.set(oldestKey, oldestEntry);
        }
      }
    },
    delete(key) {
      entries.delete(key);
    },
    clear() {
      entries.clear();
    },
    get size() {
      return entries.size;
    },
    maxEntries,
  };
}

/**
 * The `kid` of a verified token's protected header (the header the key store
 * matched). `undefined` when absent or not a non-empty string: such tokens
 * are simply not cached.
 *
 * @example
 * const kid = verifiedKid(protectedHeader); // "Nq3…" or undefined
 */
export function verifiedKid(header: { readonly [name: string]: unknown }): string | undefined {
  return typeof header.kid === "string" && header.kid !== "" ? header.kid : undefined;
}
