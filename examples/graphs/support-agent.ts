/**
 * A support agent built on the tool policy, the tool guard and the audit
 * trail: a documentation search anyone may use, a billing lookup for the
 * `billing` role (or the `billing:read` permission) and a refund for admins.
 *
 * The agent node binds only the tools its user may use (the model never sees
 * the others); the tool node runs every call through the guard, so a call the
 * model emits anyway is refused, and every call is written to the audit log.
 *
 * Environment:
 * - `AUDIT_LOG_FILE`: JSON-lines audit log; default stdout.
 * - `AUDIT_CHAIN_KEY`: key the chain with HMAC-SHA256 (at least 32 bytes); default unkeyed.
 * - `SUPPORT_AGENT_MODEL`: `scripted` (default when no key is set), `openai`
 *   or `anthropic`. The last two need `@langchain/openai` or
 *   `@langchain/anthropic` installed and `OPENAI_API_KEY` or
 *   `ANTHROPIC_API_KEY` set (`SUPPORT_AGENT_MODEL_NAME` picks the model).
 *   Without one of these packages the graph refuses to run instead of
 *   quietly falling back to the scripted model.
 */
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { tool } from "@langchain/core/tools";
import { Annotation, MessagesAnnotation, StateGraph, getStore, type LangGraphRunnableConfig } from "@langchain/langgraph";
import { toolsCondition } from "@langchain/langgraph/prebuilt";
import { z } from "zod";
// The package's entry points, as an app imports them: "langgraph-tenant-auth" and "langgraph-tenant-auth/runtime".
import { createAuditLog, createJsonLinesSink, createToolPolicy } from "../../src/index.ts";
import { createTenantStoreForRun, createToolGuard, readRunCaller } from "../../src/runtime/index.ts";
import { ScriptedChatModel } from "./scripted-chat-model.ts";

/** Who may use which tool in this agent. */
export const supportToolPolicy = createToolPolicy({
  everyone: ["search_docs"],
  roles: { billing: ["billing_lookup"], admin: ["billing_lookup", "refund"] },
  permissions: { "billing:read": ["billing_lookup"] },
});

const DOCS = [
  { title: "Resetting a password", text: "Use 'Forgot password' on the sign-in page; the link is valid for 30 minutes." },
  { title: "Inviting a teammate", text: "Settings → Members → Invite; admins can assign roles." },
  { title: "Refund policy", text: "Refunds are issued by an admin within 30 days of payment." },
];

const searchDocs = tool(
  async ({ query }) => {
    const words = query.toLowerCase().split(/\W+/).filter((w) => w.length > 2);
    const hits = DOCS.filter((d) => words.some((w) => `${d.title} ${d.text}`.toLowerCase().includes(w)));
    return JSON.stringify(hits.length > 0 ? hits : DOCS.slice(0, 1));
  },
  {
    name: "search_docs",
    description: "Search the product documentation.",
    schema: z.object({ query: z.string().max(500) }),
  },
);

const billingLookup = tool(
  async ({ invoice_id }, config: LangGraphRunnableConfig) => {
    const { tenant_id } = readRunCaller(config);
    return JSON.stringify({ invoice_id, tenant_id, amount_cents: 4200, currency: "EUR", status: "paid" });
  },
  {
    name: "billing_lookup",
    description: "Look up an invoice of the caller's organization.",
    schema: z.object({ invoice_id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/) }),
  },
);

/**
 * Issues a refund: records it in the run tenant's store under `["refunds"]`
 * (`createTenantStoreForRun`: in the store that is `[tenant label, "refunds"]`,
 * `acme.eu` being labelled `acme~2Eeu`), so the refund is visible (and its
 * absence provable) through the store API.
 */
const refund = tool(
  async ({ invoice_id, amount_cents }, config: LangGraphRunnableConfig) => {
    const { user_id } = readRunCaller(config);
    const store = config.store ?? getStore();
    if (!store) throw new Error("no store is configured for refunds");
    await createTenantStoreForRun(store, config).put(["refunds"], invoice_id, { invoice_id, amount_cents, issued_by: user_id });
    return `refund of ${amount_cents} cents on ${invoice_id} issued`;
  },
  {
    name: "refund",
    description: "Refund (part of) an invoice of the caller's organization. Admins only.",
    schema: z.object({ invoice_id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/), amount_cents: z.number().int().positive().max(1_000_000) }),
  },
);

/** Every tool of the agent; the policy decides who gets which. */
export const supportTools = [searchDocs, billingLookup, refund];

type ModelFactory = () => Promise<BaseChatModel>;

/** Pick the chat model from the environment (see the module comment). */
export function supportModelFactory(env: Record<string, string | undefined> = process.env): ModelFactory {
  const choice = env.SUPPORT_AGENT_MODEL ?? (env.OPENAI_API_KEY ? "openai" : env.ANTHROPIC_API_KEY ? "anthropic" : "scripted");
  const providers: Record<string, { pkg: string; exportName: string; model: string }> = {
    openai: { pkg: "@langchain/openai", exportName: "ChatOpenAI", model: "gpt-4o-mini" },
    anthropic: { pkg: "@langchain/anthropic", exportName: "ChatAnthropic", model: "claude-3-5-haiku-latest" },
  };
  if (choice === "scripted") return async () => new ScriptedChatModel();
  const provider = Object.hasOwn(providers, choice) ? providers[choice] : undefined;
  if (!provider) throw new TypeError(`SUPPORT_AGENT_MODEL must be "scripted", "openai" or "anthropic", not "${choice}"`);
  let model: Promise<BaseChatModel> | undefined;
  return () =>
    (model ??= (async () => {
      // A variable specifier: the provider package is optional and not a dependency.
      const specifier: string = provider.pkg;
      const mod = (await import(specifier).catch(() => {
        throw new Error(`SUPPORT_AGENT_MODEL=${choice} needs the ${provider.pkg} package: npm install ${provider.pkg}`);
      })) as Record<string, new (fields: { model: string }) => BaseChatModel>;
      return new mod[provider.exportName]!({ model: env.SUPPORT_AGENT_MODEL_NAME ?? provider.model });
    })());
}

const getModel = supportModelFactory();

const chainKey = process.env.AUDIT_CHAIN_KEY || undefined;
const audit = createAuditLog({ sink: createJsonLinesSink({ file: process.env.AUDIT_LOG_FILE || undefined, chainKey }), chainKey });
const guard = createToolGuard({ policy: supportToolPolicy, audit });

const SupportState = Annotation.Root({
  ...MessagesAnnotation.spec,
  /** The tools the last model call was bound with (shown so clients and tests can see the binding). */
  bound_tools: Annotation<string[]>({ reducer: (_old, next) => next, default: () => [] }),
});

async function agent(state: typeof SupportState.State, config: LangGraphRunnableConfig) {
  const allowed = guard.toolsFor(config, supportTools);
  const model = await getModel();
  const response = allowed.length > 0 ? await model.bindTools!(allowed).invoke(state.messages, config) : await model.invoke(state.messages, config);
  return { messages: [response], bound_tools: allowed.map((t) => t.name) };
}

export const graph = new StateGraph(SupportState)
  .addNode("agent", agent)
  // All tools go to the node: the guard, not the node's list, decides.
  .addNode("tools", guard.createToolNode(supportTools))
  .addEdge("__start__", "agent")
  .addConditionalEdges("agent", toolsCondition, ["tools", "__end__"])
  .addEdge("tools", "agent")
  .compile();
