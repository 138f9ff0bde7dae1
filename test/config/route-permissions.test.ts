import { describe, expect, it } from "vitest";
import { readConfig } from "../../src/config/read-config.ts";
import { createRoutePolicy } from "../../src/policy/route-policy.ts";

const base = { AUTH_ISSUER: "https://issuer.example", AUTH_AUDIENCE: "api" };

describe("AUTH_ROUTE_PERMISSIONS", () => {
  it("defaults to no unlocked route group", () => {
    expect(readConfig(base).routePermissions).toEqual({});
  });

  it("parses group=permission pairs that the route policy accepts", () => {
    const config = readConfig({ ...base, AUTH_ROUTE_PERMISSIONS: " truncate=admin:truncate , webhooks=runs:webhook=1" });
    expect(config.routePermissions).toEqual({ truncate: "admin:truncate", webhooks: "runs:webhook=1" });
    expect(() => createRoutePolicy({ operatorPermissions: config.routePermissions })).not.toThrow();
  });

  it("names the variable for a malformed pair, and the policy names an unknown group", () => {
    expect(() => readConfig({ ...base, AUTH_ROUTE_PERMISSIONS: "truncate" })).toThrow(/AUTH_ROUTE_PERMISSIONS: "truncate" is not group=permission/);
    expect(() => readConfig({ ...base, AUTH_ROUTE_PERMISSIONS: "truncate=has space" })).toThrow(/AUTH_ROUTE_PERMISSIONS/);
    const config = readConfig({ ...base, AUTH_ROUTE_PERMISSIONS: "everything=admin" });
    expect(() => createRoutePolicy({ operatorPermissions: config.routePermissions })).toThrow(/"everything" is not one of/);
  });
});
