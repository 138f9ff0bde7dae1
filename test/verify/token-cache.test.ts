import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createTokenCache, verifiedKid } from "../../src/verify/token-cache.ts";

const T0 = 1_800_000_000_000; // ms; a fixed instant, moved by hand

function setup(overrides: Partial<Parameters<typeof createTokenCache>[0]> = {}) {
  const clock = { now: T0 };
  const kids = new Set(["k1", "k2"]);
  const cache = createTokenCache<string>({
    scope: "iss|aud",
    maxEntries: 3,
    maxAgeSeconds: 300,
    clockToleranceSeconds: 5,
    clock: () => clock.now,
    hasKid: (kid) => kids.has(kid),
    ...overrides,
  });
  return { cache, clock, kids };
}

const sec = (ms: number) => Math.floor(ms / 1000);

describe("createTokenCache", () => {
  it("keys by a digest of the exact token bytes and the scope, never the token itself", () => {
    const { cache } = setup();
    const other = createTokenCache<string>({ scope: "iss|other-aud", hasKid: () => true });
    const key = cache.keyOf("aaa.bbb.ccc");
    // The scope's SHA-256, then the token's: two fixed-length digests.
    expect(key).toMatch(/^[A-Za-z0-9+/]{43}=[A-Za-z0-9+/]{43}=$/);
    expect(key.slice(44)).toBe(createHash("sha256").update("aaa.bbb.ccc").digest("base64"));
    expect(key).not.toContain("aaa");
    expect(cache.keyOf("aaa.bbb.ccc")).toBe(key);
    expect(cache.keyOf("aaa.bbb.ccd")).not.toBe(key);
    expect(other.keyOf("aaa.bbb.ccc")).not.toBe(key);
  });

  it("answers a hit with the stored value", () => {
    const { cache } = setup();
    cache.set("k", "alice", { exp: sec(T0) + 3600, kid: "k1" });
    expect(cache.get("k")).toBe("alice");
    expect(cache.size).toBe(1);
  });

  it("never keeps an entry past the token's exp", () => {
    const { cache, clock } = setup();
    cache.set("k", "alice", { exp: sec(T0) + 60, kid: "k1" });
    clock.now = T0 + 59_000;
    expect(cache.get("k")).toBe("alice");
    clock.now = (sec(T0) + 60) * 1000;
    expect(cache.get("k")).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("never keeps an entry past the configured maximum age, even when exp is later", () => {
    const { cache, clock } = setup({ maxAgeSeconds: 30 });
    cache.set("k", "alice", { exp: sec(T0) + 3600, kid: "k1" });
    clock.now = T0 + 29_999;
    expect(cache.get("k")).toBe("alice");
    clock.now = T0 + 30_000;
    expect(cache.get("k")).toBeUndefined();
  });

  it("does not store a token already past exp", () => {
    const { cache } = setup();
    cache.set("k", "alice", { exp: sec(T0) - 1, kid: "k1" });
    expect(cache.size).toBe(0);
  });

  it("checks nbf again on every hit, with the clock tolerance", () => {
    const { cache, clock } = setup();
    const nbf = sec(T0) + 3; // accepted at T0 thanks to the 5 s tolerance
    cache.set("k", "alice", { exp: sec(T0) + 3600, nbf, kid: "k1" });
    expect(cache.get("k")).toBe("alice");
    clock.now = (nbf - 5) * 1000; // the earliest instant the tolerance allows
    expect(cache.get("k")).toBe("alice");
    clock.now = (nbf - 5) * 1000 - 1; // the clock went back past it
    expect(cache.get("k")).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("drops the entries of a key that left the key set", () => {
    const { cache, kids } = setup();
    cache.set("a", "alice", { exp: sec(T0) + 3600, kid: "k1" });
    cache.set("b", "bob", { exp: sec(T0) + 3600, kid: "k2" });
    kids.delete("k1");
    expect(cache.get("a")).toBeUndefined();
    expect(cache.get("b")).toBe("bob");
    kids.add("k1"); // the entry stays gone: the token must be verified again
    expect(cache.get("a")).toBeUndefined();
  });

  it("does not store a token without a kid", () => {
    const { cache } = setup();
    cache.set("k", "alice", { exp: sec(T0) + 3600, kid: "" });
    expect(cache.size).toBe(0);
  });

  it("evicts the least recently used entry beyond maxEntries", () => {
    const { cache } = setup({ maxEntries: 3 });
    const facts = { exp: sec(T0) + 3600, kid: "k1" };
    cache.set("a", "A", facts);
    cache.set("b", "B", facts);
    cache.set("c", "C", facts);
    expect(cache.get("a")).toBe("A"); // a is now the most recently used
    cache.set("d", "D", facts);
    expect(cache.size).toBe(3);
    expect(cache.get("b")).toBeUndefined();
    expect([cache.get("a"), cache.get("c"), cache.get("d")]).toEqual(["A", "C", "D"]);
  });

  it("stays at maxEntries under a flood of distinct tokens", () => {
    const { cache } = setup({ maxEntries: 100 });
    for (let i = 0; i < 5_000; i++) cache.set(cache.keyOf(`t${i}`), `v${i}`, { exp: sec(T0) + 3600, kid: "k1" });
    expect(cache.size).toBe(100);
    expect(cache.get(cache.keyOf("t4999"))).toBe("v4999");
    expect(cache.get(cache.keyOf("t0"))).toBeUndefined();
  });

  it("keeps an entry that is used between insertions while a flood passes through", () => {
    const { cache } = setup({ maxEntries: 10 });
    const facts = { exp: sec(T0) + 3600, kid: "k1" };
    cache.set("hot", "H", facts);
    for (let i = 0; i < 1_000; i++) {
      cache.set(`cold-${i}`, "C", facts);
      expect(cache.get("hot")).toBe("H");
    }
    expect(cache.size).toBe(10);
  });

  it("refuses bad options with a TypeError naming the option", () => {
    expect(() => createTokenCache({ scope: "s", hasKid: () => true, maxEntries: 0 })).toThrow(/maxEntries/);
    expect(() => createTokenCache({ scope: "s", hasKid: () => true, maxAgeSeconds: -1 })).toThrow(/maxAgeSeconds/);
    expect(() => createTokenCache({ scope: "s", hasKid: () => true, clockToleranceSeconds: Number.NaN })).toThrow(
      /clockToleranceSeconds/,
    );
    expect(() => createTokenCache({ scope: "s" } as never)).toThrow(TypeError);
  });
});

describe("verifiedKid", () => {
  it("reads a non-empty string kid and nothing else", () => {
    expect(verifiedKid({ alg: "RS256", kid: "abc" })).toBe("abc");
    expect(verifiedKid({ alg: "RS256" })).toBeUndefined();
    expect(verifiedKid({ alg: "RS256", kid: 7 })).toBeUndefined();
    expect(verifiedKid({ alg: "RS256", kid: "" })).toBeUndefined();
  });
});

describe("createTokenCache, the remaining edges", () => {
  const facts = { exp: sec(T0) + 3600, kid: "k1" };

  it("names each bad option exactly, bounds included", () => {
    const base = { scope: "s", hasKid: () => true };
    for (const maxEntries of [0, -1, 1.5, Number.NaN]) {
      expect(() => createTokenCache({ ...base, maxEntries }), String(maxEntries)).toThrow(new TypeError("maxEntries must be a whole number of at least 1"));
    }
    for (const maxAgeSeconds of [0, -1, Number.POSITIVE_INFINITY, Number.NaN]) {
      expect(() => createTokenCache({ ...base, maxAgeSeconds }), String(maxAgeSeconds)).toThrow(new TypeError("maxAgeSeconds must be a positive number"));
    }
    for (const clockToleranceSeconds of [-1, Number.POSITIVE_INFINITY, Number.NaN]) {
      expect(() => createTokenCache({ ...base, clockToleranceSeconds }), String(clockToleranceSeconds)).toThrow(new TypeError("clockToleranceSeconds must be a non-negative number"));
    }
    expect(() => createTokenCache({ hasKid: () => true } as never)).toThrow(new TypeError("scope must be a string"));
    expect(() => createTokenCache({ scope: "s", hasKid: "k1" } as never)).toThrow(new TypeError("hasKid must be a function"));
    const edges = createTokenCache({ ...base, maxEntries: 1, maxAgeSeconds: 0.001, clockToleranceSeconds: 0 });
    expect(edges.maxEntries).toBe(1);
  });

  it("defaults: the configured maximum entries and age, no tolerance, the real clock", () => {
    const cache = createTokenCache<string>({ scope: "s", hasKid: () => true });
    expect(cache.maxEntries).toBe(10_000);
    const now = Math.floor(Date.now() / 1000);
    // Stored with a far exp: the default maximum age (300 s) bounds it, and the real clock says it is fresh.
    cache.set("k", "v", { exp: now + 3600, kid: "k1" });
    expect(cache.get("k")).toBe("v");
    // nbf one second ahead with no tolerance: not yet valid.
    cache.set("n", "v", { exp: now + 3600, nbf: now + 2, kid: "k1" });
    expect(cache.get("n")).toBeUndefined();
  });

  it("does not store without a finite exp or a string kid, nor with an nbf that is not a finite number", () => {
    const { cache } = setup();
    for (const bad of [{ exp: Number.NaN, kid: "k1" }, { exp: Number.POSITIVE_INFINITY, kid: "k1" }, { exp: sec(T0) + 60, kid: 7 }, { exp: sec(T0) + 60, kid: undefined }]) {
      cache.set("k", "alice", bad as never);
      expect(cache.size, JSON.stringify(bad)).toBe(0);
    }
    // An nbf the cache could not re-check on a hit (never valid, or unreadable): nothing is stored (fail closed).
    for (const nbf of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, "later", null]) {
      cache.set("k", "alice", { exp: sec(T0) + 60, nbf: nbf as never, kid: "k1" });
      expect(cache.get("k"), String(nbf)).toBeUndefined();
      expect(cache.size, String(nbf)).toBe(0);
    }
    // Without nbf, or with a finite one already reached, the same token is stored.
    cache.set("k", "alice", { exp: sec(T0) + 60, kid: "k1" });
    expect(cache.get("k")).toBe("alice");
    cache.set("j", "joe", { exp: sec(T0) + 60, nbf: sec(T0) - 1, kid: "k1" });
    expect(cache.get("j")).toBe("joe");
    // An exp exactly now is already past.
    cache.set("e", "eve", { exp: sec(T0), kid: "k1" });
    expect(cache.get("e")).toBeUndefined();
  });

  it("an exp exactly now is not stored at all: it takes no slot and pushes no live entry out", () => {
    const { cache } = setup({ maxEntries: 1 });
    cache.set("live", "L", facts);
    expect(T0 % 1000).toBe(0); // exp (seconds) * 1000 is exactly the clock
    cache.set("e", "eve", { exp: sec(T0), kid: "k1" });
    expect(cache.size).toBe(1);
    expect(cache.get("live")).toBe("L");
    // An exp one second later is still valid, and is stored.
    const roomy = setup().cache;
    roomy.set("e", "eve", { exp: sec(T0) + 1, kid: "k1" });
    expect(roomy.size).toBe(1);
    expect(roomy.get("e")).toBe("eve");
  });

  it("replaces an entry set again under the same key, and delete and clear remove entries", () => {
    const { cache } = setup();
    cache.set("a", "A1", facts);
    cache.set("a", "A2", facts);
    expect(cache.size).toBe(1);
    expect(cache.get("a")).toBe("A2");
    cache.set("b", "B", facts);
    cache.delete("a");
    expect(cache.get("a")).toBeUndefined();
    expect(cache.size).toBe(1);
    cache.clear();
    expect(cache.size).toBe(0);
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("never")).toBeUndefined();
  });

  it("with one entry: a used entry gets its second chance (the new token is not kept), an unused one is replaced", () => {
    const { cache } = setup({ maxEntries: 1 });
    cache.set("a", "A", facts);
    expect(cache.get("a")).toBe("A");
    cache.set("b", "B", facts);
    expect(cache.size).toBe(1);
    expect(cache.get("b")).toBeUndefined();
    // The second chance cleared a's flag: the next token replaces it (and a lookup of a would mark it again, so none here).
    cache.set("c", "C", facts);
    expect(cache.size).toBe(1);
    expect(cache.get("c")).toBe("C");
    expect(cache.get("a")).toBeUndefined();
    // Setting the only key again keeps it, with the new value.
    cache.set("c", "C2", facts);
    expect(cache.get("c")).toBe("C2");
  });
});
