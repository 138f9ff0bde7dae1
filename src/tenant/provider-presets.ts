/**
 * Identity-provider presets: the claim conventions of each provider as data.
 * `AUTH_PROVIDER` picks one; every `AUTH_*` override set in the environment
 * is spread over it, field by field (`resolveProviderMapping`).
 */
import type { ProviderName, ProviderSettings } from "../config/provider-variables.ts";
import { deepFreeze } from "../lib/deep-freeze.ts";
import { DEFAULT_CLAIM_MAPPING, type ClaimCheck, type ClaimMapping } from "./principal.ts";

/** One provider's conventions. */
export interface ProviderPreset {
  /** Where the principal's parts come from, and the token checks. */
  mapping: ClaimMapping;
  /** The claim checked against `AUTH_AUDIENCE`. Default `aud`. */
  audienceClaim: string;
  /**
   * Other `iss` forms the same issuer uses (Entra ID signs v1.0 tokens as
   * `https://sts.windows.net/{tid}/` and v2.0 tokens as
   * `https://login.microsoftonline.com/{tid}/v2.0`).
   */
  issuerForms?: (issuer: string) => string[];
}

/** The settings one authenticator runs with: mapping, audience claim, accepted issuers. */
export interface ResolvedProvider {
  mapping: ClaimMapping;
  audienceClaim: string;
  issuers: string[];
}

const ALL = [
  "threads:read", "threads:write", "assistants:read", "assistants:write",
  "crons:read", "crons:write", "store:read", "store:write",
];
const MEMBER = ["threads:read", "threads:write", "assistants:read", "crons:read", "store:read", "store:write"];
const VIEWER = ["threads:read", "assistants:read", "crons:read", "store:read"];

/** Conventional role names most providers let you create: `admin`, `member`, `viewer`. */
const ROLE_GRANTS: Record<string, readonly string[]> = { admin: ALL, member: MEMBER, viewer: VIEWER };

/** Microsoft's `Resource.Operation` naming for scopes and app roles (`Threads.Read`, `Threads.ReadWrite`). */
const ENTRA_GRANTS: Record<string, readonly string[]> = Object.fromEntries(
  ["Threads", "Assistants", "Crons", "Store"].flatMap((resource) => {
    const r = resource.toLowerCase();
    return [
      [`${resource}.Read`, [`${r}:read`]],
      [`${resource}.ReadWrite`, [`${r}:read`, `${r}:write`]],
    ];
  }),
);

const ENTRA_V2 = /^https:\/\/login\.microsoftonline\.com\/([0-9a-fA-F-]{36})\/v2\.0$/;
const ENTRA_V1 = /^https:\/\/sts\.windows\.net\/([0-9a-fA-F-]{36})\/$/;

/** Both Entra issuer forms of the directory `issuer` names (v1.0 ↔ v2.0). */
export function entraIssuerForms(issuer: string): string[] {
  const tid = ENTRA_V2.exec(issuer)?.[1] ?? ENTRA_V1.exec(issuer)?.[1];
  if (!tid) return [issuer];
  return [`https://login.microsoftonline.com/${tid}/v2.0`, `https://sts.windows.net/${tid}/`];
}

const generic = (overrides: Partial<ClaimMapping>): ClaimMapping => ({ ...DEFAULT_CLAIM_MAPPING, ...overrides });

/**
 * Every preset, deeply frozen: `resolveProviderMapping` merges from these
 * very objects, so nobody can rewrite a provider's tenant claim or grants.
 * Read docs/identity-providers.md for what to configure at each provider so
 * its tokens carry these claims.
 *
 * @example
 * PROVIDER_PRESETS.cognito.audienceClaim; // "client_id"
 */
