/**
 * Broken credentials derived from tenant A's token, for a deployment whose
 * keys the command cannot sign with: an expired copy (the payload re-encoded
 * with `exp` in the past, so its signature no longer matches either) and an
 * `alg: none` copy. Both carry A's real claims and must be refused with 401.
 */

import { decodeClaims } from "../cli-kit/decode-claims.ts";

function segment(value: unknown): string {
  return Buffer.from(JSON.stringify(value), "utf8").toString("base64url");
}

/**
 * The `Authorization` values of the four broken credentials.
 *
 * @example
 * brokenCredentials(tokenA)["alg-none"]; // "Bearer eyJhbGciOiJub25lIn0.<A's claims>."
 */
export function brokenCredentials(tokenA: string): { malformed: string; expired: string; "alg-none": string } {
  const [header = "", , signature = ""] = tokenA.split(".");
  const now = Math.floor(Date.now() / 1000);
  const claims = decodeClaims(tokenA);
  const expired = { ...claims, iat: now - 7200, nbf: now - 7200, exp: now - 3600 };
  return {
    malformed: "Bearer not.a-token",
    expired: `Bearer ${header}.${segment(expired)}.${signature}`,
    "alg-none": `Bearer ${segment({ alg: "none", typ: "JWT" })}.${segment(claims)}.`,
  };
}
