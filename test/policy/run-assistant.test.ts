import { v5 } from "@langchain/core/utils/uuid";
import { describe, expect, it } from "vitest";
import { GRAPH_NAMESPACE, isRunnableAssistant, isSystemAssistant, isUuidV5, requireRunnableAssistant, systemAssistantId, uuid5 } from "../../src/policy/run-assistant.ts";
import { makePrincipal } from "../support/principal.ts";

const principal = makePrincipal();

describe("system assistant ids", () => {
  it("match the server's uuid5(graph_id, NAMESPACE_GRAPH)", () => {
    for (const graph of ["agent", "echo", "ünïcode-graph", ""]) {
      expect(systemAssistantId(graph)).toBe(v5(graph, GRAPH_NAMESPACE));
    }
    expect(systemAssistantId("agent")).toBe("fe096781-5601-53d2-b2f6-0d3403f7e9ca");
  });

  it("are recognised by shape, and other UUID versions are not", () => {
    expect(isUuidV5(systemAssistantId("x"))).toBe(true);
    expect(isUuidV5("0192b8d2-6c4a-7a57-9a8e-5b7f3d9b0a11")).toBe(false);
    expect(isUuidV5(crypto.randomUUID())).toBe(false);
    expect(isUuidV5(42)).toBe(false);
  });
});

describe("requireRunnableAssistant", () => {
  const system = { assistant_id: systemAssistantId("echo"), graph_id: "echo", metadata: { created_by: "system" } };

  it("allows the graph's system assistant and the caller's tenant's assistants", () => {
    expect(isSystemAssistant(system)).toBe(true);
    expect(() => requireRunnableAssistant(system, principal, "tenant")).not.toThrow();
    expect(() => requireRunnableAssistant({ assistant_id: "a", graph_id: "echo", metadata: { tenant_id: "tenant-b", owner: "carol" } }, principal, "tenant")).not.toThrow();
  });

  it("refuses another tenant's, a missing one, and look-alikes of system assistants (403)", () => {
    const cases = [
      undefined,
      { assistant_id: "a", graph_id: "echo", metadata: { tenant_id: "tenant-a" } },
      { assistant_id: "a", graph_id: "echo", metadata: null },
      { assistant_id: "a", graph_id: "echo", metadata: { created_by: "system" } },
      { ...system, graph_id: "other" },
      { ...system, metadata: { created_by: "system", tenant_id: "tenant-a" } },
      { ...system, metadata: {} },
    ];
    for (const assistant of cases) {
      expect(() => requireRunnableAssistant(assistant, principal, "tenant"), JSON.stringify(assistant)).toThrow(
        expect.objectContaining({ status: 403, code: "ERR_TENANT_FORBIDDEN" }),
      );
    }
  });

  it("with owner visibility also needs the caller as owner", () => {
    const other = { assistant_id: "a", graph_id: "echo", metadata: { tenant_id: "tenant-b", owner: "carol" } };
    expect(() => requireRunnableAssistant(other, principal, "owner")).toThrow(expect.objectContaining({ status: 403 }));
    expect(() => requireRunnableAssistant({ ...other, metadata: { tenant_id: "tenant-b", owner: "bob" } }, principal, "owner")).not.toThrow();
  });
});

