/**
 * `extractBearerToken` answers the common well-formed header without regular
 * expressions. This checks, on generated headers, that it still accepts
 * exactly what the RFC 6750 §2.1 rules accept and returns the same token.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { extractBearerToken } from "../../src/bearer/extract-bearer-token.ts";

/** The rules as regular expressions: the oracle. */
function acceptedByRules(header: string, maxTokenBytes: number): string | undefined {
  const match = /^([A-Za-z]+) +(\S+)$/.exec(header.trim());
  if (!match || match[1]!.toLowerCase() !== "bearer") return undefined;
  const token = match[2]!;
  if (token.includes(",") || !/^[A-Za-z0-9\-._~+/]+=*$/.test(token)) return undefined;
  return Buffer.byteLength(token) > maxTokenBytes ? undefined : token;
}

function outcome(header: string, maxTokenBytes: number): string | undefined {
  try {
    return extractBearerToken(new Request("http://127.0.0.1/threads", { headers: { authorization: header } }), {
      maxTokenBytes,
    });
  } catch (error) {
    expect(error).toMatchObject({ status: expect.any(Number), headers: expect.any(Object) });
    return undefined;
  }
}

const piece = fc.constantFrom(
  "Bearer", "bearer", "BEARER", "BeArEr", "Basic", "Bearerx", " ", "  ", "\t", ",", "=", "==", ".", "-", "_", "~", "+", "/",
  "eyJhbGciOiJSUzI1NiJ9", "abc", "A", "0", "é", "%", ";", '"', "?", "\u00a0",
);

describe("extractBearerToken fast path", () => {
  it("accepts exactly what the rules accept, and returns the same token", () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), fc.integer({ min: 1, max: 40 }), (parts, maxTokenBytes) => {
        // Headers cannot carry leading/trailing whitespace or non-Latin-1 text, as on the wire.
        const header = parts.join("");
        fc.pre(/^[\x21-\x7e][\x20-\x7e\t]*$/.test(header) && !/[\t ]$/.test(header));
        expect(outcome(header, maxTokenBytes)).toBe(acceptedByRules(header, maxTokenBytes));
      }),
      { numRuns: 3000 },
    );
  });

  it("takes the common header at once and still refuses look-alikes", () => {
    expect(outcome("Bearer abc.def-_~+/==", 100)).toBe("abc.def-_~+/==");
    expect(outcome("bEaReR abc", 100)).toBe("abc");
    expect(outcome("Bearer abc=x", 100)).toBeUndefined();
    expect(outcome("Bearer abc, Bearer def", 100)).toBeUndefined();
    expect(outcome("Bearex abc", 100)).toBeUndefined();
    expect(outcome("Bearer abcdef", 5)).toBeUndefined();
    expect(outcome("Bearer  abc", 100)).toBe("abc"); // two spaces: the full rules take it
  });
});
