/**
 * How a verification failure reaches the caller: `toAuthError` maps each of
 * jose's errors to one 401 description, and the reader's own checks
 * (construction, `iss`, an audience in another claim, a future `iat`) each
 * have theirs. jose's errors are built as jose builds them.
 */
import { errors } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthError, InvalidTokenError, KeysUnavailableError } from "../../src/errors.ts";
import { createRemoteKeyStore } from "../../src/verify/create-remote-key-store.ts";
import { createVerifiedTokenReader, toAuthError } from "../../src/verify/verify-access-token.ts";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";

describe("toAuthError", () => {
  const described = (error: unknown) => {
    const mapped = toAuthError(error);
    expect(mapped).toBeInstanceOf(InvalidTokenError);
    expect(mapped.status).toBe(401);
    expect((mapped as Error & { cause?: unknown }).cause).toBe(error);
    return mapped.message.replace(/^invalid_token: /, "");
  };

  it("passes the package's own errors through untouched", () => {
    const own = new KeysUnavailableError(30);
    expect(toAuthError(own)).toBe(own);
  });

  it("an expired token, or one older than the maximum age: expired_token", () => {
    const expired = toAuthError(new errors.JWTExpired("exp", {}, "exp", "check_failed"));
    expect(expired).toMatchObject({ message: "invalid_token: the token has expired", reason: "expired_token" });
    const old = toAuthError(new errors.JWTExpired("iat", {}, "iat", "check_failed"));
    expect(old).toMatchObject({ message: "invalid_token: the token is older than the maximum token age", reason: "expired_token" });
  });

  it("a claim that fails: missing, typ, nbf, iat, or any other claim's value", () => {
    const failed = (claim: string, reason: string) => described(new errors.JWTClaimValidationFailed("x", {}, claim, reason));
    expect(failed("jti", "missing")).toBe('missing required "jti" claim');
    expect(failed("typ", "missing")).toBe('missing required "typ" claim');
    expect(failed("typ", "check_failed")).toBe('unexpected "typ" header value');
    expect(failed("nbf", "check_failed")).toBe('the token is not yet valid ("nbf" claim)');
    expect(failed("nbf", "invalid")).toBe('unexpected "nbf" claim value');
    expect(failed("iat", "check_failed")).toBe('the "iat" claim is in the future');
    expect(failed("iat", "invalid")).toBe('unexpected "iat" claim value');
    expect(failed("aud", "check_failed")).toBe('unexpected "aud" claim value');
    expect(failed("iss", "check_failed")).toBe('unexpected "iss" claim value');
    expect(toAuthError(new errors.JWTClaimValidationFailed("x", {}, "aud", "check_failed")).reason).not.toBe("expired_token");
  });

  it("algorithm, signature, key, unsupported and malformed, and anything else", () => {
    expect(described(new errors.JOSEAlgNotAllowed("x"))).toBe("the token's signing algorithm is not allowed");
    expect(described(new errors.JWSSignatureVerificationFailed())).toBe("signature verification failed");
    expect(described(new errors.JWKSNoMatchingKey())).toBe("no key of the issuer matches the token");
    expect(described(new errors.JWKSMultipleMatchingKeys())).toBe("no key of the issuer matches the token");
    expect(described(new errors.JOSENotSupported("x"))).toBe("the token uses an unsupported feature");
    expect(described(new errors.JWTInvalid("x"))).toBe("the token is malformed");
    expect(described(new errors.JWSInvalid("x"))).toBe("the token is malformed");
    expect(described(new errors.JOSEError("x"))).toBe("the token could not be verified");
    expect(described(new TypeError("x"))).toBe("the token could not be verified");
    expect(described("a string")).toBe("the token could not be verified");
  });
});

