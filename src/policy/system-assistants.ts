import { isUuidV5 } from "./run-assistant.ts";

/** `AUTH_SYSTEM_ASSISTANTS`: whether tenants may read the server's system assistants. */
export type SystemAssistantsSetting = "visible" | "hidden";

/**
 * The filter that matches system assistants only: the server creates one per
 * graph with metadata `created_by: "system"` (and id `uuid5(graph_id)`).
 *
 * Why it matches nothing of a tenant: tenants cannot put `created_by` in an
 * assistant's metadata (the assistant handlers refuse the key on create and
 * update, on every host), and every tenant assistant is stamped with a
 * `tenant_id` instead. A plain value is strict equality in the server's
 * matcher (never the match-all `{ $eq: "" }` or an unknown operator).
 */
export const SYSTEM_ASSISTANT_FILTER: Readonly<{ created_by: "system" }> = Object.freeze({ created_by: "system" });

/** The filter object {@link systemAssistantFilter} returns. */
export type SystemAssistantFilter = { created_by: "system" };

/**
 * For an `assistants:read` or `assistants:search` event that asks for system
 * assistants, the filter that answers it with system assistants only;
 * `undefined` when the request does not ask for them (the tenant filter
 * applies) or the setting is `hidden`.
 *
 * A request asks for them when it reads a version-5 UUID (the shape of
 * `uuid5(graph_id)`, which tenants cannot create) or searches (and counts)
 * with `metadata.created_by` exactly `"system"`. The filter language has no
 * OR, so "mine or the system's" cannot be one answer; a search without that
 * metadata keeps the tenant filter.
 *
 * @example
 * systemAssistantFilter("search", { metadata: { created_by: "system" } }, "visible"); // { created_by: "system" }
 * systemAssistantFilter("read", { assistant_id: uuid5("agent", GRAPH_NAMESPACE) }, "visible"); // { created_by: "system" }
 * systemAssistantFilter("search", { metadata: {} }, "visible"); // undefined
 */
export function systemAssistantFilter(
  action: string,
  value: unknown,
  setting: SystemAssistantsSetting,
): SystemAssistantFilter | undefined {
  if (setting !== "visible" || value === null || typeof value !== "object") return undefined;
  const v = value as { assistant_id?: unknown; metadata?: unknown };
  if (action === "read") return isUuidV5(v.assistant_id) ? { ...SYSTEM_ASSISTANT_FILTER } : undefined;
  if (action === "search") {
    const metadata = v.metadata;
    const asks = metadata !== null && typeof metadata === "object" && (metadata as Record<string, unknown>).created_by === "system";
    return asks ? { ...SYSTEM_ASSISTANT_FILTER } : undefined;
  }
  return undefined;
}
