/**
 * A corpus of named attacks on the bearer-token check, drawn from RFC 8725
 * (JWT BCP), RFC 9068, RFC 6750, the OWASP JWT cheat sheet and advisories
 * of Node JWT libraries (jsonwebtoken CVE-2015-9235 / CVE-2022-23540,
 * jws, express-jwt CVE-2020-15084, fast-jwt CVE-2023-48223, node-jose
 * embedded-jwk). Each goes through `authenticateRequest(new Request(...))`
 * with keys served by the local issuer over loopback and asserts the status,
 * the RFC 6750 challenge, and that no outbound request was made because of it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateSigningKey, startLocalIssuer, type LocalIssuer, type SigningKey } from "../support/local-issuer.ts";
import { createAuthenticator, type Authenticator } from "../../src/authenticate/create-authenticator.ts";
import { readConfig } from "../../src/config/read-config.ts";
import { AuthError } from "../../src/errors.ts";
import { b64u, forge, hmacWithPublicKey, signSegments } from "../support/forge-token.ts";

let issuer: LocalIssuer;
let key: SigningKey;
let attacker: SigningKey;
let attackerEc: SigningKey;
let attackerEd: SigningKey;
let authenticator: Authenticator;
const fetched: string[] = [];
const log: string[] = [];

const now = () => Math.floor(Date.now() / 1000);
const claims = (extra: Record<string, unknown> = {}) => ({
  iss: issuer.issuer,
  aud: issuer.audience,
  sub: "alice",
  org_id: "acme",
  iat: now(),
  exp: now() + 600,
  ...extra,
});
const header = (extra: Record<string, unknown> = {}) => ({ alg: "RS256", typ: "JWT", kid: key.kid, ...extra });
const signed = (payload: unknown, extraHeader: Record<string, unknown> = {}) => forge(key, header(extraHeader), payload);
const without = (name: string) => {
  const c: Record<string, unknown> = claims();
  delete c[name];
  return c;
};
const bearer = (token: string) => new Request("http://127.0.0.1/threads", { headers: { authorization: `Bearer ${token}` } });
const rawPayload = (json: string) => signSegments(key, "RS256", b64u(header()), b64u(json));

type Expect = "invalid_token" | "invalid_request";
interface AttackCase {
  name: string;
  source: string;
  expect: Expect;
  /** The error description that shows the case was refused for its own reason. */
  because: string;
  /** The token; or the whole request for cases about the request itself. */
  token?: () => Promise<string> | string;
  request?: () => Promise<Request> | Request;
}