describe("uuid5 and isUuidV5, exactly", () => {
  it("refuses a namespace that is not a UUID", () => {
    expect(() => uuid5("agent", "not-a-uuid")).toThrow(new TypeError("uuid5: namespace must be a UUID"));
    expect(() => uuid5("agent", GRAPH_NAMESPACE.slice(0, -2))).toThrow(TypeError);
    expect(() => uuid5("agent", `${GRAPH_NAMESPACE}00`)).toThrow(TypeError);
  });

  it("sets the version and variant bits whatever the hash (RFC 4122 §4.1.1, §4.1.3)", () => {
    // 200 names: the hash's bits at those places take every value.
    for (let i = 0; i < 200; i += 1) {
      const name = `graph-${i}`;
      const id = uuid5(name, GRAPH_NAMESPACE);
      expect(id).toBe(v5(name, GRAPH_NAMESPACE));
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
  });

  it("isUuidV5 takes the whole string, either case, version 5 and the RFC variant only", () => {
    const id = systemAssistantId("agent");
    expect(isUuidV5(id.toUpperCase())).toBe(true);
    for (const value of [
      `x${id}`, `${id}x`, ` ${id}`, id.slice(1), id.replace(/-/g, ""),
      "fe096781-5601-43d2-b2f6-0d3403f7e9ca", // version 4
      "fe096781-5601-53d2-c2f6-0d3403f7e9ca", // variant c (Microsoft)
      "fe096781-5601-53d2-72f6-0d3403f7e9ca", // variant 7 (NCS)
      "ge096781-5601-53d2-b2f6-0d3403f7e9ca", // not hex
      "fe096781-5601-53d2-b2f6-0d3403f7e9cg",
      "fe09678-15601-53d2-b2f6-0d3403f7e9ca",
      "", null, undefined, {},
      [id], { toString: () => id }, // not strings, whatever they print as
    ]) {
      expect(isUuidV5(value), String(value)).toBe(false);
    }
  });
});

describe("isSystemAssistant and the refusal of an assistant", () => {
  const system = { assistant_id: systemAssistantId("echo"), graph_id: "echo", metadata: { created_by: "system" } };

  it("a system-shaped assistant without metadata, or with a graph id that is not a string, is not a system assistant (and does not throw)", () => {
    expect(isSystemAssistant({ ...system, metadata: null })).toBe(false);
    expect(isSystemAssistant({ ...system, metadata: undefined })).toBe(false);
    expect(isSystemAssistant({ ...system, graph_id: 42 as never })).toBe(false);
    expect(isSystemAssistant({ ...system, metadata: { created_by: "tenant" } })).toBe(false);
    expect(isRunnableAssistant(null, principal, "tenant")).toBe(false);
    expect(isRunnableAssistant(system, principal, "owner")).toBe(true);
  });

  function refusal(assistant: Parameters<typeof requireRunnableAssistant>[0], visibility: "tenant" | "owner" = "tenant"): unknown {
    try {
      requireRunnableAssistant(assistant, principal, visibility);
    } catch (error) {
      return error;
    }
    throw new Error("not refused");
  }

  it("names the reason and the resources: another tenant's assistant", () => {
    expect(refusal({ assistant_id: "a1", graph_id: "echo", metadata: { tenant_id: "tenant-a" } })).toMatchObject({
      name: "TenantForbiddenError",
      message: "forbidden: this assistant cannot be run by your tenant",
      reason: "cross_tenant",
      resources: { assistant_id: "a1", tenant_id: "tenant-a", tenant_looked_up: true },
    });
  });

  it("names the reason and the resources: another owner's assistant in the caller's tenant", () => {
    const error = refusal({ assistant_id: "a2", graph_id: "echo", metadata: { tenant_id: "tenant-b", owner: "carol" } }, "owner");
    expect(error).toMatchObject({ reason: "cross_owner", resources: { assistant_id: "a2", tenant_id: "tenant-b", tenant_looked_up: true } });
  });

  it("names the reason and the resources: a missing assistant, and one without a tenant", () => {
    const missing = refusal(undefined) as { reason: string; resources: unknown };
    expect(missing.reason).toBe("not_found");
    expect(missing.resources).toEqual({});
    const untenanted = refusal({ assistant_id: "a3", graph_id: "echo", metadata: null }) as { reason: string; resources: unknown };
    expect(untenanted.reason).toBe("cross_tenant");
    expect(untenanted.resources).toEqual({ assistant_id: "a3" });
    const noId = refusal({ assistant_id: 7 as never, graph_id: "echo", metadata: { tenant_id: "" } }) as { resources: unknown };
    expect(noId.resources).toEqual({});
  });
});
