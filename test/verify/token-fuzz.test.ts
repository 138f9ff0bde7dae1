/**
 * Property-based checks of the bearer-token path with fast-check: mutated
 * valid tokens, arbitrary headers and payloads signed with the real key, and
 * arbitrary Authorization values. Whatever comes in, the answer is either
 * the principal of an untouched (or legitimately well-formed) token or an
 * `AuthError` with status 400 or 401 and an RFC 6750 challenge: never a
 * 500, never another kind of error, never an unhandled rejection.
 *
 * The signed-header and signed-claims properties compare the verdict with an
 * oracle written out here from the rules (not taken from the code), both
 * ways, at a fixed clock: a verifier that refuses a good token fails them as
 * surely as one that accepts a bad one, and each checks that good tokens
 * came up often enough for that to be tested.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalIssuer, type LocalIssuer, type SigningKey } from "../support/local-issuer.ts";
import { createAuthenticator, type Authenticator } from "../../src/authenticate/create-authenticator.ts";
import { readConfig } from "../../src/config/read-config.ts";
import { AuthError } from "../../src/errors.ts";
import type { Principal } from "../../src/tenant/principal.ts";
import { b64u, forge } from "../support/forge-token.ts";

/** Runs per property; four properties, so about a thousand cases in all. */
const RUNS = 250;
const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

let issuer: LocalIssuer;
let key: SigningKey;
let authenticator: Authenticator;
/**
 * The same authenticator without the verified-token cache: the untouched
 * token is in the cache from the warm-up, so through `authenticator` alone a
 * verifier that refuses everything would still see it accepted.
 */
let uncached: Authenticator;
let valid: string;
/**
 * The verifier's clock, fixed for the whole file: a claim's verdict then
 * depends on the claim alone, including at the edges of the tolerance.
 */
let NOW_SECONDS: number;
/** AUTH_CLOCK_TOLERANCE, set explicitly so the oracles below can use it. */
const TOLERANCE = 5;
/** The tenant id rule, written out here: the oracle must not ask the code under test. */
const TENANT_RULE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

type Outcome = { accepted: true; principal: Principal } | { accepted: false; error: AuthError };

/** Run one request; fail the property if anything but a 400/401 AuthError escapes. */
async function attempt(request: Request, through: Authenticator = authenticator): Promise<Outcome> {
  try {
    return { accepted: true, principal: await through.authenticateRequest(request) };
  } catch (error) {
    if (!(error instanceof AuthError)) throw new Error(`a non-AuthError escaped: ${String(error)}`);
    if (error.status !== 400 && error.status !== 401) throw new Error(`status ${error.status} escaped: ${error.message}`);
    const challenge = error.headers["WWW-Authenticate"] ?? "";
    if (!/^Bearer realm="langgraph"(, error="invalid_(request|token)", error_description="(?:[^"\\]|\\.)*")?$/.test(challenge)) {
      throw new Error(`bad challenge: ${challenge}`);
    }
    return { accepted: false, error };
  }
}

const bearer = (token: string) => new Request("http://127.0.0.1/threads", { headers: { authorization: `Bearer ${token}` } });

/** One edit of a token string. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant("replace" as const), at: fc.nat(), char: fc.constantFrom(...`${B64URL}.=+/ `.split("")) }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), text: fc.string({ unit: fc.constantFrom(...`${B64URL}.`.split("")), minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ kind: fc.constant("segment" as const), index: fc.integer({ min: 0, max: 2 }), value: fc.jsonValue({ maxDepth: 3 }) }),
  fc.record({ kind: fc.constant("swap" as const), a: fc.integer({ min: 0, max: 2 }), b: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(token: string, m: Mutation): string {
  const at = (n: number) => n % (token.length + 1);
  switch (m.kind) {
    case "replace":
      return token.slice(0, at(m.at)) + m.char + token.slice(at(m.at) + 1);
    case "insert":
      return token.slice(0, at(m.at)) + m.text + token.slice(at(m.at));
    case "delete":
      return token.slice(0, at(m.at)) + token.slice(at(m.at) + m.length);
    case "segment": {
      const parts = token.split(".");
      parts[m.index] = b64u(m.value);
      return parts.join(".");
    }
    case "swap": {
      const parts = token.split(".");
      [parts[m.a], parts[m.b]] = [parts[m.b]!, parts[m.a]!];
      return parts.join(".");
    }
    case "truncate":
      return token.slice(0, at(m.at));
  }
}

/**
 * What the package promises about a protected header signed with the
 * issuer's RS256 key (docs/token-verification.md, RFC 8725), written out
 * independently of the code: `alg` exactly RS256 (the key is published for
 * RS256 only); no key-bearing or extension parameters (`jwk`, `jku`, `x5u`,
 * `x5c`, `crit`, `b64`); `cty` a string if present, and no nested token
 * (`cty` JWT); `typ` a string if present; `kid` absent or the key's own. Any other parameter is ignored.
 */