export const PROVIDER_PRESETS: Readonly<Record<ProviderName, ProviderPreset>> = deepFreeze({
  generic: { mapping: generic({}), audienceClaim: "aud" },

  // Auth0 access tokens for an API: `scope` (string) and, with RBAC and "Add
  // Permissions in the Access Token", `permissions` (array); Organizations add `org_id`.
  auth0: {
    mapping: generic({ tenantClaim: "org_id", scopeClaims: ["scope"], permissionClaims: ["permissions"], roleClaims: [] }),
    audienceClaim: "aud",
  },

  // Clerk session tokens (v1 claims, also what a JWT template with
  // {{org.id}}/{{org.role}}/{{org.permissions}} produces): `org_id`, `org_role`
  // (`org:admin`), `org_permissions` (`org:<feature>:<permission>`). Session
  // tokens carry no `aud`: the authorized party `azp` is checked instead.
  clerk: {
    mapping: generic({
      tenantClaim: "org_id",
      scopeClaims: [],
      permissionClaims: ["org_permissions"],
      roleClaims: ["org_role"],
      permissionPrefixes: ["org:"],
      grants: { "org:admin": ALL, "org:member": MEMBER, ...ROLE_GRANTS },
    }),
    audienceClaim: "azp",
  },

  // Supabase Auth access tokens: `aud: "authenticated"`, `role` is the
  // Postgres role; only the service role can write `app_metadata`, so the
  // tenant and roles live there (a custom access token hook or the admin API).
  supabase: {
    mapping: generic({
      tenantClaim: "app_metadata.tenant_id",
      scopeClaims: [],
      permissionClaims: ["app_metadata.permissions"],
      roleClaims: ["app_metadata.roles"],
      grants: ROLE_GRANTS,
      checks: [{ claims: ["role"], oneOf: ["authenticated"], description: 'the Supabase "role" claim must be "authenticated"' }],
    }),
    audienceClaim: "aud",
  },

  // Microsoft Entra ID: `tid` is the directory; delegated tokens carry `scp`
  // (space-delimited), app-only tokens carry `roles`. An ID token has neither.
  entra: {
    mapping: generic({
      tenantClaim: "tid",
      scopeClaims: ["scp"],
      permissionClaims: [],
      roleClaims: ["roles"],
      // Delegated tokens name them in scp, app-only tokens in roles.
      grants: ENTRA_GRANTS,
      permissionAliases: ENTRA_GRANTS,
      tenantInIssuer: true,
      checks: [{ claims: ["scp", "roles"], description: 'an Entra access token carries "scp" or "roles"' }],
    }),
    audienceClaim: "aud",
    issuerForms: entraIssuerForms,
  },

  // Keycloak: `typ: "Bearer"` marks access tokens (ID tokens say "ID");
  // realm roles in `realm_access.roles`, client roles in
  // `resource_access.<client>.roles`; the `organization` scope (Keycloak 26)
  // adds `organization` as a list of aliases, or a map when ids are included.
  keycloak: {
    mapping: generic({
      tenantClaim: "organization",
      tenantShape: "single",
      scopeClaims: ["scope"],
      permissionClaims: [],
      roleClaims: ["realm_access.roles", "resource_access.{audience}.roles"],
      grants: ROLE_GRANTS,
      checks: [{ claims: ["typ"], oneOf: ["Bearer"], description: 'the Keycloak "typ" claim must be "Bearer" (an access token)' }],
    }),
    audienceClaim: "aud",
  },

  // Okta custom authorization server: `scp` is an array, `cid` the client;
  // the tenant and groups are custom claims you add to the server.
  okta: {
    mapping: generic({
      tenantClaim: "tenant_id",
      scopeClaims: [],
      permissionClaims: ["scp"],
      roleClaims: ["groups"],
      grants: ROLE_GRANTS,
      checks: [{ claims: ["scp"], description: 'an Okta access token carries "scp"' }],
    }),
    audienceClaim: "aud",
  },

  // Amazon Cognito access tokens: no `aud` (the app client is `client_id`),
  // `token_use: "access"`, groups in `cognito:groups`, `scope` string; the
  // tenant needs a pre token generation trigger (v2) to reach the access token.
  cognito: {
    mapping: generic({
      tenantClaim: "custom:tenant_id",
      scopeClaims: ["scope"],
      permissionClaims: [],
      roleClaims: ["cognito:groups"],
      grants: ROLE_GRANTS,
      checks: [{ claims: ["token_use"], oneOf: ["access"], description: 'the Cognito "token_use" claim must be "access"' }],
    }),
    audienceClaim: "client_id",
  },

  // WorkOS AuthKit: `org_id`, `role` (slug) and `roles`, `permissions` (array).
  workos: {
    mapping: generic({
      tenantClaim: "org_id",
      scopeClaims: ["scope"],
      permissionClaims: ["permissions"],
      roleClaims: ["role", "roles"],
      grants: ROLE_GRANTS,
    }),
    audienceClaim: "aud",
  },
});

/**
 * Merge a preset with the variables that override it, field by field: a
 * variable that is set beats the preset; `{audience}` in a role claim is
 * expanded once per configured audience.
 *
 * @example
 * resolveProviderMapping({ name: "cognito", tenantClaim: "custom:org", ... }, { issuer, audience: ["app-client-id"] });
 */
export function resolveProviderMapping(
  settings: ProviderSettings | undefined,
  context: { issuer: string; audience: readonly string[]; tenantClaim?: string },
): ResolvedProvider {
  const preset = PROVIDER_PRESETS[settings?.name ?? "generic"];
  if (!preset) throw new TypeError(`AUTH_PROVIDER: unknown provider "${String(settings?.name)}"`);
  const base = preset.mapping;
  const roleClaims = (settings?.roleClaims ?? base.roleClaims).flatMap((claim) =>
    claim.includes("{audience}") ? context.audience.map((aud) => claim.replaceAll("{audience}", aud)) : [claim],
  );
  const checks: readonly ClaimCheck[] | undefined =
    settings?.requiredClaims?.map((rule) => ({
      claims: [rule.claim],
      oneOf: rule.oneOf,
      description: `the "${rule.claim}" claim does not have an accepted value`,
    })) ?? base.checks;
  const tenantClaim = settings?.tenantClaim ?? (settings ? base.tenantClaim : (context.tenantClaim ?? base.tenantClaim));
  const mapping: ClaimMapping = {
    ...base,
    tenantClaim,
    // The issuer names the preset's tenant claim (Entra's tid), not another one.
    tenantInIssuer: Boolean(base.tenantInIssuer) && tenantClaim === base.tenantClaim,
    scopeClaims: settings?.scopeClaims ?? base.scopeClaims,
    permissionClaims: settings?.permissionClaims ?? base.permissionClaims,
    roleClaims,
    ...(settings?.permissionPrefixes ? { permissionPrefixes: settings.permissionPrefixes } : {}),
    ...(settings?.rolePermissions ? { grants: settings.rolePermissions } : {}),
    ...(checks ? { checks } : {}),
  };
  const forms = preset.issuerForms ?? ((issuer: string) => [issuer]);
  const issuers = [...new Set([context.issuer, ...forms(context.issuer), ...(settings?.additionalIssuers ?? []).flatMap(forms)])];
  return { mapping, audienceClaim: settings?.audienceClaim ?? preset.audienceClaim, issuers };
}
