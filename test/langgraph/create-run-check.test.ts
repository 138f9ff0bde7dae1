import { describe, expect, it } from "vitest";
import type { AuthError } from "../../src/errors.ts";
import { createRunCheck } from "../../src/langgraph/create-run-check.ts";
import type { ServerStorage } from "../../src/langgraph/server-storage.ts";
import { createRoutePolicy } from "../../src/policy/route-policy.ts";
import { systemAssistantId } from "../../src/policy/run-assistant.ts";
import { makePrincipal } from "../support/principal.ts";

const bob = makePrincipal();

const T_B = "0192b8d2-6c4a-7a57-9a8e-5b7f3d9b0bb1";
const T_A = "0192b8d2-6c4a-7a57-9a8e-5b7f3d9b0aa1";
const assistants: Record<string, { assistant_id: string; graph_id: string; metadata: Record<string, unknown>; config?: { configurable: Record<string, unknown> } }> = {
  "asst-b-traced": { assistant_id: "asst-b-traced", graph_id: "echo", metadata: { tenant_id: "tenant-b" }, config: { configurable: { langsmith_project: "theirs" } } },
  "asst-a": { assistant_id: "asst-a", graph_id: "echo", metadata: { tenant_id: "tenant-a" } },
  "asst-b": { assistant_id: "asst-b", graph_id: "echo", metadata: { tenant_id: "tenant-b" } },
  [systemAssistantId("echo")]: { assistant_id: systemAssistantId("echo"), graph_id: "echo", metadata: { created_by: "system" } },
};
const storage: ServerStorage = {
  getAssistant: async (id) => assistants[id],
  getThread: async (id) =>
    id === T_B ? { thread_id: T_B, metadata: { tenant_id: "tenant-b" } } : id === T_A ? { thread_id: T_A, metadata: { tenant_id: "tenant-a" } } : undefined,
  getRun: async () => undefined,
};
const policy = createRoutePolicy();

describe("createRunCheck", () => {
  const check = createRunCheck({ policy, storage: () => storage });
  const value = (extra: Record<string, unknown>) => ({ thread_id: T_B, if_not_exists: "reject", kwargs: {}, ...extra });

  it("allows the caller's tenant's assistants and the system assistant", async () => {
    await check(value({ assistant_id: "asst-b" }), bob);
    await check(value({ assistant_id: systemAssistantId("echo") }), bob);
    await check({ assistant_id: "asst-b", thread_id: undefined, kwargs: {} }, bob);
  });

  it("answers another tenant's assistant exactly like a missing one (404, the server's message)", async () => {
    const foreign = check(value({ assistant_id: "asst-a" }), bob);
    await expect(foreign).rejects.toMatchObject({ status: 404, headers: { "Content-Type": "text/plain;charset=UTF-8" } });
    // The decision log tells them apart: another tenant's (and whose), or none at all.
    await expect(foreign).rejects.toMatchObject({ reason: "cross_tenant", resources: { assistant_id: "asst-a", tenant_id: "tenant-a" } });
    await expect(check(value({ assistant_id: "nope" }), bob)).rejects.toMatchObject({ reason: "not_found", resources: { assistant_id: "nope" } });
    await expect(foreign).rejects.toThrow('No assistant found for "asst-a". Make sure the assistant ID is for a valid assistant or a valid graph ID.');
    await expect(check(value({ assistant_id: "nope" }), bob)).rejects.toMatchObject({ status: 404 });
    await expect(check(value({ assistant_id: 7 }), bob)).rejects.toMatchObject({ status: 404 });
  });

  it("refuses a webhook even when the route policy never saw the body", async () => {
    await expect(check(value({ assistant_id: "asst-b", kwargs: { webhook: "http://169.254.169.254/" } }), bob)).rejects.toMatchObject({ status: 403, reason: "run_option_refused" });
  });

  it("refuses LangSmith feedback keys and tracing projects (the server's own key) unless the langsmith permission allows them", async () => {
    const refused = [
      { assistant_id: "asst-b", kwargs: { feedback_keys: ["score"] } },
      { assistant_id: "asst-b", kwargs: { config: { configurable: { langsmith_project: "evil" } } } },
      { assistant_id: "asst-b", kwargs: { config: { configurable: { langsmith_example_id: "0192b8d2-6c4a-7a57-9a8e-5b7f3d9b0bb9" } } } },
      { assistant_id: "asst-b-traced", kwargs: {} },
    ];
    for (const extra of refused) {
      await expect(check(value(extra), bob), JSON.stringify(extra)).rejects.toMatchObject({ status: 403, message: "forbidden: LangSmith feedback keys and tracing projects are not allowed" });
    }
    // Empty values are what the server itself treats as absent.
    await check(value({ assistant_id: "asst-b", kwargs: { feedback_keys: [], config: { configurable: { langsmith_project: "" } } } }), bob);
    const operator = { ...bob, permissions: ["ops:langsmith"] };
    const unlocked = createRunCheck({ policy: createRoutePolicy({ operatorPermissions: { langsmith: "ops:langsmith" } }), storage: () => storage });
    for (const extra of refused) await unlocked(value(extra), operator);
    await expect(unlocked(value(refused[0]!), bob)).rejects.toMatchObject({ status: 403 });
  });

  it("deletes credential headers the server copied into the run's configurable", async () => {
    const configurable = { "x-amzn-oidc-accesstoken": "proxy-token", "x-request-id": "r1" };
    await check(value({ assistant_id: "asst-b", kwargs: { config: { configurable } } }), bob);
    expect(configurable).toEqual({ "x-request-id": "r1" });
  });

  it("refuses a configurable.user_id other than the caller's identity (the server would prefer it)", async () => {
    for (const user_id of ["alice", "", 7]) {
      await expect(check(value({ assistant_id: "asst-b", kwargs: { config: { configurable: { user_id } } } }), bob), String(user_id)).rejects.toMatchObject({ status: 403 });
    }
    await check(value({ assistant_id: "asst-b", kwargs: { config: { configurable: { user_id: "bob" } } } }), bob);
  });

  it("answers 404 for a run on a missing thread that would not be created", async () => {
    await expect(check(value({ assistant_id: "asst-b", thread_id: "0192b8d2-6c4a-7a57-9a8e-000000000000" }), bob)).rejects.toMatchObject({ status: 404, reason: "not_found" });
    await check(value({ assistant_id: "asst-b", thread_id: "0192b8d2-6c4a-7a57-9a8e-000000000000", if_not_exists: "create" }), bob);
  });

  it("answers a run on another tenant's thread exactly as one on a missing thread, create or not, and names it a cross-tenant attempt", async () => {
    const missing = await check(value({ assistant_id: "asst-b", thread_id: "0192b8d2-6c4a-7a57-9a8e-000000000000" }), bob).catch((e: unknown) => e as AuthError);
    for (const ifNotExists of ["reject", "create"]) {
      const foreign = await check(value({ assistant_id: "asst-b", thread_id: T_A, if_not_exists: ifNotExists }), bob).catch((e: unknown) => e as AuthError);
      expect(foreign).toMatchObject({ status: missing!.status, message: missing!.message, headers: missing!.headers, reason: "cross_tenant", resources: { thread_id: T_A, tenant_id: "tenant-a" } });
    }
  });

  it("fails closed without the server's storage", async () => {
    const blind = createRunCheck({ policy, storage: () => undefined });
    await expect(blind(value({ assistant_id: "asst-b" }), bob)).rejects.toMatchObject({ status: 403, reason: "check_unavailable" });
  });
});