function headerIsAcceptable(header: Record<string, unknown>): boolean {
  if (header.alg !== "RS256") return false;
  if (["jwk", "jku", "x5u", "x5c", "crit", "b64"].some((name) => Object.hasOwn(header, name))) return false;
  if (Object.hasOwn(header, "cty") && (typeof header.cty !== "string" || /^(application\/)?jwt$/i.test(header.cty))) return false;
  if (Object.hasOwn(header, "typ") && typeof header.typ !== "string") return false;
  return !Object.hasOwn(header, "kid") || header.kid === key.kid;
}

/**
 * The claims rules, written out (RFC 7519 §4.1 and this package's additions)
 * for a correctly signed token at the fixed clock: `iss` exactly the issuer,
 * `aud` naming the audience, `exp` a number later than now minus the
 * tolerance, `nbf` and `iat` numbers no later than now plus the tolerance,
 * `sub` a string of 1 to 255 characters, `org_id` a valid tenant id.
 */
function claimsAreAcceptable(payload: Record<string, unknown>): boolean {
  const earliest = NOW_SECONDS - TOLERANCE;
  const latest = NOW_SECONDS + TOLERANCE;
  const aud = payload.aud;
  return (
    payload.iss === issuer.issuer &&
    (aud === issuer.audience || (Array.isArray(aud) && aud.includes(issuer.audience))) &&
    typeof payload.exp === "number" && payload.exp > earliest &&
    (payload.nbf === undefined || (typeof payload.nbf === "number" && payload.nbf <= latest)) &&
    (payload.iat === undefined || (typeof payload.iat === "number" && payload.iat <= latest)) &&
    typeof payload.sub === "string" && payload.sub.length >= 1 && payload.sub.length <= 255 &&
    typeof payload.org_id === "string" && TENANT_RULE.test(payload.org_id)
  );
}

beforeAll(async () => {
  issuer = await startLocalIssuer();
  key = issuer.keys[0]!;
  NOW_SECONDS = Math.floor(Date.now() / 1000);
  authenticator = createAuthenticator({
    config: readConfig({ ...issuer.env(), AUTH_CLOCK_TOLERANCE: String(TOLERANCE) }),
    log: () => undefined,
    now: () => NOW_SECONDS * 1000,
  });
  uncached = createAuthenticator({
    config: readConfig({ ...issuer.env(), AUTH_CLOCK_TOLERANCE: String(TOLERANCE), AUTH_TOKEN_CACHE: "off" }),
    log: () => undefined,
    now: () => NOW_SECONDS * 1000,
  });
  valid = await issuer.sign({ sub: "alice", org_id: "acme" });
  // Warm the key sets so the properties exercise verification, not the first fetch.
  await authenticator.authenticateRequest(bearer(valid));
  await uncached.authenticateRequest(bearer(valid));
});

afterAll(async () => {
  await issuer.close();
});

