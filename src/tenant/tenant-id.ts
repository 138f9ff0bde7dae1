import { TENANT_ID_PATTERN } from "../config/read-config.ts";

export { TENANT_ID_PATTERN };

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
  return typeof value === "string" && TENANT_ID_PATTERN.test(value);
}
