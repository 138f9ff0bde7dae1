/**
 * Verification end to end: keys served by the local issuer over loopback
 * HTTP, tokens signed with jose in the test, requests as web `Request`s.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SignJWT, base64url, exportSPKI, generateKeyPair, type JWTPayload } from "jose";
import { createAuthenticator, type Authenticator } from "../../src/authenticate/create-authenticator.ts";
import { readConfig } from "../../src/config/read-config.ts";
import { AuthError, InvalidTokenError, KeysUnavailableError } from "../../src/errors.ts";
import { startLocalIssuer, type LocalIssuer, type SigningKey } from "../support/local-issuer.ts";

let issuer: LocalIssuer;
let stranger: LocalIssuer;
let authenticator: Authenticator;

const now = () => Math.floor(Date.now() / 1000);

/** Sign with jose here in the test (not the issuer's helper), so every header and claim is ours. */
async function sign(claims: JWTPayload, options: { key?: SigningKey; header?: Record<string, unknown>; noExp?: boolean } = {}) {
  const key = options.key ?? issuer.keys[0]!;
  const body: JWTPayload = { iss: issuer.issuer, aud: issuer.audience, iat: now(), ...(options.noExp ? {} : { exp: now() + 600 }), ...claims };
  return new SignJWT(body)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT", ...options.header })
    .sign(key.privateKey);
}

const good = { sub: "alice", org_id: "acme", scope: "threads:read threads:write" };

function bearer(token: string): Request {
  return new Request("http://127.0.0.1:2024/threads/search", { method: "POST", headers: { authorization: `Bearer ${token}` } });
}

async function refusal(token: string, auth: Authenticator = authenticator, via: "request" | "token" = "request"): Promise<AuthError> {
  try {
    if (via === "request") await auth.authenticateRequest(bearer(token));
    else await auth.verifyToken(token);
  } catch (error) {
    expect(error).toBeInstanceOf(AuthError);
    return error as AuthError;
  }
  throw new Error("the token was accepted");
}

/** The RFC 6750 §3 answer to a bad token, and proof that it carries no part of the token. */
function expectInvalidToken(error: AuthError, token: string, description: string): void {
  expect(error).toBeInstanceOf(InvalidTokenError);
  expect(error.status).toBe(401);
  expect(error.code).toBe("ERR_TOKEN_INVALID");
  expect(error.message).toBe(`invalid_token: ${description}`);
  expect(error.headers["WWW-Authenticate"]).toBe(
    `Bearer realm="langgraph", error="invalid_token", error_description="${description.replace(/"/g, '\\"')}"`,
  );
  for (const part of token.split(".").filter((p) => p.length > 8)) {
    expect(error.message).not.toContain(part);
    expect(error.headers["WWW-Authenticate"]).not.toContain(part);
  }
}

beforeAll(async () => {
  issuer = await startLocalIssuer();
  stranger = await startLocalIssuer();
  authenticator = createAuthenticator({ config: readConfig(issuer.env()) });
});

afterAll(async () => {
  await issuer?.close();
  await stranger?.close();
});

describe("authenticateRequest: a good token", () => {
  it("returns the principal: identity, tenant, merged permissions, display name", async () => {
    const token = await sign({ ...good, permissions: ["store:read", "threads:read", 42, "bad name"], name: "Alice A.", roles: ["admin"] });
    const principal = await authenticator.authenticateRequest(bearer(token));
    expect(principal).toEqual({
      identity: "alice",
      tenant_id: "acme",
      permissions: ["threads:read", "threads:write", "store:read"],
      roles: ["admin"],
      display_name: "Alice A.",
      issuer: issuer.issuer,
      is_authenticated: true,
    });
    // The dev server stores the user with run arguments: no token in it.
    expect(JSON.stringify(principal)).not.toContain(token.split(".")[2]);
  });

  it("uses the email, then sub, as display name", async () => {
    expect((await authenticator.verifyToken(await sign({ ...good, email: "a@acme.test" }))).display_name).toBe("a@acme.test");
    expect((await authenticator.verifyToken(await sign(good))).display_name).toBe("alice");
  });

  it("accepts any of several configured audiences, and an aud array containing one", async () => {
    const multi = createAuthenticator({ config: readConfig({ ...issuer.env(), AUTH_AUDIENCE: "other,langgraph-dev" }) });
    expect((await multi.verifyToken(await sign(good))).identity).toBe("alice");
    expect((await authenticator.verifyToken(await sign({ ...good, aud: ["x", issuer.audience] }))).identity).toBe("alice");
  });

  it("allows the configured clock skew on exp and nbf", async () => {
    expect((await authenticator.verifyToken(await sign({ ...good, exp: now() - 2 }))).identity).toBe("alice");
    expect((await authenticator.verifyToken(await sign({ ...good, nbf: now() + 2 }))).identity).toBe("alice");
  });
});

