/**
 * Each provider preset against tokens shaped as that provider issues them
 * (claim names, nesting, types, issuer and audience forms from its docs),
 * signed by the local issuer and verified through `createAuthenticator` with
 * the key set served over loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JWTPayload } from "jose";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";
import { createAuthenticator } from "../../src/authenticate/create-authenticator.ts";
import { readConfig } from "../../src/config/read-config.ts";
import { AuthError } from "../../src/errors.ts";
import type { Principal } from "../../src/tenant/principal.ts";

let issuer: LocalIssuer;
beforeAll(async () => {
  issuer = await startLocalIssuer();
});
afterAll(async () => {
  await issuer.close();
});

const now = () => Math.floor(Date.now() / 1000);

/** Authenticate one request carrying `claims` (exactly these, no defaults) under `env`. */
async function authenticate(env: Record<string, string>, claims: JWTPayload): Promise<Principal> {
  const config = readConfig({ AUTH_JWKS_URL: issuer.jwksUrl, ...env });
  const authenticator = createAuthenticator({ config });
  const token = await issuer.sign({ iss: undefined, aud: undefined, ...claims });
  return authenticator.authenticateRequest(
    new Request("http://127.0.0.1/threads", { headers: { authorization: `Bearer ${token}` } }),
  );
}

async function refusal(env: Record<string, string>, claims: JWTPayload): Promise<AuthError> {
  const error = await authenticate(env, claims).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AuthError);
  return error as AuthError;
}

describe("auth0", () => {
  const env = { AUTH_PROVIDER: "auth0", AUTH_ISSUER: "https://acme-dev.us.auth0.com/", AUTH_AUDIENCE: "https://api.acme.example/langgraph" };
  // An access token for a custom API with RBAC "Add Permissions in the Access
  // Token" on and the user logged in through an Organization.
  const token = {
    iss: "https://acme-dev.us.auth0.com/",
    sub: "auth0|6512f0c9e2b1a3d4c5e6f7a8",
    aud: ["https://api.acme.example/langgraph", "https://acme-dev.us.auth0.com/userinfo"],
    iat: now(),
    exp: now() + 86400,
    azp: "Xq2nY7sKp1LmN0oPqRsTuVwXyZ012345",
    scope: "openid profile email threads:read",
    org_id: "org_9ybsU1dN2dKfDkBi",
    permissions: ["threads:read", "threads:write", "store:read"],
  };

  it("takes the tenant from org_id and permissions from scope and the permissions array", async () => {
    const principal = await authenticate(env, token);
    expect(principal.tenant_id).toBe("org_9ybsU1dN2dKfDkBi");
    expect(principal.identity).toBe("auth0|6512f0c9e2b1a3d4c5e6f7a8");
    expect(principal.permissions).toEqual(expect.arrayContaining(["threads:read", "threads:write", "store:read"]));
    expect(principal.permissions).not.toContain("store:write");
  });

  it("refuses a token issued outside an organization (no org_id)", async () => {
    const { org_id: _omit, ...noOrg } = token;
    const error = await refusal(env, noOrg);
    expect(error.status).toBe(401);
    expect(error.message).toContain('missing tenant claim "org_id"');
  });

  it("lets AUTH_TENANT_CLAIM beat the preset (a namespaced claim set by an Action)", async () => {
    const principal = await authenticate(
      { ...env, AUTH_TENANT_CLAIM: "https://acme.example/tenant" },
      { ...token, "https://acme.example/tenant": "acme-eu" },
    );
    expect(principal.tenant_id).toBe("acme-eu");
  });

  it("refuses the issuer without its trailing slash (Auth0's iss ends in /)", async () => {
    const error = await refusal(env, { ...token, iss: "https://acme-dev.us.auth0.com" });
    expect(error.message).toContain('"iss"');
  });
});

