import { isSecureOrLoopbackUrl } from "../config/is-loopback-url.ts";
import { fetchJson } from "./fetch-json.ts";
import type { FetchLike } from "./key-store.ts";

/** Options of {@link resolveJwksUrl}. */
export interface ResolveJwksUrlOptions {
  /** The configured issuer; discovery is only ever derived from it. */
  issuer: string;
  /** `fetch` to use. Default: the global one. */
  fetch?: FetchLike | undefined;
  /** Abort the discovery request after this many ms. Default 5000. */
  timeoutMs?: number | undefined;
  /** Refuse a discovery document larger than this. Default 262144 (256 KiB). */
  maxBytes?: number | undefined;
}

/** The discovery document URL for an issuer (OIDC Discovery §4). */
export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
}

/**
 * Read `jwks_uri` from the issuer's OpenID discovery document. The document's
 * `issuer` must equal the configured one exactly (OIDC Discovery §4.3: this
 * is what stops one provider's document from vouching for another), and the
 * key set URL must be https (or http on loopback). Redirects are not
 * followed; the size and time are capped (see `fetchJson`).
 *
 * @throws {Error} the document cannot be fetched or is unusable; the key
 * store decides whether that is a 503 or stale-if-error.
 * @example
 * const jwksUrl = await resolveJwksUrl({ issuer: "https://idp.example.com/" });
 */
export async function resolveJwksUrl(options: ResolveJwksUrlOptions): Promise<string> {
  const url = discoveryUrl(options.issuer);
  const document = await fetchJson(url, options);
  const doc = document as { issuer?: unknown; jwks_uri?: unknown } | null;
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) {
    throw new Error(`GET ${url}: the discovery document is not a JSON object`);
  }
  if (doc.issuer !== options.issuer) {
    throw new Error(`GET ${url}: the discovery document's "issuer" does not equal the configured issuer`);
  }
  if (typeof doc.jwks_uri !== "string" || !URL.canParse(doc.jwks_uri) || !isSecureOrLoopbackUrl(new URL(doc.jwks_uri))) {
    throw new Error(`GET ${url}: the discovery document's "jwks_uri" is missing or not https`);
  }
  return doc.jwks_uri;
}
