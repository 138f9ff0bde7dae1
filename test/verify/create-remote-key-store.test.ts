/**
 * Each identity-provider fault, against the local issuer over loopback with
 * its `intercept` hook playing the failing provider and a fake clock moving
 * time: valid tokens keep working (or get 503 where no keys were ever
 * fetched) and bad ones keep failing.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { errors } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { generateSigningKey, startLocalIssuer, type LocalIssuer, type SigningKey } from "../support/local-issuer.ts";
import { createAuthenticator, type Authenticator } from "../../src/authenticate/create-authenticator.ts";
import { readConfig } from "../../src/config/read-config.ts";
import { AuthError, KeysUnavailableError } from "../../src/errors.ts";
import { createRemoteKeyStore, type RemoteKeyStore, type RemoteKeyStoreOptions } from "../../src/verify/create-remote-key-store.ts";
import type { KeySetChange } from "../../src/verify/key-store.ts";
import { waitFor } from "../support/wait-for.ts";

const JWKS = "/.well-known/jwks.json";
const DISCOVERY = "/.well-known/openid-configuration";
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

type Fault = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

/** The faults a provider shows, each as an `intercept` answer. */
const FAULTS: Record<string, Fault> = {
  down: (req) => {
    req.socket.destroy();
    return true;
  },
  "HTTP 503": (_req, res) => {
    res.writeHead(503, { "content-type": "text/html" }).end("<h1>Service Unavailable</h1>");
    return true;
  },
  "slow past the timeout": async (_req, res) => {
    // Answer only after the client has given up (or 20 s, whichever is first).
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 20_000);
      res.on("close", () => {
        clearTimeout(timer);
        resolve();
      });
    });
    if (!res.destroyed) res.writeHead(200, { "content-type": "application/json" }).end('{"keys":[]}');
    return true;
  },
  "garbage (HTML with 200)": (_req, res) => {
    res.writeHead(200, { "content-type": "text/html" }).end("<html>maintenance</html>");
    return true;
  },
  "garbage (empty key set)": (_req, res) => {
    res.writeHead(200, { "content-type": "application/json" }).end('{"keys":[]}');
    return true;
  },
};

/**
 * The request timeout of the slow-provider cases, which are meant to time
 * out: 1500 ms, or `KEY_STORE_SLOW_TIMEOUT_MS`. The mutation run
 * (`vitest.mutation.config.ts`) sets 500: these cases run again for every
 * mutant of the key store, and each waits out several timeouts.
 */
const SLOW_TIMEOUT_MS = Number(process.env.KEY_STORE_SLOW_TIMEOUT_MS ?? 1500);

/** The request timeout for a fault: short only where the fault is slowness. */
const timeoutFor = (fault: string) => (fault.startsWith("slow") ? SLOW_TIMEOUT_MS : 5000);

interface Rig {
  issuer: LocalIssuer;
  store: RemoteKeyStore;
  auth: Authenticator;
  clock: { t: number };
  logs: string[];
  /** The fault in force (`undefined`: the provider answers normally). */
  fault: Fault | undefined;
  sign(claims?: Record<string, unknown>, key?: SigningKey): Promise<string>;
  request(token: string): Request;
  outcome(token: string): Promise<{ status: number; retryAfter?: string | undefined; tenant?: string }>;
  jwksHits(): number;
}

const rigs: Rig[] = [];
afterEach(async () => {
  await Promise.all(rigs.splice(0).map((rig) => rig.issuer.close()));
});

async function rig(options: Partial<RemoteKeyStoreOptions> = {}, initialFault?: Fault): Promise<Rig> {
  const state: { fault: Fault | undefined } = { fault: initialFault };
  const issuer = await startLocalIssuer({ intercept: (req, res) => (state.fault ? state.fault(req, res) : false) });
  const clock = { t: Date.now() };
  const logs: string[] = [];
  const store = createRemoteKeyStore({
    issuer: issuer.issuer,
    now: () => clock.t,
    log: (line) => logs.push(line),
    // Generous: other test files load the machine; only the slow-provider
    // cases pass a shorter timeout, and those are meant to time out.
    timeoutMs: 5000,
    ...options,
  });
  const auth = createAuthenticator({ config: readConfig(issuer.env()), keyStore: store, now: () => clock.t });
  const r: Rig = {
    issuer,
    store,
    auth,
    clock,
    logs,
    get fault() {
      return state.fault;
    },
    set fault(f) {
      state.fault = f;
    },
    sign: (claims = {}, key) => {
      const s = Math.floor(clock.t / 1000);
      return issuer.sign({ sub: "alice", org_id: "acme", iat: s, exp: s + 7 * 24 * 3600, ...claims }, key ? { key } : {});
    },
    request: (token) => new Request("http://127.0.0.1/threads", { headers: { authorization: `Bearer ${token}` } }),
    async outcome(token) {
      try {
        const principal = await auth.authenticateRequest(r.request(token));
        return { status: 200, tenant: principal.tenant_id };
      } catch (error) {
        expect(error).toBeInstanceOf(AuthError);
        const e = error as AuthError;
        return { status: e.status, retryAfter: e.headers["Retry-After"] };
      }
    },
    jwksHits: () => issuer.hits.get(JWKS) ?? 0,
  };
  rigs.push(r);
  return r;
}

