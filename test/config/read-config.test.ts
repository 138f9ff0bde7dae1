import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CONFIG_VARIABLES, DEFAULT_ALGORITHMS, readConfig } from "../../src/config/read-config.ts";
import { isLoopbackHost, isSecureOrLoopbackUrl } from "../../src/config/is-loopback-url.ts";
import { ConfigError } from "../../src/errors.ts";
import { configProblems } from "../support/config-problems.ts";

const BASE = { AUTH_ISSUER: "https://id.example.com/", AUTH_AUDIENCE: "https://api.example.com" };

const problemsOf = configProblems;

describe("readConfig", () => {
  it("applies every default when only issuer and audience are set", () => {
    expect(readConfig(BASE)).toEqual({
      issuer: "https://id.example.com/",
      audience: ["https://api.example.com"],
      jwksUrl: undefined,
      tenantClaim: "org_id",
      algorithms: [...DEFAULT_ALGORITHMS],
      clockToleranceSeconds: 5,
      tenantMode: "multi",
      singleTenantId: "default",
      visibility: "tenant",
      routePermissions: {},
      provider: {
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
      },
      issuers: ["https://id.example.com/"],
      requiredTyp: undefined,
      maxTokenAgeSeconds: undefined,
      maxTokenBytes: 8192,
      jwksTimeoutMs: 5000,
      jwksMaxAgeSeconds: 600,
      jwksCooldownSeconds: 30,
      jwksStaleIfErrorSeconds: 86400,
      tokenCache: { enabled: true, maxEntries: 10_000, maxAgeSeconds: 300 },
      server: undefined,
      studioAccess: "none",
      systemAssistants: "visible",
      decisionLog: { mode: "refusals", sink: "stderr", windowSeconds: 60, burst: 20 },
      metrics: { tenantLabel: false },
    });
    expect(DEFAULT_ALGORITHMS).toEqual(["RS256", "PS256", "ES256", "EdDSA"]);
  });

  it("reads every variable", () => {
    const config = readConfig({
      AUTH_ISSUER: "https://tenant.eu.auth0.com/",
      AUTH_AUDIENCE: "api-one, api-two ,",
      AUTH_JWKS_URL: "https://keys.example.com/jwks.json",
      AUTH_TENANT_CLAIM: "https://example.com/org",
      AUTH_ALGORITHMS: "ES256, EdDSA",
      AUTH_CLOCK_TOLERANCE: " 30 ",
      AUTH_TENANT_MODE: "single",
      AUTH_SINGLE_TENANT_ID: "acme.corp_1-x",
      AUTH_VISIBILITY: "owner",
      AUTH_TOKEN_CACHE: "off",
      AUTH_TOKEN_CACHE_MAX_ENTRIES: "50",
      AUTH_TOKEN_CACHE_MAX_AGE: "60",
      AUTH_ROUTE_PERMISSIONS: "truncate=admin:truncate",
      AUTH_PROVIDER: "cognito",
      AUTH_AUDIENCE_CLAIM: "client_id",
      AUTH_SCOPE_CLAIMS: "scope, scp",
      AUTH_PERMISSION_CLAIMS: "none",
      AUTH_ROLE_CLAIMS: "cognito:groups",
      AUTH_PERMISSION_PREFIXES: "langgraph/",
      AUTH_ROLE_PERMISSIONS: '{"admin":["threads:read","threads:write"],"viewer":"threads:read store:read"}',
      AUTH_REQUIRED_CLAIMS: "token_use=access,typ=Bearer|JWT",
      AUTH_ADDITIONAL_ISSUERS: "https://other.example.com/, http://127.0.0.1:9400",
      AUTH_SERVER: "platform",
      AUTH_STUDIO_ACCESS: "operator",
      AUTH_SYSTEM_ASSISTANTS: "hidden",
      AUTH_DECISION_LOG: " ALL ",
      AUTH_DECISION_LOG_SINK: "audit",
      // A file this process could create (checked at start, never created by readConfig).
      AUDIT_LOG_FILE: join(tmpdir(), "read-config-test-audit.jsonl"),
      AUTH_DECISION_LOG_WINDOW: "5",
      AUTH_DECISION_LOG_BURST: "0",
      AUTH_METRICS_TENANT_LABEL: " TRUE ",
    });
    expect(config).toEqual({
      issuer: "https://tenant.eu.auth0.com/",
      audience: ["api-one", "api-two"],
      jwksUrl: "https://keys.example.com/jwks.json",
      tenantClaim: "https://example.com/org",
      algorithms: ["ES256", "EdDSA"],
      clockToleranceSeconds: 30,
      tenantMode: "single",
      singleTenantId: "acme.corp_1-x",
      visibility: "owner",
      routePermissions: { truncate: "admin:truncate" },
      provider: {
        name: "cognito",
        tenantClaim: "https://example.com/org",
        audienceClaim: "client_id",
        scopeClaims: ["scope", "scp"],
        permissionClaims: [],
        roleClaims: ["cognito:groups"],
        permissionPrefixes: ["langgraph/"],
        rolePermissions: { admin: ["threads:read", "threads:write"], viewer: ["threads:read", "store:read"] },
        requiredClaims: [
          { claim: "token_use", oneOf: ["access"] },
          { claim: "typ", oneOf: ["Bearer", "JWT"] },
        ],
        additionalIssuers: ["https://other.example.com/", "http://127.0.0.1:9400"],
      },
      issuers: ["https://tenant.eu.auth0.com/"],
      requiredTyp: undefined,
      maxTokenAgeSeconds: undefined,
      maxTokenBytes: 8192,
      jwksTimeoutMs: 5000,
      jwksMaxAgeSeconds: 600,
      jwksCooldownSeconds: 30,
      jwksStaleIfErrorSeconds: 86400,
      tokenCache: { enabled: false, maxEntries: 50, maxAgeSeconds: 60 },
      server: "platform",
      studioAccess: "operator",
      systemAssistants: "hidden",
      decisionLog: { mode: "all", sink: "audit", windowSeconds: 5, burst: 0 },
      metrics: { tenantLabel: true },
    });
  });

  it("lists the variables it reads", () => {
    expect([...CONFIG_VARIABLES].sort()).toEqual(
      [
        "AUTH_ALGORITHMS", "AUTH_AUDIENCE", "AUTH_CLOCK_TOLERANCE", "AUTH_ISSUER", "AUTH_JWKS_URL",
        "AUTH_SINGLE_TENANT_ID", "AUTH_TENANT_CLAIM", "AUTH_TENANT_MODE", "AUTH_VISIBILITY", "AUTH_ROUTE_PERMISSIONS",
        // src/config/provider-variables.ts
        "AUTH_PROVIDER", "AUTH_AUDIENCE_CLAIM", "AUTH_SCOPE_CLAIMS", "AUTH_PERMISSION_CLAIMS", "AUTH_ROLE_CLAIMS",
        "AUTH_PERMISSION_PREFIXES", "AUTH_ROLE_PERMISSIONS", "AUTH_REQUIRED_CLAIMS", "AUTH_ADDITIONAL_ISSUERS",
        // token-cache-config.ts
        "AUTH_TOKEN_CACHE", "AUTH_TOKEN_CACHE_MAX_ENTRIES", "AUTH_TOKEN_CACHE_MAX_AGE",
        // verification-env.ts
        "AUTH_REQUIRED_TYP", "AUTH_MAX_TOKEN_AGE", "AUTH_MAX_TOKEN_BYTES",
        "AUTH_JWKS_TIMEOUT_MS", "AUTH_JWKS_MAX_AGE", "AUTH_JWKS_COOLDOWN", "AUTH_JWKS_STALE_IF_ERROR",
        // the host (src/langgraph/detect-host.ts) and Studio on the platform
        "AUTH_SERVER", "AUTH_STUDIO_ACCESS", "AUTH_SYSTEM_ASSISTANTS",
        // custom-routes-variable.ts
        "AUTH_CUSTOM_ROUTES",
        // decision-log-config.ts
        "AUTH_DECISION_LOG", "AUTH_DECISION_LOG_SINK", "AUTH_DECISION_LOG_WINDOW", "AUTH_DECISION_LOG_BURST",
        // metrics-config.ts
        "AUTH_METRICS_TENANT_LABEL",
      ].sort(),
    );
  });

  it("names every bad variable in one message", () => {
    let error: ConfigError | undefined;
    try {
      readConfig({
        AUTH_JWKS_URL: "http://keys.example.com/jwks.json",
        AUTH_TENANT_CLAIM: "has space",
        AUTH_ALGORITHMS: "HS256,none,RS256",
        AUTH_CLOCK_TOLERANCE: "-1",
        AUTH_TENANT_MODE: "many",
        AUTH_SINGLE_TENANT_ID: "a::b",
        AUTH_VISIBILITY: "public",
        AUTH_TOKEN_CACHE: "sometimes",
        AUTH_TOKEN_CACHE_MAX_ENTRIES: "0",
        AUTH_TOKEN_CACHE_MAX_AGE: "forever",
        AUTH_ROUTE_PERMISSIONS: "truncate",
        AUTH_PROVIDER: "ping",
        AUTH_AUDIENCE_CLAIM: "two words",
        AUTH_SCOPE_CLAIMS: "scope, has space",
        AUTH_PERMISSION_CLAIMS: "perms, bad claim",
        AUTH_ROLE_CLAIMS: "roles, bad claim",
        AUTH_PERMISSION_PREFIXES: "org:, bad prefix",
        AUTH_ROLE_PERMISSIONS: "[1,2]",
        AUTH_REQUIRED_CLAIMS: "token_use",
        AUTH_ADDITIONAL_ISSUERS: "http://idp.example.com",
        AUTH_REQUIRED_TYP: "at jwt",
        AUTH_MAX_TOKEN_AGE: "1h",
        AUTH_MAX_TOKEN_BYTES: "1",
        AUTH_JWKS_TIMEOUT_MS: "0",
        AUTH_JWKS_MAX_AGE: "0",
        AUTH_JWKS_COOLDOWN: "0",
        AUTH_JWKS_STALE_IF_ERROR: "0",
        AUTH_SERVER: "cloud",
        AUTH_STUDIO_ACCESS: "all",
        AUTH_SYSTEM_ASSISTANTS: "shown",
        AUTH_CUSTOM_ROUTES: "GET custom",
        AUTH_DECISION_LOG: "errors",
        AUTH_DECISION_LOG_SINK: "syslog",
        AUTH_DECISION_LOG_WINDOW: "0",
        AUTH_DECISION_LOG_BURST: "many",
        AUTH_METRICS_TENANT_LABEL: "yes",
      });
    } catch (caught) {
      error = caught as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = error!.message;
    expect(message.startsWith("invalid auth configuration:\n")).toBe(true);
    for (const name of CONFIG_VARIABLES) expect(message).toContain(name);
    expect(message).toContain("AUTH_ISSUER is required");
    expect(message).toContain("AUTH_AUDIENCE is required");
    expect(message).toContain("AUTH_JWKS_URL must use https");
    expect(message).toContain('AUTH_ALGORITHMS: "HS256" is refused');
    expect(message).toContain('AUTH_ALGORITHMS: "none" is refused');
    expect(message).toContain("AUTH_CLOCK_TOLERANCE must be a whole number of seconds from 0 to 300");
    expect(message).toContain('AUTH_TENANT_MODE must be "multi" or "single"');
    expect(message).toContain("AUTH_SINGLE_TENANT_ID must match");
    expect(message).toContain('AUTH_VISIBILITY must be "tenant" or "owner"');
    expect(message).toContain('AUTH_ROUTE_PERMISSIONS: "truncate" is not group=permission');
    expect(message).toContain('AUTH_SERVER must be "dev" (langgraph dev), "platform" (LangGraph Platform) or "js" (startServer)');
    expect(message).toContain('AUTH_STUDIO_ACCESS must be "none" or "operator"');
    expect(message).toContain('AUTH_SYSTEM_ASSISTANTS must be "visible" or "hidden"');
    expect(message).toContain('AUTH_DECISION_LOG must be "refusals", "all" or "off"');
    expect(message).toContain('AUTH_DECISION_LOG_SINK must be "stderr" or "audit"');
    expect(message).toContain("AUTH_DECISION_LOG_WINDOW must be a whole number of seconds from 1 to 3600");
    expect(message).toContain("AUTH_DECISION_LOG_BURST must be a whole number from 0 to 1000");
    expect(message).toContain('AUTH_METRICS_TENANT_LABEL must be "true" or "false"');
    // One line per problem, each starting with the variable it is about.
    for (const problem of error!.problems) expect(problem).toMatch(/^AUTH_[A-Z_]+/);
  });

  it("counts empty and blank values as unset (required ones fail, optional ones take defaults)", () => {
    expect(problemsOf({ AUTH_ISSUER: "", AUTH_AUDIENCE: "   " })).toEqual([
      "AUTH_ISSUER is required (an https URL, or http on a loopback host)",
      "AUTH_AUDIENCE is required (the API identifier tokens are issued for; comma-separated list allowed)",
    ]);
    const config = readConfig({ ...BASE, AUTH_ALGORITHMS: "", AUTH_TENANT_MODE: " ", AUTH_JWKS_URL: "" });
    expect(config.algorithms).toEqual([...DEFAULT_ALGORITHMS]);
    expect(config.tenantMode).toBe("multi");
    expect(config.jwksUrl).toBeUndefined();
  });

  it("refuses an audience list with no entries", () => {
    expect(problemsOf({ ...BASE, AUTH_AUDIENCE: " , ," })).toEqual(["AUTH_AUDIENCE must list at least one audience"]);
  });

  describe("issuer and key set URLs", () => {
    it.each([
      "https://id.example.com",
      "http://127.0.0.1:9400",
      "http://127.8.9.10/realms/x",
      "http://localhost:8080/",
      "http://[::1]:9000",
      "http://dev.localhost/",
    ])("accepts %s", (url) => {
      expect(readConfig({ ...BASE, AUTH_ISSUER: url, AUTH_JWKS_URL: url }).issuer).toBe(url);
    });

    it.each([
      ["http://id.example.com", "must use https"],
      ["http://10.0.0.1", "must use https"],
      ["http://128.0.0.1", "must use https"],
      ["http://127.0.0.1.example.com", "must use https"],
      ["http://[::2]", "must use https"],
      ["ftp://127.0.0.1", "must use https"],
      ["id.example.com", "must be an absolute URL"],
      ["https://user:secret@id.example.com", "must not contain a user name or password"],
    ])("refuses %s for both variables", (url, why) => {
      const problems = problemsOf({ ...BASE, AUTH_ISSUER: url, AUTH_JWKS_URL: url });
      expect(problems).toContain(`AUTH_ISSUER ${why}${why === "must use https" ? " (plain http is allowed only on 127.0.0.0/8, ::1 or localhost)" : ""}`);
      expect(problems.some((p) => p.startsWith(`AUTH_JWKS_URL ${why}`))).toBe(true);
    });

    it("refuses an issuer with a query or a fragment, but not a key set URL with a query", () => {
      expect(problemsOf({ ...BASE, AUTH_ISSUER: "https://id.example.com/?x=1" })).toEqual([
        "AUTH_ISSUER must not contain a query or a fragment",
      ]);
      expect(problemsOf({ ...BASE, AUTH_ISSUER: "https://id.example.com/#f" })).toEqual([
        "AUTH_ISSUER must not contain a query or a fragment",
      ]);
      expect(readConfig({ ...BASE, AUTH_JWKS_URL: "https://keys.example.com/jwks?v=2" }).jwksUrl).toBe(
        "https://keys.example.com/jwks?v=2",
      );
    });
  });

  describe("algorithms", () => {
    it.each(["none", "NONE", "HS256", "hs384", "HS512"])("refuses %s even when listed with good ones", (alg) => {
      const problems = problemsOf({ ...BASE, AUTH_ALGORITHMS: `RS256,${alg}` });
      expect(problems).toEqual([
        `AUTH_ALGORITHMS: "${alg}" is refused (unsigned and HMAC algorithms let anyone who knows the public key forge tokens)`,
      ]);
    });

    it("refuses unknown names and an empty list", () => {
      expect(problemsOf({ ...BASE, AUTH_ALGORITHMS: "RS257" })[0]).toMatch(/^AUTH_ALGORITHMS: "RS257" is not one of RS256/);
      expect(problemsOf({ ...BASE, AUTH_ALGORITHMS: " , " })).toEqual(["AUTH_ALGORITHMS must list at least one algorithm"]);
    });

    it("accepts every asymmetric algorithm", () => {
      const all = "RS256,RS384,RS512,PS256,PS384,PS512,ES256,ES384,ES512,EdDSA,Ed25519";
      expect(readConfig({ ...BASE, AUTH_ALGORITHMS: all }).algorithms).toEqual(all.split(","));
    });
  });

  it.each(["0", "300", "5"])("accepts a clock tolerance of %s", (value) => {
    expect(readConfig({ ...BASE, AUTH_CLOCK_TOLERANCE: value }).clockToleranceSeconds).toBe(Number(value));
  });

  it.each(["301", "1.5", "ten", "-5", "1e2", "9999"])("refuses a clock tolerance of %s", (value) => {
    expect(problemsOf({ ...BASE, AUTH_CLOCK_TOLERANCE: value })).toEqual([
      "AUTH_CLOCK_TOLERANCE must be a whole number of seconds from 0 to 300",
    ]);
  });

  it.each(["app_metadata.tenant_id", "https://example.com/org", "custom:tenant"])("accepts tenant claim %s", (claim) => {
    expect(readConfig({ ...BASE, AUTH_TENANT_CLAIM: claim }).tenantClaim).toBe(claim);
  });

  it.each(["org id", "x".repeat(257), "org\u00e9"])("refuses tenant claim %j", (claim) => {
    expect(problemsOf({ ...BASE, AUTH_TENANT_CLAIM: claim })[0]).toMatch(/^AUTH_TENANT_CLAIM must be a claim name or dotted path/);
  });

  it.each(["-x", "a::b", "a b", "x".repeat(129), "t\u00e9"])("refuses single tenant id %j", (id) => {
    expect(problemsOf({ ...BASE, AUTH_TENANT_MODE: "single", AUTH_SINGLE_TENANT_ID: id })).toEqual([
      "AUTH_SINGLE_TENANT_ID must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$",
    ]);
  });

  it("refuses a single tenant id while the mode is multi", () => {
    expect(problemsOf({ ...BASE, AUTH_SINGLE_TENANT_ID: "acme" })).toEqual([
      "AUTH_SINGLE_TENANT_ID is only used with AUTH_TENANT_MODE=single: set both, or neither",
    ]);
  });

  it("single mode defaults its tenant to 'default'", () => {
    expect(readConfig({ ...BASE, AUTH_TENANT_MODE: "single" })).toMatchObject({ tenantMode: "single", singleTenantId: "default" });
  });

  it("never echoes a rejected value (a secret pasted into the wrong variable stays out of logs)", () => {
    const secret = "s3cr3t-Value-123";
    const error = (() => {
      try {
        readConfig({ AUTH_ISSUER: `https://x:${secret}@id.example.com`, AUTH_AUDIENCE: "a", AUTH_TENANT_MODE: secret, AUTH_CLOCK_TOLERANCE: secret });
      } catch (e) {
        return e as Error;
      }
      throw new Error("accepted");
    })();
    expect(error.message).not.toContain(secret);
  });
});

describe("isLoopbackHost / isSecureOrLoopbackUrl", () => {
  it.each(["127.0.0.1", "127.255.0.9", "localhost", "LOCALHOST", "a.localhost", "::1", "[::1]", "0:0:0:0:0:0:0:1"])(
    "%s is loopback",
    (host) => expect(isLoopbackHost(host)).toBe(true),
  );
  it.each(["128.0.0.1", "10.0.0.1", "localhost.example.com", "::2", "0.0.0.0", "127.0.0.1.nip.io"])("%s is not loopback", (host) =>
    expect(isLoopbackHost(host)).toBe(false),
  );
  it("https anywhere, http only on loopback", () => {
    expect(isSecureOrLoopbackUrl(new URL("https://example.com"))).toBe(true);
    expect(isSecureOrLoopbackUrl(new URL("http://127.0.0.1:1"))).toBe(true);
    expect(isSecureOrLoopbackUrl(new URL("http://example.com"))).toBe(false);
    expect(isSecureOrLoopbackUrl(new URL("ws://127.0.0.1"))).toBe(false);
  });
});
