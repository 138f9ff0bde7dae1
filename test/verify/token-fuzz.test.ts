/**
 * Property-based checks of the bearer-token path with fast-check: mutated
 * valid tokens, arbitrary headers and payloads signed with the real key, and
 * arbitrary Authorization values. Whatever comes in, the answer is either
 * the principal of an untouched (or legitimately well-formed) token or an
 * `AuthError` with status 400 or 401 and an RFC 6750 challenge: never a
 * 500, never another kind of error, never an unhandled rejection.
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
let valid: string;

type Outcome = { accepted: true; principal: Principal } | { accepted: false; error: AuthError };

/** Run one request; fail the property if anything but a 400/401 AuthError escapes. */
async function attempt(request: Request): Promise<Outcome> {
  try {
    return { accepted: true, principal: await authenticator.authenticateRequest(request) };
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

beforeAll(async () => {
  issuer = await startLocalIssuer();
  key = issuer.keys[0]!;
  authenticator = createAuthenticator({ config: readConfig(issuer.env()), log: () => undefined });
  valid = await issuer.sign({ sub: "alice", org_id: "acme" });
  // Warm the key set so the properties exercise verification, not the first fetch.
  await authenticator.authenticateRequest(bearer(valid));
});

afterAll(async () => {
  await issuer.close();
});

describe("token fuzz", () => {
  it("accepts a mutated token only when the mutation left it unchanged", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
        const token = mutations.reduce(mutate, valid);
        const outcome = await attempt(bearer(token));
        expect(outcome.accepted).toBe(token === valid);
      }),
      { numRuns: RUNS },
    );
  });

  it("refuses any header that breaks the rules, even with a valid signature", async () => {
    const headerParam = fc.oneof(
      fc.constantFrom("alg", "kid", "typ", "cty", "crit", "b64", "jwk", "jku", "x5u", "x5c", "x5t", "zip", "enc"),
      fc.string({ maxLength: 8 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(headerParam, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }),
        fc.constantFrom("RS256", "none", "None", "HS256", "RS512", "PS256", "ES256", "EdDSA", ""),
        fc.boolean(),
        async (extra, alg, keepKid) => {
          const header: Record<string, unknown> = { ...extra, alg, ...(keepKid ? { kid: key.kid } : {}) };
          const payload = { iss: issuer.issuer, aud: issuer.audience, sub: "alice", org_id: "acme", exp: Math.floor(Date.now() / 1000) + 600 };
          const signAlg = alg === "PS256" ? "PS256" : "RS256";
          const token = await forge(key, header, payload, signAlg);
          const outcome = await attempt(bearer(token));
          if (outcome.accepted) {
            expect(header.alg).toBe("RS256");
            for (const name of ["jwk", "jku", "x5u", "x5c", "crit", "b64"]) expect(header).not.toHaveProperty(name);
            expect(String(header.cty ?? "")).not.toMatch(/^(application\/)?jwt$/i);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("accepts an arbitrary signed payload only when its claims are valid", async () => {
    const nowSec = () => Math.floor(Date.now() / 1000);
    const claim = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          iss: claim(fc.constantFrom(issuer.issuer, `${issuer.issuer}/`, "https://evil.example.com", "")),
          aud: claim(fc.oneof(fc.constantFrom(issuer.audience, "other"), fc.array(fc.constantFrom(issuer.audience, "other")))),
          sub: claim(fc.oneof(fc.constant("alice"), fc.string(), fc.integer())),
          org_id: claim(fc.oneof(fc.constant("acme"), fc.string(), fc.constant("a::b"))),
          exp: claim(fc.oneof(fc.integer({ min: -1000, max: 1000 }).map((d) => nowSec() + d), fc.string(), fc.constant(null))),
          nbf: claim(fc.integer({ min: -1000, max: 1000 }).map((d) => nowSec() + d)),
          iat: claim(fc.oneof(fc.integer({ min: -1000, max: 1000 }).map((d) => nowSec() + d), fc.string())),
          extra: claim(fc.jsonValue({ maxDepth: 2 })),
        }),
        async (claims) => {
          const payload = Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined));
          const token = await forge(key, { alg: "RS256", kid: key.kid, typ: "JWT" }, payload);
          const outcome = await attempt(bearer(token));
          if (outcome.accepted) {
            const t = nowSec();
            expect(payload.iss).toBe(issuer.issuer);
            expect(([] as unknown[]).concat(payload.aud)).toContain(issuer.audience);
            expect(typeof payload.exp === "number" && payload.exp > t - 5).toBe(true);
            expect(payload.nbf === undefined || (payload.nbf as number) <= t + 5).toBe(true);
            expect(payload.iat === undefined || (typeof payload.iat === "number" && payload.iat <= t + 5)).toBe(true);
            expect(outcome.principal).toMatchObject({ identity: payload.sub, tenant_id: payload.org_id });
          }
        },
      ),
      { numRuns: RUNS },
    );
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
