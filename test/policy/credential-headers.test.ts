import { describe, expect, it } from "vitest";
import { dropCredentialHeaders, isCredentialHeaderName } from "../../src/policy/credential-headers.ts";

describe("credential headers in a run's configurable", () => {
  it("names the headers authenticating proxies put credentials in", () => {
    for (const name of ["x-amzn-oidc-accesstoken", "x-amzn-oidc-data", "X-Forwarded-Access-Token", "x-serverless-authorization", "x-goog-iap-jwt-assertion", "x-csrf-token", "x-auth-request-access-token", "x-client-secret", "x-session"]) {
      expect(isCredentialHeaderName(name), name).toBe(true);
    }
    for (const name of ["x-request-id", "x-forwarded-for", "user-agent", "x-trace", "authorization-like", "thread_id", "token"]) {
      expect(isCredentialHeaderName(name), name).toBe(false);
    }
  });

  it("deletes them in place and keeps everything else", () => {
    const configurable: Record<string, unknown> = { "x-forwarded-access-token": "t", "x-request-id": "r", "user-agent": "ua", thread_id: "T", api_token: "kept: not a header" };
    expect(dropCredentialHeaders(configurable)).toEqual(["x-forwarded-access-token"]);
    expect(configurable).toEqual({ "x-request-id": "r", "user-agent": "ua", thread_id: "T", api_token: "kept: not a header" });
    expect(dropCredentialHeaders(undefined)).toEqual([]);
    expect(dropCredentialHeaders(null)).toEqual([]);
    expect(dropCredentialHeaders("x-token" as never)).toEqual([]);
  });
});
