import { deepFreeze } from "../lib/deep-freeze.ts";

/** The permission names this package understands (frozen). */
export const PERMISSIONS = deepFreeze([
  "threads:read", "threads:write",
  "assistants:read", "assistants:write",
  "crons:read", "crons:write",
  "store:read", "store:write",
] as const);
export type Permission = (typeof PERMISSIONS)[number];

/** Every `resource:action` event the LangGraph SDK defines (frozen). */
export const AUTH_EVENTS = deepFreeze([
  "threads:create", "threads:read", "threads:update", "threads:delete", "threads:search", "threads:create_run",
  "assistants:create", "assistants:read", "assistants:update", "assistants:delete", "assistants:search",
  "crons:create", "crons:read", "crons:update", "crons:delete", "crons:search",
  "store:put", "store:get", "store:search", "store:list_namespaces", "store:delete",
] as const);
export type AuthEvent = (typeof AUTH_EVENTS)[number];

const READ_ACTIONS = new Set(["read", "search", "get", "list_namespaces"]);
const WRITE_ACTIONS = new Set(["create", "update", "delete", "create_run", "put"]);

/**
 * The permission an event needs: `<resource>:read` for read, search, get and
 * list_namespaces; `<resource>:write` for create, update, delete, create_run
 * and put. An unknown event (or anything but a string) needs a permission
 * nobody has (fails closed): `undefined`, never a throw.
 *
 * @example
 * requiredPermission("threads:create_run"); // "threads:write"
 */
export function requiredPermission(event: string): Permission | undefined {
  // Every handler call asks: the SDK's events are answered from a table of
  // permissionOf's own answers, so falling through to it gives the same result.
  return REQUIRED.get(event) ?? permissionOf(event);
}

function permissionOf(event: string): Permission | undefined {
  if (typeof event !== "string") return undefined;
  const parts = event.split(":");
  const [resource, action] = parts;
  if (parts.length !== 2 || !resource || !action || !["threads", "assistants", "crons", "store"].includes(resource)) return undefined;
  if (READ_ACTIONS.has(action)) return `${resource}:read` as Permission;
  if (WRITE_ACTIONS.has(action)) return `${resource}:write` as Permission;
  return undefined;
}

const REQUIRED = new Map<string, Permission | undefined>(AUTH_EVENTS.map((event) => [event, permissionOf(event)]));
