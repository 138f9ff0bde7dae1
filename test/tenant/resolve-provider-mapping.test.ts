/**
 * `resolveProviderMapping` and `entraIssuerForms` as plain functions: what a
 * preset gives, what each setting overrides, and what stays the preset's.
 * (`provider-presets.test.ts` checks the presets end to end with signed tokens.)
 */
import { describe, expect, it } from "vitest";
import type { ProviderSettings } from "../../src/config/provider-variables.ts";
import { DEFAULT_CLAIM_MAPPING } from "../../src/tenant/principal.ts";
import { entraIssuerForms, PROVIDER_PRESETS, resolveProviderMapping } from "../../src/tenant/provider-presets.ts";

const TID = "9188040d-6c67-4c5b-b112-36a304b66dad";
const V2 = `https://login.microsoftonline.com/${TID}/v2.0`;
const V1 = `https://sts.windows.net/${TID}/`;
const ISSUER = "https://id.example.com/";

const settings = (fields: Partial<ProviderSettings>): ProviderSettings => ({
  name: "generic",
  tenantClaim: undefined,
  audienceClaim: undefined,
  scopeClaims: undefined,
  permissionClaims: undefined,
  roleClaims: undefined,
  permissionPrefixes: undefined,
  rolePermissions: undefined,
  requiredClaims: undefined,
  additionalIssuers: [],
  ...fields,
});

describe("entraIssuerForms", () => {
  it("gives both forms of a directory from either one, in the same order", () => {
    expect(entraIssuerForms(V2)).toEqual([V2, V1]);
    expect(entraIssuerForms(V1)).toEqual([V2, V1]);
    expect(entraIssuerForms(V1.toUpperCase().replace("HTTPS://STS.WINDOWS.NET", "https://sts.windows.net"))).toEqual([
      `https://login.microsoftonline.com/${TID.toUpperCase()}/v2.0`, `https://sts.windows.net/${TID.toUpperCase()}/`,
    ]);
  });

  it("leaves any other issuer alone", () => {
    for (const issuer of [ISSUER, `${V2}/`, V1.slice(0, -1), `https://login.microsoftonline.com/${TID.slice(1)}/v2.0`, `x${V2}`, "https://login.microsoftonline.com/common/v2.0"]) {
      expect(entraIssuerForms(issuer), issuer).toEqual([issuer]);
    }
  });
});

