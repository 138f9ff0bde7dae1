/**
 * What a command may read of a token without verifying it: its claims, to
 * explain a refusal or to name a user. The deployment is always the judge.
 */

/**
 * The claims of a JWT, read without verifying it (to name what a filter or a
 * store namespace of that user looks like). An opaque token gives `{}`.
 *
 * Not `inspectToken` from src/verify: that one refuses what a verifier must
 * (an algorithm off the allowlist, `alg: none`, odd headers), while this
 * only reads the claims of a token the deployment is about to judge.
 *
 * @example
 * decodeClaims(tokenA).sub; // "alice"
 */
export function decodeClaims(token: string): Record<string, unknown> {
  const payload = token.split(".")[1];
  if (!payload) return {};
  try {
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as unknown;
    return claims && typeof claims === "object" ? (claims as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
