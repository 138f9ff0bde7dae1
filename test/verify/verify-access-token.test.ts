/**
 * The optional stricter policies and several trusted issuers, end to end
 * through `createAuthenticator` with keys served by local issuers.
 */
import { createRemoteJWKSet, type JWTVerifyGetKey } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";
import { createAuthenticator, type Authenticator } from "../../src/authenticate/create-authenticator.ts";
import { readConfig } from "../../src/config/read-config.ts";
import { AuthError } from "../../src/errors.ts";
import { createRemoteKeyStore } from "../../src/verify/create-remote-key-store.ts";
import { createTokenVerifier, createVerifiedTokenReader } from "../../src/verify/verify-access-token.ts";

let a: LocalIssuer;
let b: LocalIssuer;
let outsider: LocalIssuer;
const fetched: string[] = [];
const countingFetch = (input: string | URL, init?: RequestInit) => {
  fetched.push(String(input));
  return fetch(input, init);
};

beforeAll(async () => {
  [a, b, outsider] = await Promise.all([startLocalIssuer(), startLocalIssuer(), startLocalIssuer()]);
});
afterAll(async () => {
  await Promise.all([a.close(), b.close(), outsider.close()]);
});

const request = (token: string) => new Request("http://127.0.0.1/threads", { headers: { authorization: `Bearer ${token}` } });
async function refusal(auth: Authenticator, token: string): Promise<string> {
  const error = await auth.authenticateRequest(request(token)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AuthError);
  expect((error as AuthError).status).toBe(401);
  return (error as AuthError).message;
}
const user = { sub: "alice", org_id: "acme" };

/** Verifier options for the test issuer `a`, with a fresh key store each time. */
const issuerOptions = () => ({
  issuer: a.issuer,
  audience: [a.audience],
  algorithms: ["RS256"],
  clockToleranceSeconds: 5,
  keyStore: createRemoteKeyStore({ issuer: a.issuer }),
});

describe("stricter policies", () => {
  it("requires the typ header when AUTH_REQUIRED_TYP is set (RFC 9068 at+jwt)", async () => {
    const auth = createAuthenticator({ config: readConfig({ ...a.env(), AUTH_REQUIRED_TYP: "at+jwt" }) });
    await expect(auth.authenticateRequest(request(await a.sign(user, { header: { typ: "at+jwt" } })))).resolves.toMatchObject({ identity: "alice" });
    await expect(auth.authenticateRequest(request(await a.sign(user, { header: { typ: "application/at+jwt" } })))).resolves.toMatchObject({ identity: "alice" });
    expect(await refusal(auth, await a.sign(user))).toBe('invalid_token: unexpected "typ" header value');
    expect(await refusal(auth, await a.sign(user, { header: { typ: undefined } }))).toBe('invalid_token: unexpected "typ" header value');
  });

  it("requires the claims named in requiredClaims to be present", async () => {
    const verify = createTokenVerifier({ ...issuerOptions(), requiredClaims: ["jti", "client_id"] });
    await expect(verify(await a.sign({ ...user, jti: "1", client_id: "c" }))).resolves.toMatchObject({ jti: "1" });
    await expect(verify(await a.sign({ ...user, jti: "1" }))).rejects.toMatchObject({
      status: 401,
      message: 'invalid_token: missing required "client_id" claim',
    });
  });

  it("hands back the protected header it verified, and refuses what the plain verifier refuses", async () => {
    const read = createVerifiedTokenReader(issuerOptions());
    const token = await a.sign(user, { header: { typ: "at+jwt" } });
    const sent = JSON.parse(Buffer.from(token.split(".")[0]!, "base64url").toString()) as Record<string, unknown>;
    const verified = await read(token);
    expect(verified.header).toEqual(sent);
    expect(verified.payload).toMatchObject({ sub: "alice", iss: a.issuer });
    await expect(read(await outsider.sign(user))).rejects.toMatchObject({ status: 401 });
  });

  it("refuses tokens older than AUTH_MAX_TOKEN_AGE, and tokens with no iat then", async () => {
    const auth = createAuthenticator({ config: readConfig({ ...a.env(), AUTH_MAX_TOKEN_AGE: "300" }) });
    const now = Math.floor(Date.now() / 1000);
    await expect(auth.authenticateRequest(request(await a.sign({ ...user, iat: now - 60 })))).resolves.toMatchObject({ identity: "alice" });
    expect(await refusal(auth, await a.sign({ ...user, iat: now - 3600 }))).toBe("invalid_token: the token is older than the maximum token age");
    expect(await refusal(auth, await a.sign({ ...user, iat: undefined }))).toBe('invalid_token: missing required "iat" claim');
  });

  it("refuses an iat in the future beyond the clock tolerance, and allows it within", async () => {
    const auth = createAuthenticator({ config: readConfig({ ...a.env(), AUTH_CLOCK_TOLERANCE: "30" }) });
    const now = Math.floor(Date.now() / 1000);
    await expect(auth.authenticateRequest(request(await a.sign({ ...user, iat: now + 20 })))).resolves.toMatchObject({ identity: "alice" });
    expect(await refusal(auth, await a.sign({ ...user, iat: now + 120 }))).toBe('invalid_token: the "iat" claim is in the future');
  });

  it("applies AUTH_MAX_TOKEN_BYTES to the header and to bare tokens", async () => {
    const auth = createAuthenticator({ config: readConfig({ ...a.env(), AUTH_MAX_TOKEN_BYTES: "2048" }) });
    const big = await a.sign({ ...user, padding: "x".repeat(1500) });
    expect(big.length).toBeGreaterThan(2048);
    expect(await refusal(auth, big)).toBe("invalid_token: the token is longer than 2048 bytes");
    await expect(auth.verifyToken(big)).rejects.toMatchObject({ status: 401, message: "invalid_token: the token is longer than 2048 bytes" });
  });
});