describe("resolveProviderMapping", () => {
  it("no settings: the default mapping, the tenant claim of the context (AUTH_TENANT_CLAIM) when given", () => {
    const resolved = resolveProviderMapping(undefined, { issuer: ISSUER, audience: ["api"] });
    expect(resolved).toEqual({ mapping: { ...DEFAULT_CLAIM_MAPPING, tenantInIssuer: false }, audienceClaim: "aud", issuers: [ISSUER] });
    for (const key of ["checks", "grants", "permissionPrefixes"]) expect(Object.hasOwn(resolved.mapping, key), key).toBe(false);
    expect(resolveProviderMapping(undefined, { issuer: ISSUER, audience: [], tenantClaim: "tid" }).mapping.tenantClaim).toBe("tid");
  });

  it("with settings, the tenant claim is the setting's, else the preset's (the context's is not read)", () => {
    expect(resolveProviderMapping(settings({ name: "cognito" }), { issuer: ISSUER, audience: [], tenantClaim: "tid" }).mapping.tenantClaim).toBe("custom:tenant_id");
    expect(resolveProviderMapping(settings({ name: "cognito", tenantClaim: "custom:org" }), { issuer: ISSUER, audience: [] }).mapping.tenantClaim).toBe("custom:org");
  });

  it("refuses an unknown provider, naming it", () => {
    expect(() => resolveProviderMapping(settings({ name: "nope" as never }), { issuer: ISSUER, audience: [] })).toThrow(new TypeError('AUTH_PROVIDER: unknown provider "nope"'));
  });

  it("expands {audience} in a role claim once per audience, every occurrence", () => {
    const keycloak = resolveProviderMapping(settings({ name: "keycloak" }), { issuer: ISSUER, audience: ["api", "web"] });
    expect(keycloak.mapping.roleClaims).toEqual(["realm_access.roles", "resource_access.api.roles", "resource_access.web.roles"]);
    expect(resolveProviderMapping(settings({ name: "keycloak" }), { issuer: ISSUER, audience: [] }).mapping.roleClaims).toEqual(["realm_access.roles"]);
    expect(resolveProviderMapping(settings({ roleClaims: ["x.{audience}.{audience}", "plain"] }), { issuer: ISSUER, audience: ["a"] }).mapping.roleClaims).toEqual(["x.a.a", "plain"]);
  });

  it("requiredClaims replace the preset's checks; without them the preset's stay", () => {
    const cognito = resolveProviderMapping(settings({ name: "cognito" }), { issuer: ISSUER, audience: [] });
    expect(cognito.mapping.checks).toEqual(PROVIDER_PRESETS.cognito.mapping.checks);
    const custom = resolveProviderMapping(settings({ name: "cognito", requiredClaims: [{ claim: "scope_kind", oneOf: ["api"] }] as never }), { issuer: ISSUER, audience: [] });
    expect(custom.mapping.checks).toEqual([{ claims: ["scope_kind"], oneOf: ["api"], description: 'the "scope_kind" claim does not have an accepted value' }]);
  });

  it("the issuer check of Entra stays only while the tenant claim is the preset's", () => {
    const context = { issuer: V2, audience: [] };
    expect(resolveProviderMapping(settings({ name: "entra" }), context).mapping.tenantInIssuer).toBe(true);
    expect(resolveProviderMapping(settings({ name: "entra", tenantClaim: "tid" }), context).mapping.tenantInIssuer).toBe(true);
    expect(resolveProviderMapping(settings({ name: "entra", tenantClaim: "org" }), context).mapping.tenantInIssuer).toBe(false);
    expect(resolveProviderMapping(settings({ name: "cognito" }), context).mapping.tenantInIssuer).toBe(false);
  });

  it("each claim setting beats the preset; an unset one keeps the preset's, prefixes and grants included", () => {
    const clerk = PROVIDER_PRESETS.clerk.mapping;
    const kept = resolveProviderMapping(settings({ name: "clerk" }), { issuer: ISSUER, audience: [] });
    expect(kept.mapping).toEqual({ ...clerk, tenantInIssuer: false, roleClaims: clerk.roleClaims });
    expect(kept.mapping.permissionPrefixes).toEqual(["org:"]);
    expect(kept.mapping.grants).toEqual(clerk.grants);
    expect(kept.audienceClaim).toBe("azp");
    const overridden = resolveProviderMapping(
      settings({ name: "clerk", scopeClaims: ["scp"], permissionClaims: ["perms"], permissionPrefixes: ["app:"], rolePermissions: { boss: ["threads:read"] }, audienceClaim: "aud" }),
      { issuer: ISSUER, audience: [] },
    );
    expect(overridden.mapping).toMatchObject({ scopeClaims: ["scp"], permissionClaims: ["perms"], permissionPrefixes: ["app:"], grants: { boss: ["threads:read"] } });
    expect(overridden.audienceClaim).toBe("aud");
    expect(resolveProviderMapping(settings({ name: "cognito" }), { issuer: ISSUER, audience: [] }).audienceClaim).toBe("client_id");
  });

  it("issuers: the configured one, its other forms, and each additional issuer with its forms, once each", () => {
    expect(resolveProviderMapping(settings({ name: "entra", additionalIssuers: [V1, "https://other.example/"] }), { issuer: V2, audience: [] }).issuers).toEqual([V2, V1, "https://other.example/"]);
    const other = "https://login.microsoftonline.com/00000000-0000-4000-8000-000000000000/v2.0";
    expect(resolveProviderMapping(settings({ name: "entra", additionalIssuers: [other] }), { issuer: V2, audience: [] }).issuers).toEqual([
      V2, V1, other, "https://sts.windows.net/00000000-0000-4000-8000-000000000000/",
    ]);
    expect(resolveProviderMapping(settings({ additionalIssuers: [V2, ISSUER] }), { issuer: ISSUER, audience: [] }).issuers).toEqual([ISSUER, V2]);
  });
});
