import { createHash } from "node:crypto";
import { TenantForbiddenError } from "../errors.ts";
import type { Principal } from "../tenant/principal.ts";
import { isInTenant, lookedUpTenant, outsideReason, type Visibility } from "./tenant-filter.ts";

/**
 * The namespace the LangGraph server derives system assistant ids from
 * (`NAMESPACE_GRAPH` in `@langchain/langgraph-api` graph/load.mjs; the same
 * constant as the Python server). Not the RFC 4122 URL namespace.
 */
export const GRAPH_NAMESPACE = "6ba7b821-9dad-11d1-80b4-00c04fd430c8";

/**
 * RFC 4122 §4.3 name-based UUID, version 5 (SHA-1).
 *
 * @example
 * uuid5("agent", GRAPH_NAMESPACE); // "fe096781-5601-53d2-b2f6-0d3403f7e9ca"
 */
export function uuid5(name: string, namespace: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ""), "hex");
  if (ns.length !== 16) throw new TypeError("uuid5: namespace must be a UUID");
  const bytes = createHash("sha1").update(ns).update(name, "utf8").digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50; // version 5 (§4.1.3)
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC 4122 variant (§4.1.1)
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The id the server gives a graph's system assistant. */
export function systemAssistantId(graphId: string): string {
  return uuid5(graphId, GRAPH_NAMESPACE);
}

/**
 * True for a string shaped like a version-5 UUID. Clients may not choose such
 * an assistant id: it is the shape of system assistant ids, and a tenant that
 * pre-claimed `uuid5(future graph)` would own that graph's assistant once the
 * graph is deployed (the server keeps an existing id: `if_exists: "do_nothing"`).
 */
export function isUuidV5(value: unknown): boolean {
  return typeof value === "string" && /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.test(value);
}

/** The parts of a stored assistant this check reads. */
export interface StoredAssistant {
  assistant_id: string;
  graph_id: string;
  metadata?: Record<string, unknown> | null;
  config?: { configurable?: Record<string, unknown> } | null;
}

/**
 * True for an assistant the server created for a graph at start-up: its id is
 * `uuid5(graph_id)`, its metadata says `created_by: "system"` and it has no
 * tenant. Tenants can produce none of these (see {@link isUuidV5} and the
 * `created_by` rule of the assistant handlers).
 */
export function isSystemAssistant(assistant: StoredAssistant): boolean {
  const metadata = assistant.metadata ?? {};
  return (
    typeof assistant.graph_id === "string" &&
    assistant.assistant_id === systemAssistantId(assistant.graph_id) &&
    metadata.created_by === "system" &&
    metadata.tenant_id === undefined
  );
}

/**
 * True when the caller may run this assistant: a system assistant, or one
 * whose stored metadata matches the caller's tenant filter (tenant, and
 * owner with `owner` visibility).
 *
 * @example
 * isRunnableAssistant(storedAssistant, principal, "tenant");
 */
export function isRunnableAssistant(
  assistant: StoredAssistant | null | undefined,
  principal: Principal,
  visibility: Visibility,
): boolean {
  if (!assistant) return false;
  return isSystemAssistant(assistant) || isInTenant(assistant.metadata, principal, visibility);
}

/**
 * {@link isRunnableAssistant} as a check.
 *
 * @throws {TenantForbiddenError} the assistant is missing or another tenant's (403).
 * @example
 * requireRunnableAssistant(storedAssistant, principal, "tenant");
 */
export function requireRunnableAssistant(
  assistant: StoredAssistant | null | undefined,
  principal: Principal,
  visibility: Visibility,
): void {
  if (!isRunnableAssistant(assistant, principal, visibility)) {
    throw new TenantForbiddenError(
      "this assistant cannot be run by your tenant",
      assistant ? outsideReason(assistant.metadata, principal) : "not_found",
      { resources: { ...(typeof assistant?.assistant_id === "string" ? { assistant_id: assistant.assistant_id } : {}), ...lookedUpTenant(assistant?.metadata) } },
    );
  }
}
