import { describe, expect, it } from "vitest";
import { createToolPolicy, readToolCaller } from "../../src/policy/tool-policy.ts";

const base = { identity: "u1", tenant_id: "acme", permissions: [] as string[], roles: [] as string[], is_authenticated: true };
const tools = [{ name: "search_docs" }, { name: "billing_lookup" }, { name: "refund" }];
const policy = createToolPolicy({
  everyone: ["search_docs"],
  roles: { billing: ["billing_lookup"], admin: ["billing_lookup", "refund"] },
  permissions: { "billing:read": ["billing_lookup"] },
});

describe("createToolPolicy", () => {
  it("gives everyone only the shared tools", () => {
    expect(policy.toolsFor({ ...base, roles: ["viewer"] }, tools).map((t) => t.name)).toEqual(["search_docs"]);
  });

  it("adds the tools of each role and permission, in the original order", () => {
    expect(policy.toolsFor({ ...base, roles: ["billing"] }, tools).map((t) => t.name)).toEqual(["search_docs", "billing_lookup"]);
    expect(policy.toolsFor({ ...base, permissions: ["billing:read"] }, tools).map((t) => t.name)).toEqual(["search_docs", "billing_lookup"]);
    expect(policy.toolsFor({ ...base, roles: ["admin"] }, tools).map((t) => t.name)).toEqual(["search_docs", "billing_lookup", "refund"]);
  });

  it("denies by default: an empty policy allows nothing, an unnamed tool is nobody's", () => {
    const empty = createToolPolicy({});
    expect(empty.toolsFor({ ...base, roles: ["admin"] }, tools)).toEqual([]);
    expect(policy.isAllowed({ ...base, roles: ["admin"] }, "drop_database")).toBe(false);
  });

  it("gives no tools to a run without a valid user", () => {
    for (const user of [undefined, null, "alice", {}, { identity: "x" }, { ...base, tenant_id: "" }, { ...base, tenant_id: "a::b" },
      { ...base, permissions: "billing:read" }, { ...base, roles: "admin" }, { ...base, roles: [1] },
      { identity: "langgraph-studio-user", kind: "StudioUser", permissions: [], is_authenticated: true }]) {
      expect(policy.toolsFor(user, tools)).toEqual([]);
      expect(policy.isAllowed(user, "search_docs")).toBe(false);
    }
  });

  it("reads a caller without roles as having none", () => {
    const { roles: _roles, ...noRoles } = base;
    expect(readToolCaller(noRoles)?.roles).toEqual([]);
    expect(policy.toolsFor(noRoles, tools).map((t) => t.name)).toEqual(["search_docs"]);
  });

  it("never matches a role or permission through the prototype", () => {
    for (const name of ["__proto__", "constructor", "toString", "hasOwnProperty"]) {
      expect(policy.toolsFor({ ...base, roles: [name], permissions: [name] }, tools).map((t) => t.name)).toEqual(["search_docs"]);
    }
    const tricky = createToolPolicy(JSON.parse('{"roles":{"__proto__":["refund"]}}'));
    expect(tricky.isAllowed({ ...base, roles: ["viewer"] }, "refund")).toBe(false);
  });

  it("refuses a malformed policy with a TypeError naming the path", () => {
    expect(() => createToolPolicy({ roles: { admin: ["bad name!"] } })).toThrow(/toolPolicy\.roles\.admin\[0\]/);
    expect(() => createToolPolicy({ role: { admin: ["refund"] } } as never)).toThrow(TypeError);
    expect(() => createToolPolicy({ everyone: "search_docs" } as never)).toThrow(/toolPolicy\.everyone/);
    expect(() => createToolPolicy({ permissions: { "": ["refund"] } })).toThrow(TypeError);
    expect(() => createToolPolicy(null as never)).toThrow(TypeError);
  });
});

describe("readToolCaller and allowedToolNames, exactly", () => {
  it("refuses an identity that is empty or not a string, and permissions or roles with a non-string entry", () => {
    for (const user of [{ ...base, identity: "" }, { ...base, identity: 7 }, { ...base, identity: undefined }, { ...base, permissions: ["billing:read", 1] },
      { ...base, roles: ["admin", null] }, { ...base, permissions: undefined }]) {
      expect(readToolCaller(user), JSON.stringify(user)).toBeUndefined();
      expect(policy.allowedToolNames(user)).toEqual(new Set());
    }
  });

  it("gives back the caller with its fields, and roles as given or none", () => {
    expect(readToolCaller({ ...base, roles: ["admin"], extra: 1 })).toEqual({ ...base, roles: ["admin"], extra: 1 });
    expect(readToolCaller({ ...base, roles: null })).toEqual({ ...base, roles: [] });
  });

  it("isAllowed: true for a granted tool name, false for anything but a string", () => {
    expect(policy.isAllowed({ ...base, roles: ["admin"] }, "refund")).toBe(true);
    expect(policy.isAllowed(base, "search_docs")).toBe(true);
    expect(policy.isAllowed(base, "refund")).toBe(false);
    expect(policy.isAllowed({ ...base, roles: ["admin"] }, ["refund"] as never)).toBe(false);
  });

  it("the allowed names are the tool names granted, and nothing reached through the prototype", () => {
    const names = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf"];
    expect(policy.allowedToolNames({ ...base, roles: names, permissions: names })).toEqual(new Set(["search_docs"]));
    expect(policy.allowedToolNames({ ...base, roles: ["admin", "billing"], permissions: ["billing:read"] })).toEqual(new Set(["search_docs", "billing_lookup", "refund"]));
  });

  it("names the exact path of the first bad entry", () => {
    expect(() => createToolPolicy({ roles: { admin: ["refund", "bad name!"] } })).toThrow(expect.objectContaining({ name: "TypeError", message: expect.stringMatching(/^toolPolicy\.roles\.admin\[1\]: /) }));
    expect(() => createToolPolicy({ everyone: ["ok", 7] } as never)).toThrow(expect.objectContaining({ message: expect.stringMatching(/^toolPolicy\.everyone\[1\]: /) }));
  });
});

