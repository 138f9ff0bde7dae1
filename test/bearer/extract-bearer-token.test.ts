import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_TOKEN_BYTES, extractBearerToken } from "../../src/bearer/extract-bearer-token.ts";
import { AuthError, InvalidRequestError, InvalidTokenError, MissingTokenError } from "../../src/errors.ts";

const URL_ = "http://127.0.0.1/threads/search";
const TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl";

function request(headers: Record<string, string> | [string, string][] = {}, url = URL_): Request {
  return new Request(url, { headers });
}

function failure(req: Request, options?: Parameters<typeof extractBearerToken>[1]): AuthError {
  try {
    extractBearerToken(req, options);
  } catch (error) {
    expect(error).toBeInstanceOf(AuthError);
    return error as AuthError;
  }
  throw new Error("the token was accepted");
}

describe("extractBearerToken", () => {
  it.each(["Bearer", "bearer", "BEARER", "bEaReR"])("accepts the %s scheme (RFC 7235 §2.1: case-insensitive)", (scheme) => {
    expect(extractBearerToken(request({ authorization: `${scheme} ${TOKEN}` }))).toBe(TOKEN);
  });

  it("tolerates surrounding whitespace and several spaces after the scheme", () => {
    expect(extractBearerToken(request({ authorization: `  Bearer   ${TOKEN}  ` }))).toBe(TOKEN);
  });

  it("accepts every b64token character and trailing padding", () => {
    expect(extractBearerToken(request({ authorization: "Bearer aZ09-._~+/==" }))).toBe("aZ09-._~+/==");
  });

  it.each([
    ["no Authorization header", {}],
    ["an empty Authorization header", { authorization: "" }],
    ["a blank Authorization header", { authorization: "   " }],
  ])("%s is a missing token: 401 with a bare challenge (RFC 6750 §3.1)", (_, headers) => {
    const error = failure(request(headers));
    expect(error).toBeInstanceOf(MissingTokenError);
    expect(error.status).toBe(401);
    expect(error.code).toBe("ERR_BEARER_MISSING");
    expect(error.headers["WWW-Authenticate"]).toBe('Bearer realm="langgraph"');
  });

  it.each([
    ["empty Bearer credentials", "Bearer", "the Bearer credentials are empty"],
    ["empty Bearer credentials with spaces", "Bearer    ", "the Bearer credentials are empty"],
    ["another scheme", `Basic ${TOKEN}`, 'the "Basic" scheme is not supported; use Bearer'],
    ["a scheme with no token", "Token", 'the Authorization header must be "Bearer <token>"'],
    ["two tokens with a space", `Bearer ${TOKEN} ${TOKEN}`, 'the Authorization header must be "Bearer <token>"'],
    ["two credentials joined by a comma", `Bearer ${TOKEN}, Bearer ${TOKEN}`, "more than one Authorization credential was sent"],
    ["two tokens in one credential", `Bearer ${TOKEN},${TOKEN}`, "more than one Authorization credential was sent"],
    ["characters outside b64token", 'Bearer abc"def', "the bearer token has characters outside the token68 alphabet"],
    ["padding in the middle", "Bearer abc=def", "the bearer token has characters outside the token68 alphabet"],
  ])("refuses %s with 400 invalid_request", (_, authorization, description) => {
    const error = failure(request({ authorization }));
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.status).toBe(400);
    expect(error.message).toBe(`invalid_request: ${description}`);
    expect(error.headers["WWW-Authenticate"]).toBe(
      `Bearer realm="langgraph", error="invalid_request", error_description="${description.replace(/"/g, '\\"')}"`,
    );
    expect(error.message).not.toContain(TOKEN);
  });

  it("refuses two Authorization headers (Headers joins them with a comma)", () => {
    const error = failure(request([["authorization", `Bearer ${TOKEN}`], ["authorization", `Bearer ${TOKEN}x`]]));
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.message).toBe("invalid_request: more than one Authorization credential was sent");
  });

  it("refuses a token in the query (RFC 6750 §2.3 is not supported)", () => {
    const error = failure(request({}, `${URL_}?access_token=${TOKEN}`));
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.message).toBe("invalid_request: access tokens are accepted only in the Authorization header");
    expect(error.headers["WWW-Authenticate"]).not.toContain(TOKEN);
  });

  it("refuses a token in both the header and the query (RFC 6750 §2: one method only)", () => {
    const error = failure(request({ authorization: `Bearer ${TOKEN}` }, `${URL_}?x=1&access_token=${TOKEN}`));
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.message).toBe("invalid_request: the access token was sent in more than one place");
  });

  it("ignores other query parameters", () => {
    expect(extractBearerToken(request({ authorization: `Bearer ${TOKEN}` }, `${URL_}?token=x&access=y`))).toBe(TOKEN);
  });

  it("refuses an oversize token with 401 invalid_token, without echoing it", () => {
    const big = "a".repeat(DEFAULT_MAX_TOKEN_BYTES + 1);
    const error = failure(request({ authorization: `Bearer ${big}` }));
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect(error.status).toBe(401);
    expect(error.message).toBe("invalid_token: the token is longer than 8192 bytes");
    expect(error.headers["WWW-Authenticate"]).toBe(
      'Bearer realm="langgraph", error="invalid_token", error_description="the token is longer than 8192 bytes"',
    );
    // A very large header is refused before any regular expression runs over it.
    const huge = failure(request({ authorization: `Bearer ${"b".repeat(1_000_000)}` }));
    expect(huge).toBeInstanceOf(InvalidTokenError);
  });

  it("accepts a token of exactly the limit and honours a custom limit", () => {
    const exact = "a".repeat(DEFAULT_MAX_TOKEN_BYTES);
    expect(extractBearerToken(request({ authorization: `Bearer ${exact}` }))).toBe(exact);
    expect(failure(request({ authorization: "Bearer abcdef" }), { maxTokenBytes: 5 })).toBeInstanceOf(InvalidTokenError);
  });

  it("cuts a long unknown scheme name short in its message", () => {
    const scheme = "X".repeat(200);
    const error = failure(request({ authorization: `${scheme} ${TOKEN}` }));
    expect(error.message).toBe(`invalid_request: the "${"X".repeat(20)}" scheme is not supported; use Bearer`);
  });
});
