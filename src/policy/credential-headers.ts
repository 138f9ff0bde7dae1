/**
 * Request headers the LangGraph server must not keep in a run.
 *
 * Why: the server copies every `x-*` request header (and `user-agent`) into
 * the run's `config.configurable` (utils/run-auth.mjs; it drops only
 * `x-api-key`, `x-tenant-id`, `x-service-key`). The run keeps them: they are
 * stored on disk, returned by `GET /threads/:id/runs` to everyone who can read
 * the thread, handed to graph code and posted to webhooks. Authenticating
 * proxies put the user's credentials in such headers (AWS ALB
 * `x-amzn-oidc-accesstoken`, oauth2-proxy `x-forwarded-access-token`,
 * Google `x-serverless-authorization`), so a colleague in the same tenant
 * could read them and act as that user.
 */

/** Header-name words that mark a credential. */
const CREDENTIAL_WORDS = /auth|token|secret|key|cookie|session|password|passwd|credential|signature|jwt|oidc|saml|bearer/i;

/**
 * True for an `x-*` header name that probably carries a credential
 * (`x-amzn-oidc-accesstoken`, `x-forwarded-access-token`, `x-csrf-token`,
 * `x-goog-iap-jwt-assertion`, ...).
 *
 * @example
 * isCredentialHeaderName("x-amzn-oidc-data"); // true
 * isCredentialHeaderName("x-request-id");     // false
 */
export function isCredentialHeaderName(name: string): boolean {
  const lower = name.toLowerCase();
  return lower.startsWith("x-") && CREDENTIAL_WORDS.test(lower.slice(2));
}

/**
 * Delete, in place, every credential-like `x-*` key from a run's
 * `configurable` (see {@link isCredentialHeaderName}); returns the names removed.
 *
 * @example
 * dropCredentialHeaders(value.kwargs.config.configurable); // ["x-forwarded-access-token"]
 */
export function dropCredentialHeaders(configurable: Record<string, unknown> | null | undefined): string[] {
  if (configurable === null || typeof configurable !== "object") return [];
  const removed = Object.keys(configurable).filter(isCredentialHeaderName);
  for (const name of removed) delete configurable[name];
  return removed;
}
