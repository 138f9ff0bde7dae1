import type { JWTPayload } from "jose";
import { InvalidTokenError } from "../errors.ts";
import { deepFreeze } from "../lib/deep-freeze.ts";
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

/**
 * A check on the token's claims beyond signature, issuer and audience: the
 * token-type checks a provider needs (Cognito `token_use`, Keycloak `typ`,
 * Supabase `role`). Data, so presets can carry it.
 *
 * @example
 * const cognitoAccessOnly: ClaimCheck = { claims: ["token_use"], oneOf: ["access"], description: 'Cognito "token_use" must be "access"' };
 */
export interface ClaimCheck {
  /** Claim names or dotted paths; the check passes when any one of them passes. */
  claims: string[];
  /** Accepted values (strict equality); omitted: the claim only has to be present and non-empty. */
  oneOf?: ReadonlyArray<string | number | boolean>;
  /** What the 401 says when the check fails (names claims, never values). */
  description: string;
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
  /**
   * Role name → the package permissions it grants (`threads:read` …
   * `store:write`). Applied to roles only, so a scope that happens to be
   * called `admin` grants nothing. Default `{}`.
   */
  grants?: Record<string, readonly string[]>;
  /**
   * Provider permission or scope name → package permissions (Entra's
   * `Threads.ReadWrite`). Names that are not keys are kept as they are. Default `{}`.
   */
  permissionAliases?: Record<string, readonly string[]>;
  /**
   * Prefixes stripped from permission names before they are matched (Clerk's
   * `org:` in `org:threads:read`, a Cognito resource server's `langgraph/`).
   * Only these exact prefixes: a scope of another API keeps its own name. Default `[]`.
   */
  permissionPrefixes?: readonly string[];
  /** Checks every token must pass (token type and the like). Default `[]`. */
  checks?: readonly ClaimCheck[];
  /**
   * How the tenant claim may be shaped. `string` (default): a string only.
   * `single`: also a one-element array of strings, or an object with exactly
   * one key (Keycloak's `organization` claim); more than one entry is refused
   * as ambiguous, never guessed.
   */
  tenantShape?: "string" | "single";
  /**
   * Require the token's `iss` to contain the tenant id as a path segment
   * (Entra ID: `https://login.microsoftonline.com/{tid}/v2.0`), so a token
   * cannot claim a tenant other than the directory that issued it. Default false.
   */
  tenantInIssuer?: boolean;
}

/** Tenant resolution: from a claim (`multi`) or fixed (`single`). */
export interface TenantResolution {
  mode: "multi" | "single";
  singleTenantId: string;
}

/**
 * Defaults: tenant from `org_id`, permissions from `scope` and `permissions`,
 * roles from `roles`. Frozen: spread it under your overrides
 * (`{ ...DEFAULT_CLAIM_MAPPING, tenantClaim: "tid" }`).
 */
export const DEFAULT_CLAIM_MAPPING: Readonly<ClaimMapping> = deepFreeze({
  tenantClaim: "org_id",
  scopeClaims: ["scope"],
  permissionClaims: ["permissions"],
  roleClaims: ["roles"],
});

const NAME_RULE = /^[\x21-\x7e]{1,200}$/;
const MAX_GRANTED = 256;
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
  for (const check of mapping.checks ?? []) requireCheck(claims, check);
  let tenantId: string;
  if (tenancy.mode === "single") {
    tenantId = tenancy.singleTenantId;
  } else {
    const raw = tenantValue(readClaim(claims, mapping.tenantClaim), mapping.tenantShape ?? "string", mapping.tenantClaim);
    if (raw === undefined || raw === null || raw === "") {
      throw new InvalidTokenError(`missing tenant claim "${mapping.tenantClaim}"`, { reason: "invalid_tenant_claim" });
    }
    if (!isTenantId(raw)) {
      throw new InvalidTokenError(`the tenant claim "${mapping.tenantClaim}" is not a valid tenant id`, { reason: "invalid_tenant_claim" });
    }
    tenantId = raw;
    if (mapping.tenantInIssuer && !issuerNamesTenant(claims.iss, tenantId)) {
      throw new InvalidTokenError(`the tenant claim "${mapping.tenantClaim}" does not match the token's issuer`, { reason: "invalid_tenant_claim" });
    }
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

  for (const prefix of mapping.permissionPrefixes ?? []) {
    if (!prefix) continue;
    for (const p of [...permissions]) {
      if (p.startsWith(prefix) && p.length > prefix.length) permissions.add(p.slice(prefix.length));
    }
  }
  // Grants expand roles, aliases expand provider permission names; the
  // originals stay so custom checks can still see them.
  const expand = (table: Record<string, readonly string[]> | undefined, sources: Iterable<string>) => {
    if (!table) return;
    for (const source of [...sources]) {
      const granted = Object.hasOwn(table, source) ? table[source] : undefined;
      if (!Array.isArray(granted)) continue;
      for (const p of granted) if (typeof p === "string" && NAME_RULE.test(p) && permissions.size < MAX_GRANTED) permissions.add(p);
    }
  };
  expand(mapping.permissionAliases, permissions);
  expand(mapping.grants, roles);

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

function isPresent(value: unknown): boolean {
  if (value === undefined || value === null || value === "") return false;
  return !(Array.isArray(value) && value.length === 0);
}

function requireCheck(claims: JWTPayload, check: ClaimCheck): void {
  const passes = check.claims.some((claim) => {
    const value = readClaim(claims, claim);
    if (check.oneOf === undefined) return isPresent(value);
    return check.oneOf.some((accepted) => accepted === value);
  });
  if (!passes) throw new InvalidTokenError(check.description);
}

/** Reduce the tenant claim to one value; anything ambiguous stays as is and fails the id rule. */
function tenantValue(raw: unknown, shape: "string" | "single", claim: string): unknown {
  if (shape === "string" || typeof raw === "string") return raw;
  let entries: unknown[] | undefined;
  if (Array.isArray(raw)) entries = raw;
  else if (raw !== null && typeof raw === "object") entries = Object.keys(raw);
  if (entries === undefined) return raw;
  if (entries.length > 1) throw new InvalidTokenError(`the tenant claim "${claim}" names more than one tenant`, { reason: "invalid_tenant_claim" });
  return entries[0];
}

function issuerNamesTenant(iss: unknown, tenantId: string): boolean {
  if (typeof iss !== "string" || !URL.canParse(iss)) return false;
  return new URL(iss).pathname.split("/").includes(tenantId);
}