/** A token with a known kid (the first key's) and a broken signature: must fail whatever the provider does. */
async function forged(r: Rig): Promise<string> {
  const [h, , s] = (await r.sign({}, r.issuer.keys.at(-1))).split(".");
  const payload = Buffer.from(JSON.stringify({ sub: "mallory", org_id: "acme", iss: r.issuer.issuer, aud: r.issuer.audience, exp: 9e9 })).toString("base64url");
  return `${h}.${payload}.${s}`;
}

async function settled(predicate: () => boolean): Promise<void> {
  await waitFor(predicate, "the key store to settle", { intervalMs: 10 });
}

describe("remote key store: a healthy provider", () => {
  it("makes one fetch for many concurrent first requests (single flight)", async () => {
    const r = await rig();
    const token = await r.sign();
    const outcomes = await Promise.all(Array.from({ length: 50 }, () => r.outcome(token)));
    expect(outcomes.every((o) => o.status === 200)).toBe(true);
    expect(r.issuer.hits.get(DISCOVERY)).toBe(1);
    expect(r.jwksHits()).toBe(1);
    expect(r.store.stats()).toMatchObject({ fetches: 1, fetchFailures: 0 });
  });

  it("picks up a rotated key on its first token, with one fetch, and drops a removed one", async () => {
    const r = await rig({ cooldownMs: 30_000 });
    const changes: KeySetChange[] = [];
    r.store.onKeySetChange((change) => changes.push(change));
    const oldKey = r.issuer.keys[0]!;
    expect((await r.outcome(await r.sign())).status).toBe(200);
    expect(r.store.hasKid(oldKey.kid)).toBe(true);

    r.clock.t += 31_000; // past the cooldown of the first fetch
    const newKey = await r.issuer.rotate({ dropOld: true });
    const before = r.jwksHits();
    expect((await r.outcome(await r.sign({}, newKey))).status).toBe(200);
    expect(r.jwksHits()).toBe(before + 1);
    expect(r.store.hasKid(newKey.kid)).toBe(true);
    expect(r.store.hasKid(oldKey.kid)).toBe(false);
    expect(changes.at(-1)).toEqual({ added: [newKey.kid], removed: [oldKey.kid] });

    // The removed key no longer verifies anything, and asking costs no fetch (cooldown).
    expect((await r.outcome(await r.sign({}, oldKey))).status).toBe(401);
    expect(r.jwksHits()).toBe(before + 1);
    expect((await r.outcome(await forged(r))).status).toBe(401);
  });

  it("answers a flood of random kids with at most one fetch per cooldown (negative cache)", async () => {
    const r = await rig({ cooldownMs: 30_000 });
    const valid = await r.sign();
    expect((await r.outcome(valid)).status).toBe(200);
    const stranger = await generateSigningKey("RS256");
    const floodToken = async (i: number) => r.sign({}, { ...stranger, kid: `random-${i}-${Math.random()}` });

    for (let round = 1; round <= 3; round++) {
      r.clock.t += 31_000;
      const before = r.jwksHits();
      const tokens = await Promise.all(Array.from({ length: 100 }, (_, i) => floodToken(i)));
      const concurrent = await Promise.all(tokens.slice(0, 50).map((t) => r.outcome(t)));
      const sequential = [];
      for (const t of tokens.slice(50)) sequential.push(await r.outcome(t));
      expect([...concurrent, ...sequential].every((o) => o.status === 401)).toBe(true);
      expect(r.jwksHits()).toBe(before + 1);
      expect((await r.outcome(valid)).status).toBe(200);
    }
    expect(r.store.stats().unknownKidSuppressed).toBeGreaterThanOrEqual(3 * 50);
  });

  it("never puts a refresh on a request's path once the set has expired (stale-while-revalidate)", async () => {
    let release: () => void = () => undefined;
    const hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    const r = await rig({ cacheMaxAgeMs: 10 * MINUTE, timeoutMs: 60_000 });
    expect((await r.outcome(await r.sign())).status).toBe(200);

    // The provider now answers key set requests only when the test lets it.
    r.fault = async (req) => {
      if (!req.url?.startsWith(JWKS)) return false;
      await hold;
      return false;
    };
    const rotated = await r.issuer.rotate();
    r.clock.t += 11 * MINUTE;
    const token = await r.sign({}, r.issuer.keys[1]);
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => r.outcome(token)));
    expect(outcomes.every((o) => o.status === 200)).toBe(true);
    await settled(() => r.jwksHits() === 2); // the background refresh is under way, held
    expect(r.store.hasKid(rotated.kid)).toBe(false);
    expect((await r.outcome(await forged(r))).status).toBe(401);

    release();
    await settled(() => r.store.hasKid(rotated.kid));
    expect((await r.outcome(await r.sign({}, rotated))).status).toBe(200);
    expect(r.jwksHits()).toBe(2);
  });
});

