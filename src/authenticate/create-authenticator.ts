import type { AuthConfig } from "../config/read-config.ts";
import { AuthError, InvalidTokenError } from "../errors.ts";
import {
  DEFAULT_MAX_TOKEN_BYTES,
  extractBearerToken,
  isBearerTokenSyntax,
  peekBearerToken,
} from "../bearer/extract-bearer-token.ts";
import { createRemoteKeyStore } from "../verify/create-remote-key-store.ts";
import type { FetchLike, KeyStore } from "../verify/key-store.ts";
import { createVerifiedTokenReader, type VerifiedTokenReader } from "../verify/verify-access-token.ts";
import { createTokenCache, verifiedKid, type TokenCache } from "../verify/token-cache.ts";
import { toPrincipal, type ClaimMapping, type Principal } from "../tenant/principal.ts";
import { resolveProviderMapping } from "../tenant/provider-presets.ts";

/** Options of {@link createAuthenticator}. */
export interface AuthenticatorOptions {
  config: AuthConfig;
  /**
   * Key store to verify with (only with a single issuer: one issuer's keys
   * never verify another's tokens). Default: one resilient remote key store
   * per issuer (`createRemoteKeyStore`), tuned by the `AUTH_JWKS_*` options.
   */
  keyStore?: KeyStore;
  /** `fetch` for the default key stores. Default: the global one. */
  fetch?: FetchLike;
  /** Clock in ms since the epoch, for verification and key caching. Default `Date.now`. */
  now?: () => number;
  /** Where the key stores report refresh failures (stale-if-error). Default `console.warn`. */
  log?: (message: string) => void;
  /** Claim mapping overrides, spread over the provider preset and its variables (`config.provider`). */
  claims?: Partial<ClaimMapping>;
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
  // Configs built by hand before multi-issuer support carry only `issuer`.
  const issuers = config.issuers?.length ? config.issuers : [config.issuer];
  if (options.keyStore && issuers.length > 1) {
    throw new TypeError('createAuthenticator: "keyStore" can be given only with a single issuer');
  }
  const createKeyStore = (issuer: string): KeyStore =>
    options.keyStore ??
    createRemoteKeyStore({
      issuer,
      jwksUrl: issuers.length === 1 ? config.jwksUrl : undefined,
      fetch: options.fetch,
      now: options.now,
      log: options.log,
      timeoutMs: config.jwksTimeoutMs,
      cacheMaxAgeMs: seconds(config.jwksMaxAgeSeconds),
      cooldownMs: seconds(config.jwksCooldownSeconds),
      staleIfErrorMs: seconds(config.jwksStaleIfErrorSeconds),
    });
  const provider = resolveProviderMapping(config.provider, config);
  // One store per configured issuer, built once. The `iss` forms a preset
  // accepts for an issuer (Entra's v1 and v2) and `AUTH_ADDITIONAL_ISSUERS`
  // share that issuer's store (the first issuer's, for the additional ones):
  // a key set is only ever fetched for a configured issuer. A verified-token
  // cache can ask a token's store whether its kid is still in the set
  // (`keyStores.get(iss)?.hasKid?.(kid)`, see key-store.ts).
  const keyStores = new Map<string, KeyStore>();
  for (const issuer of issuers) {
    const store = createKeyStore(issuer);
    const forms = issuer === config.issuer ? provider.issuers : resolveProviderMapping(config.provider, { ...config, issuer }).issuers;
    for (const form of [issuer, ...forms]) if (!keyStores.has(form)) keyStores.set(form, store);
  }
  const maxTokenBytes = config.maxTokenBytes ?? DEFAULT_MAX_TOKEN_BYTES;
  const verify: VerifiedTokenReader = createVerifiedTokenReader({
    issuer: [...keyStores.keys()],
    audience: config.audience,
    audienceClaim: provider.audienceClaim,
    algorithms: config.algorithms,
    clockToleranceSeconds: config.clockToleranceSeconds,
    keyStore: (issuer) => keyStores.get(issuer)!,
    requiredTyp: config.requiredTyp,
    maxTokenAgeSeconds: config.maxTokenAgeSeconds,
    maxTokenBytes,
    now: options.now,
  });
  const mapping: ClaimMapping = { ...provider.mapping, ...options.claims };
  const tenancy = { mode: config.tenantMode, singleTenantId: config.singleTenantId };

