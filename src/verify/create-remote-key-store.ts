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
}

/**
 * A key store over jose's remote key set, with discovery resolved once
 * (single flight) and redirects refused. Network failures become
 * `KeysUnavailableError` (503), never a 401 or a 500.
 */
export function createRemoteKeyStore(options: RemoteKeyStoreOptions): KeyStore {
  const doFetch: FetchLike = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 5000;
  let keySet: Promise<RemoteJWKSet> | undefined;

  const load = (): Promise<RemoteJWKSet> => {
    keySet ??= (async () => {
      const url = options.jwksUrl ?? (await resolveJwksUrl({ issuer: options.issuer, fetch: doFetch, timeoutMs }));
      return createRemoteJWKSet(new URL(url), {
        timeoutDuration: timeoutMs,
        [customFetch]: (input: string, init: RequestInit) => doFetch(input, { ...init, redirect: "manual" }),
      });
    })();
    keySet.catch(() => {
      keySet = undefined;
    });
    return keySet;
  };

  return {
    async getKey(header, token) {
      const set = await load();
      try {
        return await set(header, token);
      } catch (error) {
        if (error instanceof errors.JWKSTimeout || !(error instanceof errors.JOSEError)) {
          throw new KeysUnavailableError(30, { cause: error });
        }
        throw error;
      }
    },
  };
}