describe("authenticateRequest: refusals (401, RFC 6750 invalid_token, token never echoed)", () => {
  it("no token: 401 with the bare challenge", async () => {
    const error = (await authenticator.authenticateRequest(new Request("http://127.0.0.1/threads")).catch((e: unknown) => e)) as AuthError;
    expect(error.status).toBe(401);
    expect(error.headers["WWW-Authenticate"]).toBe('Bearer realm="langgraph"');
  });

  it("a token from another issuer, signed with that issuer's key", async () => {
    const token = await stranger.sign(good);
    // Its unverified "iss" names no configured issuer: refused before any key lookup or fetch.
    expectInvalidToken(await refusal(token), token, 'unexpected "iss" claim value');
  });

  it("a token signed with our key but naming another issuer", async () => {
    const token = await sign({ ...good, iss: stranger.issuer });
    expectInvalidToken(await refusal(token), token, 'unexpected "iss" claim value');
  });

  it("a token whose issuer differs only by a trailing slash (iss is compared exactly)", async () => {
    const token = await sign({ ...good, iss: `${issuer.issuer}/` });
    expectInvalidToken(await refusal(token), token, 'unexpected "iss" claim value');
  });

  it("a token for another audience", async () => {
    const token = await sign({ ...good, aud: "https://other-api.example.com" });
    expectInvalidToken(await refusal(token), token, 'unexpected "aud" claim value');
  });

  it("a token with no audience", async () => {
    const token = await sign({ ...good, aud: undefined });
    expectInvalidToken(await refusal(token), token, 'missing required "aud" claim');
  });

  it("an expired token", async () => {
    const token = await sign({ ...good, iat: now() - 7200, exp: now() - 60 });
    expectInvalidToken(await refusal(token), token, "the token has expired");
  });

  it("a token with no exp (exp is required)", async () => {
    const token = await sign(good, { noExp: true });
    expectInvalidToken(await refusal(token), token, 'missing required "exp" claim');
  });

  it("a token not valid yet (nbf beyond the skew)", async () => {
    const token = await sign({ ...good, nbf: now() + 600 });
    expectInvalidToken(await refusal(token), token, 'the token is not yet valid ("nbf" claim)');
  });

  it("an unsigned token (alg: none)", async () => {
    const header = base64url.encode(JSON.stringify({ alg: "none", typ: "JWT" }));
    const payload = base64url.encode(JSON.stringify({ iss: issuer.issuer, aud: issuer.audience, exp: now() + 600, ...good }));
    for (const token of [`${header}.${payload}.`, `${header}.${payload}.${base64url.encode("sig")}`]) {
      expectInvalidToken(await refusal(token), token, "the token's signing algorithm is not allowed");
    }
  });

  it("an HS256 token whose HMAC secret is the issuer's public key (PEM or JWK bytes)", async () => {
    const { publicKey } = await generateKeyPair("RS256", { extractable: true });
    const pem = await exportSPKI(publicKey);
    const secrets = [
      pem,
      JSON.stringify(issuer.keys[0]!.publicJwk),
      JSON.stringify({ keys: [issuer.keys[0]!.publicJwk] }),
    ];
    for (const secret of secrets) {
      const token = await new SignJWT({ iss: issuer.issuer, aud: issuer.audience, exp: now() + 600, ...good })
        .setProtectedHeader({ alg: "HS256", kid: issuer.keys[0]!.kid })
        .sign(new TextEncoder().encode(secret));
      expectInvalidToken(await refusal(token), token, "the token's signing algorithm is not allowed");
    }
  });

  it("an algorithm outside AUTH_ALGORITHMS, even when the key would verify it", async () => {
    const es = await startLocalIssuer({ alg: "ES256" });
    try {
      const rsOnly = createAuthenticator({ config: readConfig({ ...es.env(), AUTH_ALGORITHMS: "RS256" }) });
      const token = await es.sign(good);
      expectInvalidToken(await refusal(token, rsOnly), token, "the token's signing algorithm is not allowed");
      const esAllowed = createAuthenticator({ config: readConfig({ ...es.env() }) });
      expect((await esAllowed.verifyToken(token)).identity).toBe("alice");
    } finally {
      await es.close();
    }
  });

  it("a token carrying our kid but signed by another key", async () => {
    const token = await sign(good, { key: { ...stranger.keys[0]!, kid: issuer.keys[0]!.kid } });
    expectInvalidToken(await refusal(token), token, "signature verification failed");
  });

  it("a token whose payload was changed after signing", async () => {
    const [h, , s] = (await sign(good)).split(".");
    const forged = `${h}.${base64url.encode(JSON.stringify({ iss: issuer.issuer, aud: issuer.audience, exp: now() + 600, sub: "alice", org_id: "globex" }))}.${s}`;
    expectInvalidToken(await refusal(forged), forged, "signature verification failed");
  });

  it.each([
    ["three garbage segments", "abc.def.ghi"],
    ["one segment", "abcdefghijklmnop"],
    ["a JWE-shaped token", "a.b.c.d.e"],
  ])("a malformed token: %s", async (_, token) => {
    const error = await refusal(token);
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect(error.status).toBe(401);
    expect(error.headers["WWW-Authenticate"]).toMatch(/^Bearer realm="langgraph", error="invalid_token", error_description="[^"]+"$/);
  });

  it("a token with no sub, or a non-string sub", async () => {
    for (const sub of [undefined, 42, ""]) {
      const token = await sign({ ...good, sub: sub as string });
      expectInvalidToken(await refusal(token), token, 'missing or invalid "sub" claim');
    }
  });
});

