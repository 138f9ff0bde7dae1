/**
 * The verified-token cache as the authenticator uses it, on a real key set
 * served over loopback by the local issuer.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuthenticator } from "../../src/authenticate/create-authenticator.ts";
import { readConfig } from "../../src/config/read-config.ts";
import { createRemoteKeyStore } from "../../src/verify/create-remote-key-store.ts";
import type { KeyStore } from "../../src/verify/key-store.ts";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";

let issuer: LocalIssuer;
beforeAll(async () => {
  issuer = await startLocalIssuer({ alg: "ES256" });
});
afterAll(async () => {
  await issuer.close();
});

/** A remote key store whose `getKey` calls are counted: each one is a full verification. */
function countingStore() {
  const inner = createRemoteKeyStore({ issuer: issuer.issuer, jwksUrl: issuer.jwksUrl, log: () => undefined });
  const store = {
    verifications: 0,
    getKey: ((...args: Parameters<KeyStore["getKey"]>) => {
      store.verifications++;
      return inner.getKey(...args);
    }) as KeyStore["getKey"],
    hasKid: (kid: string) => inner.hasKid(kid),
    refresh: () => inner.refresh(),
  };
  return store;
}

function setup(env: Record<string, string> = {}) {
  const clock = { now: Date.now() };
  const keyStore = countingStore();
  const authenticator = createAuthenticator({
    config: readConfig({ ...issuer.env(), ...env }),
    keyStore,
    now: () => clock.now,
  });
  const request = (token: string) =>
    new Request("http://127.0.0.1/threads", { headers: { authorization: `Bearer ${token}` } });
  return { clock, keyStore, authenticator, request };
}

const claims = { sub: "alice", org_id: "acme", scope: "threads:read" };

