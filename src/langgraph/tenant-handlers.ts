import { InsufficientScopeError, TenantForbiddenError } from "../errors.ts";
import { requiredPermission } from "../policy/event-permission.ts";
import { requireTenantNamespace } from "../policy/store-namespace.ts";
import { tenantFilter, tenantStamp, type TenantFilter, type Visibility } from "../policy/tenant-filter.ts";
import type { Principal } from "../tenant/principal.ts";
import { isTenantId } from "../tenant/tenant-id.ts";
import { isUuidV5 } from "../policy/run-assistant.ts";
import type { RoutePolicy } from "../policy/route-policy.ts";
import { systemAssistantFilter, type SystemAssistantFilter, type SystemAssistantsSetting } from "../policy/system-assistants.ts";
import { checkRunOptions, LANGSMITH_REFUSAL, namesLangSmithProject, type RunOptionsInput } from "./create-run-check.ts";
import {
  requireCronTiedToThread,
  requireMergeSafeUpdate,
  requireStampableMetadata,
} from "./platform-value-rules.ts";

/** What the LangGraph server hands a `.on` handler (the parts we read). */
export interface HandlerRequest {
  event: string;
  resource: string;
  action: string;
  value: unknown;
  user: unknown;
}

type Mutable = Record<string, unknown>;

/**
 * Require the handler's `user` to be one of our principals. Anything else
 * (LangGraph Studio's unauthenticated user, a string identity from another
 * `authenticate`) gets no access at all.
 *
 * @throws {TenantForbiddenError} the user is not a principal with a valid tenant (403).
 * @example
 * const principal = requirePrincipal(request.user);
 */
export function requirePrincipal(user: unknown): Principal {
  const u = user as Partial<Principal> | null | undefined;
  if (!u || typeof u.identity !== "string" || u.identity === "" || !isTenantId(u.tenant_id) || !Array.isArray(u.permissions)) {
    throw new TenantForbiddenError("this caller has no tenant", "no_tenant");
  }
  return u as Principal;
}

function requirePermissionFor(event: string, principal: Principal): void {
  const needed = requiredPermission(event);
  if (!needed) throw new TenantForbiddenError(`"${event}" is not an event this deployment allows`, "event_not_allowed");
  if (!principal.permissions.includes(needed)) throw new InsufficientScopeError(needed);
}

function asObject(value: unknown): Mutable {
  if (value === null || typeof value !== "object") throw new TenantForbiddenError("the request has no body to check", "invalid_value");
  return value as Mutable;
}

/**
 * Stamp tenant and owner on a new resource, over whatever the client sent.
 * A metadata object is changed in place as well as reassigned: thread copy
 * hands the handler the very object it stores and ignores `value.metadata`.
 */
function stampMetadata(value: Mutable, principal: Principal): void {
  const sent = value.metadata;
  const metadata = sent !== null && typeof sent === "object" && !Array.isArray(sent) ? (sent as Mutable) : {};
  Object.assign(metadata, tenantStamp(principal));
  value.metadata = metadata;
}

/**
 * On update the server shallow-merges client metadata into the stored one:
 * `tenant_id` is forced to the caller's own, and `owner` is dropped so the
 * stored owner stays (nobody can hand a resource to someone else).
 */
function pinUpdateMetadata(value: Mutable, principal: Principal): void {
  const sent = value.metadata;
  if (sent === null || sent === undefined) return;
  if (typeof sent !== "object" || Array.isArray(sent)) {
    value.metadata = { tenant_id: principal.tenant_id };
    return;
  }
  const metadata = sent as Mutable;
  metadata.tenant_id = principal.tenant_id;
  delete metadata.owner;
  value.metadata = metadata;
}

/**
 * Keep tenants from minting what marks a system assistant: a UUIDv5 id (the
 * shape of `uuid5(graph_id)`, so no tenant can pre-claim a future graph's
 * assistant) and `created_by` metadata (the server's `"system"` marker).
 */
function requireTenantAssistantWrite(value: Mutable, action: string): void {
  if (action === "create" && isUuidV5(value.assistant_id)) {
    throw new TenantForbiddenError("version-5 UUIDs are reserved for system assistants; omit assistant_id or use another UUID", "system_assistant_write");
  }
  const metadata = value.metadata;
  if (metadata !== null && typeof metadata === "object" && Object.hasOwn(metadata, "created_by")) {
    throw new TenantForbiddenError('the "created_by" metadata key is reserved', "system_assistant_write");
  }
}