describe("tenant claim rules", () => {
  const withClaim = async (claims: JWTPayload, tenantClaim?: string) => {
    const auth = tenantClaim
      ? createAuthenticator({ config: readConfig({ ...issuer.env(), AUTH_TENANT_CLAIM: tenantClaim }) })
      : authenticator;
    const token = await sign({ sub: "alice", ...claims });
    return { auth, token };
  };

  it.each([
    ["missing", {}, 'missing tenant claim "org_id"'],
    ["null", { org_id: null }, 'missing tenant claim "org_id"'],
    ["empty", { org_id: "" }, 'missing tenant claim "org_id"'],
    ["a number", { org_id: 42 }, 'the tenant claim "org_id" is not a valid tenant id'],
    ["an array", { org_id: ["acme"] }, 'the tenant claim "org_id" is not a valid tenant id'],
    ["an object", { org_id: { id: "acme" } }, 'the tenant claim "org_id" is not a valid tenant id'],
    ["a boolean", { org_id: true }, 'the tenant claim "org_id" is not a valid tenant id'],
    ["a::b", { org_id: "a::b" }, 'the tenant claim "org_id" is not a valid tenant id'],
    ["5 kB long", { org_id: "a".repeat(5_120) }, 'the tenant claim "org_id" is not a valid tenant id'],
    // Past the 8 KiB token cap, bare tokens are refused for their size, before any key or claim is looked at.
    ["10 kB long", { org_id: "a".repeat(10_240) }, "the token is longer than 8192 bytes"],
    ["129 characters", { org_id: "a".repeat(129) }, 'the tenant claim "org_id" is not a valid tenant id'],
    ["with a space", { org_id: "acme corp" }, 'the tenant claim "org_id" is not a valid tenant id'],
    ["starting with a dot", { org_id: ".acme" }, 'the tenant claim "org_id" is not a valid tenant id'],
    ["a unicode look-alike", { org_id: "\u0430cme" }, 'the tenant claim "org_id" is not a valid tenant id'],
    ["with a newline", { org_id: "acme\n" }, 'the tenant claim "org_id" is not a valid tenant id'],
  ])("refuses a tenant claim that is %s", async (_, claims, description) => {
    const { auth, token } = await withClaim(claims);
    // verifyToken (no request) applies the same rules as authenticateRequest.
    expectInvalidToken(await refusal(token, auth, "token"), token, description);
    const viaRequest = await refusal(token, auth);
    expect(viaRequest.status).toBe(401);
    expect(viaRequest.headers["WWW-Authenticate"]).toMatch(/^Bearer realm="langgraph", error="invalid_token"/);
  });

  it("accepts a 128-character tenant id with dots, dashes and underscores", async () => {
    const id = `A1._-${"x".repeat(123)}`;
    const { auth, token } = await withClaim({ org_id: id });
    expect((await auth.verifyToken(token)).tenant_id).toBe(id);
  });

  it("reads a nested dotted path", async () => {
    const { auth, token } = await withClaim({ app_metadata: { tenant_id: "globex" } }, "app_metadata.tenant_id");
    expect((await auth.verifyToken(token)).tenant_id).toBe("globex");
  });

  it("refuses a nested path that ends on an object, or runs through an array", async () => {
    const one = await withClaim({ app_metadata: { tenant_id: { x: 1 } } }, "app_metadata.tenant_id");
    expectInvalidToken(await refusal(one.token, one.auth), one.token, 'the tenant claim "app_metadata.tenant_id" is not a valid tenant id');
    const two = await withClaim({ app_metadata: [{ tenant_id: "acme" }] }, "app_metadata.0.tenant_id");
    expectInvalidToken(await refusal(two.token, two.auth), two.token, 'missing tenant claim "app_metadata.0.tenant_id"');
  });

  it("never resolves inherited properties (__proto__, constructor)", async () => {
    const one = await withClaim({ org_id: "acme" }, "constructor.name");
    expectInvalidToken(await refusal(one.token, one.auth), one.token, 'missing tenant claim "constructor.name"');
  });

  it("reads a top-level name with slashes and dots (namespaced custom claim)", async () => {
    const { auth, token } = await withClaim({ "https://example.com/org": "initech" }, "https://example.com/org");
    expect((await auth.verifyToken(token)).tenant_id).toBe("initech");
  });

  it("an exact top-level key wins over the nested path of the same spelling", async () => {
    const { auth, token } = await withClaim(
      { "app_metadata.tenant_id": "top-level", app_metadata: { tenant_id: "nested" } },
      "app_metadata.tenant_id",
    );
    expect((await auth.verifyToken(token)).tenant_id).toBe("top-level");
  });

  it("single mode: no tenant claim needed, every caller is in the one tenant", async () => {
    const single = createAuthenticator({ config: readConfig({ ...issuer.env(), AUTH_TENANT_MODE: "single" }) });
    expect((await single.verifyToken(await sign({ sub: "alice" }))).tenant_id).toBe("default");
    // A tenant claim is ignored, not trusted: it cannot pick another tenant.
    expect((await single.verifyToken(await sign({ sub: "bob", org_id: "globex" }))).tenant_id).toBe("default");
    const named = createAuthenticator({
      config: readConfig({ ...issuer.env(), AUTH_TENANT_MODE: "single", AUTH_SINGLE_TENANT_ID: "acme" }),
    });
    expect((await named.verifyToken(await sign({ sub: "alice" }))).tenant_id).toBe("acme");
    // Single mode still verifies everything else.
    const expired = await sign({ sub: "alice", exp: now() - 600 });
    expectInvalidToken(await refusal(expired, single), expired, "the token has expired");
  });
});

