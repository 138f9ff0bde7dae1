import { describe, expect, it } from "vitest";
import { readConfig } from "../../src/config/read-config.ts";
import { configProblems } from "../support/config-problems.ts";

const BASE = { AUTH_ISSUER: "https://idp.example.com/", AUTH_AUDIENCE: "api" };

const problems = (env: Record<string, string>) => configProblems({ ...BASE, ...env });

describe("verification variables", () => {
  it("defaults to no extra policy and the documented key-fetching limits", () => {
    expect(readConfig(BASE)).toMatchObject({
      issuer: "https://idp.example.com/",
      issuers: ["https://idp.example.com/"],
      requiredTyp: undefined,
      maxTokenAgeSeconds: undefined,
      maxTokenBytes: 8192,
      jwksTimeoutMs: 5000,
      jwksMaxAgeSeconds: 600,
      jwksCooldownSeconds: 30,
      jwksStaleIfErrorSeconds: 86400,
    });
  });

  it("reads every variable", () => {
    const config = readConfig({
      ...BASE,
      AUTH_ISSUER: "https://a.example.com/, https://b.example.com",
      AUTH_REQUIRED_TYP: "at+jwt",
      AUTH_MAX_TOKEN_AGE: "3600",
      AUTH_MAX_TOKEN_BYTES: "4096",
      AUTH_JWKS_TIMEOUT_MS: "2000",
      AUTH_JWKS_MAX_AGE: "300",
      AUTH_JWKS_COOLDOWN: "10",
      AUTH_JWKS_STALE_IF_ERROR: "7200",
    });
    expect(config).toMatchObject({
      issuer: "https://a.example.com/",
      issuers: ["https://a.example.com/", "https://b.example.com"],
      requiredTyp: "at+jwt",
      maxTokenAgeSeconds: 3600,
      maxTokenBytes: 4096,
      jwksTimeoutMs: 2000,
      jwksMaxAgeSeconds: 300,
      jwksCooldownSeconds: 10,
      jwksStaleIfErrorSeconds: 7200,
    });
  });

  it.each([
    [{ AUTH_ISSUER: "https://a.example.com,http://b.example.com" }, "AUTH_ISSUER (issuer 2 of 2) must use https"],
    [{ AUTH_ISSUER: "https://a.example.com,https://a.example.com" }, "AUTH_ISSUER lists an issuer twice"],
    [{ AUTH_ISSUER: "https://a.example.com?x=1" }, "must not contain a query or a fragment"],
    [{ AUTH_ISSUER: "https://user:pw@a.example.com" }, "must not contain a user name or password"],
    [{ AUTH_ISSUER: "not a url" }, "AUTH_ISSUER must be an absolute URL"],
    [{ AUTH_REQUIRED_TYP: "at jwt" }, 'AUTH_REQUIRED_TYP must be a media type such as "at+jwt"'],
    [{ AUTH_MAX_TOKEN_AGE: "1h" }, "AUTH_MAX_TOKEN_AGE must be a whole number of seconds from 1 to 31536000"],
    [{ AUTH_MAX_TOKEN_AGE: "0" }, "AUTH_MAX_TOKEN_AGE must be a whole number of seconds from 1 to 31536000"],
    [{ AUTH_MAX_TOKEN_BYTES: "100" }, "AUTH_MAX_TOKEN_BYTES must be a whole number of bytes from 1024 to 65536"],
    [{ AUTH_JWKS_TIMEOUT_MS: "5s" }, "AUTH_JWKS_TIMEOUT_MS must be a whole number of milliseconds from 100 to 60000"],
    [{ AUTH_JWKS_MAX_AGE: "-1" }, "AUTH_JWKS_MAX_AGE must be a whole number of seconds from 1 to 86400"],
    [{ AUTH_JWKS_COOLDOWN: "0" }, "AUTH_JWKS_COOLDOWN must be a whole number of seconds from 1 to 3600"],
    [{ AUTH_JWKS_STALE_IF_ERROR: "999999999" }, "AUTH_JWKS_STALE_IF_ERROR must be a whole number of seconds from 1 to 604800"],
  ])("refuses %o with a clear message", (env, message) => {
    expect(problems(env).join("\n")).toContain(message);
  });

  it("refuses one AUTH_JWKS_URL for several issuers", () => {
    expect(problems({ AUTH_ISSUER: "https://a.example.com,https://b.example.com", AUTH_JWKS_URL: "https://a.example.com/jwks" }).join("\n")).toContain(
      "AUTH_JWKS_URL can be set only with a single AUTH_ISSUER",
    );
  });
});