describe("several trusted issuers", () => {
  let auth: Authenticator;
  beforeAll(() => {
    auth = createAuthenticator({
      config: readConfig({ AUTH_ISSUER: `${a.issuer},${b.issuer}`, AUTH_AUDIENCE: a.audience }),
      fetch: countingFetch,
    });
  });

  it("accepts tokens of each configured issuer, each verified with its own keys", async () => {
    await expect(auth.authenticateRequest(request(await a.sign(user)))).resolves.toMatchObject({ issuer: a.issuer });
    await expect(auth.authenticateRequest(request(await b.sign({ ...user, org_id: "globex" })))).resolves.toMatchObject({ issuer: b.issuer, tenant_id: "globex" });
    expect(fetched.filter((url) => url.startsWith(a.issuer))).toHaveLength(2);
    expect(fetched.filter((url) => url.startsWith(b.issuer))).toHaveLength(2);
  });

  it("never lets one issuer's key vouch for the other's name", async () => {
    // Signed by B, claiming to be A: A's key set has no such key.
    const crossed = await b.sign({ ...user, iss: a.issuer });
    expect(await refusal(auth, crossed)).toBe("invalid_token: no key of the issuer matches the token");
  });

  it("derives no key set from an issuer outside the list, however real it is", async () => {
    const before = fetched.length;
    expect(await refusal(auth, await outsider.sign(user))).toBe('invalid_token: unexpected "iss" claim value');
    expect(await refusal(auth, await a.sign({ ...user, iss: `${a.issuer}/` }))).toBe('invalid_token: unexpected "iss" claim value');
    expect(fetched.length).toBe(before);
    expect(outsider.hits.size).toBe(0);
  });

  it("refuses a single keyStore for several issuers at construction", () => {
    expect(() =>
      createAuthenticator({
        config: readConfig({ AUTH_ISSUER: `${a.issuer},${b.issuer}`, AUTH_AUDIENCE: a.audience }),
        keyStore: { getKey: async () => Promise.reject(new Error("unused")) },
      }),
    ).toThrow(/"keyStore" can be given only with a single issuer/);
  });
});

describe("the key store's two ways in", () => {
  it("verifies with a key store that has only getKey (no keyFor), such as jose's own remote key set", async () => {
    const read = createVerifiedTokenReader({ ...issuerOptions(), keyStore: { getKey: createRemoteJWKSet(new URL(a.jwksUrl)) } });
    await expect(read(await a.sign(user))).resolves.toMatchObject({ payload: { sub: "alice", iss: a.issuer } });
    await expect(read(await a.sign({ ...user, sub: "bob" }))).resolves.toMatchObject({ payload: { sub: "bob" } });
    await expect(read(await outsider.sign({ ...user, iss: a.issuer }))).rejects.toMatchObject({ status: 401, message: "invalid_token: no key of the issuer matches the token" });
  });

  it("asks getKey only until jose has chosen a key for the header; then the remembered key verifies, and still refuses a forgery", async () => {
    const store = createRemoteKeyStore({ issuer: a.issuer });
    let asked = 0;
    const getKey: JWTVerifyGetKey = (header, token) => {
      asked += 1;
      return store.getKey(header, token);
    };
    const read = createVerifiedTokenReader({ ...issuerOptions(), keyStore: { getKey, keyFor: (header) => store.keyFor(header) } });
    await expect(read(await a.sign(user))).resolves.toMatchObject({ payload: { sub: "alice" } });
    expect(asked).toBe(1);
    await expect(read(await a.sign({ ...user, sub: "bob" }))).resolves.toMatchObject({ payload: { sub: "bob" } });
    const [h, p] = (await a.sign({ ...user, sub: "carol" })).split(".");
    const [, , s] = (await a.sign(user)).split(".");
    await expect(read(`${h}.${p}.${s}`)).rejects.toMatchObject({ status: 401, message: "invalid_token: signature verification failed" });
    expect(asked).toBe(1);
  });
});
