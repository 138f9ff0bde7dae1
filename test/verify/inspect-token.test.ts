import { describe, expect, it } from "vitest";
import { inspectToken } from "../../src/verify/inspect-token.ts";
import { InvalidTokenError } from "../../src/errors.ts";

describe("inspectToken", () => {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const token = (header: unknown, payload: unknown = { iss: "x" }) => `${b64(header)}.${b64(payload)}.c2ln`;

  it("returns the unverified header and payload of a well-formed token", () => {
    expect(inspectToken(token({ alg: "RS256", kid: "k1", typ: "at+jwt" }), { algorithms: ["RS256"] })).toEqual({
      header: { alg: "RS256", kid: "k1", typ: "at+jwt" },
      payload: { iss: "x" },
    });
  });

  // The duplicate-member check on the path tokens take (the parsed member
  // count against the member names in the text), at every depth and through
  // escapes; a value that only looks like a member name is no member.
  it.each([
    ['{"a":1,"a":2}', true],
    ['{"a":1,"\\u0061":2}', true],
    ['{"x":{"b":1,"b":2}}', true],
    ['{"l":[{"b":1},{"b":1,"c":{"b":2,"b":3}}]}', true],
    ['{"a":"\\"a\\":1","b":2}', false],
    ['{"a\\\\":1,"a":2}', false],
    ['{"l":[{"b":1},{"b":2}]}', false],
    ['{"a":[{"a":1}],"b":{"a":2}}', false],
    ['{"k":"{\\"k\\":1,\\"k\\":2}"}', false],
    ['{"s":"a"}', false],
    ['{"e":{}}', false],
  ])("payload %s has a duplicate member: %s", (text, duplicate) => {
    expect(() => JSON.parse(text)).not.toThrow();
    const inspect = () => inspectToken(`${b64({ alg: "RS256" })}.${Buffer.from(text).toString("base64url")}.c2ln`, { algorithms: ["RS256"] });
    if (duplicate) expect(inspect).toThrow(new InvalidTokenError("the token payload has duplicate member names"));
    else expect(inspect().payload).toEqual(JSON.parse(text));
  });

  it.each([
    [{ alg: "RS256", cty: "application/JWT" }, "nested tokens are not accepted"],
    [{ alg: "RS256", typ: 1 }, 'the "typ" header must be a string'],
    [{ alg: "ES256" }, "the token's signing algorithm is not allowed"],
  ])("refuses header %o", (header, description) => {
    expect(() => inspectToken(token(header), { algorithms: ["RS256"] })).toThrow(new InvalidTokenError(description));
  });

  describe("a header seen before (answered from the header cache)", () => {
    const header = { alg: "RS256", kid: "cached-1", typ: "JWT", ext: { nested: ["a"] } };
    const seen = token(header);
    const [h] = seen.split(".");
    const withPayload = (payload: string, signature = "c2ln") => `${h}.${payload}.${signature}`;

    it("gives the same result as the first time", () => {
      const first = inspectToken(seen, { algorithms: ["RS256"] });
      const again = inspectToken(token(header, { iss: "y" }), { algorithms: ["RS256"] });
      expect(first.header).toEqual(header);
      expect(again).toEqual({ header, payload: { iss: "y" } });
    });

    it.each([
      ["a payload that is not base64url", withPayload("e30*"), "the token payload is empty or not unpadded base64url"],
      ["an empty payload", withPayload(""), "the token payload is empty or not unpadded base64url"],
      ["a signature that is not base64url", withPayload(b64({ iss: "x" }), "c2ln="), "the token signature is empty or not unpadded base64url"],
      ["a non-canonical signature", withPayload(b64({ iss: "x" }), "c2m"), "a token segment is not canonical base64url"],
      ["a payload that is not JSON", withPayload(Buffer.from("{nope").toString("base64url")), "the token payload is not JSON"],
      ["a payload with a duplicate member", withPayload(Buffer.from('{"iss":"x","iss":"y"}').toString("base64url")), "the token payload has duplicate member names"],
      ["a fourth segment", `${withPayload(b64({ iss: "x" }))}.e30`, "the token must be a compact JWS of three segments"],
    ])("still refuses %s", (_name, bad, description) => {
      inspectToken(seen, { algorithms: ["RS256"] });
      expect(() => inspectToken(bad, { algorithms: ["RS256"] })).toThrow(new InvalidTokenError(description));
    });

    it("still applies each caller's algorithm allowlist", () => {
      inspectToken(seen, { algorithms: ["RS256"] });
      expect(() => inspectToken(seen, { algorithms: ["ES256"] })).toThrow(new InvalidTokenError("the token's signing algorithm is not allowed"));
    });

    it("hands out the remembered header frozen, so no caller can change what the next one gets", () => {
      const { header: got } = inspectToken(seen, { algorithms: ["RS256"] });
      expect(Object.isFrozen(got)).toBe(true);
      expect(() => {
        (got as Record<string, unknown>).alg = "none";
      }).toThrow(TypeError);
      expect(() => {
        ((got.ext as { nested: string[] }).nested).push("b");
      }).toThrow(TypeError);
      expect(inspectToken(seen, { algorithms: ["RS256"] }).header).toEqual(header);
    });
  });

  it("applies maxTokenBytes", () => {
    expect(() => inspectToken(token({ alg: "RS256" }, { pad: "x".repeat(2000) }), { algorithms: ["RS256"], maxTokenBytes: 1024 })).toThrow(
      "the token is longer than 1024 bytes",
    );
  });
});