describe("key set location", () => {
  it("finds the key set through OIDC discovery when AUTH_JWKS_URL is unset", async () => {
    const discovered = await startLocalIssuer();
    try {
      const auth = createAuthenticator({ config: readConfig(discovered.env()) });
      expect((await auth.verifyToken(await discovered.sign(good))).identity).toBe("alice");
      expect(discovered.hits.get("/.well-known/openid-configuration")).toBe(1);
      expect(discovered.hits.get("/.well-known/jwks.json")).toBe(1);
      // Discovery is resolved once, not per request.
      await auth.verifyToken(await discovered.sign(good));
      expect(discovered.hits.get("/.well-known/openid-configuration")).toBe(1);
    } finally {
      await discovered.close();
    }
  });

  it("uses AUTH_JWKS_URL as given, without discovery", async () => {
    const direct = await startLocalIssuer();
    try {
      const auth = createAuthenticator({ config: readConfig({ ...direct.env(), AUTH_JWKS_URL: direct.jwksUrl }) });
      expect((await auth.verifyToken(await direct.sign(good))).identity).toBe("alice");
      expect(direct.hits.get("/.well-known/openid-configuration")).toBeUndefined();
      expect(direct.hits.get("/.well-known/jwks.json")).toBe(1);
    } finally {
      await direct.close();
    }
  });

  it.each([
    ["names another issuer", (iss: string) => ({ issuer: `${iss}/other`, jwks_uri: `${iss}/.well-known/jwks.json` })],
    ["points at plain http off loopback", (iss: string) => ({ issuer: iss, jwks_uri: "http://keys.example.com/jwks.json" })],
    ["has no jwks_uri", (iss: string) => ({ issuer: iss })],
  ])("refuses a discovery document that %s: 503, never a 500 or a 401", async (_, document) => {
    const bad = await startLocalIssuer({
      intercept: (req, res) => {
        if (!req.url?.startsWith("/.well-known/openid-configuration")) return false;
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(document(bad.issuer)));
        return true;
      },
    });
    try {
      const auth = createAuthenticator({ config: readConfig(bad.env()) });
      const error = await refusal(await bad.sign(good), auth);
      expect(error).toBeInstanceOf(KeysUnavailableError);
      expect(error.status).toBe(503);
      expect(error.headers["Retry-After"]).toBe("30");
      expect(bad.hits.get("/.well-known/jwks.json")).toBeUndefined();
    } finally {
      await bad.close();
    }
  });
});

describe("createAuthenticator: options", () => {
  it("refuses a config whose issuer list is empty or does not start with config.issuer (no single-issuer fallback)", () => {
    const config = readConfig({ AUTH_ISSUER: "https://id.example.com/", AUTH_AUDIENCE: "api" });
    expect(() => createAuthenticator({ config: { ...config, issuers: [] } })).toThrow(TypeError);
    expect(() => createAuthenticator({ config: { ...config, issuers: ["https://other.example.com/"] } })).toThrow(/config.issuer first/);
    expect(() => createAuthenticator({ config })).not.toThrow();
  });
});