describe("clerk", () => {
  const env = { AUTH_PROVIDER: "clerk", AUTH_ISSUER: "https://clerk.acme.example", AUTH_AUDIENCE: "https://app.acme.example" };
  // A session token (v1 organization claims) as Clerk's docs show it.
  const token = {
    azp: "https://app.acme.example",
    exp: now() + 60,
    iat: now(),
    iss: "https://clerk.acme.example",
    nbf: now() - 10,
    sid: "sess_2Z9yQ3x1pL0mK8jH7gF6dS5aA4",
    sub: "user_2NNEqL2nrIRdJ194ndJqAHwEfxC",
    org_id: "org_2Z1Wq8rT5yU3iO9pA7sD4fG6hJ",
    org_slug: "acme",
    org_role: "org:member",
    org_permissions: ["org:store:read"],
  };

  it("grants org:member's permissions and strips org: from custom permissions", async () => {
    const principal = await authenticate(env, token);
    expect(principal.tenant_id).toBe("org_2Z1Wq8rT5yU3iO9pA7sD4fG6hJ");
    expect(principal.roles).toEqual(["org:member"]);
    expect(principal.permissions).toEqual(expect.arrayContaining(["threads:read", "threads:write", "store:read", "store:write"]));
    expect(principal.permissions).not.toContain("assistants:write");
  });

  it("gives org:admin every permission", async () => {
    const principal = await authenticate(env, { ...token, org_role: "org:admin", org_permissions: [] });
    expect(principal.permissions).toEqual(expect.arrayContaining(["assistants:write", "crons:write"]));
  });

  it("checks azp (Clerk issues no aud) and refuses another origin or none", async () => {
    expect((await refusal(env, { ...token, azp: "https://evil.example" })).message).toContain('unexpected "azp"');
    const { azp: _omit, ...noAzp } = token;
    expect((await refusal(env, noAzp)).message).toContain('missing required "azp"');
  });

  it("reads a v2 session token's compact o claim when told where (o.id, o.rol)", async () => {
    const { org_id: _a, org_role: _b, org_slug: _c, org_permissions: _d, ...rest } = token;
    const principal = await authenticate(
      { ...env, AUTH_TENANT_CLAIM: "o.id", AUTH_ROLE_CLAIMS: "o.rol" },
      { ...rest, v: 2, fva: [0, -1], o: { id: "org_2Z1Wq8rT5yU3iO9pA7sD4fG6hJ", rol: "admin", slg: "acme" } },
    );
    expect(principal.tenant_id).toBe("org_2Z1Wq8rT5yU3iO9pA7sD4fG6hJ");
    expect(principal.permissions).toEqual(expect.arrayContaining(["assistants:write", "store:write"]));
  });

  it("lets a JWT template with aud be checked with AUTH_AUDIENCE_CLAIM=aud", async () => {
    const principal = await authenticate(
      { ...env, AUTH_AUDIENCE_CLAIM: "aud", AUTH_AUDIENCE: "langgraph-api" },
      { ...token, azp: undefined, aud: "langgraph-api" },
    );
    expect(principal.tenant_id).toBe("org_2Z1Wq8rT5yU3iO9pA7sD4fG6hJ");
  });
});

describe("supabase", () => {
  const ref = "abcdefghijklmnopqrst";
  const env = { AUTH_PROVIDER: "supabase", AUTH_ISSUER: `https://${ref}.supabase.co/auth/v1`, AUTH_AUDIENCE: "authenticated" };
  const token = {
    iss: `https://${ref}.supabase.co/auth/v1`,
    sub: "8ccaa7af-909f-44e7-84cb-67cdccb56be6",
    aud: "authenticated",
    exp: now() + 3600,
    iat: now(),
    email: "alice@acme.example",
    phone: "",
    app_metadata: { provider: "email", providers: ["email"], tenant_id: "acme", roles: ["viewer"] },
    user_metadata: { email_verified: true },
    role: "authenticated",
    aal: "aal1",
    amr: [{ method: "password", timestamp: now() }],
    session_id: "a1b2c3d4-0000-4000-8000-000000000001",
    is_anonymous: false,
  };

  it("reads tenant and roles from app_metadata", async () => {
    const principal = await authenticate(env, token);
    expect(principal.tenant_id).toBe("acme");
    expect(principal.roles).toEqual(["viewer"]);
    expect(principal.permissions).toEqual(expect.arrayContaining(["threads:read", "store:read"]));
    expect(principal.permissions).not.toContain("threads:write");
  });

  it("never takes the tenant from user_metadata, which the user can edit", async () => {
    const error = await refusal(env, {
      ...token,
      app_metadata: { provider: "email", providers: ["email"] },
      user_metadata: { tenant_id: "acme" },
    });
    expect(error.message).toContain('missing tenant claim "app_metadata.tenant_id"');
  });

  it("refuses tokens whose Postgres role is not authenticated (anon, service_role)", async () => {
    for (const role of ["anon", "service_role"]) {
      expect((await refusal(env, { ...token, role })).message).toContain('"role"');
    }
  });
});