describe("inspectToken, each refusal in its own words (first seen, step by step)", () => {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const raw = (text: string) => Buffer.from(text).toString("base64url");
  // A fresh header each time (a unique kid), so the header cache never answers.
  let n = 0;
  const fresh = (header: Record<string, unknown> = {}) => b64({ alg: "RS256", kid: `fresh-${(n += 1)}`, ...header });
  const P = b64({ iss: "x" });
  const refuses = (token: unknown, description: string, options: { algorithms: string[]; maxTokenBytes?: number } = { algorithms: ["RS256"] }) =>
    expect(() => inspectToken(token as string, options), `${String(token).slice(0, 60)} → ${description}`).toThrow(new InvalidTokenError(description));

  it("the token itself: empty, not a string, too long (default 8192), a wrong number of segments", () => {
    refuses("", "the token is empty");
    refuses(undefined, "the token is empty");
    refuses(7, "the token is empty");
    const long = `${fresh()}.${b64({ pad: "x".repeat(9000) })}.c2ln`;
    refuses(long, "the token is longer than 8192 bytes");
    const exact = `${fresh()}.${P}.c2ln`;
    expect(inspectToken(exact, { algorithms: ["RS256"], maxTokenBytes: exact.length }).payload).toEqual({ iss: "x" });
    refuses(exact, `the token is longer than ${exact.length - 1} bytes`, { algorithms: ["RS256"], maxTokenBytes: exact.length - 1 });
    refuses(`${fresh()}.${P}`, "the token must be a compact JWS of three segments");
    refuses(`${fresh()}.${P}.c2ln.c2ln`, "the token must be a compact JWS of three segments");
    refuses(`${fresh()}.${P}.c2ln.c2ln.c2ln`, "encrypted tokens (JWE) are not accepted");
  });

  it("the header: base64url, UTF-8, a JSON object, an allowed alg", () => {
    refuses(`.${P}.c2ln`, "the token header is empty or not unpadded base64url");
    refuses(`${fresh()}=.${P}.c2ln`, "the token header is empty or not unpadded base64url");
    refuses(`é${fresh()}.${P}.c2ln`, "the token header is empty or not unpadded base64url");
    refuses(`${Buffer.from([0x7b, 0xff, 0x7d]).toString("base64url")}.${P}.c2ln`, "the token header is not UTF-8");
    refuses(`${raw("{alg")}.${P}.c2ln`, "the token header is not JSON");
    for (const value of [[], null, 7, "RS256"]) refuses(`${b64(value)}.${P}.c2ln`, "the token header must be a JSON object");
    refuses(`${b64({ alg: 256 })}.${P}.c2ln`, "the token's signing algorithm is not allowed");
    refuses(`${b64({ kid: "no-alg" })}.${P}.c2ln`, "the token's signing algorithm is not allowed");
    refuses(`${fresh({ alg: "none" })}.${P}.`, "the token's signing algorithm is not allowed");
  });

  it("the header's members: no key-bearing header, b64 or crit; a string cty and no nested token; a printable kid up to 256; a string typ", () => {
    for (const name of ["jwk", "jku", "x5u", "x5c"]) {
      refuses(`${fresh({ [name]: null })}.${P}.c2ln`, `the "${name}" header is not accepted: keys come only from the issuer's key set`);
    }
    refuses(`${fresh({ b64: true })}.${P}.c2ln`, 'the "b64" header is not accepted');
    refuses(`${fresh({ crit: [] })}.${P}.c2ln`, 'the "crit" header names extensions this verifier does not support');
    for (const cty of ["jwt", "JWT", "application/jwt", "Application/JWT"]) refuses(`${fresh({ cty })}.${P}.c2ln`, "nested tokens are not accepted");
    for (const cty of ["json", "text/jwt", "application/jwt+json", "jwt2"]) expect(inspectToken(`${fresh({ cty })}.${P}.c2ln`, { algorithms: ["RS256"] }).header.cty).toBe(cty);
    for (const cty of [7, null, ["JWT"], { type: "JWT" }, true]) refuses(`${fresh({ cty })}.${P}.c2ln`, 'the "cty" header must be a string');
    const kidRule = 'the "kid" header must be a printable string of at most 256 characters';
    for (const kid of [7, null, "", "k".repeat(257), "a\u007f", "a\tb", "é"]) refuses(`${b64({ alg: "RS256", kid })}.${P}.c2ln`, kidRule);
    for (const kid of ["k".repeat(256), " ~", "a b"]) expect(inspectToken(`${b64({ alg: "RS256", kid })}.${P}.c2ln`, { algorithms: ["RS256"] }).header.kid).toBe(kid);
    refuses(`${fresh({ typ: null })}.${P}.c2ln`, 'the "typ" header must be a string');
    // The header is refused before anything else: an alg problem before a missing signature.
    refuses(`${fresh({ alg: "HS256" })}.${P}.`, "the token's signing algorithm is not allowed");
    refuses(`${fresh({ jku: "https://evil.example" })}.e30*.c2ln`, 'the "jku" header is not accepted: keys come only from the issuer\'s key set');
  });

  it("payload and signature: base64url, canonical, a JSON object", () => {
    refuses(`${fresh()}..c2ln`, "the token payload is empty or not unpadded base64url");
    refuses(`${fresh()}.${P}=.c2ln`, "the token payload is empty or not unpadded base64url");
    refuses(`${fresh()}.${P}.`, "the token signature is empty or not unpadded base64url");
    refuses(`${fresh()}.${P}.c2l€`, "the token signature is empty or not unpadded base64url");
    // Unused bits set, or a length that leaves one character: not what any encoder writes.
    refuses(`${fresh()}.${P}.c2m`, "a token segment is not canonical base64url");
    refuses(`${fresh()}.${P}.AB`, "a token segment is not canonical base64url");
    refuses(`${fresh()}.${P}.AAAAA`, "a token segment is not canonical base64url");
    // The payload and the header are checked too ("eyJpc3MiOiJ4In0" ends in "0": its two unused bits are zero; "1" sets one).
    expect(P).toBe("eyJpc3MiOiJ4In0");
    refuses(`${fresh()}.eyJpc3MiOiJ4In1.c2ln`, "a token segment is not canonical base64url");
    // A header of 2 left-over characters ("Q": its four unused bits zero; "R" sets one), never seen before.
    expect(b64({ alg: "RS256", kid: "nc-1" })).toBe("eyJhbGciOiJSUzI1NiIsImtpZCI6Im5jLTEifQ");
    refuses(`eyJhbGciOiJSUzI1NiIsImtpZCI6Im5jLTEifR.${P}.c2ln`, "a token segment is not canonical base64url");
    expect(inspectToken(`${fresh()}.${P}.AQ`, { algorithms: ["RS256"] }).payload).toEqual({ iss: "x" });
    expect(inspectToken(`${fresh()}.${P}.AAE`, { algorithms: ["RS256"] }).payload).toEqual({ iss: "x" });
    expect(inspectToken(`${fresh()}.${P}.AAAA`, { algorithms: ["RS256"] }).payload).toEqual({ iss: "x" });
    refuses(`${fresh()}.${Buffer.from([0x7b, 0xc0, 0x80, 0x7d]).toString("base64url")}.c2ln`, "the token payload is not UTF-8");
    for (const value of [[], null, "x", 1]) refuses(`${fresh()}.${b64(value)}.c2ln`, "the token payload must be a JSON object");
  });

  it("reads member names across JSON white space before the colon, and counts nested and array members", () => {
    for (const text of ['{"a" :1,"b"\t:2}', '{"a"\n:1,"b"\r\n:{"c" : [ {"d" :1} ]}}', '{"a":[1,"x",null,{"b":2}],"c":null}']) {
      expect(inspectToken(`${fresh()}.${raw(text)}.c2ln`, { algorithms: ["RS256"] }).payload, text).toEqual(JSON.parse(text));
    }
    for (const text of ['{"a" :1,"a"\t:2}', '{"x":{"a"\n:1,"a"\r:2}}', '{"l":[{"a":1,"a":2}]}']) {
      refuses(`${fresh()}.${raw(text)}.c2ln`, "the token payload has duplicate member names");
    }
    // An escaped quote, and an escaped backslash before a closing quote.
    for (const text of ['{"a\\"b":1,"c":"\\\\"}', '{"a\\\\\\"":1,"b":2}']) {
      expect(inspectToken(`${fresh()}.${raw(text)}.c2ln`, { algorithms: ["RS256"] }).payload, text).toEqual(JSON.parse(text));
    }
  });
});

