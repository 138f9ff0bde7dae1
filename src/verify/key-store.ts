import type { CryptoKey, JWTVerifyGetKey, KeyObject } from "jose";

/**
 * A change of the key set: the kids that appeared and those that left.
 * A kid that left must stop vouching for anything it verified before, for
 * example cached verification results (RFC 8725 §3.1: a key taken out of the
 * set is a key the issuer no longer stands behind).
 */
export interface KeySetChange {
  added: string[];
  removed: string[];
}

/**
 * Where verification gets its keys. `getKey` is handed to jose's `jwtVerify`
 * as is. Implementations throw jose's errors for a token whose key is not in
 * the set, and a `KeysUnavailableError` when no keys can be had at all.
 *
 * The two optional members let a cache of verified tokens follow the key
 * set (helper code should treat a store without them as "cannot tell" and
 * not cache):
 * - `hasKid(kid)`: is a key with this `kid` in the set right now? A cached
 *   result verified with a kid for which this is `false` must be dropped.
 * - `onKeySetChange(listener)`: called after every refresh that changed the
 *   set, with the kids added and removed; returns an unsubscribe function.
 *
 * @example
 * const store = createRemoteKeyStore({ issuer: "https://idp.example.com/" });
 * const stop = store.onKeySetChange(({ removed }) => removed.forEach((kid) => cache.dropKid(kid)));
 * if (!store.hasKid(kidOfCachedEntry)) cache.delete(token);
 */
export interface KeyStore {
  getKey: JWTVerifyGetKey;
  /**
   * The key `getKey` would answer for this header, without a promise, when
   * the store can tell at once (the same `alg` and `kid` were looked up in
   * the current, fresh key set); `undefined` otherwise, and the verifier
   * calls `getKey`. Lets a verifier skip jose's asynchronous key lookup.
   */
  keyFor?(header: { alg?: unknown; kid?: unknown }): CryptoKey | KeyObject | undefined;
  hasKid?(kid: string): boolean;
  onKeySetChange?(listener: (change: KeySetChange) => void): () => void;
}

/** The `fetch` a key store uses; injectable so tests can cut the network. */
export type FetchLike = (input: string | URL, init?: RequestInit) => Promise<Response>;
