/**
 * A scripted chat model for offline runs (`npm run dev` without a model key,
 * and the tests). It follows a short script instead of thinking:
 *
 * - after a tool result, it reports the result in one sentence;
 * - `/call <tool> {json args}` emits that tool call whether or not the tool
 *   is bound: it plays a model that was talked into calling a tool it was
 *   never given (prompt injection), which the tool guard must refuse;
 * - otherwise a keyword picks a bound tool: "refund" → `refund`,
 *   "invoice"/"bill" → `billing_lookup`, "doc"/"how" → `search_docs`;
 * - with nothing to do it names the tools it was bound with.
 */
import { BaseChatModel, type BindToolsInput } from "@langchain/core/language_models/chat_models";
import { AIMessage, type BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import { randomUUID } from "node:crypto";

function toolName(tool: BindToolsInput): string | undefined {
  const t = tool as { name?: unknown; function?: { name?: unknown } };
  if (typeof t.name === "string") return t.name;
  if (typeof t.function?.name === "string") return t.function.name;
  return undefined;
}

function textOf(message: BaseMessage | undefined): string {
  if (!message) return "";
  return typeof message.content === "string" ? message.content : JSON.stringify(message.content);
}

const CALL_COMMAND = /^\/call\s+([A-Za-z0-9_-]{1,64})\s*(\{[\s\S]*\})?\s*$/;

/**
 * The scripted model; `bindTools` returns a copy that knows the bound tool names.
 *
 * @example
 * const model = new ScriptedChatModel().bindTools([searchDocs]);
 * await model.invoke([new HumanMessage("how do I reset my password?")]); // a search_docs tool call
 */
export class ScriptedChatModel extends BaseChatModel {
  /** Names of the tools this instance was bound with. */
  readonly boundTools: readonly string[];

  constructor(fields: { boundTools?: readonly string[] } = {}) {
    super({});
    this.boundTools = fields.boundTools ?? [];
  }

  _llmType(): string {
    return "scripted";
  }

  override bindTools(tools: BindToolsInput[]): ScriptedChatModel {
    return new ScriptedChatModel({ boundTools: tools.map(toolName).filter((n): n is string => n !== undefined) });
  }

  /** The reply to a conversation (exposed for tests). */
  reply(messages: BaseMessage[]): AIMessage {
    const last = messages.at(-1);
    if (last?.getType() === "tool") {
      return new AIMessage(`The ${String(last.name ?? "tool")} tool answered: ${textOf(last)}`);
    }
    const text = textOf(last).trim();
    const command = CALL_COMMAND.exec(text);
    if (command) {
      let args: Record<string, unknown> = {};
      try {
        const parsed: unknown = command[2] ? JSON.parse(command[2]) : {};
        if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) args = parsed as Record<string, unknown>;
      } catch {
        return new AIMessage("I could not read those arguments as JSON.");
      }
      return this.call(command[1]!, args);
    }
    const invoice = /\b(inv[_-]?[A-Za-z0-9]+)\b/i.exec(text)?.[1] ?? "inv_1001";
    const lower = text.toLowerCase();
    if (lower.includes("refund") && this.boundTools.includes("refund")) {
      return this.call("refund", { invoice_id: invoice, amount_cents: 4200 });
    }
    if ((lower.includes("invoice") || lower.includes("bill")) && this.boundTools.includes("billing_lookup")) {
      return this.call("billing_lookup", { invoice_id: invoice });
    }
    if ((lower.includes("doc") || lower.includes("how")) && this.boundTools.includes("search_docs")) {
      return this.call("search_docs", { query: text.slice(0, 200) });
    }
    return new AIMessage(
      this.boundTools.length > 0
        ? `I can help with: ${this.boundTools.join(", ")}.`
        : "I have no tools I may use for you.",
    );
  }

  private call(name: string, args: Record<string, unknown>): AIMessage {
    return new AIMessage({ content: "", tool_calls: [{ id: `call_${randomUUID()}`, name, args, type: "tool_call" }] });
  }

  async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    const message = this.reply(messages);
    return { generations: [{ text: textOf(message), message }] };
  }
}