describe("token fuzz", () => {
  it("accepts a mutated token only when the mutation left it unchanged", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
        const token = mutations.reduce(mutate, valid);
        // Through the cache (a cache key that forgave an edit would show here)
        // and past it (the verifier itself must take the untouched token).
        expect((await attempt(bearer(token))).accepted).toBe(token === valid);
        expect((await attempt(bearer(token), uncached)).accepted).toBe(token === valid);
      }),
      // Not left to chance: an edit that leaves the token untouched (a segment swapped with itself) is always among the cases.
      { numRuns: RUNS, examples: [[[{ kind: "swap", a: 0, b: 0 }]]] },
    );
  });

  it("refuses any header that breaks the rules, even with a valid signature", async () => {
    const headerParam = fc.oneof(
      fc.constantFrom("alg", "kid", "typ", "cty", "crit", "b64", "jwk", "jku", "x5u", "x5c", "x5t", "zip", "enc"),
      fc.string({ maxLength: 8 }),
    );
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(headerParam, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }),
        // RS256 (the key's algorithm) half the time, so good headers are common enough to be refused wrongly.
        fc.oneof(fc.constant("RS256"), fc.constantFrom("none", "None", "HS256", "RS512", "PS256", "ES256", "EdDSA", "")),
        fc.boolean(),
        async (extra, alg, keepKid) => {
          const header: Record<string, unknown> = { ...extra, alg, ...(keepKid ? { kid: key.kid } : {}) };
          const payload = { iss: issuer.issuer, aud: issuer.audience, sub: "alice", org_id: "acme", exp: NOW_SECONDS + 600 };
          const signAlg = alg === "PS256" ? "PS256" : "RS256";
          const token = await forge(key, header, payload, signAlg);
          const outcome = await attempt(bearer(token));
          // Both ways: a verifier that refuses a good header fails as surely as one that takes a bad one.
          expect(outcome.accepted, JSON.stringify(header)).toBe(headerIsAcceptable(header));
          if (outcome.accepted) accepted += 1;
        },
      ),
      { numRuns: RUNS },
    );
    // Not a vacuous run: acceptable headers came up (about a quarter of the cases) and were accepted.
    expect(accepted).toBeGreaterThan(RUNS / 10);
  });

  it("accepts an arbitrary signed payload only when its claims are valid", async () => {
    const nowSec = () => NOW_SECONDS;
    // Offsets from now: mostly on the good side of the claim, sometimes the other, often at the edges of the tolerance.
    const edge = fc.integer({ min: -TOLERANCE - 2, max: TOLERANCE + 2 });
    const later = fc.oneof({ arbitrary: fc.integer({ min: 1, max: 1000 }), weight: 4 }, { arbitrary: fc.integer({ min: -1000, max: 0 }), weight: 1 }, { arbitrary: edge, weight: 2 });
    const earlier = fc.oneof({ arbitrary: fc.integer({ min: -1000, max: 0 }), weight: 4 }, { arbitrary: fc.integer({ min: 1, max: 1000 }), weight: 1 }, { arbitrary: edge, weight: 2 });
    const claim = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 10 });
    /** Mostly the good value, sometimes anything else: valid tokens must come up often enough to be refused wrongly. */
    const mostly = <T, U>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<U>) => fc.oneof({ arbitrary: good, weight: 8 }, { arbitrary: bad, weight: 1 });
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          iss: claim(mostly(fc.constant(issuer.issuer), fc.constantFrom(`${issuer.issuer}/`, "https://evil.example.com", ""))),
          aud: claim(mostly(fc.constant(issuer.audience), fc.oneof(fc.constant("other"), fc.array(fc.constantFrom(issuer.audience, "other"))))),
          sub: claim(mostly(fc.constant("alice"), fc.oneof(fc.string(), fc.integer(), fc.constant("x".repeat(256))))),
          org_id: claim(mostly(fc.constantFrom("acme", "acme.eu_1"), fc.oneof(fc.string(), fc.constant("a::b")))),
          exp: claim(mostly(later.map((d) => nowSec() + d), fc.oneof(fc.string(), fc.constant(null)))),
          nbf: claim(mostly(earlier.map((d) => nowSec() + d), fc.string())),
          iat: claim(mostly(earlier.map((d) => nowSec() + d), fc.string())),
          extra: claim(fc.jsonValue({ maxDepth: 2 })),
        }),
        async (claims) => {
          const payload = Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined));
          const token = await forge(key, { alg: "RS256", kid: key.kid, typ: "JWT" }, payload);
          const outcome = await attempt(bearer(token));
          expect(outcome.accepted, JSON.stringify(payload)).toBe(claimsAreAcceptable(payload));
          if (outcome.accepted) {
            expect(outcome.principal).toMatchObject({ identity: payload.sub, tenant_id: payload.org_id });
            accepted += 1;
          }
        },
      ),
      { numRuns: RUNS },
    );
    // Not a vacuous run: valid claims came up (about one case in six) and were accepted.
    expect(accepted).toBeGreaterThan(RUNS / 20);
  });

  it("answers any Authorization value with a principal or a 400/401", async () => {
    const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 120 });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(printable, printable.map((s) => `Bearer ${s}`), printable.map((s) => `bEaReR ${valid.slice(0, 40)}${s}`)),
        fc.option(printable, { nil: undefined }),
        async (authorization, query) => {
          let request: Request;
          try {
            const url = query === undefined ? "http://127.0.0.1/threads" : `http://127.0.0.1/threads?access_token=${encodeURIComponent(query)}`;
            request = new Request(url, { headers: { authorization } });
          } catch {
            return; // not a value a client can send
          }
          const outcome = await attempt(request);
          expect(outcome.accepted).toBe(false);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
