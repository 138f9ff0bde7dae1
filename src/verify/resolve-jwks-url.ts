import { KeysUnavailableError } from "../errors.ts";
import { isSecureOrLoopbackUrl } from "../config/is-loopback-url.ts";
import type { FetchLike } from "./key-store.ts";

/** Options of {@link resolveJwksUrl}. */
export interface ResolveJwksUrlOptions {
  /** The configured issuer; discovery is only ever derived from it. */
  issuer: string;
  /** `fetch` to use. Default: the global one. */
  fetch?: FetchLike;
  /** Abort the discovery request after this many ms. Default 5000. */
  timeoutMs?: number;
}

/** The discovery document URL for an issuer (OIDC Discovery §4). */
export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
}

/**
 * Read `jwks_uri` from the issuer's OpenID discovery document. The document's
 * `issuer` must equal the configured one exactly (OIDC Discovery §4.3), and the
 * key set URL must be https (or http on loopback). Redirects are not followed.
 *
 * @throws {KeysUnavailableError} the document cannot be fetched or is unusable.
 */
export async function resolveJwksUrl(options: ResolveJwksUrlOptions): Promise<string> {
  const doFetch = options.fetch ?? fetch;
  const url = discoveryUrl(options.issuer);
  let document: unknown;
  try {
    const response = await doFetch(url, {
      redirect: "manual",
      headers: { accept: "application/json" },
      signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
    });
    if (response.status !== 200) throw new Error(`discovery answered ${response.status}`);
    const text = await response.text();
    if (text.length > 512 * 1024) throw new Error("discovery document is too large");
    document = JSON.parse(text);
  } catch (cause) {
    throw new KeysUnavailableError(30, { cause });
  }
  const doc = document as { issuer?: unknown; jwks_uri?: unknown } | null;
  if (!doc || typeof doc !== "object" || doc.issuer !== options.issuer) {
    throw new KeysUnavailableError(30, {
      cause: new Error(`discovery document's "issuer" does not equal the configured issuer`),
    });
  }
  if (typeof doc.jwks_uri !== "string" || !URL.canParse(doc.jwks_uri) || !isSecureOrLoopbackUrl(new URL(doc.jwks_uri))) {
    throw new KeysUnavailableError(30, {
      cause: new Error(`discovery document's "jwks_uri" is missing or not https`),
    });
  }
  return doc.jwks_uri;
}
