import type { AuthConfig } from "../config/read-config.ts";
import { AuthError, InvalidTokenError } from "../errors.ts";
import { extractBearerToken, isBearerTokenSyntax, peekBearerToken } from "../bearer/extract-bearer-token.ts";
import { createRemoteKeyStore } from "../verify/create-remote-key-store.ts";
import type { FetchLike, KeyStore } from "../verify/key-store.ts";
import { createTokenVerifier, type TokenVerifier } from "../verify/verify-access-token.ts";
import { createTokenCache, readVerifiedKid, type TokenCache } from "../verify/token-cache.ts";
import { DEFAULT_CLAIM_MAPPING, toPrincipal, type ClaimMapping, type Principal } from "../tenant/principal.ts";

/** Options of {@link createAuthenticator}. */
export interface AuthenticatorOptions {
  config: AuthConfig;
  /** Key store to verify with. Default: the issuer's remote key set. */
  keyStore?: KeyStore;
  /** `fetch` for the default key store. Default: the global one. */
  fetch?: FetchLike;
  /** Claim mapping overrides, spread over the defaults and `config.tenantClaim`. */
  claims?: Partial<ClaimMapping>;
  /** Current time in ms (token `exp`/`nbf` and the token cache). Default `Date.now`. */
  clock?: () => number;
}

/** Framework-neutral authentication: a web `Request` in, a principal out. */
export interface Authenticator {
  /**
   * Authenticate one request.
   * @throws {AuthError} always an error with `status` and `headers`; never anything else.
   */
  authenticateRequest(request: Request): Promise<Principal>;
  /** Verify a bare token (no request). Same errors. */
  verifyToken(token: string): Promise<Principal>;
  /** Entries in the verified-token cache (0 when it is off). */
  readonly cachedTokens?: number;
}

/**
 * Build the authenticator every adapter (LangGraph `Auth`, Hono middleware)
 * is a thin layer over.
 *
 * @example
 * const authenticator = createAuthenticator({ config: readConfig() });
 * const principal = await authenticator.authenticateRequest(request);
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const { config } = options;
  const keyStore =
    options.keyStore ??
    createRemoteKeyStore({ issuer: config.issuer, jwksUrl: config.jwksUrl, ...(options.fetch ? { fetch: options.fetch } : {}) });
  const verify: TokenVerifier = createTokenVerifier({
    issuer: config.issuer,
    audience: config.audience,
    algorithms: config.algorithms,
    clockToleranceSeconds: config.clockToleranceSeconds,
    keyStore,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const mapping: ClaimMapping = { ...DEFAULT_CLAIM_MAPPING, tenantClaim: config.tenantClaim, ...options.claims };
  const tenancy = { mode: config.tenantMode, singleTenantId: config.singleTenantId };
  const cache = createPrincipalCache(options, keyStore, mapping, tenancy);

  /**
   * Full verification. The result is remembered under `key` only for a token
   * of bearer syntax, so every cache key stands for a token the bearer rules
   * accept (which lets a hit skip them, see `peekBearerToken`).
   */
  const verifyFully = async (token: string, key: string | undefined): Promise<Principal> => {
    try {
      const claims = await verify(token);
      const principal = toPrincipal(claims, mapping, tenancy);
      if (cache === undefined || key === undefined || !isBearerTokenSyntax(token)) return principal;
      const kid = readVerifiedKid(token);
      if (kid !== undefined) cache.set(key, principal, { exp: claims.exp as number, nbf: claims.nbf, kid });
      return copyPrincipal(principal);
    } catch (error) {
      throw asAuthError(error);
    }
  };

  /** A hit as a resolved promise, or `undefined`; anything thrown is a 401. */
  const lookup = (key: string): Promise<Principal> | undefined => {
    try {
      const hit = cache!.get(key);
      return hit === undefined ? undefined : Promise.resolve(copyPrincipal(hit));
    } catch (error) {
      return Promise.reject(asAuthError(error));
    }
  };

  /**
   * A cache hit is answered synchronously (a resolved promise), so a reused
   * token costs a digest and a map lookup, not a verification.
   */
  const verifyToken = (token: string): Promise<Principal> => {
    if (cache === undefined) return verifyFully(token, undefined);
    let key: string;
    try {
      key = cache.keyOf(token);
    } catch (error) {
      return Promise.reject(asAuthError(error));
    }
    return lookup(key) ?? verifyFully(token, key);
  };

  return {
    get cachedTokens() {
      return cache?.size ?? 0;
    },
    verifyToken,
    authenticateRequest(request) {
      // Hit first: the unvalidated header text is only a lookup key here, and
      // a hit proves it is a token extractBearerToken accepted before.
      let candidate: string | undefined;
      let candidateKey: string | undefined;
      if (cache !== undefined) {
        try {
          candidate = peekBearerToken(request);
          if (candidate !== undefined) {
            candidateKey = cache.keyOf(candidate);
            const hit = lookup(candidateKey);
            if (hit !== undefined) return hit;
          }
        } catch {
          // Not of the plain shape: the full rules below decide.
        }
      }
      let token: string;
      try {
        token = extractBearerToken(request);
      } catch (error) {
        return Promise.reject(asAuthError(error));
      }
      if (cache === undefined) return verifyFully(token, undefined);
      return verifyFully(token, token === candidate && candidateKey !== undefined ? candidateKey : cache.keyOf(token));
    },
  };
}

/**
 * The verified-token cache, when configured on and the key store can tell
 * whether a key is still in the set (`hasKid`): without that, a rotated-out
 * key's tokens could outlive it, so there is no cache (fail closed).
 */
function createPrincipalCache(
  options: AuthenticatorOptions,
  keyStore: KeyStore,
  mapping: ClaimMapping,
  tenancy: { mode: string; singleTenantId: string },
): TokenCache<Principal> | undefined {
  const { config } = options;
  const settings = config.tokenCache;
  if (settings?.enabled === false || typeof keyStore.hasKid !== "function") return undefined;
  // Everything that changes what a token verifies to is part of every key.
  const scope = JSON.stringify([
    config.issuer,
    config.audience,
    config.algorithms,
    config.clockToleranceSeconds,
    mapping,
    tenancy,
  ]);
  return createTokenCache<Principal>({
    scope,
    clockToleranceSeconds: config.clockToleranceSeconds,
    hasKid: (kid) => keyStore.hasKid!(kid),
    ...(settings ? { maxEntries: settings.maxEntries, maxAgeSeconds: settings.maxAgeSeconds } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
}

/** Each caller gets its own principal, so no one can change a cached one. */
function copyPrincipal(principal: Principal): Principal {
  return { ...principal, permissions: principal.permissions.slice(), roles: principal.roles.slice() };
}

/** The one place an unexpected error is converted: a 401, never a 500. */
function asAuthError(error: unknown): AuthError {
  if (error instanceof AuthError) return error;
  return new InvalidTokenError("the token could not be verified", { cause: error });
}