const CASES: AttackCase[] = [
  // --- algorithm confusion -------------------------------------------------
  { name: 'alg "none", unsigned', source: "RFC 8725 §2.1, CVE-2015-9235", expect: "invalid_token", because: "the token's signing algorithm is not allowed",
    token: () => `${b64u({ alg: "none", typ: "JWT" })}.${b64u(claims())}.` },
  { name: 'alg "None" (mixed case), unsigned', source: "RFC 8725 §2.1", expect: "invalid_token", because: "the token's signing algorithm is not allowed",
    token: () => `${b64u({ alg: "None", typ: "JWT" })}.${b64u(claims())}.` },
  { name: 'alg "NONE" (upper case), unsigned', source: "RFC 8725 §2.1", expect: "invalid_token", because: "the token's signing algorithm is not allowed",
    token: () => `${b64u({ alg: "NONE" })}.${b64u(claims())}.` },
  { name: 'alg "nOnE" with a real RS256 signature attached', source: "OWASP JWT cheat sheet", expect: "invalid_token", because: "the token's signing algorithm is not allowed",
    token: async () => {
      const real = (await signed(claims())).split(".")[2];
      return `${b64u({ alg: "nOnE", kid: key.kid })}.${b64u(claims())}.${real}`;
    } },
  { name: "HS256 signed with the RSA public key (PEM) as HMAC secret", source: "RFC 8725 §2.1, CVE-2022-23540", expect: "invalid_token", because: "the token's signing algorithm is not allowed",
    token: () => hmacWithPublicKey(key, "HS256", claims(), "pem") },
  { name: "HS256 signed with the public JWK JSON as HMAC secret", source: "fast-jwt CVE-2023-48223", expect: "invalid_token", because: "the token's signing algorithm is not allowed",
    token: () => hmacWithPublicKey(key, "HS256", claims(), "jwk") },
  { name: "HS512 signed with the RSA public key", source: "RFC 8725 §3.1", expect: "invalid_token", because: "the token's signing algorithm is not allowed",
    token: () => hmacWithPublicKey(key, "HS512", claims(), "pem") },
  { name: "RS512: a valid signature with an algorithm outside the allowlist", source: "RFC 8725 §3.1", expect: "invalid_token", because: "the token's signing algorithm is not allowed",
    token: () => forge(key, header({ alg: "RS512" }), claims(), "RS512") },
  { name: "PS256 header on a key published for RS256", source: "RFC 8725 §3.1 (alg must fit the key)", expect: "invalid_token", because: "no key of the issuer matches the token",
    token: () => forge(key, header({ alg: "PS256" }), claims(), "PS256") },
  { name: "ES256 header naming the RSA key's kid", source: "RFC 8725 §3.1", expect: "invalid_token", because: "no key of the issuer matches the token",
    token: () => forge(attackerEc, { alg: "ES256", kid: key.kid }, claims()) },
  { name: "EdDSA header naming the RSA key's kid", source: "RFC 8725 §3.1", expect: "invalid_token", because: "no key of the issuer matches the token",
    token: () => forge(attackerEd, { alg: "EdDSA", kid: key.kid }, claims()) },
  { name: "alg as a JSON array", source: "jws type confusion", expect: "invalid_token", because: "the token's signing algorithm is not allowed",
    token: () => `${b64u({ alg: ["RS256"], kid: key.kid })}.${b64u(claims())}.AAAA` },
  { name: "alg missing", source: "RFC 7515 §4.1.1", expect: "invalid_token", because: "the token's signing algorithm is not allowed",
    token: () => `${b64u({ kid: key.kid })}.${b64u(claims())}.AAAA` },
  // --- key selection -------------------------------------------------------
  { name: "unknown kid, signed by a foreign key", source: "RFC 8725 §3.1", expect: "invalid_token", because: "no key of the issuer matches the token",
    token: () => forge(attacker, { alg: "RS256", kid: attacker.kid }, claims()) },
  { name: "right kid, signed by a foreign key", source: "signature forgery", expect: "invalid_token", because: "signature verification failed",
    token: () => forge(attacker, { alg: "RS256", kid: key.kid }, claims()) },
  { name: "kid with path traversal text", source: "OWASP JWT cheat sheet (kid injection)", expect: "invalid_token", because: "no key of the issuer matches the token",
    token: () => forge(attacker, { alg: "RS256", kid: "../../../../../../dev/null" }, claims()) },
  { name: "kid with SQL text", source: "OWASP JWT cheat sheet (kid injection)", expect: "invalid_token", because: "no key of the issuer matches the token",
    token: () => forge(attacker, { alg: "RS256", kid: "x' UNION SELECT 'secret' --" }, claims()) },
  { name: "kid with a NUL and control characters", source: "kid injection", expect: "invalid_token", because: "the \"kid\" header must be a printable string of at most 256 characters",
    token: () => forge(attacker, { alg: "RS256", kid: "a\u0000b\r\nc" }, claims()) },
  { name: "kid of 2000 characters", source: "resource exhaustion", expect: "invalid_token", because: "the \"kid\" header must be a printable string of at most 256 characters",
    token: () => forge(attacker, { alg: "RS256", kid: "k".repeat(2000) }, claims()) },
  { name: "kid as a number", source: "type confusion", expect: "invalid_token", because: "the \"kid\" header must be a printable string of at most 256 characters",
    token: () => forge(key, { alg: "RS256", kid: 1 }, claims()) },
  { name: "no kid, signed by a foreign key", source: "RFC 8725 §3.1", expect: "invalid_token", because: "signature verification failed",
    token: () => forge(attacker, { alg: "RS256" }, claims()) },
  // --- key material carried by the token -------------------------------------
  { name: "embedded jwk header with the attacker's key", source: "node-jose / CVE-2018-0114", expect: "invalid_token", because: "the \"jwk\" header is not accepted: keys come only from the issuer's key set",
    token: () => forge(attacker, { alg: "RS256", jwk: attacker.publicJwk }, claims()) },
  { name: "jku header pointing at an attacker key set", source: "RFC 8725 §3.10", expect: "invalid_token", because: "the \"jku\" header is not accepted: keys come only from the issuer's key set",
    token: () => forge(attacker, { alg: "RS256", kid: attacker.kid, jku: `${issuer.issuer}/attacker/jwks.json` }, claims()) },
  { name: "x5u header pointing at an attacker certificate", source: "RFC 8725 §3.10", expect: "invalid_token", because: "the \"x5u\" header is not accepted: keys come only from the issuer's key set",
    token: () => forge(attacker, { alg: "RS256", x5u: `${issuer.issuer}/attacker/cert.pem` }, claims()) },
  { name: "x5c header with an attacker certificate chain", source: "RFC 7515 §4.1.6", expect: "invalid_token", because: "the \"x5c\" header is not accepted: keys come only from the issuer's key set",
    token: () => forge(attacker, { alg: "RS256", x5c: ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"] }, claims()) },
  { name: "jwk header alongside the real kid and a valid signature", source: "RFC 8725 §3.10", expect: "invalid_token", because: "the \"jwk\" header is not accepted: keys come only from the issuer's key set",
    token: () => signed(claims(), { jwk: key.publicJwk }) },
  // --- header extensions ------------------------------------------------------
  { name: "crit naming an unknown extension", source: "RFC 7515 §4.1.11", expect: "invalid_token", because: "the \"crit\" header names extensions this verifier does not support",
    token: () => signed(claims(), { crit: ["urn:example:unknown"], "urn:example:unknown": true }) },
  { name: "crit empty", source: "RFC 7515 §4.1.11", expect: "invalid_token", because: "the \"crit\" header names extensions this verifier does not support",
    token: () => signed(claims(), { crit: [] }) },
  { name: "b64: false (unencoded payload)", source: "RFC 7797", expect: "invalid_token", because: "the \"b64\" header is not accepted",
    token: () => signed(claims(), { b64: false, crit: ["b64"] }) },
  { name: "nested JWT (cty: JWT) wrapping a valid token", source: "RFC 8725 §2.8, RFC 7519 §5.2", expect: "invalid_token", because: "nested tokens are not accepted",
    token: async () => signSegments(key, "RS256", b64u(header({ cty: "JWT" })), b64u(await issuer.sign({ sub: "alice", org_id: "acme" }))) },
  // --- serialization ----------------------------------------------------------
  { name: "two segments (signature dropped)", source: "RFC 7515 §7.1", expect: "invalid_token", because: "the token must be a compact JWS of three segments",
    token: async () => (await signed(claims())).split(".").slice(0, 2).join(".") },
  { name: "four segments", source: "RFC 7515 §7.1", expect: "invalid_token", because: "the token must be a compact JWS of three segments",
    token: async () => `${await signed(claims())}.AAAA` },
  { name: "five segments (JWE shape)", source: "RFC 7516 §7.1", expect: "invalid_token", because: "encrypted tokens (JWE) are not accepted",
    token: () => `${b64u({ alg: "RSA-OAEP", enc: "A256GCM" })}.AAAA.AAAA.AAAA.AAAA` },
  { name: "empty signature segment", source: "RFC 7515 §7.1", expect: "invalid_token", because: "the token signature is empty or not unpadded base64url",
    token: async () => `${(await signed(claims())).split(".").slice(0, 2).join(".")}.` },
  { name: "JSON serialization instead of compact", source: "RFC 7515 §7.2", expect: "invalid_request", because: "more than one Authorization credential was sent",
    token: async () => {
      const [p, b, s] = (await signed(claims())).split(".");
      return JSON.stringify({ protected: p, payload: b, signature: s });
    } },
  { name: "whitespace inside the token", source: "RFC 6750 §2.1", expect: "invalid_request", because: "the Authorization header must be \"Bearer <token>\"",
    token: async () => (await signed(claims())).replace(".", ". ") },
  { name: "base64 padding on the signature", source: "RFC 7515 §2 (no padding)", expect: "invalid_token", because: "the token signature is empty or not unpadded base64url",
    token: async () => `${await signed(claims())}==` },
  { name: "standard base64 characters (+ and /)", source: "RFC 7515 §2 (base64url)", expect: "invalid_token", because: "the token signature is empty or not unpadded base64url",
    token: async () => (await signed(claims())).replace(/-/g, "+").replace(/_/g, "/").replace(/\.([^.]*)$/, ".+/$1") },
  { name: "signature re-spelled in its unused low bits (malleability)", source: "RFC 7515 §2, CVE-2023-48223 class", expect: "invalid_token", because: "a token segment is not canonical base64url",
    token: async () => {
      const token = await signed(claims());
      const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
      const last = alphabet.indexOf(token.at(-1)!);
      return token.slice(0, -1) + alphabet[last ^ 1];
    } },
  { name: "a character outside token68", source: "RFC 6750 §2.1", expect: "invalid_request", because: "the bearer token has characters outside the token68 alphabet",
    token: async () => `${await signed(claims())}!` },
  // --- payload and header content ----------------------------------------------
  { name: "payload is a JSON array", source: "RFC 7519 §7.2 step 10", expect: "invalid_token", because: "the token payload must be a JSON object",
    token: () => signed([claims()]) },
  { name: "payload is not UTF-8", source: "RFC 7519 §7.2 step 9", expect: "invalid_token", because: "the token payload is not UTF-8",
    token: () => signSegments(key, "RS256", b64u(header()), b64u(new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]))) },
  { name: "payload is not JSON", source: "RFC 7519 §7.2", expect: "invalid_token", because: "the token payload is not JSON",
    token: () => rawPayload("sub=alice&org_id=acme") },
  { name: "header is a JSON array", source: "RFC 7515 §5.2 step 3", expect: "invalid_token", because: "the token header must be a JSON object",
    token: () => signSegments(key, "RS256", b64u([header()]), b64u(claims())) },
  { name: "tampered payload (tenant changed, signature kept)", source: "integrity", expect: "invalid_token", because: "signature verification failed",
    token: async () => {
      const [h, , s] = (await signed(claims())).split(".");
      return `${h}.${b64u(claims({ org_id: "victim" }))}.${s}`;
    } },
  { name: "tampered header (kid-less, signature kept)", source: "integrity", expect: "invalid_token", because: "signature verification failed",
    token: async () => {
      const [, p, s] = (await signed(claims())).split(".");
      return `${b64u({ alg: "RS256", typ: "JWT" })}.${p}.${s}`;
    } },
  { name: "signature spliced from another valid token", source: "integrity", expect: "invalid_token", because: "signature verification failed",
    token: async () => {
      const [h, p] = (await signed(claims({ org_id: "victim" }))).split(".");
      const s = (await signed(claims())).split(".")[2];
      return `${h}.${p}.${s}`;
    } },
  { name: "duplicate claim name (tenant given twice)", source: "RFC 7519 §4, parser differentials", expect: "invalid_token", because: "the token payload has duplicate member names",
    token: () => rawPayload(JSON.stringify(claims()).replace(/}$/, ',"org_id":"victim"}')) },
  { name: "duplicate claim name hidden by a \\u escape", source: "RFC 7519 §4", expect: "invalid_token", because: "the token payload has duplicate member names",
    token: () => rawPayload(JSON.stringify(claims()).replace(/}$/, ',"\\u006frg_id":"victim"}')) },
  { name: "duplicate header parameter (alg twice)", source: "RFC 7515 §4", expect: "invalid_token", because: "the token header has duplicate member names",
    token: () => signSegments(key, "RS256", b64u(`{"alg":"RS256","kid":"${key.kid}","alg":"none"}`), b64u(claims())) },
  // --- time claims --------------------------------------------------------------
  { name: "exp missing", source: "RFC 9068 §2.2", expect: "invalid_token", because: "missing required \"exp\" claim", token: () => signed(without("exp")) },
  { name: "exp in the past", source: "RFC 7519 §4.1.4", expect: "invalid_token", because: "the token has expired", token: () => signed(claims({ exp: now() - 60 })) },
  { name: "exp a numeric string", source: "RFC 7519 §2 NumericDate", expect: "invalid_token", because: "unexpected \"exp\" claim value",
    token: () => signed(claims({ exp: String(now() + 600) })) },
  { name: "exp null", source: "RFC 7519 §2 NumericDate", expect: "invalid_token", because: "unexpected \"exp\" claim value", token: () => signed(claims({ exp: null })) },
  { name: "nbf in the future", source: "RFC 7519 §4.1.5", expect: "invalid_token", because: "the token is not yet valid (\"nbf\" claim)", token: () => signed(claims({ nbf: now() + 600 })) },
  { name: "iat in the future", source: "RFC 8725 §3.10 (do not trust the token's clock)", expect: "invalid_token", because: "the \"iat\" claim is in the future",
    token: () => signed(claims({ iat: now() + 600 })) },
  { name: "iat a string", source: "RFC 7519 §2 NumericDate", expect: "invalid_token", because: "unexpected \"iat\" claim value", token: () => signed(claims({ iat: "yesterday" })) },
  // --- issuer and audience ------------------------------------------------------
  { name: "wrong issuer, right key", source: "RFC 8725 §3.8", expect: "invalid_token", because: "unexpected \"iss\" claim value",
    token: () => signed(claims({ iss: "https://evil.example.com" })) },
  { name: "issuer with a trailing slash", source: "RFC 8725 §3.8 (exact match)", expect: "invalid_token", because: "unexpected \"iss\" claim value",
    token: () => signed(claims({ iss: `${issuer.issuer}/` })) },
  { name: "issuer in another case", source: "RFC 8725 §3.8 (exact match)", expect: "invalid_token", because: "unexpected \"iss\" claim value",
    token: () => signed(claims({ iss: issuer.issuer.toUpperCase() })) },
  { name: "issuer missing", source: "RFC 9068 §2.2", expect: "invalid_token", because: "missing required \"iss\" claim", token: () => signed(without("iss")) },
  { name: "issuer as an array holding the right value", source: "type confusion", expect: "invalid_token", because: "unexpected \"iss\" claim value",
    token: () => signed(claims({ iss: [issuer.issuer] })) },
  { name: "audience missing", source: "RFC 9068 §4", expect: "invalid_token", because: "missing required \"aud\" claim", token: () => signed(without("aud")) },
  { name: "foreign audience", source: "RFC 8725 §3.9", expect: "invalid_token", because: "unexpected \"aud\" claim value", token: () => signed(claims({ aud: "another-api" })) },
  { name: "audience array of foreign values", source: "RFC 8725 §3.9", expect: "invalid_token", because: "unexpected \"aud\" claim value",
    token: () => signed(claims({ aud: ["another-api", "LANGGRAPH-DEV"] })) },
  // --- principal ----------------------------------------------------------------
  { name: "sub missing", source: "RFC 9068 §2.2", expect: "invalid_token", because: "missing or invalid \"sub\" claim", token: () => signed(without("sub")) },
  { name: "tenant id with a key separator", source: "tenant isolation", expect: "invalid_token", because: "the tenant claim \"org_id\" is not a valid tenant id",
    token: () => signed(claims({ org_id: "acme::victim" })) },
  // --- size and request shape ----------------------------------------------------
  { name: "validly signed token over the 8 KiB cap", source: "resource exhaustion", expect: "invalid_token", because: "the token is longer than 8192 bytes",
    token: () => signed(claims({ padding: "x".repeat(9000) })) },
  { name: "two Authorization headers", source: "RFC 6750 §2, request smuggling", expect: "invalid_request", because: "more than one Authorization credential was sent",
    request: async () => {
      const headers = new Headers();
      headers.append("authorization", `Bearer ${await signed(claims())}`);
      headers.append("authorization", `Bearer ${await signed(claims({ org_id: "victim" }))}`);
      return new Request("http://127.0.0.1/threads", { headers });
    } },
  { name: "token in the header and in the query", source: "RFC 6750 §2", expect: "invalid_request", because: "the access token was sent in more than one place",
    request: async () => {
      const token = await signed(claims());
      return new Request(`http://127.0.0.1/threads?access_token=${token}`, { headers: { authorization: `Bearer ${token}` } });
    } },
  { name: "token only in the query", source: "RFC 6750 §2.3, RFC 9700 §4.3.2", expect: "invalid_request", because: "access tokens are accepted only in the Authorization header",
    request: async () => new Request(`http://127.0.0.1/threads?access_token=${await signed(claims())}`) },
  { name: "Basic scheme carrying a JWT", source: "RFC 6750 §2.1", expect: "invalid_request", because: "the \"Basic\" scheme is not supported; use Bearer",
    request: async () => new Request("http://127.0.0.1/threads", { headers: { authorization: `Basic ${await signed(claims())}` } }) },
];

