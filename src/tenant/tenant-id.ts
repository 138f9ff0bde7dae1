import { TENANT_ID_PATTERN_SOURCE } from "../config/read-config.ts";

export { TENANT_ID_PATTERN_SOURCE };

/**
 * The rule every tenant check of this package runs: a private copy, built
 * from the exported source text, so nothing outside this module can reach
 * it (`compile` rewrites even a frozen `RegExp`).
 */
const TENANT_ID = new RegExp(TENANT_ID_PATTERN_SOURCE);

/**
 * True for a well-formed tenant id: 1–128 characters of ASCII letters, digits,
 * `.`, `_` and `-`, starting with a letter or digit. The rule leaves no room
 * for a separator (`::`), whitespace, unicode look-alikes or an empty id, so a
 * tenant id can never forge another tenant's `{tenant}::{id}` prefix.
 *
 * @example
 * isTenantId("acme-eu"); // true
 * isTenantId("a::b");    // false
 */
export function isTenantId(value: unknown): value is string {
  return typeof value === "string" && TENANT_ID.test(value);
}