describe("remote key store: keyFor, jose's choice remembered", () => {
  const headerOf = (token: string) => JSON.parse(Buffer.from(token.split(".")[0]!, "base64url").toString()) as { alg: string; kid: string };

  it("answers a header only after jose chose its key, with the key jose chose", async () => {
    const r = await rig();
    const token = await r.sign();
    const header = headerOf(token);
    expect(r.store.keyFor(header)).toBeUndefined();
    expect((await r.outcome(token)).status).toBe(200);
    const remembered = r.store.keyFor(header);
    expect(remembered).toBeInstanceOf(CryptoKey);
    expect(await r.store.getKey(header, { payload: "", signature: "" })).toBe(remembered);
    // Another kid, another algorithm, no kid at all: not looked up, not answered.
    expect(r.store.keyFor({ ...header, kid: "other" })).toBeUndefined();
    expect(r.store.keyFor({ ...header, alg: "RS384" })).toBeUndefined();
    expect(r.store.keyFor({ alg: header.alg })).toBeUndefined();
    expect(r.store.keyFor({ alg: header.alg, kid: 7 })).toBeUndefined();
  });

  it("still refuses a forged signature when the key comes from keyFor", async () => {
    const r = await rig();
    expect((await r.outcome(await r.sign())).status).toBe(200);
    const fake = await forged(r);
    expect(r.store.keyFor(headerOf(fake))).toBeDefined();
    expect((await r.outcome(fake)).status).toBe(401);
    const fetches = r.store.stats().fetches;
    expect((await r.outcome(await r.sign({ org_id: "globex" }))).tenant).toBe("globex");
    expect(r.store.stats().fetches).toBe(fetches);
  });

  it("answers nothing from a stale set, and forgets its choices when the set is replaced", async () => {
    const r = await rig({ cacheMaxAgeMs: 10 * MINUTE, cooldownMs: 30_000 });
    const token = await r.sign();
    const header = headerOf(token);
    expect((await r.outcome(token)).status).toBe(200);
    expect(r.store.keyFor(header)).toBeDefined();
    r.clock.t += 11 * MINUTE;
    expect(r.store.keyFor(header)).toBeUndefined();

    await r.issuer.rotate({ dropOld: true });
    await r.store.refresh();
    expect(r.store.hasKid(header.kid)).toBe(false);
    expect(r.store.keyFor(header)).toBeUndefined();
    expect((await r.outcome(token)).status).toBe(401);
  });
});

describe("remote key store: stale-if-error", () => {
  it.each(Object.keys(FAULTS))("keeps verifying with the last good keys when the provider is %s", async (name) => {
    const r = await rig({ cacheMaxAgeMs: 10 * MINUTE, cooldownMs: 30_000, staleIfErrorMs: 24 * HOUR, timeoutMs: timeoutFor(name) });
    const start = r.clock.t;
    const valid = await r.sign();
    expect((await r.outcome(valid)).status).toBe(200);

    r.fault = FAULTS[name];
    r.clock.t += 11 * MINUTE;
    expect((await r.outcome(valid)).status).toBe(200); // answered at once; the refresh fails behind it
    await settled(() => r.store.stats().fetchFailures === 1);
    expect(r.logs.some((line) => line.includes("stale-if-error") && line.includes(r.issuer.issuer))).toBe(true);
    expect(r.logs.join("\n")).not.toContain(valid.split(".")[1]);

    // Hours later, still down: valid tokens work, bad ones fail, the counter counts.
    for (const hours of [1, 6, 23]) {
      r.clock.t = start + hours * HOUR;
      const fresh = await r.sign();
      expect((await r.outcome(fresh)).status).toBe(200);
      expect((await r.outcome(await forged(r))).status).toBe(401);
      expect((await r.outcome(`${fresh.slice(0, -4)}AAAA`)).status).toBe(401);
    }
    await settled(() => r.store.stats().fetchFailures >= 2);
    expect(r.store.stats().staleIfErrorServed).toBeGreaterThanOrEqual(3);

    // Past the limit the keys are too old to trust: 503, not 401 (the token may be fine).
    r.clock.t = start + 25 * HOUR;
    const late = await r.outcome(await r.sign());
    expect(late.status).toBe(503);
    expect(Number(late.retryAfter)).toBeGreaterThanOrEqual(1);

    // The provider comes back: after the cooldown, verification resumes by itself.
    r.fault = undefined;
    r.clock.t += 31_000;
    expect((await r.outcome(await r.sign())).status).toBe(200);
    expect(r.logs.at(-1)).toContain("reachable again");
  });
});

