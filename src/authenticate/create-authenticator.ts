import type { AuthConfig } from "../config/read-config.ts";
import {
  DEFAULT_MAX_TOKEN_BYTES,
  extractBearerToken,
  peekBearerToken,
} from "../bearer/extract-bearer-token.ts";
import { createRemoteKeyStore, type KeyStoreStats, type RemoteKeyStore } from "../verify/create-remote-key-store.ts";
import type { FetchLike, KeyStore } from "../verify/key-store.ts";
import type { TokenCacheStats } from "./principal-verifier.ts";
import { toAuthError } from "../verify/verify-access-token.ts";
import type { ClaimMapping, Principal } from "../tenant/principal.ts";
import { createPrincipalVerifier } from "./principal-verifier.ts";
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

/** One configured issuer's key set, as {@link AuthenticatorStats} reports it. */
export interface KeySetStats extends KeyStoreStats {
  /** The configured issuer (`AUTH_ISSUER`): configuration, never a token's claim. */
  issuer: string;
}

/** What an authenticator has done since it was built: plain counters, read by the metrics (`src/metrics/`). */
export interface AuthenticatorStats {
  /** The verified-token cache; `null` when it is off. */
  tokenCache: TokenCacheStats | null;
  /** One entry per configured issuer whose key store counts (the default remote ones; a `keyStore` option without `stats()` is not listed). */
  keySets: KeySetStats[];
}

/** Framework-neutral authentication: a web `Request` in, a principal out. */
export interface Authenticator {
  /**
   * Authenticate one request.
   * @throws {AuthError} always an error with `status` and `headers`; never anything else.
   */
  authenticateRequest(request: Request): Promise<Principal>;
  /**
   * The principal of a request whose bearer token the verified-token cache
   * holds, at once, with no promise; `undefined` otherwise (no cache, no
   * token of the plain shape, a miss, an entry no longer valid): then
   * `authenticateRequest` decides, with the same rules. Never throws.
   */
  authenticateCached?(request: Request): Principal | undefined;
  /** Verify a bare token (no request). Same errors. */
  verifyToken(token: string): Promise<Principal>;
  /** Entries in the verified-token cache (0 when it is off). */
  readonly cachedTokens?: number;
  /** The token cache's and key sets' counters (see {@link AuthenticatorStats}). */
  stats?(): AuthenticatorStats;
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
  const issuers = config.issuers;
  if (!Array.isArray(issuers) || issuers.length === 0 || issuers[0] !== config.issuer) {
    throw new TypeError("config.issuers must list every trusted issuer, config.issuer first");
  }
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
  // Each configured issuer's own store, for its counters.
  const counted: { issuer: string; store: Pick<RemoteKeyStore, "stats"> }[] = [];
  for (const issuer of issuers) {
    const store = createKeyStore(issuer);
    const countable = store as Partial<Pick<RemoteKeyStore, "stats">>;
    if (typeof countable.stats === "function" && !counted.some((c) => c.store === countable)) counted.push({ issuer, store: countable as Pick<RemoteKeyStore, "stats"> });
    const forms = issuer === config.issuer ? provider.issuers : resolveProviderMapping(config.provider, { ...config, issuer }).issuers;
    for (const form of [issuer, ...forms]) if (!keyStores.has(form)) keyStores.set(form, store);
  }
  // The one options object: the verifier runs on it and the cache key is
  // derived from it (principal-verifier.ts), so neither can miss an option.
  const verifier = createPrincipalVerifier(
    {
      verification: {
        issuer: [...keyStores.keys()],
        audience: config.audience,
        audienceClaim: provider.audienceClaim,
        algorithms: config.algorithms,
        clockToleranceSeconds: config.clockToleranceSeconds,
        keyStore: (issuer) => keyStores.get(issuer)!,
        requiredTyp: config.requiredTyp,
        maxTokenAgeSeconds: config.maxTokenAgeSeconds,
        maxTokenBytes: config.maxTokenBytes ?? DEFAULT_MAX_TOKEN_BYTES,
        now: options.now,
      },
      mapping: { ...provider.mapping, ...options.claims },
      tenancy: { mode: config.tenantMode, singleTenantId: config.singleTenantId },
    },
    config.tokenCache,
  );
  const { caching, keyOf, lookup, hit, verify } = verifier;
  const maxTokenBytes = verifier.rules.verification.maxTokenBytes;

  return {
    get cachedTokens() {
      return verifier.size;
    },
    stats: () => ({
      tokenCache: verifier.cacheStats() ?? null,
      keySets: counted.map(({ issuer, store }) => ({ ...store.stats(), issuer })),
    }),
    verifyToken: verifier.verifyToken,
    authenticateCached(request) {
      if (!caching) return undefined;
      try {
        // As in authenticateRequest: a hit proves the header's token was accepted before.
        const candidate = peekBearerToken(request);
        return candidate === undefined ? undefined : hit(keyOf(candidate));
      } catch {
        return undefined;
      }
    },
    authenticateRequest(request) {
      // Hit first: the unvalidated header text is only a lookup key here, and
      // a hit proves it is a token extractBearerToken accepted before.
      let candidate: string | undefined;
      let candidateKey: string | undefined;
      if (caching) {
        try {
          candidate = peekBearerToken(request);
          if (candidate !== undefined) {
            candidateKey = keyOf(candidate);
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
        return Promise.reject(toAuthError(error));
      }
      if (!caching) return verify(token);
      return verify(token, token === candidate && candidateKey !== undefined ? candidateKey : keyOf(token));
    },
  };
}

const seconds = (value: number | undefined): number | undefined => (value === undefined ? undefined : value * 1000);
