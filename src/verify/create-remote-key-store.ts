import { createRemoteJWKSet, customFetch, errors, type RemoteJWKSet } from "jose";
import { KeysUnavailableError } from "../errors.ts";
import type { FetchLike, KeyStore } from "./key-store.ts";
import { resolveJwksUrl } from "./resolve-jwks-url.ts";

/** Options of {@link createRemoteKeyStore}. */
export interface RemoteKeyStoreOptions {
  /** The configured issuer (used for discovery when `jwksUrl` is not given). */
  issuer: string;
  /** JWKS endpoint; default: `jwks_uri` from the issuer's discovery document. */
  jwksUrl?: string | undefined;
  /** `fetch` to use. Default: the global one. */
  fetch?: FetchLike;
  /** Request timeout in ms. Default 5000. */
  timeoutMs?: number;
  /** How long a fetched key set counts as fresh, in ms (jose's `cacheMaxAge`). Default 600000. */
  cacheMaxAgeMs?: number;
  /** Least time between two fetches for an unknown `kid`, in ms (jose's `cooldownDuration`). Default 30000. */
  cooldownMs?: number;
}

/**
 * A key store over jose's remote key set, with discovery resolved once
 * (single flight) and redirects refused. Network failures become
 * `KeysUnavailableError` (503), never a 401 or a 500.
 */
export function createRemoteKeyStore(options: RemoteKeyStoreOptions): KeyStore {
  const doFetch: FetchLike = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 5000;
  const cacheMaxAge = options.cacheMaxAgeMs ?? 600_000;
  const cooldown = options.cooldownMs ?? 30_000;
  for (const [name, value] of [["cacheMaxAgeMs", cacheMaxAge], ["cooldownMs", cooldown]] as const) {
    if (!Number.isFinite(value) || value < 0) throw new TypeError(`${name} must be a non-negative number of milliseconds`);
  }
  let keySet: Promise<RemoteJWKSet> | undefined;
  // For hasKid: the set once loaded, and its kids, recomputed only after a
  // fetch (jose's jwks() returns a deep copy, too dear for every request).
  let loaded: RemoteJWKSet | undefined;
  let kids: Set<string> | undefined;
  let kidsStale = true;
  let lastBackgroundReload = 0;
  // Staleness is looked at on one call in 64 (the first included): enough
  // for a refresh to start, without a clock read on every request.
  let hasKidCalls = 0;

  const load = (): Promise<RemoteJWKSet> => {
    keySet ??= (async () => {
      const url = options.jwksUrl ?? (await resolveJwksUrl({ issuer: options.issuer, fetch: doFetch, timeoutMs }));
      const set = createRemoteJWKSet(new URL(url), {
        timeoutDuration: timeoutMs,
        cacheMaxAge,
        cooldownDuration: cooldown,
        [customFetch]: (input: string, init: RequestInit) => {
          kidsStale = true;
          return doFetch(input, { ...init, redirect: "manual" });
        },
      });
      loaded = set;
      return set;
    })();
    keySet.catch(() => {
      keySet = undefined;
    });
    return keySet;
  };

  return {
    async getKey(header, token) {
      // Once loaded, the set is used directly: no promise per request.
      const set = loaded ?? (await load());
      try {
        return await set(header, token);
      } catch (error) {
        if (error instanceof errors.JWKSTimeout || !(error instanceof errors.JOSEError)) {
          throw new KeysUnavailableError(30, { cause: error });
        }
        throw error;
      }
    },
    hasKid(kid) {
      const set = loaded;
      if (!set) return false;
      if (kidsStale && !set.reloading) {
        kidsStale = false;
        kids = new Set((set.jwks()?.keys ?? []).flatMap((jwk) => (typeof jwk.kid === "string" ? [jwk.kid] : [])));
      }
      // Cache hits never call getKey, so a stale set is refreshed from here,
      // in the background and at most once per cooldown (a down IdP is not
      // asked again on every request).
      if ((++hasKidCalls & 63) === 1 && !set.fresh && !set.reloading && Date.now() - lastBackgroundReload >= cooldown) {
        lastBackgroundReload = Date.now();
        set.reload().catch(() => undefined);
      }
      return kids?.has(kid) ?? false;
    },
  };
}