describe("entra", () => {
  const tid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
  const apiClientId = "6e74172b-be56-4843-9ff4-e66a39bb12e3";
  const env = {
    AUTH_PROVIDER: "entra",
    AUTH_ISSUER: `https://login.microsoftonline.com/${tid}/v2.0`,
    AUTH_AUDIENCE: `${apiClientId},api://${apiClientId}`,
  };
  // A v2.0 delegated access token.
  const v2 = {
    aud: apiClientId,
    iss: `https://login.microsoftonline.com/${tid}/v2.0`,
    iat: now(),
    nbf: now(),
    exp: now() + 3600,
    aio: "AWQAm/8TAAAA",
    azp: "a0c1f2e3-1111-4222-8333-944455566677",
    azpacr: "0",
    name: "Alice Example",
    oid: "690222be-ff1a-4d56-abd1-7e4f7d38e474",
    preferred_username: "alice@acme.example",
    rh: "0.AXEAv4j5cvGGr0GRqy180BHbRw.",
    scp: "Threads.ReadWrite Store.Read",
    sub: "MF4f-ggWMEji12KynJUNQZphaUTvLcQug5jdF2nl01Q",
    tid,
    uti: "fqiBqXLPj0eQa82S-IYFAA",
    ver: "2.0",
  };
  // The same directory's v1.0 token (API with accessTokenAcceptedVersion null/1).
  const v1 = {
    aud: `api://${apiClientId}`,
    iss: `https://sts.windows.net/${tid}/`,
    iat: now(),
    nbf: now(),
    exp: now() + 3600,
    appid: "a0c1f2e3-1111-4222-8333-944455566677",
    appidacr: "0",
    name: "Alice Example",
    oid: "690222be-ff1a-4d56-abd1-7e4f7d38e474",
    scp: "Threads.Read",
    sub: "l3_roISQU222bULS9yi2k0XpqpOiMz5H3ZACo1GeXA",
    tid,
    unique_name: "alice@acme.example",
    upn: "alice@acme.example",
    ver: "1.0",
  };

  it("accepts a v2.0 token and maps Resource.Operation scopes to permissions", async () => {
    const principal = await authenticate(env, v2);
    expect(principal.tenant_id).toBe(tid);
    expect(principal.permissions).toEqual(expect.arrayContaining(["threads:read", "threads:write", "store:read"]));
    expect(principal.permissions).not.toContain("store:write");
  });

  it("accepts the same directory's v1.0 issuer form", async () => {
    const principal = await authenticate(env, v1);
    expect(principal.tenant_id).toBe(tid);
    expect(principal.permissions).toContain("threads:read");
    expect(principal.permissions).not.toContain("threads:write");
  });

  it("accepts an app-only token whose app roles are in roles", async () => {
    const { scp: _omit, ...appOnly } = v2;
    const principal = await authenticate(env, { ...appOnly, roles: ["Assistants.ReadWrite"], idtyp: "app" });
    expect(principal.permissions).toEqual(expect.arrayContaining(["assistants:read", "assistants:write"]));
  });

  it("refuses an ID token (no scp, no roles)", async () => {
    const { scp: _omit, ...idToken } = v2;
    expect((await refusal(env, { ...idToken, nonce: "n-0S6_WzA2Mj" })).message).toContain('"scp" or "roles"');
  });

  it("refuses another directory's issuer, and a tid that does not match the issuer", async () => {
    const other = "11111111-2222-4333-8444-555555555555";
    expect((await refusal(env, { ...v2, iss: `https://login.microsoftonline.com/${other}/v2.0`, tid: other })).message).toContain('"iss"');
    expect((await refusal(env, { ...v2, tid: other })).message).toContain("does not match the token's issuer");
  });

  it("drops the issuer check when AUTH_TENANT_CLAIM moves the tenant elsewhere", async () => {
    const principal = await authenticate({ ...env, AUTH_TENANT_CLAIM: "extn.tenant" }, { ...v2, "extn.tenant": "acme" });
    expect(principal.tenant_id).toBe("acme");
  });

  it("accepts a listed customer directory with AUTH_ADDITIONAL_ISSUERS (multi-tenant app)", async () => {
    const other = "11111111-2222-4333-8444-555555555555";
    const principal = await authenticate(
      { ...env, AUTH_ADDITIONAL_ISSUERS: `https://sts.windows.net/${other}/` },
      { ...v2, iss: `https://login.microsoftonline.com/${other}/v2.0`, tid: other },
    );
    expect(principal.tenant_id).toBe(other);
  });
});