describe("authenticate with the verified-token cache", () => {
  it("verifies a token once and answers its reuse from the cache", async () => {
    const { keyStore, authenticator, request } = setup();
    const token = await issuer.sign(claims);
    const first = await authenticator.authenticateRequest(request(token));
    const second = await authenticator.authenticateRequest(request(token));
    expect(second).toEqual(first);
    expect(second.identity).toBe("alice");
    expect(keyStore.verifications).toBe(1);
    expect(authenticator.cachedTokens).toBe(1);
  });

  it("hands each caller its own principal, so changing one cannot change the cache", async () => {
    const { authenticator, request } = setup();
    const token = await issuer.sign(claims);
    const first = await authenticator.authenticateRequest(request(token));
    first.permissions.push("threads:write");
    (first as { tenant_id: string }).tenant_id = "evil";
    const second = await authenticator.authenticateRequest(request(token));
    expect(second.permissions).toEqual(["threads:read"]);
    expect(second.tenant_id).toBe("acme");
  });

  it("refuses a cached token once its exp has passed", async () => {
    const { clock, authenticator, request } = setup({ AUTH_CLOCK_TOLERANCE: "5" });
    const token = await issuer.sign(claims, { expiresIn: 60 });
    await authenticator.authenticateRequest(request(token));
    clock.now += 60_000 + 5_000 + 1_000;
    await expect(authenticator.authenticateRequest(request(token))).rejects.toMatchObject({
      status: 401,
      message: "invalid_token: the token has expired",
    });
    expect(authenticator.cachedTokens).toBe(0);
  });

  it("verifies again after AUTH_TOKEN_CACHE_MAX_AGE, before exp", async () => {
    const { clock, keyStore, authenticator, request } = setup({ AUTH_TOKEN_CACHE_MAX_AGE: "30" });
    const token = await issuer.sign(claims, { expiresIn: 3600 });
    await authenticator.authenticateRequest(request(token));
    clock.now += 29_000;
    await authenticator.authenticateRequest(request(token));
    expect(keyStore.verifications).toBe(1);
    clock.now += 1_000;
    const again = await authenticator.authenticateRequest(request(token));
    expect(again.identity).toBe("alice");
    expect(keyStore.verifications).toBe(2);
  });

  it("never keeps an entry past iat + AUTH_MAX_TOKEN_AGE", async () => {
    const { clock, keyStore, authenticator, request } = setup({ AUTH_MAX_TOKEN_AGE: "60" });
    const token = await issuer.sign(claims, { expiresIn: 3600 });
    await authenticator.authenticateRequest(request(token));
    clock.now += 30_000;
    await authenticator.authenticateRequest(request(token));
    expect(keyStore.verifications).toBe(1);
    clock.now += 40_000;
    await expect(authenticator.authenticateRequest(request(token))).rejects.toMatchObject({ status: 401 });
    expect(keyStore.verifications).toBe(2);
  });

  it("checks nbf again on a hit: a clock moved back refuses the token", async () => {
    const { clock, authenticator, request } = setup({ AUTH_CLOCK_TOLERANCE: "5" });
    const nbf = Math.floor(clock.now / 1000);
    const token = await issuer.sign({ ...claims, nbf });
    await authenticator.authenticateRequest(request(token));
    clock.now = (nbf - 5) * 1000 - 2_000;
    await expect(authenticator.authenticateRequest(request(token))).rejects.toMatchObject({
      status: 401,
      message: 'invalid_token: the token is not yet valid ("nbf" claim)',
    });
  });

  it("drops the entries of a key removed from the key set", async () => {
    const { keyStore, authenticator, request } = setup();
    const token = await issuer.sign(claims);
    await authenticator.authenticateRequest(request(token));
    expect(authenticator.cachedTokens).toBe(1);
    await issuer.rotate({ dropOld: true });
    await keyStore.refresh(); // the key store learns the new set (as on its periodic refresh)
    await expect(authenticator.authenticateRequest(request(token))).rejects.toMatchObject({
      status: 401,
      message: "invalid_token: no key of the issuer matches the token",
    });
    expect(authenticator.cachedTokens).toBe(0);
    // Tokens of the new key are verified and cached as usual.
    const fresh = await issuer.sign(claims);
    const before = keyStore.verifications;
    await authenticator.authenticateRequest(request(fresh));
    await authenticator.authenticateRequest(request(fresh));
    expect(keyStore.verifications).toBe(before + 1);
  });

  it("keeps at most AUTH_TOKEN_CACHE_MAX_ENTRIES tokens, evicting the least recently used", async () => {
    const { keyStore, authenticator, request } = setup({ AUTH_TOKEN_CACHE_MAX_ENTRIES: "2" });
    const [a, b, c] = await Promise.all(["a", "b", "c"].map((sub) => issuer.sign({ ...claims, sub })));
    for (const token of [a!, b!, a!, c!]) await authenticator.authenticateRequest(request(token));
    expect(authenticator.cachedTokens).toBe(2);
    expect(keyStore.verifications).toBe(3);
    await authenticator.authenticateRequest(request(a!)); // still cached
    expect(keyStore.verifications).toBe(3);
    await authenticator.authenticateRequest(request(b!)); // evicted: verified again
    expect(keyStore.verifications).toBe(4);
  });

  it("still applies the bearer rules to a request carrying a cached token", async () => {
    const { authenticator, request } = setup();
    const token = await issuer.sign(claims);
    await authenticator.authenticateRequest(request(token));
    const send = (url: string, headers: [string, string][]) => authenticator.authenticateRequest(new Request(url, { headers }));
    await expect(send(`http://127.0.0.1/threads?access_token=${token}`, [["authorization", `Bearer ${token}`]])).rejects.toMatchObject({ status: 400 });
    await expect(send("http://127.0.0.1/threads", [["authorization", `Bearer ${token}`], ["authorization", `Bearer ${token}`]])).rejects.toMatchObject({ status: 400 });
    await expect(send("http://127.0.0.1/threads", [["authorization", `Basic ${token}`]])).rejects.toMatchObject({ status: 400 });
    await expect(send("http://127.0.0.1/threads", [["authorization", `Bearer ${token}x`]])).rejects.toMatchObject({ status: 401 });
    expect((await send("http://127.0.0.1/threads", [["authorization", `bearer ${token}`]])).identity).toBe("alice");
  });

  it("never caches a refused token", async () => {
    const { keyStore, authenticator, request } = setup();
    const token = await issuer.sign({ sub: "alice" }); // no tenant claim
    for (let i = 0; i < 2; i++) {
      await expect(authenticator.authenticateRequest(request(token))).rejects.toMatchObject({ status: 401 });
    }
    expect(keyStore.verifications).toBe(2);
    expect(authenticator.cachedTokens).toBe(0);
  });

  it("verifies every request with AUTH_TOKEN_CACHE=off", async () => {
    const { keyStore, authenticator, request } = setup({ AUTH_TOKEN_CACHE: "off" });
    const token = await issuer.sign(claims);
    for (let i = 0; i < 3; i++) await authenticator.authenticateRequest(request(token));
    expect(keyStore.verifications).toBe(3);
    expect(authenticator.cachedTokens).toBe(0);
  });

  it("has no cache over a key store that cannot say whether a key left the set", async () => {
    const inner = createRemoteKeyStore({ issuer: issuer.issuer, jwksUrl: issuer.jwksUrl });
    let verifications = 0;
    const authenticator = createAuthenticator({
      config: readConfig(issuer.env()),
      keyStore: {
        getKey: (...args) => {
          verifications++;
          return inner.getKey(...args);
        },
      },
    });
    const token = await issuer.sign(claims);
    const request = () => new Request("http://127.0.0.1/", { headers: { authorization: `Bearer ${token}` } });
    await authenticator.authenticateRequest(request());
    await authenticator.authenticateRequest(request());
    expect(verifications).toBe(2);
  });

  it("does not share entries between differently configured authenticators", async () => {
    const token = await issuer.sign(claims);
    const keyStore = countingStore();
    const single = createAuthenticator({
      config: readConfig({ ...issuer.env(), AUTH_TENANT_MODE: "single", AUTH_SINGLE_TENANT_ID: "solo" }),
      keyStore,
    });
    const multi = createAuthenticator({ config: readConfig(issuer.env()), keyStore });
    expect((await single.verifyToken(token)).tenant_id).toBe("solo");
    expect((await multi.verifyToken(token)).tenant_id).toBe("acme");
  });
});

