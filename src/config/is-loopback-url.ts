/**
 * True when the URL's host is a loopback address (127.0.0.0/8, ::1,
 * localhost). Only such hosts may use plain http for an issuer or key set:
 * anywhere else a network attacker could swap the keys.
 *
 * @example
 * isLoopbackHost("127.0.0.1"); // true
 * isLoopbackHost("10.0.0.1");  // false
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (host === "::1" || host === "0:0:0:0:0:0:0:1") return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * True when `url` is https, or http on a loopback host.
 *
 * @example
 * isSecureOrLoopbackUrl(new URL("http://localhost:9400")); // true
 */
export function isSecureOrLoopbackUrl(url: URL): boolean {
  if (url.protocol === "https:") return true;
  return url.protocol === "http:" && isLoopbackHost(url.hostname);
}
