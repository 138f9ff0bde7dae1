import { describe, expect, it } from "vitest";
import { isAuthMatching } from "@langchain/langgraph-api/auth";
import { systemAssistantFilter } from "../../src/policy/system-assistants.ts";
import { systemAssistantId } from "../../src/policy/run-assistant.ts";

const SYSTEM = { created_by: "system" };
const TENANT_A = { tenant_id: "acme", owner: "alice" };
const TENANT_B = { tenant_id: "globex", owner: "bob" };

describe("systemAssistantFilter", () => {
  it("answers a request for system assistants with a filter the server's matcher applies to them only", () => {
    const asked = [
      systemAssistantFilter("search", { graph_id: "agent", metadata: { created_by: "system" } }, "visible"),
      systemAssistantFilter("search", { metadata: { created_by: "system", tenant_id: "acme" }, limit: 0, offset: 0 }, "visible"),
      systemAssistantFilter("read", { assistant_id: systemAssistantId("agent") }, "visible"),
    ];
    for (const filter of asked) {
      expect(filter).toEqual({ created_by: "system" });
      expect(isAuthMatching(SYSTEM, filter as never)).toBe(true);
      expect(isAuthMatching({ ...SYSTEM, graph_id: "agent" }, filter as never)).toBe(true);
      for (const other of [TENANT_A, TENANT_B, {}, undefined, { created_by: "System" }, { created_by: ["system"] }]) {
        expect(isAuthMatching(other, filter as never), JSON.stringify(other)).toBe(false);
      }
    }
  });

  it("leaves every other request to the tenant filter, and everything with hidden", () => {
    const untouched: [string, unknown][] = [
      ["search", { metadata: {} }],
      ["search", { graph_id: "agent" }],
      ["search", { metadata: { created_by: { $eq: "system" } } }],
      ["search", { metadata: { created_by: "System" } }],
      ["search", { metadata: "created_by" }],
      ["search", null],
      ["search", undefined],
      ["search", { metadata: null }],
      ["search", "metadata"],
      ["read", undefined],
      ["read", null],
      ["read", { assistant_id: "0192f000-0000-7000-8000-000000000001" }],
      ["read", { assistant_id: "fe096781-5601-43d2-b2f6-0d3403f7e9ca" }], // a version-4 UUID
      ["read", {}],
      ["update", { assistant_id: systemAssistantId("agent") }],
      ["delete", { assistant_id: systemAssistantId("agent") }],
      ["create", { metadata: { created_by: "system" } }],
    ];
    for (const [action, value] of untouched) expect(systemAssistantFilter(action, value, "visible"), JSON.stringify(value)).toBeUndefined();
    expect(systemAssistantFilter("search", { metadata: { created_by: "system" } }, "hidden")).toBeUndefined();
    expect(systemAssistantFilter("read", { assistant_id: systemAssistantId("agent") }, "hidden")).toBeUndefined();
  });
});
