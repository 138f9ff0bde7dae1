import { errors, jwtVerify, type JWTPayload } from "jose";
import { AuthError, InvalidTokenError } from "../errors.ts";
import type { KeyStore } from "./key-store.ts";

/** Options of {@link createTokenVerifier}; every one is pinned on each verification. */
export interface TokenVerifierOptions {
  issuer: string;
  audience: string[];
  algorithms: string[];
  clockToleranceSeconds: number;
  keyStore: KeyStore;
  /** Current time in ms, for `exp`/`nbf`. Default: the system clock. */
  clock?: () => number;
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
  const verifyOptions = {
    issuer: options.issuer,
    audience: options.audience,
    algorithms: options.algorithms,
    clockTolerance: options.clockToleranceSeconds,
    requiredClaims: ["exp"],
  };
  const { clock } = options;
  return async (token) => {
    try {
      const { payload } = await jwtVerify(
        token,
        options.keyStore.getKey,
        clock ? { ...verifyOptions, currentDate: new Date(clock()) } : verifyOptions,
      );
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