beforeAll(async () => {
  issuer = await startLocalIssuer();
  key = issuer.keys[0]!;
  [attacker, attackerEc, attackerEd] = await Promise.all([
    generateSigningKey("RS256"),
    generateSigningKey("ES256"),
    generateSigningKey("EdDSA"),
  ]);
  authenticator = createAuthenticator({
    // A cooldown longer than the corpus can take, however loaded the machine:
    // then any fetch a case causes is the token's doing, not the clock's.
    config: readConfig({ ...issuer.env(), AUTH_JWKS_COOLDOWN: "3600" }),
    fetch: (input, init) => {
      fetched.push(String(input));
      return fetch(input, init);
    },
    log: (line) => log.push(line),
  });
  // Warm the key set: the corpus then runs inside the refetch cooldown, so
  // an unknown kid costs no fetch and any fetch a case causes shows up below.
  await authenticator.authenticateRequest(bearer(await issuer.sign({ sub: "alice", org_id: "acme" })));
});

afterAll(async () => {
  await issuer.close();
});

describe("hostile tokens", () => {
  it("has at least 40 distinct named cases", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
  });

  it("accepts the untouched token the attacks are made from", async () => {
    const principal = await authenticator.authenticateRequest(bearer(await signed(claims())));
    expect(principal).toMatchObject({ identity: "alice", tenant_id: "acme", issuer: issuer.issuer });
  });

  it.each(CASES)("refuses $name ($source)", async (attack) => {
    const request = attack.request ? await attack.request() : bearer(await attack.token!());
    const fetchesBefore = fetched.length;
    const hitsBefore = [...issuer.hits.values()].reduce((a, b) => a + b, 0);

    const error = await authenticator.authenticateRequest(request).then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(AuthError);
    const authError = error as AuthError;
    const challenge = authError.headers["WWW-Authenticate"];
    expect(authError.message).toBe(`${attack.expect}: ${attack.because}`);
    if (attack.expect === "invalid_request") {
      expect(authError.status).toBe(400);
      expect(challenge).toMatch(/^Bearer realm="langgraph", error="invalid_request", error_description="(?:[^"\\]|\\.)+"$/);
    } else {
      expect(authError.status).toBe(401);
      expect(challenge).toMatch(/^Bearer realm="langgraph", error="invalid_token", error_description="(?:[^"\\]|\\.)+"$/);
    }
    // No token text in what the client or a log sees.
    const token = request.headers.get("authorization")?.split(" ")[1] ?? "";
    for (const part of token.split(".").filter((p) => p.length > 16)) {
      expect(challenge).not.toContain(part);
      expect(authError.message).not.toContain(part);
    }
    // Nothing the token says makes us fetch: not its jku/x5u, not its kid.
    expect(fetched.length).toBe(fetchesBefore);
    expect([...issuer.hits.values()].reduce((a, b) => a + b, 0)).toBe(hitsBefore);
  });

  it("never fetched anything a token pointed at", () => {
    expect(issuer.hits.get("/attacker/jwks.json")).toBeUndefined();
    expect(issuer.hits.get("/attacker/cert.pem")).toBeUndefined();
    expect(fetched.every((url) => url.startsWith(`${issuer.issuer}/.well-known/`))).toBe(true);
    expect(fetched).toHaveLength(2); // discovery + key set, once
  });
});
