import { InvalidTenantIdError, InvalidTenantKeyError } from "../errors.ts";
import { isTenantId } from "./tenant-id.ts";

/** The separator between the tenant and the resource in a tenant key. */
export const TENANT_KEY_SEPARATOR = "::";

/** Longest resource id accepted, in UTF-16 code units. */
export const MAX_RESOURCE_ID_LENGTH = 1024;

/** A parsed `{tenant_id}::{resource_id}` key. */
export interface TenantKeyParts {
  tenantId: string;
  resourceId: string;
}

// Characters that render like a colon. A resource id holding them could be
// shown as `other::x` to a human, so they are refused outright (the tenant
// part is ASCII-only by the tenant id rule, so it cannot hold them either).
const COLON_LOOKALIKES = /[\u02D0\u02F8\u0589\u05C3\u0703\u0704\u16EC\u1365\u1803\u1809\u205A\u2236\u2E35\uA4FD\uA789\uFE13\uFE30\uFE55\uFF1A]/u;
// Control, format (zero-width, bidi overrides), unpaired surrogates,
// unassigned code points, line and paragraph separators, and whitespace.
const INVISIBLE_OR_CONTROL = /[\p{Cc}\p{Cf}\p{Cs}\p{Cn}\p{Zl}\p{Zp}\s]/u;

/**
 * Why a resource id is refused, or `undefined` when it is fine.
 * Messages never echo the value: it may be attacker-built.
 */
function resourceIdProblem(resourceId: unknown): string | undefined {
  if (typeof resourceId !== "string") return "the resource id must be a string";
  if (resourceId.length === 0) return "the resource id is empty";
  if (resourceId.length > MAX_RESOURCE_ID_LENGTH) return `the resource id is longer than ${MAX_RESOURCE_ID_LENGTH} characters`;
  if (resourceId.includes(TENANT_KEY_SEPARATOR)) return 'the resource id contains the "::" separator';
  if (resourceId.startsWith(":") || resourceId.endsWith(":")) return 'the resource id starts or ends with ":"';
  if (INVISIBLE_OR_CONTROL.test(resourceId)) return "the resource id contains whitespace, control or invisible characters";
  if (COLON_LOOKALIKES.test(resourceId)) return "the resource id contains a character that looks like a colon";
  // Compatibility forms (fullwidth letters, ligatures…) fold to other text
  // under NFKC: two ids that look the same must be the same string.
  if (resourceId.normalize("NFKC") !== resourceId) return "the resource id is not in NFKC normal form (look-alike characters)";
  return undefined;
}

/**
 * True for a resource id {@link tenantKey} accepts: 1–1024 characters, no
 * `::`, no leading or trailing `:`, no whitespace, control, invisible or
 * colon look-alike characters, already in NFKC form.
 *
 * @example
 * isResourceId("3f2a…-thread"); // true
 * isResourceId("x::y");         // false
 */
export function isResourceId(value: unknown): value is string {
  return resourceIdProblem(value) === undefined;
}

/**
 * Build the namespaced key `{tenantId}::{resourceId}` under which a
 * tenant's thread, checkpoint or memory is stored.
 *
 * The tenant id is checked with the same rule as in authentication
 * ({@link isTenantId}: ASCII letters, digits, `.`, `_`, `-`), so it can hold
 * no `::` and no look-alike; the resource id may not hold `::` either, so
 * every key splits back into exactly one (tenant, resource) pair and no
 * tenant can build a key inside another tenant's prefix.
 *
 * @throws {InvalidTenantIdError} the tenant id breaks the tenant id rule (400).
 * @throws {InvalidTenantKeyError} the resource id is refused (400), see {@link isResourceId}.
 * @example
 * tenantKey("acme", "thread-1"); // "acme::thread-1"
 * tenantKey("acme::x", "t");     // throws InvalidTenantIdError
 * tenantKey("acme", "x::t");     // throws InvalidTenantKeyError
 */
export function tenantKey(tenantId: string, resourceId: string): string {
  if (!isTenantId(tenantId)) throw new InvalidTenantIdError();
  const problem = resourceIdProblem(resourceId);
  if (problem) throw new InvalidTenantKeyError(problem);
  return `${tenantId}${TENANT_KEY_SEPARATOR}${resourceId}`;
}

/**
 * Split a key built by {@link tenantKey} back into its parts, checking both
 * with the same rules, so `parseTenantKey(tenantKey(t, r))` is `{ t, r }`
 * and anything {@link tenantKey} would not build is refused.
 *
 * @throws {InvalidTenantKeyError} not a string, no separator, empty part, or a refused resource id (400).
 * @throws {InvalidTenantIdError} the tenant part breaks the tenant id rule (400).
 * @example
 * parseTenantKey("acme::thread-1"); // { tenantId: "acme", resourceId: "thread-1" }
 */
export function parseTenantKey(key: string): TenantKeyParts {
  if (typeof key !== "string") throw new InvalidTenantKeyError("the key must be a string");
  const at = key.indexOf(TENANT_KEY_SEPARATOR);
  if (at < 0) throw new InvalidTenantKeyError('the key has no "::" separator');
  if (at === 0) throw new InvalidTenantKeyError("the key's tenant part is empty");
  const tenantId = key.slice(0, at);
  const resourceId = key.slice(at + TENANT_KEY_SEPARATOR.length);
  if (!isTenantId(tenantId)) throw new InvalidTenantIdError("the key's tenant part is not a valid tenant id");
  const problem = resourceIdProblem(resourceId);
  if (problem) throw new InvalidTenantKeyError(problem);
  return { tenantId, resourceId };
}

/**
 * True when `key` is a well-formed tenant key of `tenantId`.
 *
 * @example
 * isKeyOfTenant("acme::t1", "acme"); // true
 * isKeyOfTenant("acme2::t1", "acme"); // false
 */
export function isKeyOfTenant(key: unknown, tenantId: string): boolean {
  if (typeof key !== "string") return false;
  try {
    return parseTenantKey(key).tenantId === tenantId;
  } catch {
    return false;
  }
}
