/**
 * The one rule of every command's output: no token, nor anything derived
 * from one, is ever written (stdout, stderr, report files).
 */

/**
 * Replace every occurrence of a secret (the tokens and what is derived from
 * them) with `[redacted]`.
 *
 * @example
 * redact(`Bearer ${token}`, [token]); // "Bearer [redacted]"
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 8) out = out.split(secret).join("[redacted]");
  return out;
}
