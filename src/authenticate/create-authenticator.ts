import type { AuthConfig } from "../config/read-config.ts";
import { AuthError, InvalidTokenError } from "../errors.ts";
import { extractBearerToken } from "../bearer/extract-bearer-token.ts";
import { createRemoteKeyStore } from "../verify/create-remote-key-store.ts";
import type { FetchLike, KeyStore } from "../verify/key-store.ts";
import { createTokenVerifier, type TokenVerifier } from "../verify/verify-access-token.ts";
import { toPrincipal, type ClaimMapping, type Principal } from "../tenant/principal.ts";
import { resolveProviderMapping } from "../tenant/provider-presets.ts";

/** Options of {@link createAuthenticator}. */
export interface AuthenticatorOptions {
  config: AuthConfig;
  /** Key store to verify with. Default: the issuer's remote key set. */
  keyStore?: KeyStore;
  /** `fetch` for the default key store. Default: the global one. */
  fetch?: FetchLike;
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
  const provider = resolveProviderMapping(config.provider, config);
  const verify: TokenVerifier = createTokenVerifier({
    issuer: provider.issuers.length === 1 ? provider.issuers[0]! : provider.issuers,
    audience: config.audience,
    audienceClaim: provider.audienceClaim,
    algorithms: config.algorithms,
    clockToleranceSeconds: config.clockToleranceSeconds,
    keyStore,
  });
  const mapping: ClaimMapping = { ...provider.mapping, ...options.claims };
  const tenancy = { mode: config.tenantMode, singleTenantId: config.singleTenantId };

  const verifyToken = async (token: string): Promise<Principal> => {
    try {
      return toPrincipal(await verify(token), mapping, tenancy);
    } catch (error) {
      throw asAuthError(error);
    }
  };

  return {
    verifyToken,
    async authenticateRequest(request) {
      try {
        return await verifyToken(extractBearerToken(request));
      } catch (error) {
        throw asAuthError(error);
      }
    },
  };
}

/** The one place an unexpected error is converted: a 401, never a 500. */
function asAuthError(error: unknown): AuthError {
  if (error instanceof AuthError) return error;
  return new InvalidTokenError("the token could not be verified", { cause: error });
}
