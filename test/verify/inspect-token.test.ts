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