describe("authenticateCached: a cache hit at once, with no promise", () => {
  it("answers only a token the cache holds, with the caller's own copy", async () => {
    const { keyStore, authenticator, request } = setup();
    const token = await issuer.sign(claims);
    expect(authenticator.authenticateCached!(request(token))).toBeUndefined();
    const verified = await authenticator.authenticateRequest(request(token));
    const hit = authenticator.authenticateCached!(request(token));
    expect(hit).toEqual(verified);
    expect(keyStore.verifications).toBe(1);
    hit!.permissions.push("threads:write");
    expect(authenticator.authenticateCached!(request(token))!.permissions).toEqual(["threads:read"]);
  });

  it("answers nothing where the bearer rules or the cache's rules decide, and authenticateRequest then refuses", async () => {
    const { clock, authenticator, request } = setup({ AUTH_CLOCK_TOLERANCE: "5" });
    const token = await issuer.sign(claims, { expiresIn: 60 });
    await authenticator.authenticateRequest(request(token));
    const send = (url: string, headers: [string, string][]) => new Request(url, { headers });
    for (const [url, headers] of [
      [`http://127.0.0.1/threads?access_token=${token}`, [["authorization", `Bearer ${token}`]]],
      ["http://127.0.0.1/threads", [["authorization", `Bearer ${token}`], ["authorization", `Bearer ${token}`]]],
      ["http://127.0.0.1/threads", [["authorization", `Basic ${token}`]]],
      ["http://127.0.0.1/threads", [["authorization", `Bearer ${token}x`]]],
      ["http://127.0.0.1/threads", []],
    ] as [string, [string, string][]][]) {
      expect(authenticator.authenticateCached!(send(url, headers)), url).toBeUndefined();
      await expect(authenticator.authenticateRequest(send(url, headers))).rejects.toMatchObject({ status: expect.any(Number) });
    }
    expect(authenticator.authenticateCached!(send("http://127.0.0.1/threads", [["authorization", `bearer ${token}`]]))?.identity).toBe("alice");
    clock.now += 60_000 + 5_000 + 1_000;
    expect(authenticator.authenticateCached!(request(token))).toBeUndefined();
    await expect(authenticator.authenticateRequest(request(token))).rejects.toMatchObject({ status: 401 });
  });

  it("answers nothing once the token's key left the key set", async () => {
    const { keyStore, authenticator, request } = setup();
    const token = await issuer.sign(claims);
    await authenticator.authenticateRequest(request(token));
    expect(authenticator.authenticateCached!(request(token))?.identity).toBe("alice");
    await issuer.rotate({ dropOld: true });
    await keyStore.refresh();
    expect(authenticator.authenticateCached!(request(token))).toBeUndefined();
  });

  it("answers nothing with AUTH_TOKEN_CACHE=off", async () => {
    const { authenticator, request } = setup({ AUTH_TOKEN_CACHE: "off" });
    const token = await issuer.sign(claims);
    await authenticator.authenticateRequest(request(token));
    expect(authenticator.authenticateCached!(request(token))).toBeUndefined();
  });
});