describe("keycloak", () => {
  const env = { AUTH_PROVIDER: "keycloak", AUTH_ISSUER: "https://sso.acme.example/realms/saas", AUTH_AUDIENCE: "langgraph-api" };
  const token = {
    exp: now() + 300,
    iat: now(),
    jti: "onrtac:5f1d7a5e-3c1b-4b7e-9d0a-2f6e8c1b3a4d",
    iss: "https://sso.acme.example/realms/saas",
    aud: ["langgraph-api", "account"],
    sub: "f3b2c1d0-7e6f-4a5b-9c8d-1e2f3a4b5c6d",
    typ: "Bearer",
    azp: "langgraph-web",
    sid: "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f",
    acr: "1",
    "allowed-origins": ["https://app.acme.example"],
    realm_access: { roles: ["default-roles-saas", "offline_access", "uma_authorization", "viewer"] },
    resource_access: { "langgraph-api": { roles: ["admin"] }, account: { roles: ["manage-account", "view-profile"] } },
    scope: "openid organization profile email",
    email_verified: true,
    preferred_username: "alice",
    organization: ["acme"],
  };

  it("reads the organization alias list, realm roles and the API client's roles", async () => {
    const principal = await authenticate(env, token);
    expect(principal.tenant_id).toBe("acme");
    expect(principal.roles).toEqual(expect.arrayContaining(["viewer", "admin"]));
    expect(principal.roles).not.toContain("manage-account");
    expect(principal.permissions).toEqual(expect.arrayContaining(["assistants:write", "store:write"]));
  });

  it("reads the map form of organization (with ids) and refuses two organizations", async () => {
    const principal = await authenticate(env, { ...token, organization: { acme: { id: "7d1c2b3a-0000-4000-8000-000000000002" } } });
    expect(principal.tenant_id).toBe("acme");
    expect((await refusal(env, { ...token, organization: ["acme", "globex"] })).message).toContain("more than one tenant");
  });

  it("grants nothing for a scope named like a role (grants apply to roles only)", async () => {
    const principal = await authenticate(env, {
      ...token,
      scope: "openid admin",
      realm_access: { roles: ["viewer"] },
      resource_access: {},
    });
    expect(principal.permissions).toContain("admin");
    expect(principal.permissions).not.toContain("threads:write");
  });

  it("refuses an ID token (typ ID) and a refresh token", async () => {
    expect((await refusal(env, { ...token, typ: "ID" })).message).toContain('"typ"');
    expect((await refusal(env, { ...token, typ: "Refresh" })).message).toContain('"typ"');
  });
});

describe("okta", () => {
  const env = { AUTH_PROVIDER: "okta", AUTH_ISSUER: "https://dev-133337.okta.com/oauth2/default", AUTH_AUDIENCE: "api://default" };
  const token = {
    ver: 1,
    jti: "AT.0mP4JKAZX1iACIT4vbEDF7LpvDVjxypPMf0D7uX39RE",
    iss: "https://dev-133337.okta.com/oauth2/default",
    aud: "api://default",
    iat: now(),
    exp: now() + 3600,
    cid: "0oa1gjh63g214q0Hq0g4",
    uid: "00ujmkLgOPkaA2Hk60g3",
    scp: ["openid", "threads:read", "threads:write"],
    auth_time: now() - 30,
    sub: "alice@acme.example",
    tenant_id: "acme",
    groups: ["Everyone", "viewer"],
  };

  it("reads the scp array, the tenant_id custom claim and groups", async () => {
    const principal = await authenticate(env, token);
    expect(principal.tenant_id).toBe("acme");
    expect(principal.permissions).toEqual(expect.arrayContaining(["threads:read", "threads:write", "store:read"]));
    expect(principal.permissions).not.toContain("store:write");
  });

  it("refuses a token without scp (an ID token has none)", async () => {
    const { scp: _omit, ...noScp } = token;
    expect((await refusal(env, { ...noScp, aud: "api://default" })).message).toContain('"scp"');
  });
});

