import { describe, expect, it } from "vitest";
import { hasDuplicateMember, inspectToken } from "../../src/verify/inspect-token.ts";
import { InvalidTokenError } from "../../src/errors.ts";

describe("hasDuplicateMember", () => {
  it.each([
    ['{"a":1,"a":2}', true],
    ['{"a":1,"\\u0061":2}', true],
    ['{"x":{"b":1,"b":2}}', true],
    ['[{"b":1},{"b":1,"c":{"b":2,"b":3}}]', true],
    ['{"a":"\\"a\\":1","b":2}', false],
    ['{"a\\\\":1,"a":2}', false],
    ['[{"b":1},{"b":2}]', false],
    ['{"a":[{"a":1}],"b":{"a":2}}', false],
    ['{"k":"{\\"k\\":1,\\"k\\":2}"}', false],
    ['"a"', false],
    ["{}", false],
  ])("%s → %s", (text, expected) => {
    expect(() => JSON.parse(text)).not.toThrow();
    expect(hasDuplicateMember(text)).toBe(expected);
  });
});

describe("inspectToken", () => {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const token = (header: unknown, payload: unknown = { iss: "x" }) => `${b64(header)}.${b64(payload)}.c2ln`;

  it("returns the unverified header and payload of a well-formed token", () => {
    expect(inspectToken(token({ alg: "RS256", kid: "k1", typ: "at+jwt" }), { algorithms: ["RS256"] })).toEqual({
      header: { alg: "RS256", kid: "k1", typ: "at+jwt" },
      payload: { iss: "x" },
    });
  });

  it.each([
    [{ alg: "RS256", cty: "application/JWT" }, "nested tokens are not accepted"],
    [{ alg: "RS256", typ: 1 }, 'the "typ" header must be a string'],
    [{ alg: "ES256" }, "the token's signing algorithm is not allowed"],
  ])("refuses header %o", (header, description) => {
    expect(() => inspectToken(token(header), { algorithms: ["RS256"] })).toThrow(new InvalidTokenError(description));
  });

  it("applies maxTokenBytes", () => {
    expect(() => inspectToken(token({ alg: "RS256" }, { pad: "x".repeat(2000) }), { algorithms: ["RS256"], maxTokenBytes: 1024 })).toThrow(
      "the token is longer than 1024 bytes",
    );
  });
});
