/**
 * `peekBearerToken` (the token cache's lookup key) and `isBearerTokenSyntax`
 * (what the cache admits), each on its own: exact answers at the edges; and
 * the full rules of `extractBearerToken` at the length cap.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_TOKEN_BYTES, extractBearerToken, isBearerTokenSyntax, peekBearerToken } from "../../src/bearer/extract-bearer-token.ts";

const request = (authorization: string | undefined, url = "http://127.0.0.1/threads") =>
  new Request(url, authorization === undefined ? {} : { headers: { authorization } });

describe("peekBearerToken", () => {
  it("returns the text after `Bearer ` in any case, unvalidated", () => {
    expect(peekBearerToken(request("Bearer abc"))).toBe("abc");
    expect(peekBearerToken(request("bEaReR abc"))).toBe("abc");
    expect(peekBearerToken(request("Bearer a"))).toBe("a");
    expect(peekBearerToken(request("Bearer a,b c"))).toBe("a,b c");
  });

  it("returns nothing without the exact `Bearer ` prefix and a token after it", () => {
    expect(peekBearerToken(request(undefined))).toBeUndefined();
    expect(peekBearerToken(request("Bearer"))).toBeUndefined();
    expect(peekBearerToken(request("Bearer  "))).toBeUndefined();
    expect(peekBearerToken(request("Bearerxabc"))).toBeUndefined();
    expect(peekBearerToken(request("Bearer\tabc"))).toBeUndefined();
    for (const scheme of ["Xearer", "BXarer", "BeXrer", "BeaXer", "BearXr", "BeareX"]) {
      expect(peekBearerToken(request(`${scheme} abc`)), scheme).toBeUndefined();
    }
    expect(peekBearerToken(request("Basic abcdef"))).toBeUndefined();
  });

  it("returns nothing when a token is in the query too", () => {
    expect(peekBearerToken(request("Bearer abc", "http://127.0.0.1/threads?access_token=abc"))).toBeUndefined();
    expect(peekBearerToken(request("Bearer abc", "http://127.0.0.1/threads?limit=1"))).toBe("abc");
  });
});

describe("isBearerTokenSyntax", () => {
  it("accepts a b64token up to the cap, and nothing longer", () => {
    expect(isBearerTokenSyntax("abc.def-_~+/==")).toBe(true);
    expect(isBearerTokenSyntax("abcde", 5)).toBe(true);
    expect(isBearerTokenSyntax("abcdef", 5)).toBe(false);
    expect(isBearerTokenSyntax("a".repeat(DEFAULT_MAX_TOKEN_BYTES))).toBe(true);
    expect(isBearerTokenSyntax("a".repeat(DEFAULT_MAX_TOKEN_BYTES + 1))).toBe(false);
  });

  it("refuses anything outside the alphabet, an empty string and a non-string", () => {
    for (const token of ["", "a b", "a,b", "=abc", "a=b", "é", "a\n"]) expect(isBearerTokenSyntax(token), JSON.stringify(token)).toBe(false);
    expect(isBearerTokenSyntax(7 as unknown as string)).toBe(false);
    expect(isBearerTokenSyntax(["abc"] as unknown as string)).toBe(false);
  });
});

describe("extractBearerToken off the fast path", () => {
  it("takes a token of exactly the cap and refuses one byte more (two spaces skip the fast path)", () => {
    expect(extractBearerToken(request("Bearer  abcde"), { maxTokenBytes: 5 })).toBe("abcde");
    expect(() => extractBearerToken(request("Bearer  abcdef"), { maxTokenBytes: 5 })).toThrow(
      expect.objectContaining({ name: "InvalidTokenError", status: 401, message: "invalid_token: the token is longer than 5 bytes" }),
    );
  });

  it("says the credentials are empty only for a bare scheme", () => {
    expect(() => extractBearerToken(request("Bearer"))).toThrow(expect.objectContaining({ status: 400, message: "invalid_request: the Bearer credentials are empty" }));
    expect(() => extractBearerToken(request("xbearer"))).toThrow(
      expect.objectContaining({ status: 400, message: 'invalid_request: the Authorization header must be "Bearer <token>"' }),
    );
  });
});
