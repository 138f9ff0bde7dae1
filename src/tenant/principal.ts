import type { JWTPayload } from "jose";
import { InvalidTokenError } from "../errors.ts";
import { readClaim } from "./read-claim.ts";
import { isTenantId } from "./tenant-id.ts";

/**
 * The authenticated caller as LangGraph sees it (`user` in handlers, and
 * `configurable.langgraph_auth_user` in runs). It holds no token or secret:
 * the dev server writes it to disk with run arguments.
 */
export interface Principal {
  /** `sub` of the token. */
  identity: string;
  /** The tenant every resource of this caller is stamped with and filtered by. */
  tenant_id: string;
  /** Permission names from `scope` and `permissions`, merged, deduplicated. */
  permissions: string[];
  /** Roles from the roles claim (empty when the token has none). */
  roles: string[];
  /** A readable name: `name`, `email` or `sub`. */
  display_name: string;
  /** The issuer that vouched for this caller. */
  issuer: string;
  is_authenticated: true;
}

/** Where each part of the principal comes from: data, so presets can override it. */
export interface ClaimMapping {
  /** Claim name or dotted path of the tenant id. Default `org_id`. */
  tenantClaim: string;
  /** Space-delimited string claims merged into permissions. Default `["scope"]`. */
  scopeClaims: string[];
  /** Array-of-strings claims merged into permissions. Default `["permissions"]`. */
  permissionClaims: string[];
  /** Claims read as roles (array or space-delimited string). Default `["roles"]`. */
  roleClaims: string[];
}

/** Tenant resolution: from a claim (`multi`) or fixed (`single`). */
export interface TenantResolution {
  mode: "multi" | "single";
  singleTenantId: string;
}

/** Defaults: tenant from `org_id`, permissions from `scope` and `permissions`, roles from `roles`. */
export const DEFAULT_CLAIM_MAPPING: ClaimMapping = {
  tenantClaim: "org_id",
  scopeClaims: ["scope"],
  permissionClaims: ["permissions"],
  roleClaims: ["roles"],
};

const NAME_RULE = /^[\x21-\x7e]{1,200}$/;
const MAX_SUB_LENGTH = 255;

function stringsOf(value: unknown): string[] {
  if (typeof value === "string") return value.split(" ").filter(Boolean);
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string");
  return [];
}

/**
 * Map verified claims to a principal.
 *
 * @throws {InvalidTokenError} `sub` missing or not a string; tenant claim
 * missing, not a string, or not a valid tenant id (in `multi` mode).
 * @example
 * toPrincipal({ sub: "alice", org_id: "acme", scope: "threads:read" }, DEFAULT_CLAIM_MAPPING, { mode: "multi", singleTenantId: "default" });
 * // { identity: "alice", tenant_id: "acme", permissions: ["threads:read"], ... }
 */
export function toPrincipal(
  claims: JWTPayload,
  mapping: ClaimMapping,
  tenancy: TenantResolution,
): Principal {
  const sub = claims.sub;
  if (typeof sub !== "string" || sub.length === 0 || sub.length > MAX_SUB_LENGTH) {
    throw new InvalidTokenError('missing or invalid "sub" claim');
  }
  let tenantId: string;
  if (tenancy.mode === "single") {
    tenantId = tenancy.singleTenantId;
  } else {
    const raw = readClaim(claims, mapping.tenantClaim);
    if (raw === undefined || raw === null || raw === "") {
      throw new InvalidTokenError(`missing tenant claim "${mapping.tenantClaim}"`);
    }
    if (!isTenantId(raw)) {
      throw new InvalidTokenError(`the tenant claim "${mapping.tenantClaim}" is not a valid tenant id`);
    }
    tenantId = raw;
  }

  const permissions = new Set<string>();
  for (const claim of mapping.scopeClaims) {
    const value = readClaim(claims, claim);
    if (typeof value === "string") for (const p of stringsOf(value)) if (NAME_RULE.test(p)) permissions.add(p);
  }
  for (const claim of mapping.permissionClaims) {
    for (const p of stringsOf(readClaim(claims, claim))) if (NAME_RULE.test(p)) permissions.add(p);
  }
  const roles = new Set<string>();
  for (const claim of mapping.roleClaims) {
    for (const r of stringsOf(readClaim(claims, claim))) if (NAME_RULE.test(r)) roles.add(r);
  }

  const name = [claims.name, claims.email].find((v): v is string => typeof v === "string" && v.length > 0 && v.length <= 200);
  return {
    identity: sub,
    tenant_id: tenantId,
    permissions: [...permissions],
    roles: [...roles],
    display_name: name ?? sub,
    issuer: String(claims.iss ?? ""),
    is_authenticated: true,
  };
}
