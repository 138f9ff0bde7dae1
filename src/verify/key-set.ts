/**
 * One fetched JSON Web Key Set as the remote key store keeps it: checked and
 * turned into jose's local key set (`toKeySet`), with the key jose chose for
 * each `alg` and `kid` remembered, so a repeated header skips the lookup.
 * Internal to `src/verify/`: `create-remote-key-store.ts` is the only user.
 */
import { createLocalJWKSet, importJWK, type CryptoKey, type JSONWebKeySet, type JWK, type JWTVerifyGetKey, type KeyObject } from "jose";

/** One fetched key set: jose's lookup over it, its key ids, when it was fetched, and the lookups remembered. */
export interface KeySet {
  lookup: JWTVerifyGetKey;
  kids: Set<string>;
  fetchedAt: number;
  /**
   * The key jose's `lookup` chose, by `alg` and `kid`: its choice depends on
   * nothing else of the header, and this set's keys never change.
   */
  chosen: Map<string, CryptoKey | KeyObject>;
}

/** At most this many remembered choices per key set (every allowed alg × every kid is far fewer). */
const MAX_CHOSEN = 256;

/** The part of a header jose's key set lookup reads: `alg` and `kid` (absent and "" differ). */
export function choiceKey(header: { alg?: unknown; kid?: unknown }): string | undefined {
  if (typeof header.alg !== "string") return undefined;
  if (header.kid === undefined) return `${header.alg}\u0001`;
  return typeof header.kid === "string" ? `${header.alg}\u0000${header.kid}` : undefined;
}

/** Remember what jose chose for a header (compact tokens have no unprotected header). */
export function rememberChoice(set: KeySet, header: { alg?: unknown; kid?: unknown }, key: unknown, token: { header?: unknown } | undefined): void {
  const choice = choiceKey(header);
  if (choice === undefined || token?.header !== undefined || set.chosen.size >= MAX_CHOSEN) return;
  if (key instanceof globalThis.CryptoKey) set.chosen.set(choice, key as CryptoKey);
}

/**
 * Check a fetched document and build jose's local key set from it. Garbage
 * (not a key set, too many keys, private or symmetric key material, no key
 * jose can import) is a failed fetch, so the last good set stays in use.
 */
export async function toKeySet(document: unknown, url: string, maxKeys: number, fetchedAt: number): Promise<KeySet> {
  const keys = (document as { keys?: unknown } | null)?.keys;
  if (!document || typeof document !== "object" || !Array.isArray(keys)) {
    throw new Error(`GET ${url}: the answer is not a JSON Web Key Set`);
  }
  if (keys.length > maxKeys) throw new Error(`GET ${url}: the key set has ${keys.length} keys, more than the cap of ${maxKeys}`);
  const usable: JWK[] = [];
  for (const key of keys as unknown[]) {
    if (!key || typeof key !== "object" || Array.isArray(key)) throw new Error(`GET ${url}: a key set member is not an object`);
    const jwk = key as JWK;
    // RFC 7517 §9.2/§9.3: a published private or symmetric key is a leak;
    // refuse the whole set rather than pick around it.
    if ("d" in jwk || jwk.kty === "oct" || "k" in jwk) throw new Error(`GET ${url}: the key set contains private or symmetric key material`);
    if (jwk.use !== undefined && jwk.use !== "sig") continue;
    if (jwk.kid !== undefined && typeof jwk.kid !== "string") throw new Error(`GET ${url}: a key has a non-string "kid"`);
    if (typeof jwk.alg === "string") {
      try {
        await importJWK(jwk, jwk.alg);
      } catch {
        continue; // unusable for verification; the rest of the set may be fine
      }
    }
    usable.push(jwk);
  }
  if (usable.length === 0) throw new Error(`GET ${url}: the key set has no usable signing key`);
  const set: JSONWebKeySet = { keys: usable };
  return {
    lookup: createLocalJWKSet(set),
    kids: new Set(usable.map((jwk) => jwk.kid).filter((kid): kid is string => typeof kid === "string")),
    fetchedAt,
    chosen: new Map(),
  };
}
