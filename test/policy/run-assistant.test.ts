import { v5 } from "@langchain/core/utils/uuid";
import { describe, expect, it } from "vitest";
import { GRAPH_NAMESPACE, isSystemAssistant, isUuidV5, requireRunnableAssistant, systemAssistantId } from "../../src/policy/run-assistant.ts";
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
