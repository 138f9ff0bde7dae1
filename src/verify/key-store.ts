import type { JWTVerifyGetKey } from "jose";

/**
 * Where verification gets its keys. `getKey` is handed to jose's `jwtVerify`
 * as is. Implementations throw jose's errors for a token whose key is not in
 * the set, and a `KeysUnavailableError` when no keys can be had at all.
 */
export interface KeyStore {
  getKey: JWTVerifyGetKey;
}

/** The `fetch` a key store uses; injectable so tests can cut the network. */
export type FetchLike = (input: string | URL, init?: RequestInit) => Promise<Response>;
