import { errors, jwtVerify, type JWTPayload } from "jose";
import { AuthError, InvalidTokenError } from "../errors.ts";
import type { KeyStore } from "./key-store.ts";

/** Options of {@link createTokenVerifier}; every one is pinned on each verification. */
export interface TokenVerifierOptions {
  /** Exact `iss` value, or the accepted values (Entra's v1 and v2 forms of one directory). */
  issuer: string | string[];
  audience: string[];
  /**
   * The claim holding the audience. Default `aud` (RFC 7519 §4.1.3). Some
   * providers put the client in another claim and issue no `aud` at all
   * (Cognito access tokens: `client_id`); then that claim must be a string
   * or array naming one of `audience`, and is still required.
   */
  audienceClaim?: string;
  algorithms: string[];
  clockToleranceSeconds: number;
  keyStore: KeyStore;
}

/** Verifies one compact JWS access token and returns its claims. */
export type TokenVerifier = (token: string) => Promise<JWTPayload>;

/**
 * Build a verifier that checks signature (through the key store), algorithm
 * allowlist, `iss`, `aud`, `exp` (required) and `nbf`, with jose.
 *
 * Every failure is an `AuthError`: jose's errors become `InvalidTokenError`
 * with a description that names the claim, never the token.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const audienceClaim = options.audienceClaim ?? "aud";
  const verifyOptions = {
    issuer: options.issuer,
    ...(audienceClaim === "aud" ? { audience: options.audience } : {}),
    algorithms: options.algorithms,
    clockTolerance: options.clockToleranceSeconds,
    requiredClaims: ["exp"],
  };
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, options.keyStore.getKey, verifyOptions);
      if (audienceClaim !== "aud") requireAudienceIn(payload, audienceClaim, options.audience);
      return payload;
    } catch (error) {
      throw toAuthError(error);
    }
  };
}

/** Convert anything verification threw into an `AuthError` (one place, RFC 6750 wording). */
export function toAuthError(error: unknown): AuthError {
  if (error instanceof AuthError) return error;
  if (error instanceof errors.JWTExpired) return new InvalidTokenError("the token has expired", { cause: error });
  if (error instanceof errors.JWTClaimValidationFailed) {
    const claim = error.claim;
    const description =
      error.reason === "missing"
        ? `missing required "${claim}" claim`
        : error.reason === "check_failed" && claim === "nbf"
          ? 'the token is not yet valid ("nbf" claim)'
          : `unexpected "${claim}" claim value`;
    return new InvalidTokenError(description, { cause: error });
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return new InvalidTokenError("the token's signing algorithm is not allowed", { cause: error });
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new InvalidTokenError("signature verification failed", { cause: error });
  }
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return new InvalidTokenError("no key of the issuer matches the token", { cause: error });
  }
  if (error instanceof errors.JOSENotSupported) {
    return new InvalidTokenError("the token uses an unsupported feature", { cause: error });
  }
  if (error instanceof errors.JWTInvalid || error instanceof errors.JWSInvalid) {
    return new InvalidTokenError("the token is malformed", { cause: error });
  }
  return new InvalidTokenError("the token could not be verified", { cause: error });
}

/** The audience check for a provider that names its client in another claim than `aud`. */
function requireAudienceIn(payload: JWTPayload, claim: string, audience: readonly string[]): void {
  const value = payload[claim];
  const values = typeof value === "string" ? [value] : Array.isArray(value) ? value : [];
  if (values.length === 0) throw new InvalidTokenError(`missing required "${claim}" claim`);
  if (!values.some((v) => typeof v === "string" && audience.includes(v))) {
    throw new InvalidTokenError(`unexpected "${claim}" claim value`);
  }
}
