/**
 * System assistants through the platform worker stand-in: the filters the
 * handlers return for the platform's values, applied with the server's
 * matcher, match system assistants and never another tenant's; changes
 * keep the tenant filter (so the platform answers 404); `hidden` turns it off.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAuthMatching } from "@langchain/langgraph-api/auth";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";
import { systemAssistantId } from "../../src/policy/run-assistant.ts";
import { startPlatformWorker, type PlatformHost } from "../support/platform-host.ts";
import { refusalChecker } from "./recorded-refusals.ts";

const SCOPE = "assistants:read assistants:write threads:read threads:write";
const ECHO = systemAssistantId("echo");
const SYSTEM = { created_by: "system", graph_id: "echo" };
const ACME = { tenant_id: "acme", owner: "alice" };
const GLOBEX = { tenant_id: "globex", owner: "bob" };

let issuer: LocalIssuer;
let visible: PlatformHost;
let hidden: PlatformHost;

beforeAll(async () => {
  issuer = await startLocalIssuer();
  const env = { ...issuer.env(), LANGGRAPH_AUTH: JSON.stringify({ path: "./src/auth.ts:auth" }), LANGSERVE_GRAPHS: '{"echo":"./examples/graphs/echo.ts:graph"}' };
  [visible, hidden] = await Promise.all([startPlatformWorker(env), startPlatformWorker({ ...env, AUTH_SYSTEM_ASSISTANTS: "hidden" })]);
});
afterAll(async () => {
  await visible?.stop();
  await hidden?.stop();
  await issuer?.close();
});

async function contextOf(host: PlatformHost, sub: string, tenant: string) {
  const token = await issuer.sign({ sub, org_id: tenant, scope: SCOPE });
  const answer = await host.authenticate(`https://agent.example.langgraph.app/assistants/${ECHO}`, "GET", { authorization: `Bearer ${token}` });
  if (!answer.ok) throw new Error(answer.message);
  return answer.context;
}

const ASKS: [string, string, Record<string, unknown>][] = [
  ["search of a graph's system assistants", "assistants:search", { graph_id: "echo", metadata: { created_by: "system" }, limit: 10, offset: 0 }],
  ["count of system assistants", "assistants:search", { graph_id: null, metadata: { created_by: "system" }, limit: 0, offset: 0 }],
  ["read of a system assistant's id (also graph, schemas, subgraphs, versions)", "assistants:read", { assistant_id: ECHO }],
];

describe("system assistants on the platform (AUTH_SYSTEM_ASSISTANTS=visible, the default)", () => {
  it.each(ASKS)("%s: matches system assistants, never a tenant's", async (_, event, value) => {
    for (const [sub, tenant] of [["alice", "acme"], ["bob", "globex"]] as const) {
      const answer = await visible.authorize(event, value, await contextOf(visible, sub, tenant));
      if (!answer.ok) throw new Error(answer.message);
      expect(answer.filters).toEqual({ created_by: "system" });
      expect(isAuthMatching(SYSTEM, answer.filters as never)).toBe(true);
      expect(isAuthMatching(ACME, answer.filters as never)).toBe(false);
      expect(isAuthMatching(GLOBEX, answer.filters as never)).toBe(false);
    }
  });

  it("the platform's own run-creation call ({ metadata: {} }) and plain searches keep the tenant filter", async () => {
    const bob = await contextOf(visible, "bob", "globex");
    for (const value of [{ metadata: {} }, { graph_id: "echo", metadata: {}, limit: 10, offset: 0 }]) {
      const answer = await visible.authorize("assistants:search", value, bob);
      expect(answer).toMatchObject({ ok: true, filters: { tenant_id: "globex" } });
    }
  });

  it("update, latest and delete of a system assistant keep the tenant filter: the system assistant does not match (404)", async () => {
    const bob = await contextOf(visible, "bob", "globex");
    for (const [event, value] of [
      ["assistants:update", { assistant_id: ECHO, metadata: {}, name: "mine" }],
      ["assistants:update", { assistant_id: ECHO, version: 1 }],
      ["assistants:delete", { assistant_id: ECHO }],
    ] as const) {
      const answer = await visible.authorize(event, value, bob);
      if (!answer.ok) throw new Error(answer.message);
      expect(answer.filters).toEqual({ tenant_id: "globex" });
      expect(isAuthMatching(SYSTEM, answer.filters as never)).toBe(false);
    }
    // Posing as one is the package's own refusal, on the record with its decision id.
    await refusalChecker(visible).refused(() => visible.authorize("assistants:update", { assistant_id: ECHO, metadata: { created_by: "system" } }, bob), {
      status: 403,
      message: 'forbidden: the "created_by" metadata key is reserved',
      source: "handler",
      reason: "system_assistant_write",
      event: "assistants:update",
      caller: { tenant_id: "globex", subject: "bob" },
    });
  });
});

describe("AUTH_SYSTEM_ASSISTANTS=hidden", () => {
  it.each(ASKS)("%s: the tenant filter, which no system assistant matches", async (_, event, value) => {
    const answer = await hidden.authorize(event, value, await contextOf(hidden, "bob", "globex"));
    if (!answer.ok) throw new Error(answer.message);
    expect(answer.filters).toEqual({ tenant_id: "globex" });
    expect(isAuthMatching(SYSTEM, answer.filters as never)).toBe(false);
  });
});