describe("cognito", () => {
  const pool = "eu-west-1_AbCdEfGhI";
  const env = {
    AUTH_PROVIDER: "cognito",
    AUTH_ISSUER: `https://cognito-idp.eu-west-1.amazonaws.com/${pool}`,
    AUTH_AUDIENCE: "1example23456789abcdefghij",
  };
  // An access token after a pre token generation trigger (v2) added the tenant.
  const token = {
    sub: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
    "cognito:groups": ["member"],
    iss: `https://cognito-idp.eu-west-1.amazonaws.com/${pool}`,
    version: 2,
    client_id: "1example23456789abcdefghij",
    origin_jti: "bbbbbbbb-cccc-dddd-eeee-ffffffffffff",
    event_id: "cccccccc-dddd-eeee-ffff-aaaaaaaaaaaa",
    token_use: "access",
    scope: "aws.cognito.signin.user.admin langgraph/assistants:write",
    auth_time: now() - 5,
    exp: now() + 3600,
    iat: now(),
    jti: "dddddddd-eeee-ffff-aaaa-bbbbbbbbbbbb",
    username: "alice",
    "custom:tenant_id": "acme",
  };

  it("checks client_id as the audience (no aud) and maps cognito:groups", async () => {
    const principal = await authenticate(env, token);
    expect(principal.tenant_id).toBe("acme");
    expect(principal.roles).toEqual(["member"]);
    expect(principal.permissions).toEqual(expect.arrayContaining(["threads:write", "store:write"]));
    expect(principal.permissions).not.toContain("assistants:write");
  });

  it("strips a resource server prefix only when told to", async () => {
    const principal = await authenticate({ ...env, AUTH_PERMISSION_PREFIXES: "langgraph/" }, token);
    expect(principal.permissions).toContain("assistants:write");
  });

  it("refuses an ID token (token_use id, aud = client) and another app client", async () => {
    const { client_id: clientId, ...rest } = token;
    // A real ID token names the client in aud, so the audience check already refuses it…
    const idToken = await refusal(env, { ...rest, aud: clientId, token_use: "id" });
    expect([idToken.status, idToken.message]).toEqual([401, 'invalid_token: missing required "client_id" claim']);
    // …and token_use is checked on its own, whatever else the token carries.
    expect((await refusal(env, { ...token, token_use: "id" })).message).toContain('"token_use"');
    expect((await refusal(env, { ...token, client_id: "7otherclient0000000000000" })).message).toContain('unexpected "client_id"');
  });
});

describe("workos", () => {
  const env = { AUTH_PROVIDER: "workos", AUTH_ISSUER: "https://auth.acme.example", AUTH_AUDIENCE: "client_01HXYZ4Q5R6S7T8V9W0X1Y2Z3A" };
  const token = {
    iss: "https://auth.acme.example",
    aud: "client_01HXYZ4Q5R6S7T8V9W0X1Y2Z3A",
    sub: "user_01HBEQKA6K4QJAS93VPE39W1JT",
    org_id: "org_01HRDMC6CM357W30QMHMQ96Q0S",
    role: "member",
    roles: ["member"],
    permissions: ["assistants:write"],
    entitlements: ["audit-logs"],
    sid: "session_01HQSXZGF8FHF7A9ZZFCW4387R",
    jti: "01HQSXZXPPFPKMDD32RKTFY6PV",
    exp: now() + 300,
    iat: now(),
  };

  it("reads org_id, the role slug and permissions", async () => {
    const principal = await authenticate(env, token);
    expect(principal.tenant_id).toBe("org_01HRDMC6CM357W30QMHMQ96Q0S");
    expect(principal.roles).toEqual(["member"]);
    expect(principal.permissions).toEqual(expect.arrayContaining(["assistants:write", "threads:write", "store:read"]));
  });

  it("replaces role grants with AUTH_ROLE_PERMISSIONS", async () => {
    const principal = await authenticate({ ...env, AUTH_ROLE_PERMISSIONS: '{"member":["threads:read"]}' }, { ...token, permissions: [] });
    expect(principal.permissions).toEqual(["threads:read"]);
  });
});

describe("generic (the default)", () => {
  it("keeps the foundation's convention: org_id, scope, permissions, roles without grants", async () => {
    const principal = await authenticate(
      { AUTH_ISSUER: issuer.issuer, AUTH_AUDIENCE: issuer.audience },
      { iss: issuer.issuer, aud: issuer.audience, sub: "alice", org_id: "acme", scope: "threads:read", roles: ["admin"] },
    );
    expect(principal.tenant_id).toBe("acme");
    expect(principal.permissions).toEqual(["threads:read"]);
  });

  it("refuses an unknown AUTH_PROVIDER and a malformed AUTH_ROLE_PERMISSIONS at start-up", () => {
    const base = { AUTH_ISSUER: issuer.issuer, AUTH_AUDIENCE: issuer.audience };
    expect(() => readConfig({ ...base, AUTH_PROVIDER: "ping" })).toThrow(/AUTH_PROVIDER must be one of/);
    expect(() => readConfig({ ...base, AUTH_ROLE_PERMISSIONS: "admin=all" })).toThrow(/AUTH_ROLE_PERMISSIONS must be a JSON object/);
    expect(() => readConfig({ ...base, AUTH_ADDITIONAL_ISSUERS: "http://idp.example" })).toThrow(/AUTH_ADDITIONAL_ISSUERS/);
  });
});