describe("remote key store: no keys ever fetched", () => {
  it.each(Object.keys(FAULTS))("answers 503 with Retry-After when the provider is %s, then recovers", async (name) => {
    const r = await rig({ cooldownMs: 30_000, timeoutMs: timeoutFor(name) }, FAULTS[name]);
    const valid = await r.sign();
    const first = await r.outcome(valid);
    expect(first).toMatchObject({ status: 503 });
    expect(Number(first.retryAfter)).toBeGreaterThanOrEqual(1);
    const hits = (r.issuer.hits.get(DISCOVERY) ?? 0) + r.jwksHits();

    // Within the cooldown: 503 again without hammering the provider.
    r.clock.t += 5_000;
    const again = await r.outcome(valid);
    expect(again.status).toBe(503);
    expect(Number(again.retryAfter)).toBeLessThanOrEqual(25);
    expect((r.issuer.hits.get(DISCOVERY) ?? 0) + r.jwksHits()).toBe(hits);

    // A token refused on its face is still a 401, keys or no keys.
    const unsigned = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${valid.split(".")[1]}.`;
    expect((await r.outcome(unsigned)).status).toBe(401);

    r.fault = undefined;
    r.clock.t += 30_000;
    expect((await r.outcome(valid)).status).toBe(200);
    expect((await r.outcome(await forged(r))).status).toBe(401);
  });
});

describe("remote key store: fetch hygiene", () => {
  const answer = (status: number, body: string, headers: Record<string, string> = {}): Fault => (req, res) => {
    if (!req.url?.startsWith(JWKS)) return false;
    res.writeHead(status, { "content-type": "application/json", ...headers }).end(body);
    return true;
  };

  it("does not follow a redirect of the key set", async () => {
    const r = await rig({}, (req, res) => {
      if (req.url === JWKS) {
        res.writeHead(302, { location: `${JWKS}?moved=1` }).end();
        return true;
      }
      return false;
    });
    expect((await r.outcome(await r.sign())).status).toBe(503);
    expect(r.issuer.hits.get(JWKS)).toBe(1); // the redirect target was never requested
    expect(r.logs.join("\n")).toContain("HTTP 302 (redirects are not followed)");
  });

  it("refuses a key set over the size cap", async () => {
    const r = await rig({ maxResponseBytes: 16 * 1024 });
    const keys = { keys: [r.issuer.keys[0]!.publicJwk], padding: "x".repeat(20_000) };
    r.fault = answer(200, JSON.stringify(keys));
    expect((await r.outcome(await r.sign())).status).toBe(503);
    expect(r.logs.join("\n")).toContain("larger than 16384 bytes");
  });

  it("refuses a key set with more keys than the cap", async () => {
    const r = await rig({ maxKeys: 10 });
    const jwk = r.issuer.keys[0]!.publicJwk;
    r.fault = answer(200, JSON.stringify({ keys: Array.from({ length: 11 }, (_, i) => ({ ...jwk, kid: i === 0 ? jwk.kid : `k${i}` })) }));
    expect((await r.outcome(await r.sign())).status).toBe(503);
    expect(r.logs.join("\n")).toContain("more than the cap of 10");
  });

  it("refuses a key set that publishes private key material", async () => {
    const r = await rig();
    r.fault = answer(200, JSON.stringify({ keys: [{ ...r.issuer.keys[0]!.publicJwk, d: "AAAA" }] }));
    expect((await r.outcome(await r.sign())).status).toBe(503);
    expect(r.logs.join("\n")).toContain("private or symmetric key material");
  });

  it("refuses a discovery document whose issuer is not the configured one", async () => {
    const r = await rig({}, (req, res) => {
      if (req.url !== DISCOVERY) return false;
      const other = "http://127.0.0.1:1";
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ issuer: other, jwks_uri: `${other}${JWKS}` }));
      return true;
    });
    expect((await r.outcome(await r.sign())).status).toBe(503);
    expect(r.jwksHits()).toBe(0);
    expect(r.logs.join("\n")).toContain('"issuer" does not equal the configured issuer');
  });

  it("refuses a discovered key set URL that is plain http off loopback", async () => {
    const r = await rig({}, (req, res) => {
      if (req.url !== DISCOVERY) return false;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ issuer: r.issuer.issuer, jwks_uri: "http://keys.example.com/jwks.json" }));
      return true;
    });
    expect((await r.outcome(await r.sign())).status).toBe(503);
    expect(r.logs.join("\n")).toContain('"jwks_uri" is missing or not https');
  });

  it("refuses plain http off loopback and bad durations at construction", () => {
    expect(() => createRemoteKeyStore({ issuer: "http://idp.example.com" })).toThrow(TypeError);
    expect(() => createRemoteKeyStore({ issuer: "https://idp.example.com", jwksUrl: "http://idp.example.com/jwks" })).toThrow(/"jwksUrl"/);
    expect(() => createRemoteKeyStore({ issuer: "https://idp.example.com", cooldownMs: -1 })).toThrow(/"cooldownMs"/);
    expect(() => createRemoteKeyStore({ issuer: "https://idp.example.com", staleIfErrorMs: Number.NaN })).toThrow(/"staleIfErrorMs"/);
  });
});

describe("remote key store: exact answers", () => {
  it("names each bad option at construction, with its value", () => {
    for (const issuer of [7, "not a url", undefined]) {
      expect(() => createRemoteKeyStore({ issuer } as never), String(issuer)).toThrow(new TypeError('createRemoteKeyStore: "issuer" must be an absolute URL'));
    }
    expect(() => createRemoteKeyStore({ issuer: "http://idp.example.com" })).toThrow(
      new TypeError('createRemoteKeyStore: "issuer" must be https (http only on a loopback host) for discovery'),
    );
    for (const jwksUrl of ["http://idp.example.com/jwks", "/jwks", "ftp://127.0.0.1/jwks"]) {
      expect(() => createRemoteKeyStore({ issuer: "https://idp.example.com", jwksUrl }), jwksUrl).toThrow(
        new TypeError('createRemoteKeyStore: "jwksUrl" must be an https URL (http only on a loopback host)'),
      );
    }
    // An http issuer is fine when the key set URL is given and secure (no discovery), and on loopback.
    expect(() => createRemoteKeyStore({ issuer: "http://idp.example.com", jwksUrl: "https://idp.example.com/jwks" })).not.toThrow();
    expect(() => createRemoteKeyStore({ issuer: "http://127.0.0.1:9400" })).not.toThrow();
    for (const name of ["timeoutMs", "cacheMaxAgeMs", "cooldownMs", "staleIfErrorMs", "maxResponseBytes", "maxKeys"]) {
      for (const value of [0, -1, Number.POSITIVE_INFINITY, Number.NaN, "5"]) {
        expect(() => createRemoteKeyStore({ issuer: "https://idp.example.com", [name]: value }), `${name} ${String(value)}`).toThrow(
          new TypeError(`createRemoteKeyStore: "${name}" must be a positive finite number (got ${String(value)})`),
        );
      }
      expect(() => createRemoteKeyStore({ issuer: "https://idp.example.com", [name]: 0.5 }), name).not.toThrow();
    }
  });

  it("counts each fetch and the age of the set, and reports the first set as added", async () => {
    const r = await rig();
    const changes: KeySetChange[] = [];
    const stop = r.store.onKeySetChange((change) => changes.push(change));
    expect(r.store.stats()).toEqual({ fetches: 0, fetchSuccesses: 0, fetchFailures: 0, staleIfErrorServed: 0, unknownKidSuppressed: 0, unavailable: 0, keySetAgeMs: null });
    expect(r.store.hasKid(r.issuer.keys[0]!.kid)).toBe(false);
    await expect(r.store.refresh()).resolves.toBeUndefined();
    r.clock.t += 1234;
    expect(r.store.stats()).toEqual({ fetches: 1, fetchSuccesses: 1, fetchFailures: 0, staleIfErrorServed: 0, unknownKidSuppressed: 0, unavailable: 0, keySetAgeMs: 1234 });
    expect(changes).toEqual([{ added: r.issuer.keys.map((k) => k.kid), removed: [] }]);
    // The same kids again: no change to report; after unsubscribing, nothing either.
    await r.store.refresh();
    expect(changes).toHaveLength(1);
    expect(stop()).toBe(true);
    await r.issuer.rotate();
    await r.store.refresh();
    expect(changes).toHaveLength(1);
    expect(r.store.stats()).toMatchObject({ fetches: 3, fetchSuccesses: 3, keySetAgeMs: 0 });
    // A clock that went back reads as age 0, never negative.
    r.clock.t -= 5000;
    expect(r.store.stats().keySetAgeMs).toBe(0);
  });

  it("logs a listener that throws, and still tells the others", async () => {
    const r = await rig();
    const told: KeySetChange[] = [];
    r.store.onKeySetChange(() => {
      throw new Error("listener broke");
    });
    r.store.onKeySetChange((change) => told.push(change));
    await r.store.refresh();
    expect(told).toHaveLength(1);
    expect(r.logs).toEqual(["langgraph-tenant-auth: a key set listener threw: listener broke"]);
  });

  it("says in its log whether it still verifies with old keys (and how old, against the limit) or answers 503", async () => {
    const r = await rig({ cooldownMs: 30_000, cacheMaxAgeMs: 60_000, staleIfErrorMs: 3_600_000 }, FAULTS["HTTP 503"]);
    await expect(r.store.refresh()).rejects.toThrow(/answered HTTP 503/);
    expect(r.logs).toEqual([
      `langgraph-tenant-auth: key set fetch for ${r.issuer.issuer} failed (GET ${r.issuer.issuer}/.well-known/openid-configuration answered HTTP 503); no usable keys, answering 503`,
    ]);
    expect(r.store.stats()).toMatchObject({ fetches: 1, fetchFailures: 1, fetchSuccesses: 0 });
    r.fault = undefined;
    await r.store.refresh();
    expect(r.logs.at(-1)).toBe(`langgraph-tenant-auth: the key set of ${r.issuer.issuer} is reachable again`);
    r.fault = FAULTS["HTTP 503"];
    r.clock.t += 90_500;
    await expect(r.store.refresh()).rejects.toThrow(/answered HTTP 503/);
    expect(r.logs.at(-1)).toBe(
      `langgraph-tenant-auth: key set refresh for ${r.issuer.issuer} failed (GET ${r.issuer.issuer}/.well-known/jwks.json answered HTTP 503); ` +
        "stale-if-error: verifying with keys fetched 91 s ago (limit 3600 s)",
    );
  });

  it("Retry-After: the rest of the cooldown since the last attempt, at least 1 s", async () => {
    const r = await rig({ cooldownMs: 30_000 }, FAULTS["HTTP 503"]);
    const valid = await r.sign();
    expect(await r.outcome(valid)).toMatchObject({ status: 503, retryAfter: "30" });
    r.clock.t += 10_000;
    expect(await r.outcome(valid)).toMatchObject({ status: 503, retryAfter: "20" });
    r.clock.t += 19_500;
    expect(await r.outcome(valid)).toMatchObject({ status: 503, retryAfter: "1" });
    expect(r.store.stats()).toMatchObject({ fetches: 1, unavailable: 3 });
    // The cooldown over: one new attempt, then a new cooldown.
    r.clock.t += 500;
    expect(await r.outcome(valid)).toMatchObject({ status: 503, retryAfter: "30" });
    expect(r.store.stats()).toMatchObject({ fetches: 2, unavailable: 4 });
  });
});

/**
 * The store's bounds to the millisecond and its negative cache kid by kid,
 * through `getKey` (what jose calls) and `refresh`, with the fake clock.
 */
describe("remote key store: bounds and the negative cache, exactly", () => {
  const noToken = { payload: "", signature: "" } as never;
  const lookup = async (r: Rig, kid: string, alg = "RS256") => r.store.getKey({ alg, kid }, noToken);
  /** Hold key set answers until the returned function is called. */
  const holdKeySet = (r: Rig) => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    r.fault = async (req) => {
      if (req.url?.startsWith(JWKS)) await held;
      return false;
    };
    return () => {
      r.fault = undefined;
      release();
    };
  };
  const headerOf = (token: string) => JSON.parse(Buffer.from(token.split(".")[0]!, "base64url").toString()) as { alg: string; kid: string };
  /** A token never sent before (the authenticator's token cache would answer a repeated one without the key store). */
  let sent = 0;
  const unseen = (r: Rig) => r.sign({ jti: `unseen-${(sent += 1)}` });

  it("refuses an issuer that is not a string, even one that reads as a URL", () => {
    for (const issuer of [new URL("https://idp.example.com"), ["https://idp.example.com"]]) {
      expect(() => createRemoteKeyStore({ issuer } as never), String(issuer)).toThrow(new TypeError('createRemoteKeyStore: "issuer" must be an absolute URL'));
    }
  });

  it("defaults: a set is fresh for 10 minutes (keyFor answers to the millisecond), and the log goes to console.warn", async () => {
    const r = await rig();
    const token = await r.sign();
    expect((await r.outcome(token)).status).toBe(200);
    const start = r.clock.t;
    r.clock.t = start + 10 * MINUTE;
    expect(r.store.keyFor(headerOf(token))).toBeInstanceOf(CryptoKey);
    r.clock.t = start + 10 * MINUTE + 1;
    expect(r.store.keyFor(headerOf(token))).toBeUndefined();

    const warned = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    try {
      const quiet = createRemoteKeyStore({ issuer: r.issuer.issuer, now: () => r.clock.t, timeoutMs: 5000 });
      r.fault = FAULTS["HTTP 503"];
      await expect(quiet.refresh()).rejects.toThrow(/answered HTTP 503/);
      expect(warned.mock.calls).toEqual([
        [`langgraph-tenant-auth: key set fetch for ${r.issuer.issuer} failed (GET ${r.issuer.issuer}/.well-known/openid-configuration answered HTTP 503); no usable keys, answering 503`],
      ]);
    } finally {
      warned.mockRestore();
    }
  });

  it("makes one fetch for refresh() called again while one is under way", async () => {
    const r = await rig();
    await Promise.all([r.store.refresh(), r.store.refresh(), r.store.refresh()]);
    expect(r.jwksHits()).toBe(1);
    expect(r.issuer.hits.get(DISCOVERY)).toBe(1);
    expect(r.store.stats()).toMatchObject({ fetches: 1, fetchSuccesses: 1 });
  });

  it("reports a change that only adds kids, and one that only removes them", async () => {
    const r = await rig();
    const changes: KeySetChange[] = [];
    r.store.onKeySetChange((change) => changes.push(change));
    await r.store.refresh();
    const old = r.issuer.keys[0]!;
    const added = await r.issuer.rotate();
    await r.store.refresh();
    r.issuer.keys.splice(1); // the old key is no longer published
    await r.store.refresh();
    expect(changes).toEqual([
      { added: [old.kid], removed: [] },
      { added: [added.kid], removed: [] },
      { added: [], removed: [old.kid] },
    ]);
  });

  it("keeps the old keys up to exactly staleIfErrorMs, and its log says which side of the limit it is on", async () => {
    const r = await rig({ cooldownMs: 30_000, cacheMaxAgeMs: 60_000, staleIfErrorMs: HOUR });
    const iss = r.issuer.issuer;
    const t0 = r.clock.t;
    expect((await r.outcome(await r.sign())).status).toBe(200);
    r.fault = FAULTS["HTTP 503"];
    r.clock.t = t0 + HOUR;
    expect((await r.outcome(await unseen(r))).status).toBe(200);
    await settled(() => r.store.stats().fetchFailures === 1);
    expect(r.logs.at(-1)).toBe(
      `langgraph-tenant-auth: key set refresh for ${iss} failed (GET ${iss}/.well-known/jwks.json answered HTTP 503); stale-if-error: verifying with keys fetched 3600 s ago (limit 3600 s)`,
    );
    r.clock.t = t0 + HOUR + 1;
    expect((await r.outcome(await unseen(r))).status).toBe(503);
    await expect(r.store.refresh()).rejects.toThrow(/answered HTTP 503/);
    expect(r.logs.at(-1)).toBe(`langgraph-tenant-auth: key set fetch for ${iss} failed (GET ${iss}/.well-known/jwks.json answered HTTP 503); no usable keys, answering 503`);
  });

  it("a 503 carries its cause: the failed fetch (for every request that waited on it), then the cooldown", async () => {
    const r = await rig({ cooldownMs: 30_000 }, FAULTS["HTTP 503"]);
    const url = `${r.issuer.issuer}/.well-known/openid-configuration`;
    const first = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => lookup(r, `k${i}`)));
    expect(r.store.stats()).toMatchObject({ fetches: 1, unavailable: 5 });
    for (const outcome of first) {
      expect(outcome.status).toBe("rejected");
      const error = (outcome as PromiseRejectedResult).reason as KeysUnavailableError;
      expect(error).toBeInstanceOf(KeysUnavailableError);
      expect((error.cause as Error).message).toBe(`GET ${url} answered HTTP 503`);
    }
    r.clock.t += 1000;
    const again = await lookup(r, "k").then(() => undefined, (error: unknown) => error as KeysUnavailableError);
    expect(again).toBeInstanceOf(KeysUnavailableError);
    expect((again!.cause as Error).message).toBe("the last key set fetch failed; waiting for the cooldown");
    expect(r.store.stats().fetches).toBe(1);
  });

  it("after a failure, requests that arrive while the next fetch is under way wait for it", async () => {
    const r = await rig({ cooldownMs: 30_000 }, FAULTS["HTTP 503"]);
    expect((await r.outcome(await unseen(r))).status).toBe(503);
    r.fault = undefined;
    r.clock.t += 30_000;
    const tokens = await Promise.all(Array.from({ length: 10 }, () => unseen(r)));
    const outcomes = await Promise.all(tokens.map((token) => r.outcome(token)));
    expect(outcomes.map((o) => o.status)).toEqual(Array.from({ length: 10 }, () => 200));
    expect(r.store.stats()).toMatchObject({ fetches: 2, fetchSuccesses: 1, fetchFailures: 1 });
  });

  it("with a stale-if-error limit shorter than the cooldown, keys past it are fetched again on the request's path", async () => {
    const r = await rig({ cooldownMs: 30_000, cacheMaxAgeMs: 5_000, staleIfErrorMs: 10_000 });
    expect((await r.outcome(await unseen(r))).status).toBe(200);
    r.clock.t += 11_000;
    expect((await r.outcome(await unseen(r))).status).toBe(200);
    expect(r.jwksHits()).toBe(2);
  });

  it("never fetches a fresh set again; refreshes a stale one behind the request at most once per min(cooldown, max age), failing or not", async () => {
    const r = await rig({ cooldownMs: 30_000, cacheMaxAgeMs: 10 * MINUTE });
    const t0 = r.clock.t;
    expect((await r.outcome(await unseen(r))).status).toBe(200);
    for (const age of [5 * MINUTE, 10 * MINUTE]) {
      r.clock.t = t0 + age;
      expect((await r.outcome(await unseen(r))).status).toBe(200);
      // Through getKey too (the request above took the key jose chose before, from keyFor).
      await expect(lookup(r, r.issuer.keys[0]!.kid)).resolves.toBeInstanceOf(CryptoKey);
      expect(r.store.stats().fetches, `age ${age}`).toBe(1);
    }
    // One millisecond past the maximum age: one refresh behind the request; the provider is fine, so nothing is served "stale-if-error".
    const t1 = t0 + 10 * MINUTE + 1;
    r.clock.t = t1;
    expect((await r.outcome(await unseen(r))).status).toBe(200);
    expect(r.store.stats().fetches).toBe(2);
    await settled(() => r.store.stats().fetchSuccesses === 2);
    expect(r.store.stats().staleIfErrorServed).toBe(0);

    // Stale again, the provider failing: one attempt, then none until 30 s (the cooldown, shorter than the age) after it.
    r.fault = FAULTS["HTTP 503"];
    const t2 = t1 + 10 * MINUTE + 1;
    r.clock.t = t2;
    expect((await r.outcome(await unseen(r))).status).toBe(200);
    await settled(() => r.store.stats().fetchFailures === 1);
    expect(r.store.stats()).toMatchObject({ fetches: 3, staleIfErrorServed: 0 });
    r.clock.t = t2 + 29_999;
    expect((await r.outcome(await unseen(r))).status).toBe(200);
    expect(r.store.stats()).toMatchObject({ fetches: 3, staleIfErrorServed: 1 });
    r.clock.t = t2 + 30_000;
    expect((await r.outcome(await unseen(r))).status).toBe(200);
    expect(r.store.stats()).toMatchObject({ fetches: 4, staleIfErrorServed: 2 });
    await settled(() => r.store.stats().fetchFailures === 2);
  });

  it("answers an unknown kid without a fetch for a cooldown after it was last asked for, kid by kid, to the millisecond", async () => {
    const r = await rig({ cooldownMs: 30_000 });
    const t0 = r.clock.t;
    await r.store.refresh();
    const fetches = () => r.store.stats().fetches;
    /** Ask for an unknown kid `ms` after the first fetch: it is not in the set. */
    const unknownAt = async (ms: number, kid: string) => {
      r.clock.t = t0 + ms;
      await expect(lookup(r, kid)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    };
    // Within the cooldown of the last fetch: no fetch, and the kid is remembered (at 29 s).
    await unknownAt(29_000, "x");
    // The fetch's cooldown is over, but x was asked for 2 s ago: still no fetch (remembered again, at 31 s).
    await unknownAt(31_000, "x");
    expect(fetches()).toBe(1);
    expect(r.store.stats().unknownKidSuppressed).toBe(2);
    // Exactly a cooldown after the last ask for x: x costs a fetch again (a successful fetch then forgets every
    // remembered kid, and remembers x, still unknown, from now).
    await unknownAt(61_000, "x");
    expect(fetches()).toBe(2);
    // Kid by kid: z, asked for within that fetch's cooldown, is remembered; y, never asked for, costs a fetch once the cooldown is over.
    await unknownAt(89_000, "z");
    await unknownAt(91_000, "y");
    expect(fetches()).toBe(3);
    expect(r.store.stats().unknownKidSuppressed).toBe(3);
  });

  it("remembers at most 1024 unknown kids, forgetting the oldest first", async () => {
    const r = await rig({ cooldownMs: 30_000 });
    const t0 = r.clock.t;
    await r.store.refresh();
    r.clock.t = t0 + 29_000;
    for (let i = 0; i <= 1024; i++) await expect(lookup(r, `flood-${i}`)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(r.store.stats()).toMatchObject({ fetches: 1, unknownKidSuppressed: 1025 });
    r.clock.t = t0 + 31_000;
    // The second still remembered (no fetch); the first forgotten (a fetch).
    await expect(lookup(r, "flood-1")).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(r.store.stats().fetches).toBe(1);
    await expect(lookup(r, "flood-0")).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(r.store.stats().fetches).toBe(2);
  });

  it("an unknown kid waits for a fetch under way: it gets a key that fetch brings, is remembered as missing from when it asked, and keeps its error when the fetch fails", async () => {
    const r = await rig({ cooldownMs: 30_000 });
    const t0 = r.clock.t;
    await r.store.refresh();
    const rotated = await r.issuer.rotate();
    const release = holdKeySet(r);
    r.clock.t = t0 + 31_000;
    const refreshing = r.store.refresh();
    await settled(() => r.jwksHits() === 2); // the fetch is under way, held
    r.clock.t = t0 + 51_000;
    const found = lookup(r, rotated.kid);
    const missing = lookup(r, "never");
    release();
    await refreshing;
    await expect(found).resolves.toBeInstanceOf(CryptoKey);
    await expect(missing).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(r.store.stats().fetches).toBe(2);
    // 30 s after the fetch, 10 s after "never" was asked for: no fetch for it.
    r.clock.t = t0 + 61_000;
    await expect(lookup(r, "never")).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(r.store.stats().fetches).toBe(2);

    // The provider fails: a kid that waited on the failed fetch, or started one, keeps jose's "no matching key".
    r.fault = FAULTS["HTTP 503"];
    r.clock.t = t0 + 100_000;
    const failing = r.store.refresh().catch((error: unknown) => error);
    await expect(lookup(r, "waited")).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(await failing).toBeInstanceOf(Error);
    r.clock.t = t0 + 200_000;
    await expect(lookup(r, "started")).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(r.store.stats()).toMatchObject({ fetches: 4, fetchFailures: 2 });
  });

  it("an error other than an unknown kid costs no fetch and is not counted as one", async () => {
    const r = await rig({ cooldownMs: 30_000 });
    await r.store.refresh();
    r.clock.t += 31_000;
    await expect(lookup(r, r.issuer.keys[0]!.kid, "HS256")).rejects.toBeInstanceOf(errors.JOSENotSupported);
    expect(r.store.stats()).toMatchObject({ fetches: 1, unknownKidSuppressed: 0 });
  });
});