describe("inspectToken, the header cache (a header seen before is not decoded again)", () => {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const P = b64({ iss: "x" });
  const options = { algorithms: ["RS256"] };
  // Headers no other test uses, so what the cache holds before does not matter.
  const header = (name: string) => b64({ alg: "RS256", kid: `cache-${name}` });
  const headerOf = (h: string, payload = P) => inspectToken(`${h}.${payload}.c2ln`, options).header;

  it("answers a repeated header with the very object it remembered, whatever the payload", () => {
    const h = header("same");
    const first = headerOf(h);
    expect(Object.isFrozen(first)).toBe(true);
    expect(headerOf(h)).toBe(first);
    expect(headerOf(h, b64({ iss: "y" }))).toBe(first);
    // Two headers in turn: each keeps its own entry.
    const other = header("other");
    const second = headerOf(other);
    expect(second).not.toBe(first);
    expect(headerOf(h)).toBe(first);
    expect(headerOf(other)).toBe(second);
  });

  it("remembers at most 256 headers, and forgets the oldest first", () => {
    const hs = Array.from({ length: 257 }, (_, i) => header(`cap-${i}`));
    const firsts = hs.map((h) => headerOf(h));
    // 256 remembered after the first: the first is out, the second still in.
    // (The second is checked first: asking for the first again remembers it, which pushes the second out.)
    expect(headerOf(hs[1]!)).toBe(firsts[1]);
    expect(headerOf(hs[256]!)).toBe(firsts[256]);
    const again = headerOf(hs[0]!);
    expect(again).toEqual(firsts[0]);
    expect(again).not.toBe(firsts[0]);
  });

  it("keeps 256 headers: none of them is forgotten before the 257th", () => {
    const hs = Array.from({ length: 256 }, (_, i) => header(`keep-${i}`));
    const firsts = hs.map((h) => headerOf(h));
    for (let i = 0; i < hs.length; i++) expect(headerOf(hs[i]!), String(i)).toBe(firsts[i]);
  });
});

