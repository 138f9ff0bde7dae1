import { HumanMessage } from "@langchain/core/messages";
import { describe, expect, it } from "vitest";
import { ScriptedChatModel } from "../../examples/graphs/scripted-chat-model.ts";
import { supportModelFactory, supportToolPolicy, supportTools } from "../../examples/graphs/support-agent.ts";

const user = (roles: string[], permissions: string[] = []) => ({ identity: "u", tenant_id: "acme", roles, permissions });

describe("support agent", () => {
  it("gives search to everyone, billing to billing and admin, refunds to admin only", () => {
    const names = (u: unknown) => supportToolPolicy.toolsFor(u, supportTools).map((t) => t.name);
    expect(names(user(["viewer"]))).toEqual(["search_docs"]);
    expect(names(user(["billing"]))).toEqual(["search_docs", "billing_lookup"]);
    expect(names(user([], ["billing:read"]))).toEqual(["search_docs", "billing_lookup"]);
    expect(names(user(["admin"]))).toEqual(["search_docs", "billing_lookup", "refund"]);
  });

  it("picks the scripted model without a key, and refuses a provider whose package is missing", async () => {
    expect(await supportModelFactory({})()).toBeInstanceOf(ScriptedChatModel);
    expect(await supportModelFactory({ OPENAI_API_KEY: "x", SUPPORT_AGENT_MODEL: "scripted" })()).toBeInstanceOf(ScriptedChatModel);
    await expect(supportModelFactory({ OPENAI_API_KEY: "x" })()).rejects.toThrow(/needs the @langchain\/openai package/);
    await expect(supportModelFactory({ ANTHROPIC_API_KEY: "x" })()).rejects.toThrow(/needs the @langchain\/anthropic package/);
    expect(() => supportModelFactory({ SUPPORT_AGENT_MODEL: "gpt" })).toThrow(TypeError);
  });

  it("has a scripted model that only picks bound tools, except when told to call one", async () => {
    const unbound = new ScriptedChatModel();
    expect((await unbound.invoke([new HumanMessage("please refund inv_1")])).tool_calls).toEqual([]);
    const forced = await unbound.invoke([new HumanMessage('/call refund {"invoice_id":"inv_2"}')]);
    expect(forced.tool_calls).toEqual([expect.objectContaining({ name: "refund", args: { invoice_id: "inv_2" } })]);
    const bound = unbound.bindTools(supportTools);
    expect((await bound.invoke([new HumanMessage("please refund inv_1")])).tool_calls).toEqual([
      expect.objectContaining({ name: "refund", args: { invoice_id: "inv_1", amount_cents: 4200 } }),
    ]);
  });
});
