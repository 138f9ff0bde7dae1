/**
 * What the handlers do differently on LangGraph Platform, where a handler's
 * rewrite of `value` is mostly lost.
 *
 * Platform fact (its JS bridge, `remote.py`; docs/platform-contract.md#the-server-remotepy): of the `value` a handler
 * returns, the platform applies only `metadata`, merged key by key into the
 * request's existing `value.metadata` dict, and only when that dict exists.
 * Every other change (to `kwargs`, `config`, a deleted key) is dropped. So on
 * that host the handlers refuse what they would otherwise rewrite:
 * - a create whose value has no metadata object (the tenant stamp would be lost);
 * - an update whose metadata names `owner` (deleting it would not be kept);
 * - an assistant whose config names a LangSmith project (dev reads it back from
 *   storage at run creation; the platform worker has no storage; the test is
 *   `namesLangSmithProject` of the run check).
 */
import { TenantForbiddenError } from "../errors.ts";
import { CRON_WITHOUT_THREAD } from "../policy/platform-routes.ts";
import { isStudioUser } from "@langchain/langgraph-sdk/auth";

type Mutable = Record<string, unknown>;

const isPlainObject = (value: unknown): value is Mutable =>
  value !== null && typeof value === "object" && !Array.isArray(value);

/**
 * Refuse a create whose stamp the platform would drop.
 *
 * @throws {TenantForbiddenError} `value.metadata` is not an object (403).
 * @example
 * requireStampableMetadata(value, "threads:create");
 */
export function requireStampableMetadata(value: Mutable, event: string): void {
  if (!isPlainObject(value.metadata)) {
    throw new TenantForbiddenError(
      `${event}: this deployment keeps the tenant stamp only inside a metadata object; send "metadata": {} with the request`,
      "platform_value_refused",
    );
  }
}

/**
 * Refuse an update whose metadata the platform would merge as sent: an `owner`
 * key (the stored owner must stay) or metadata that is not an object.
 *
 * @throws {TenantForbiddenError} (403).
 * @example
 * requireMergeSafeUpdate(value);
 */
export function requireMergeSafeUpdate(value: Mutable): void {
  const sent = value.metadata;
  if (sent === null || sent === undefined) return;
  if (!isPlainObject(sent)) throw new TenantForbiddenError("metadata must be an object", "invalid_value");
  if (Object.hasOwn(sent, "owner")) throw new TenantForbiddenError('the "owner" metadata key cannot be changed', "platform_value_refused");
}

/**
 * A LangGraph Studio user the platform verified with LangSmith: the SDK's
 * `isStudioUser` (`kind: "StudioUser"`, or the Studio identity), and none of
 * the fields every principal of this package has. A token whose `sub` is the
 * Studio identity still yields a principal (with `tenant_id` and `issuer`),
 * so it cannot pass as Studio.
 *
 * @example
 * isPlatformStudioUser({ kind: "StudioUser", identity: "dev@example.com" }); // true
 */
export function isPlatformStudioUser(user: unknown): boolean {
  if (!isPlainObject(user)) return false;
  if (user.tenant_id !== undefined || user.issuer !== undefined) return false;
  return isStudioUser(user as never);
}

const OPERATOR_READS = new Set(["read", "search", "get", "list_namespaces"]);

/**
 * The Studio operator view (`AUTH_STUDIO_ACCESS=operator`): read and search
 * on every resource of every tenant, no filter; every write refused.
 *
 * @throws {TenantForbiddenError} a write, or `none` access (403).
 * @example
 * studioDecision("threads:search", "search", "operator"); // undefined (no filter)
 */
export function studioDecision(event: string, action: string, access: "none" | "operator"): undefined {
  if (access !== "operator") {
    throw new TenantForbiddenError("LangGraph Studio users have no access here (AUTH_STUDIO_ACCESS=none)", "studio_access_refused");
  }
  if (!OPERATOR_READS.has(action)) {
    throw new TenantForbiddenError(`the Studio operator view is read-only ("${event}" is a write)`, "studio_access_refused");
  }
  return undefined;
}

/**
 * The `crons:*` decision on the platform. `CronCreate` carries no metadata,
 * only `thread_id` and the run `payload`: a cron is tied to a tenant through
 * its thread, whose runs pass `threads:create_run` (platform fact). A cron
 * without a thread cannot be tied to anyone and is refused unless the caller
 * holds the `crons` operator permission.
 *
 * @throws {TenantForbiddenError} (403).
 * @example
 * requireCronTiedToThread(value, statelessAllowed);
 */
export function requireCronTiedToThread(value: Mutable, statelessAllowed: boolean): void {
  const threadId = value.thread_id;
  if ((typeof threadId !== "string" || threadId === "") && !statelessAllowed) {
    throw new TenantForbiddenError(CRON_WITHOUT_THREAD, "platform_value_refused");
  }
}
