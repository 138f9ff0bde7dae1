import type { JWTVerifyGetKey } from "jose";

/**
 * Where verification gets its keys. `getKey` is handed to jose's `jwtVerify`
 * as is. Implementations throw jose's errors for a token whose key is not in
 * the set, and a `KeysUnavailableError` when no keys can be had at all.
 */
export interface KeyStore {
  getKey: JWTVerifyGetKey;
  /**
   * Whether the key set as this store last saw it still holds a key with this
   * `kid`. Optional: the verified-token cache asks it on every hit and drops
   * entries whose key has left the set (rotation, compromise); a store without
   * it gets no cache. Must be synchronous and cheap; it may start a background
   * refresh when its copy is stale, so cache hits alone keep it current.
   *
   * @example
   * if (keyStore.hasKid?.(entry.kid) === false) cache.delete(key);
   */
  hasKid?(kid: string): boolean;
}

/** The `fetch` a key store uses; injectable so tests can cut the network. */
export type FetchLike = (input: string | URL, init?: RequestInit) => Promise<Response>;
