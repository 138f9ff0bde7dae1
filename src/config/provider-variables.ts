/**
 * The identity-provider variables: `AUTH_PROVIDER` picks a preset (see
 * `src/tenant/provider-presets.ts`), and every other variable here overrides
 * one field of it. Kept in its own zod object, merged into the main schema
 * of `read-config.ts`, so the provider surface reads in one place.
 */
import { z } from "zod";
import { deepFreeze } from "../lib/deep-freeze.ts";
import { isSecureOrLoopbackUrl } from "./is-loopback-url.ts";

/** Identity providers with a preset; `generic` (the default) is the package's own convention. */
export const PROVIDER_NAMES = deepFreeze([
  "generic", "auth0", "clerk", "supabase", "entra", "keycloak", "okta", "cognito", "workos",
] as const);
export type ProviderName = (typeof PROVIDER_NAMES)[number];

/** A token-type check from `AUTH_REQUIRED_CLAIMS`: the claim must equal one of `oneOf`. */
export interface RequiredClaim {
  claim: string;
  oneOf: string[];
}

/**
 * The provider preset and the overrides set by variables. A field left
 * `undefined` means "the preset decides".
 */
export interface ProviderSettings {
  /** `AUTH_PROVIDER`. Default `generic`. */
  name: ProviderName;
  /** `AUTH_TENANT_CLAIM`, when set. */
  tenantClaim: string | undefined;
  /** `AUTH_AUDIENCE_CLAIM`: the claim checked against `AUTH_AUDIENCE` (`aud`, `client_id`, `azp`). */
  audienceClaim: string | undefined;
  /** `AUTH_SCOPE_CLAIMS`: space-delimited permission claims. */
  scopeClaims: string[] | undefined;
  /** `AUTH_PERMISSION_CLAIMS`: array permission claims. */
  permissionClaims: string[] | undefined;
  /** `AUTH_ROLE_CLAIMS`: role claims; `{audience}` stands for each `AUTH_AUDIENCE` value. */
  roleClaims: string[] | undefined;
  /** `AUTH_PERMISSION_PREFIXES`: prefixes stripped from permission names (`org:`, `langgraph/`). */
  permissionPrefixes: string[] | undefined;
  /** `AUTH_ROLE_PERMISSIONS`: role or provider permission → package permissions (replaces the preset's). */
  rolePermissions: Record<string, string[]> | undefined;
  /** `AUTH_REQUIRED_CLAIMS`: token-type checks (replace the preset's; `none` clears them). */
  requiredClaims: RequiredClaim[] | undefined;
  /** `AUTH_ADDITIONAL_ISSUERS`: more accepted `iss` values (keys still come from `AUTH_ISSUER`'s set). */
  additionalIssuers: string[];
}

const CLAIM_NAME = /^[\x21-\x7e]{1,200}$/;

/** A comma list of claim names; `none` means an empty list. */
const claimList = (name: string) =>
  z
    .string()
    .transform((value) => (value.trim() === "none" ? [] : value.split(",").map((part) => part.trim()).filter(Boolean)))
    .refine((list) => list.every((c) => CLAIM_NAME.test(c)), `${name} must be a comma-separated list of claim names, or "none"`);

const rolePermissions = z
  .string()
  .transform((value, ctx) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      parsed = undefined;
    }
    const problem = 'AUTH_ROLE_PERMISSIONS must be a JSON object of role → permission list, e.g. {"admin":["threads:read","threads:write"]}';
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      ctx.addIssue({ code: "custom", message: problem });
      return z.NEVER;
    }
    const out: Record<string, string[]> = {};
    for (const [role, granted] of Object.entries(parsed)) {
      const list = typeof granted === "string" ? granted.split(/[\s,]+/).filter(Boolean) : granted;
      if (!Array.isArray(list) || !list.every((p) => typeof p === "string" && CLAIM_NAME.test(p))) {
        ctx.addIssue({ code: "custom", message: problem });
        return z.NEVER;
      }
      out[role] = list;
    }
    return out;
  });

const requiredClaims = z
  .string()
  .transform((value, ctx) => {
    if (value.trim() === "none") return [];
    const out: RequiredClaim[] = [];
    for (const part of value.split(",").map((p) => p.trim()).filter(Boolean)) {
      const match = /^([^=\s]+)=(.+)$/.exec(part);
      if (!match || !CLAIM_NAME.test(match[1]!)) {
        ctx.addIssue({ code: "custom", message: 'AUTH_REQUIRED_CLAIMS must be "claim=value|value,claim=value" or "none"' });
        return z.NEVER;
      }
      out.push({ claim: match[1]!, oneOf: match[2]!.split("|").map((v) => v.trim()).filter(Boolean) });
    }
    return out;
  });

const issuerList = z
  .string()
  .transform((value) => value.split(",").map((part) => part.trim()).filter(Boolean))
  .refine(
    (list) => list.every((u) => URL.canParse(u) && isSecureOrLoopbackUrl(new URL(u))),
    "AUTH_ADDITIONAL_ISSUERS must be a comma-separated list of https URLs (http only on loopback)",
  );

/** The zod object of the provider variables; `read-config.ts` merges its shape into the main schema. */
export const ProviderVariables = z.object({
  AUTH_PROVIDER: z
    .enum(PROVIDER_NAMES, { error: `AUTH_PROVIDER must be one of ${PROVIDER_NAMES.join(", ")}` })
    .default("generic"),
  AUTH_AUDIENCE_CLAIM: z
    .string()
    .trim()
    .regex(CLAIM_NAME, "AUTH_AUDIENCE_CLAIM must be a claim name such as aud, client_id or azp")
    .optional(),
  AUTH_SCOPE_CLAIMS: claimList("AUTH_SCOPE_CLAIMS").optional(),
  AUTH_PERMISSION_CLAIMS: claimList("AUTH_PERMISSION_CLAIMS").optional(),
  AUTH_ROLE_CLAIMS: claimList("AUTH_ROLE_CLAIMS").optional(),
  AUTH_PERMISSION_PREFIXES: claimList("AUTH_PERMISSION_PREFIXES").optional(),
  AUTH_ROLE_PERMISSIONS: rolePermissions.optional(),
  AUTH_REQUIRED_CLAIMS: requiredClaims.optional(),
  AUTH_ADDITIONAL_ISSUERS: issuerList.optional(),
});

/**
 * Pick the provider settings out of the parsed environment.
 *
 * @example
 * readProviderSettings(ProviderVariables.parse({ AUTH_PROVIDER: "cognito" })).name; // "cognito"
 */
export function readProviderSettings(
  env: z.infer<typeof ProviderVariables> & { AUTH_TENANT_CLAIM?: string | undefined },
): ProviderSettings {
  return {
    name: env.AUTH_PROVIDER,
    tenantClaim: env.AUTH_TENANT_CLAIM,
    audienceClaim: env.AUTH_AUDIENCE_CLAIM,
    scopeClaims: env.AUTH_SCOPE_CLAIMS,
    permissionClaims: env.AUTH_PERMISSION_CLAIMS,
    roleClaims: env.AUTH_ROLE_CLAIMS,
    permissionPrefixes: env.AUTH_PERMISSION_PREFIXES,
    rolePermissions: env.AUTH_ROLE_PERMISSIONS,
    requiredClaims: env.AUTH_REQUIRED_CLAIMS,
    additionalIssuers: env.AUTH_ADDITIONAL_ISSUERS ?? [],
  };
}