describe("createVerifiedTokenReader", () => {
  let issuer: LocalIssuer;
  beforeAll(async () => {
    issuer = await startLocalIssuer();
  });
  afterAll(async () => {
    await issuer.close();
  });
  const options = (extra: Record<string, unknown> = {}) => ({
    issuer: issuer.issuer,
    audience: [issuer.audience],
    algorithms: ["RS256"],
    clockToleranceSeconds: 5,
    keyStore: createRemoteKeyStore({ issuer: issuer.issuer }),
    ...extra,
  });
  const refusal = async (read: (token: string) => Promise<unknown>, token: string): Promise<string> => {
    const error = await read(token).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    return (error as Error).message;
  };
  const user = { sub: "alice", org_id: "acme" };

  it("checks its options at construction, each with its own words", () => {
    for (const bad of ["", [], ["x", ""], [7]]) {
      expect(() => createVerifiedTokenReader(options({ issuer: bad }) as never), JSON.stringify(bad)).toThrow(
        new TypeError('createTokenVerifier: "issuer" must be a non-empty string or list of strings'),
      );
    }
    expect(() => createVerifiedTokenReader(options({ issuer: ["https://a.example", "https://b.example"] }) as never)).toThrow(
      new TypeError('createTokenVerifier: with several issuers, "keyStore" must be a function of the issuer'),
    );
    for (const maxTokenAgeSeconds of [0, -1, 1.5, Number.NaN]) {
      expect(() => createVerifiedTokenReader(options({ maxTokenAgeSeconds }) as never), String(maxTokenAgeSeconds)).toThrow(
        new TypeError('createTokenVerifier: "maxTokenAgeSeconds" must be a positive whole number'),
      );
    }
    expect(() => createVerifiedTokenReader(options({ maxTokenAgeSeconds: 1 }) as never)).not.toThrow();
    // A function of the issuer is asked once per issuer, at construction.
    const asked: string[] = [];
    createVerifiedTokenReader(options({ issuer: ["https://a.example", "https://b.example"], keyStore: (i: string) => (asked.push(i), createRemoteKeyStore({ issuer: i })) }) as never);
    expect(asked).toEqual(["https://a.example", "https://b.example"]);
  });

  it("refuses a token without iss, or with an iss it does not trust, before any key is looked at", async () => {
    const read = createVerifiedTokenReader(options() as never);
    expect(await refusal(read, await issuer.sign({ ...user, iss: undefined }))).toBe('invalid_token: missing required "iss" claim');
    expect(await refusal(read, await issuer.sign({ ...user, iss: "https://elsewhere.example" }))).toBe('invalid_token: unexpected "iss" claim value');
    expect(await refusal(read, await issuer.sign({ ...user, iss: [issuer.issuer] as never }))).toBe('invalid_token: unexpected "iss" claim value');
  });

  it("reads the audience from another claim when told to: a string or a list, one of them configured", async () => {
    const read = createVerifiedTokenReader(options({ audienceClaim: "azp", audience: ["https://app.example"] }) as never);
    // The aud claim is then not compared at all.
    await expect(read(await issuer.sign({ ...user, aud: "anything", azp: "https://app.example" }))).resolves.toMatchObject({ payload: { azp: "https://app.example" } });
    await expect(read(await issuer.sign({ ...user, azp: ["other", "https://app.example"] }))).resolves.toMatchObject({ payload: { sub: "alice" } });
    for (const azp of [undefined, [], ""]) {
      const expected = azp === "" ? 'invalid_token: unexpected "azp" claim value' : 'invalid_token: missing required "azp" claim';
      expect(await refusal(read, await issuer.sign({ ...user, azp })), JSON.stringify(azp)).toBe(expected);
    }
    for (const azp of ["https://other.example", ["other"], [7]]) {
      expect(await refusal(read, await issuer.sign({ ...user, azp })), JSON.stringify(azp)).toBe('invalid_token: unexpected "azp" claim value');
    }
    // With the default claim, aud is compared by jose.
    const plain = createVerifiedTokenReader(options() as never);
    expect(await refusal(plain, await issuer.sign({ ...user, aud: "https://other.example" }))).toBe('invalid_token: unexpected "aud" claim value');
  });

  it("uses the injected clock for exp and the future iat, with the tolerance", async () => {
    const t = Math.floor(Date.now() / 1000);
    const at = (seconds: number) => createVerifiedTokenReader(options({ now: () => seconds * 1000 }) as never);
    const token = await issuer.sign({ ...user, iat: t, exp: t + 60 });
    await expect(at(t)(token)).resolves.toMatchObject({ payload: { sub: "alice" } });
    await expect(at(t - 5)(token)).resolves.toMatchObject({ payload: { sub: "alice" } });
    expect(await refusal(at(t - 6), token)).toBe('invalid_token: the "iat" claim is in the future');
    expect(await refusal(at(t + 66), token)).toBe("invalid_token: the token has expired");
    await expect(at(t + 64)(token)).resolves.toMatchObject({ payload: { sub: "alice" } });
  });
});
