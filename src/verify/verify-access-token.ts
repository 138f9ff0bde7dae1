import { errors, jwtVerify, type JWTHeaderParameters, type JWTPayload } from "jose";
import { AuthError, InvalidTokenError } from "../errors.ts";
import { inspectToken } from "./inspect-token.ts";
import type { KeyStore } from "./key-store.ts";

/** Options of {@link createTokenVerifier}; every one is pinned on each verification. */
export interface TokenVerifierOptions {
  /**
   * Trusted issuer(s): a token's `iss` must equal one exactly (no trailing
   * slash or case folding). With several, the token's unverified `iss` only
   * chooses among these, and jose checks it again after the signature
   * (several forms of one issuer, e.g. Entra's v1 and v2, may share a store).
   */
  issuer: string | readonly string[];
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
  /** The key store, or one per issuer (an issuer's keys never verify another's tokens). */
  keyStore: KeyStore | ((issuer: string) => KeyStore);
  /** Required `typ` header, e.g. `at+jwt` (RFC 9068 §4). Default: any. */
  requiredTyp?: string | undefined;
  /** Claims that must be present besides `exp` (and `iat` when `maxTokenAgeSeconds` is set). Default none. */
  requiredClaims?: readonly string[] | undefined;
  /** Refuse tokens whose `iat` is older than this. Default: no limit. */
  maxTokenAgeSeconds?: number | undefined;
  /** Longest token accepted, in bytes. Default 8192. */
  maxTokenBytes?: number | undefined;
  /** Clock in ms since the epoch. Default `Date.now`. */
  now?: (() => number) | undefined;
}

/** Verifies one compact JWS access token and returns its claims. */
export type TokenVerifier = (token: string) => Promise<JWTPayload>;

/** A verified token: its claims and the protected header jose verified them under. */
export interface VerifiedToken {
  payload: JWTPayload;
  header: JWTHeaderParameters;
}

/** Like {@link TokenVerifier}, keeping the verified header (a verified-token cache needs its `kid`). */
export type VerifiedTokenReader = (token: string) => Promise<VerifiedToken>;

/**
 * Build a verifier: structural checks first ({@link inspectToken}), then jose
 * checks signature (through the key store), algorithm allowlist, `iss`,
 * `aud`, `exp` (required), `nbf`, and the optional `typ`, required claims
 * and `maxTokenAge`; finally an `iat` in the future (beyond the clock
 * tolerance) is refused, which jose only does when `maxTokenAge` is set.
 *
 * Every failure is an `AuthError`: jose's errors become `InvalidTokenError`
 * with a description that names the claim, never the token.
 *
 * @throws {TypeError} at construction, naming a bad option.
 * @example
 * const verify = createTokenVerifier({ issuer, audience: ["api"], algorithms: ["RS256"],
 *   clockToleranceSeconds: 5, keyStore, requiredTyp: "at+jwt" });
 * const claims = await verify(token);
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const read = createVerifiedTokenReader(options);
  return (token) => read(token).then((verified) => verified.payload);
}

/**
 * The verification of {@link createTokenVerifier}, answering the claims and
 * the protected header jose verified, so nothing has to decode the header
 * again after verification. Same options, checks and errors.
 *
 * @example
 * const read = createVerifiedTokenReader({ issuer, audience: ["api"], algorithms: ["RS256"], clockToleranceSeconds: 5, keyStore });
 * const { payload, header } = await read(token);
 */