  const cache = createPrincipalCache(options, keyStores, {
    issuers: [...keyStores.keys()],
    audienceClaim: provider.audienceClaim,
    requiredTyp: config.requiredTyp,
    maxTokenAgeSeconds: config.maxTokenAgeSeconds,
    maxTokenBytes,
    mapping,
    tenancy,
  });
  const maxTokenAge = config.maxTokenAgeSeconds;

  /**
   * Full verification. The result is remembered under `key` only for a token
   * of bearer syntax, so every cache key stands for a token the bearer rules
   * accept (which lets a hit skip them, see `peekBearerToken`).
   */
  const verifyFully = async (token: string, key: string | undefined): Promise<Principal> => {
    try {
      const { payload: claims, header } = await verify(token);
      const principal = toPrincipal(claims, mapping, tenancy);
      if (cache === undefined || key === undefined || !isBearerTokenSyntax(token, maxTokenBytes)) return principal;
      const kid = verifiedKid(header);
      if (kid !== undefined && typeof claims.iss === "string") {
        // With AUTH_MAX_TOKEN_AGE the token also ends at iat + max age.
        const exp = maxTokenAge !== undefined && typeof claims.iat === "number"
          ? Math.min(claims.exp as number, claims.iat + maxTokenAge)
          : (claims.exp as number);
        cache.set(key, principal, { exp, nbf: claims.nbf, kid: keyRef(claims.iss, kid) });
      }
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
        token = extractBearerToken(request, { maxTokenBytes });
      } catch (error) {
        return Promise.reject(asAuthError(error));
      }
      if (cache === undefined) return verifyFully(token, undefined);
      return verifyFully(token, token === candidate && candidateKey !== undefined ? candidateKey : cache.keyOf(token));
    },
  };
}

/** An entry's key reference: the issuer whose store verified it, and the kid. */
const keyRef = (issuer: string, kid: string): string => `${issuer}\u0000${kid}`;

/**
 * The verified-token cache, when configured on and every key store can tell
 * whether a key is still in its set (`hasKid`): without that, a rotated-out
 * key's tokens could outlive it, so there is no cache (fail closed).
 */
function createPrincipalCache(
  options: AuthenticatorOptions,
  keyStores: Map<string, KeyStore>,
  verification: Record<string, unknown>,
): TokenCache<Principal> | undefined {
  const { config } = options;
  const settings = config.tokenCache;
  if (settings?.enabled === false) return undefined;
  if ([...keyStores.values()].some((store) => typeof store.hasKid !== "function")) return undefined;
  // Everything that changes what a token verifies to is part of every key.
  const scope = JSON.stringify([config.audience, config.algorithms, config.clockToleranceSeconds, verification]);
  return createTokenCache<Principal>({
    scope,
    clockToleranceSeconds: config.clockToleranceSeconds,
    hasKid: (ref) => {
      const split = ref.indexOf("\u0000");
      return keyStores.get(ref.slice(0, split))?.hasKid?.(ref.slice(split + 1)) ?? false;
    },
    ...(settings ? { maxEntries: settings.maxEntries, maxAgeSeconds: settings.maxAgeSeconds } : {}),
    ...(options.now ? { clock: options.now } : {}),
  });
}

/** Each caller gets its own principal, so no one can change a cached one. */
function copyPrincipal(principal: Principal): Principal {
  return { ...principal, permissions: principal.permissions.slice(), roles: principal.roles.slice() };
}

const seconds = (value: number | undefined): number | undefined => (value === undefined ? undefined : value * 1000);

/** The one place an unexpected error is converted: a 401, never a 500. */
function asAuthError(error: unknown): AuthError {
  if (error instanceof AuthError) return error;
  return new InvalidTokenError("the token could not be verified", { cause: error });
}
