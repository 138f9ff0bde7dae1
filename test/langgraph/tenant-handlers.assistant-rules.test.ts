import { describe, expect, it } from "vitest";
import { handleTenantEvent } from "../../src/langgraph/tenant-handlers.ts";
import { systemAssistantId } from "../../src/policy/run-assistant.ts";

const user = {
  identity: "bob",
  tenant_id: "tenant-b",
  permissions: ["assistants:write"],
  roles: [],
  display_name: "bob",
  issuer: "https://issuer.example",
  is_authenticated: true,
};
const event = (action: "create" | "update", value: Record<string, unknown>) => ({
  event: `assistants:${action}`,
  resource: "assistants",
  action,
  value,
  user,
});

describe("assistant writes cannot mint a system assistant", () => {
  it("refuses a client-chosen UUIDv5 assistant id (403)", () => {
    expect(() => handleTenantEvent(event("create", { assistant_id: systemAssistantId("future"), graph_id: "echo" }), "tenant")).toThrow(
      expect.objectContaining({ status: 403 }),
    );
  });

  it("refuses created_by in metadata on create and update (403)", () => {
    for (const action of ["create", "update"] as const) {
      expect(() => handleTenantEvent(event(action, { assistant_id: "0192b8d2-6c4a-7a57-9a8e-5b7f3d9b0a11", metadata: { created_by: "system" } }), "tenant")).toThrow(
        expect.objectContaining({ status: 403 }),
      );
    }
  });

  it("stamps the tenant on an ordinary create over what the client sent", () => {
    const value: Record<string, unknown> = { assistant_id: "0192b8d2-6c4a-7a57-9a8e-5b7f3d9b0a11", metadata: { tenant_id: "tenant-a" } };
    expect(handleTenantEvent(event("create", value), "tenant")).toEqual({ tenant_id: "tenant-b" });
    expect(value.metadata).toEqual({ tenant_id: "tenant-b", owner: "bob" });
  });
});
