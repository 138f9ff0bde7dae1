import { DECISION_ID_HEADER } from "../errors.ts";

/**
 * Headers of a refusal a browser client must be able to read: the bearer
 * challenge, the decision id and `Retry-After` (none is CORS-safelisted).
 */
export const REFUSAL_EXPOSED_HEADERS: readonly string[] = Object.freeze(["WWW-Authenticate", DECISION_ID_HEADER, "Retry-After"]);

/**
 * An `Access-Control-Expose-Headers` value that keeps `current` and adds
 * `names` (case-insensitive, no duplicates). `*` already exposes everything
 * (but not to credentialed requests, so the names are added anyway).
 *
 * @example
 * exposeHeaders("content-location,x-pagination-total"); // "content-location,x-pagination-total,WWW-Authenticate,X-Decision-Id,Retry-After"
 */
export function exposeHeaders(current: string | null | undefined, names: readonly string[] = REFUSAL_EXPOSED_HEADERS): string {
  const list = (current ?? "").split(",").map((name) => name.trim()).filter(Boolean);
  const seen = new Set(list.map((name) => name.toLowerCase()));
  for (const name of names) if (!seen.has(name.toLowerCase())) list.push(name);
  return list.join(",");
}