export function createVerifiedTokenReader(options: TokenVerifierOptions): VerifiedTokenReader {
  const issuers = typeof options.issuer === "string" ? [options.issuer] : [...options.issuer];
  if (issuers.length === 0 || issuers.some((issuer) => typeof issuer !== "string" || issuer.length === 0)) {
    throw new TypeError('createTokenVerifier: "issuer" must be a non-empty string or list of strings');
  }
  if (typeof options.keyStore !== "function" && issuers.length > 1) {
    throw new TypeError('createTokenVerifier: with several issuers, "keyStore" must be a function of the issuer');
  }
  const maxAge = options.maxTokenAgeSeconds;
  if (maxAge !== undefined && (!Number.isInteger(maxAge) || maxAge <= 0)) {
    throw new TypeError('createTokenVerifier: "maxTokenAgeSeconds" must be a positive whole number');
  }
  const keyStores = new Map<string, KeyStore>();
  for (const issuer of issuers) {
    keyStores.set(issuer, typeof options.keyStore === "function" ? options.keyStore(issuer) : options.keyStore);
  }
  const now = options.now;
  const tolerance = options.clockToleranceSeconds;
  const audienceClaim = options.audienceClaim ?? "aud";
  const baseOptions = {
    ...(audienceClaim === "aud" ? { audience: options.audience } : {}),
    algorithms: options.algorithms,
    clockTolerance: tolerance,
    requiredClaims: [...new Set(["exp", ...(options.requiredClaims ?? [])])],
    ...(options.requiredTyp !== undefined ? { typ: options.requiredTyp } : {}),
    ...(maxAge !== undefined ? { maxTokenAge: maxAge } : {}),
  };
  // jose's options for each issuer, built once: jose only reads them.
  const verifyOptions = new Map(issuers.map((issuer) => [issuer, { ...baseOptions, issuer }]));
  const inspectOptions = { algorithms: options.algorithms, maxTokenBytes: options.maxTokenBytes };

  return async (token) => {
    try {
      const { header, payload: unverified } = inspectToken(token, inspectOptions);
      // The unverified `iss` only picks one of the configured issuers: the
      // key set is never derived from it (RFC 8725 §3.8, §3.10).
      const iss = unverified.iss;
      if (iss === undefined) throw new InvalidTokenError('missing required "iss" claim');
      const keyStore = typeof iss === "string" ? keyStores.get(iss) : undefined;
      if (!keyStore) throw new InvalidTokenError('unexpected "iss" claim value');
      const nowMs = now === undefined ? Date.now() : now();
      const issuerOptions = verifyOptions.get(iss as string)!;
      const joseOptions = now === undefined ? issuerOptions : { ...issuerOptions, currentDate: new Date(nowMs) };
      // The key jose itself chose for this header earlier, while the set is
      // fresh (see KeyStore.keyFor); otherwise jose asks the store.
      const key = keyStore.keyFor?.(header);
      const { payload, protectedHeader } = key === undefined
        ? await jwtVerify(token, keyStore.getKey, joseOptions)
        : await jwtVerify(token, key, joseOptions);
      if (audienceClaim !== "aud") requireAudienceIn(payload, audienceClaim, options.audience);
      // RFC 7519 §4.1.6 does not forbid a future `iat`, but a token issued
      // "later" than now was minted by a clock or a forger we should not trust.
      if (typeof payload.iat === "number" && payload.iat > Math.floor(nowMs / 1000) + tolerance) {
        throw new InvalidTokenError('the "iat" claim is in the future');
      }
      return { payload, header: protectedHeader };
    } catch (error) {
      throw toAuthError(error);
    }
  };
}

/** Convert anything verification threw into an `AuthError` (one place, RFC 6750 wording). */
export function toAuthError(error: unknown): AuthError {
  if (error instanceof AuthError) return error;
  if (error instanceof errors.JWTExpired) {
    return new InvalidTokenError(error.claim === "iat" ? "the token is older than the maximum token age" : "the token has expired", {
      cause: error,
      reason: "expired_token",
    });
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    const claim = error.claim;
    const description =
      error.reason === "missing"
        ? `missing required "${claim}" claim`
        : claim === "typ"
          ? 'unexpected "typ" header value'
          : error.reason === "check_failed" && claim === "nbf"
            ? 'the token is not yet valid ("nbf" claim)'
            : error.reason === "check_failed" && claim === "iat"
              ? 'the "iat" claim is in the future'
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