describe("inspectToken, the bounds of the base64url rules", () => {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const P = b64({ iss: "x" });
  let n = 0;
  const fresh = () => b64({ alg: "RS256", kid: `bounds-${(n += 1)}` });
  const options = { algorithms: ["RS256"] };

  it("refuses U+0080, the first code unit past ASCII, in any segment", () => {
    for (const signature of ["c2ln\u0080", "c2\u0080l", "\u0080AAA"]) {
      expect(() => inspectToken(`${fresh()}.${P}.${signature}`, options), JSON.stringify(signature)).toThrow(
        new InvalidTokenError("the token signature is empty or not unpadded base64url"),
      );
    }
    expect(() => inspectToken(`${fresh()}.${P}\u0080.c2ln`, options)).toThrow(new InvalidTokenError("the token payload is empty or not unpadded base64url"));
    expect(() => inspectToken(`${fresh()}\u0080.${P}.c2ln`, options)).toThrow(new InvalidTokenError("the token header is empty or not unpadded base64url"));
  });

  it("two characters left over: all four unused bits must be zero, not only the lowest two", () => {
    // "E" is 0b000100 and "I" 0b001000: the lowest two bits are clear, a higher unused bit is set.
    for (const signature of ["AE", "AI", "AAAAAE", "AM"]) {
      expect(() => inspectToken(`${fresh()}.${P}.${signature}`, options), signature).toThrow(new InvalidTokenError("a token segment is not canonical base64url"));
    }
    // "Q" is 0b010000: its four low bits are clear, the canonical spelling of one byte.
    expect(inspectToken(`${fresh()}.${P}.AQ`, options).payload).toEqual({ iss: "x" });
    // Three left over: two unused bits; "E" is canonical there.
    expect(inspectToken(`${fresh()}.${P}.AAE`, options).payload).toEqual({ iss: "x" });
  });

  it("a cty that is not a string is refused, even one that reads as \"jwt\" when made a string (RFC 7515 §4.1.10)", () => {
    for (const cty of [["jwt"], ["application/jwt"]]) {
      expect(() => inspectToken(`${b64({ alg: "RS256", kid: `cty-${(n += 1)}`, cty })}.${P}.c2ln`, options)).toThrow(new InvalidTokenError('the "cty" header must be a string'));
    }
  });
});
