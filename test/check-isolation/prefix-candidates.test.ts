import { describe, expect, it } from "vitest";
import { prefixCandidates } from "../../src/check-isolation/world.ts";

const unsigned = (claims: Record<string, unknown>) =>
  `${Buffer.from('{"alg":"RS256"}').toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.sig`;

describe("prefixCandidates", () => {
  it("tries the tenant's store label first, so tenants with . or _ get a namespace the store accepts", () => {
    expect(prefixCandidates({ tenant_id: "acme.eu" }, unsigned({ sub: "alice" }))).toEqual([["acme~2Eeu"], ["alice"]]);
    expect(prefixCandidates({ tenant_id: "acme_eu" }, unsigned({ org_id: "acme_eu", sub: "alice" }))).toEqual([["acme~5Feu"], ["acme_eu"], ["alice"]]);
  });

  it("keeps plain tenants as they are and drops values no store accepts", () => {
    expect(prefixCandidates({ tenant_id: "acme" }, unsigned({ org_id: "acme", sub: "-x.y" }))).toEqual([["acme"]]);
  });
});