/** Options of {@link handleTenantEvent}. */
export interface TenantEventOptions {
  /** The host (see `detect-host.ts`). Default `dev`: rewrites of `value` are kept. */
  host?: "dev" | "js" | "platform";
  /**
   * The route policy whose operator permissions the platform rules read
   * (LangSmith in assistant config, run options of a cron, crons without a
   * thread). Default: nothing unlocked.
   */
  policy?: Pick<RoutePolicy, "allowsWebhooks" | "allowsLangSmith" | "unlocks">;
  /**
   * `visible` (default): a read of a system assistant's id, and a search or
   * count asking for `metadata.created_by: "system"`, are answered with a
   * filter that matches system assistants only. `hidden`: the tenant filter.
   */
  systemAssistants?: SystemAssistantsSetting;
}

const LOCKED: NonNullable<TenantEventOptions["policy"]> = {
  allowsWebhooks: () => false,
  allowsLangSmith: () => false,
  unlocks: () => false,
};

/**
 * On the platform only `metadata` of a rewritten value is kept (see
 * `platform-value-rules.ts`): refuse what the handler would otherwise
 * rewrite, and tie crons to tenants through their thread.
 */
function applyPlatformRules(request: HandlerRequest, principal: Principal, policy = LOCKED): void {
  const value = asObject(request.value);
  if (request.resource === "crons") {
    if (request.action === "create") requireCronTiedToThread(value, policy.unlocks("crons", principal));
    if ((request.action === "create" || request.action === "update") && value.payload !== undefined && value.payload !== null) {
      const payload = value.payload;
      if (typeof payload !== "object" || Array.isArray(payload)) throw new TenantForbiddenError("the cron payload must be an object", "invalid_value");
      checkRunOptions(payload as RunOptionsInput, principal, policy as RoutePolicy, "refuse");
    }
    return;
  }
  if (request.resource === "assistants" && (request.action === "create" || request.action === "update")) {
    if (namesLangSmithProject(value.config) && !policy.allowsLangSmith(principal)) {
      throw new TenantForbiddenError(LANGSMITH_REFUSAL, "run_option_refused");
    }
  }
  if (request.action === "create" || request.action === "create_run") requireStampableMetadata(value, request.event);
  if (request.action === "update") requireMergeSafeUpdate(value);
}

/**
 * The tenant-isolation decision for one event: checks the permission,
 * stamps or pins metadata on `value` (the server reads it back), and returns
 * the filter that restricts the operation to the caller's tenant.
 *
 * Fails closed: an unknown event, a missing principal or a missing
 * permission throws an error the server turns into 403.
 *
 * @param visibility `tenant` (members share) or `owner` (each sees their own).
 * @example
 * auth.on("threads:read", (request) => handleTenantEvent(request, "tenant")); // { tenant_id: "acme" }
 */
export function handleTenantEvent(
  request: HandlerRequest,
  visibility: Visibility,
  options: TenantEventOptions = {},
): TenantFilter | SystemAssistantFilter | undefined {
  const principal = requirePrincipal(request.user);
  requirePermissionFor(request.event, principal);
  const filter = tenantFilter(principal, visibility);
  if (request.resource === "assistants" && (request.action === "read" || request.action === "search")) {
    // Same on every host: nothing is rewritten, only the filter chosen.
    const system = systemAssistantFilter(request.action, request.value, options.systemAssistants ?? "visible");
    if (system) return system;
  }
  if (options.host === "platform" && request.resource !== "store") {
    applyPlatformRules(request, principal, options.policy);
    // Platform fact: CronCreate has no metadata, so a stamp would be dropped; the cron is tied through its thread.
    if (request.resource === "crons" && request.action === "create") return filter;
  }

  if (request.resource === "store") {
    // Nothing is rewritten here, so this holds on every host. Platform fact: for
    // search and list_namespaces the platform passes the request's own prefix as
    // `namespace` (the dev server too), so the prefix is what is checked.
    const value = asObject(request.value);
    requireTenantNamespace(value.namespace as unknown[] | undefined, principal, { owner: visibility === "owner" });
    return undefined;
  }

  if (request.resource === "assistants" && (request.action === "create" || request.action === "update")) {
    requireTenantAssistantWrite(asObject(request.value), request.action);
  }

  switch (request.action) {
    case "create":
    case "create_run": {
      stampMetadata(asObject(request.value), principal);
      return filter;
    }
    case "update": {
      pinUpdateMetadata(asObject(request.value), principal);
      return filter;
    }
    case "read":
    case "delete":
    case "search":
      return filter;
    default:
      throw new TenantForbiddenError(`"${request.event}" is not an event this deployment allows`, "event_not_allowed");
  }
}
