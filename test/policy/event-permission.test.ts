import { describe, expect, it } from "vitest";
import { AUTH_EVENTS, requiredPermission } from "../../src/policy/event-permission.ts";
import { requireTenantNamespace } from "../../src/policy/store-namespace.ts";
import { isInTenant, tenantFilter, tenantStamp } from "../../src/policy/tenant-filter.ts";
import { MissingTenantContextError, TenantForbiddenError } from "../../src/errors.ts";
import type { Principal } from "../../src/tenant/principal.ts";
import { makePrincipal } from "../support/principal.ts";

describe("requiredPermission", () => {
  it("maps every SDK event", () => {
    expect(Object.fromEntries(AUTH_EVENTS.map((e) => [e, requiredPermission(e)]))).toEqual({
      "threads:create": "threads:write",
      "threads:read": "threads:read",
      "threads:update": "threads:write",
      "threads:delete": "threads:write",
      "threads:search": "threads:read",
      "threads:create_run": "threads:write",
      "assistants:create": "assistants:write",
      "assistants:read": "assistants:read",
      "assistants:update": "assistants:write",
      "assistants:delete": "assistants:write",
      "assistants:search": "assistants:read",
      "crons:create": "crons:write",
      "crons:read": "crons:read",
      "crons:update": "crons:write",
      "crons:delete": "crons:write",
      "crons:search": "crons:read",
      "store:put": "store:write",
      "store:get": "store:read",
      "store:search": "store:read",
      "store:list_namespaces": "store:read",
      "store:delete": "store:write",
    });
  });

  it.each(["runs:create", "threads:stream", "threads", "*", "", "threads:", ":read", "__proto__:read", "threads:read:x"])(
    "needs a permission nobody has for %j",
    (event) => expect(requiredPermission(event)).toBeUndefined(),
  );

  // Events the SDK does not send are not in the table: they take the rule
  // itself, which maps every action of the docs for each of the four resources.
  it.each([
    ["threads:get", "threads:read"],
    ["threads:list_namespaces", "threads:read"],
    ["threads:put", "threads:write"],
    ["assistants:get", "assistants:read"],
    ["assistants:create_run", "assistants:write"],
    ["crons:get", "crons:read"],
    ["crons:put", "crons:write"],
    ["store:read", "store:read"],
    ["store:create", "store:write"],
    ["store:update", "store:write"],
    ["store:create_run", "store:write"],
  ])("maps %j, an event outside the SDK's list, by the rule to %j", (event, permission) => {
    expect(requiredPermission(event)).toBe(permission);
  });

  it.each([42, null, undefined, {}, ["threads:read"]])("needs a permission nobody has for the non-string %j, without throwing", (event) => {
    expect(requiredPermission(event as never)).toBeUndefined();
  });
});

const alice = makePrincipal({ identity: "alice", tenant_id: "acme" });

describe("tenantFilter / tenantStamp", () => {
  it("plain values only (the server treats $eq of an empty string and unknown operators as match-all)", () => {
    expect(tenantFilter(alice, "tenant")).toEqual({ tenant_id: "acme" });
    expect(tenantFilter(alice, "owner")).toEqual({ tenant_id: "acme", owner: "alice" });
    expect(tenantStamp(alice)).toEqual({ tenant_id: "acme", owner: "alice" });
  });

  it("refuses to build a filter or a stamp from an empty or invalid tenant or identity, with a 403", () => {
    for (const bad of [{ ...alice, tenant_id: "" }, { ...alice, identity: "" }, { ...alice, tenant_id: "a::b" }, { ...alice, tenant_id: undefined as never }, undefined as never]) {
      expect(() => tenantFilter(bad, "tenant")).toThrow(expect.objectContaining({ name: "MissingTenantContextError", code: "ERR_TENANT_CONTEXT_MISSING", status: 403 }));
      expect(() => tenantFilter(bad, "owner")).toThrow(MissingTenantContextError);
      expect(() => tenantStamp(bad)).toThrow(MissingTenantContextError);
      expect(isInTenant({ tenant_id: "" }, bad, "tenant")).toBe(false);
    }
  });
});

describe("requireTenantNamespace", () => {
  it("passes [tenant, ...] and refuses everything else", () => {
    expect(() => requireTenantNamespace(["acme", "x"], alice)).not.toThrow();
    for (const ns of [["globex"], [], null, undefined, ["acme2"]]) {
      expect(() => requireTenantNamespace(ns, alice)).toThrow(TenantForbiddenError);
    }
  });
  it("with owner visibility needs [tenant, user, ...]", () => {
    expect(() => requireTenantNamespace(["acme", "alice"], alice, { owner: true })).not.toThrow();
    // The in-memory store throws a plain error (a 500) for a ":" in a label; refused first, as a 400.
    expect(() => requireTenantNamespace(["acme", "a:b"], alice)).toThrow(expect.objectContaining({ status: 400, code: "ERR_ROUTE_REFUSED" }));
    expect(() => requireTenantNamespace(["acme", 7], alice)).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => requireTenantNamespace(["acme", "bob"], alice, { owner: true })).toThrow(TenantForbiddenError);
    expect(() => requireTenantNamespace(["acme"], alice, { owner: true })).toThrow(TenantForbiddenError);
  });
});
