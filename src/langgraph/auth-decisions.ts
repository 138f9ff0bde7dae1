/**
 * How the `Auth` of `createTenantAuth` puts its decisions on the record: the
 * wrappers around `authenticate` and each `.on` handler call these, and
 * nothing else does (the route guard and the run check run inside those
 * wrappers and only throw coded errors).
 *
 * - A refusal becomes one event (reason code, route id, resources, the
 *   caller of a verified token) and the error the server answers with gets
 *   its `decision_id` (header, message) and, in the server's request
 *   context, CORS headers that let a browser read it.
 * - Errors are converted here, in one place: anything thrown that is not an
 *   `AuthError` (a bug, a failing storage, a custom authenticator's plain
 *   `Error`, a thrown string) is recorded once as outcome `error`, reason
 *   `internal_error`, and replaced by a `CheckFailedError` (500, a fixed
 *   message, the original as `cause`). Never the original: on the platform a
 *   handler's raw error is shown to the caller, and one whose `name` is
 *   empty passes as an allow (docs/platform-contract.md#errors).
 * - On the platform a handler's refusal is recorded with status 403, the
 *   status the platform answers every handler error with.
 * - On `langgraph dev` and `js`, a read, update or delete by id that the
 *   server's own tenant filter answers with 404 (or a create that names an
 *   id, answered 409) is looked up in the server's storage after the answer:
 *   another tenant's resource is recorded as `cross_tenant` (source
 *   `server_filter`), and the client's answer is the server's, untouched.
 *   Only requests answered 404 or 409 pay for the lookup.
 */
import { AuthError, CheckFailedError, type RefusalReason, type ResourceIds } from "../errors.ts";
import type { DecisionCaller, DecisionHost, DecisionInput } from "../decision/decision-event.ts";
import { decisionCaller, decisionErrorOf } from "../decision/decision-event.ts";
import type { DecisionLog } from "../decision/decision-log.ts";
import { exposeHeaders } from "../decision/expose-headers.ts";
import type { RoutePolicy } from "../policy/route-policy.ts";
import { isSystemAssistant } from "../policy/run-assistant.ts";
import { isInTenant, lookedUpTenant, outsideReason, type Visibility } from "../policy/tenant-filter.ts";
import { requestTarget } from "../request/request-target.ts";
import type { Principal } from "../tenant/principal.ts";
import { currentServerContext, storageOfContext, type ServerOutgoing, type ServerRequestContext, type ServerStorage } from "./server-storage.ts";
import type { HandlerRequest } from "./tenant-handlers.ts";

/** Options of {@link createAuthDecisions}. */
export interface AuthDecisionsOptions {
  decisions: DecisionLog;
  host: Exclude<DecisionHost, "app">;
  /** The route table's policy: names the route of a request. Default: routes are not named. */
  policy?: Pick<RoutePolicy, "match">;
  visibility: Visibility;
}

/** The recording side of one `Auth`. */
export interface AuthDecisions {
  /**
   * `authenticate` refused (before verification: no principal) or the guard
   * did (with the principal). Returns what to throw: the refusal, or a
   * `CheckFailedError` for anything thrown that is not an `AuthError`. A
   * promise of it on `dev` and `js` when a route refusal of a verified
   * caller names a resource by id (see {@link LOOKED_UP}): the id is looked
   * up first, so the event can name the tenant it belongs to.
   */
  refusedRequest(error: unknown, request: Request, principal: Principal | undefined): AuthError | Promise<AuthError>;
  /** `authenticate` allowed: recorded only when the log records or counts allowed decisions (check {@link AuthDecisions.allowedRecorded} first). */
  allowedRequest(request: Request, principal: Principal): void;
  /** A handler (or the run check in it) refused. Returns what to throw, as {@link AuthDecisions.refusedRequest} does. */
  refusedEvent(error: unknown, request: HandlerRequest): AuthError;
  /** A handler allowed: the allowed event (mode `all`, observers), and the watch for the server's 404 on `dev` and `js`. */
  allowedEvent(request: HandlerRequest): void;
  /** True when allowed decisions are recorded or counted (mode `all`, an observer, a counter: the metrics). */
  readonly allowedRecorded: boolean;
}

/**
 * Events that name one resource by id, whose refusal the server's filter
 * may produce: a 404 for a read, update or delete (and a join, copy or
 * cancel, which raise these events), a 409 for a create or copy that names
 * another tenant's id.
 */
const WATCHED = new Set([
  "threads:read",
  "threads:update",
  "threads:delete",
  "threads:create",
  "assistants:read",
  "assistants:update",
  "assistants:delete",
  "assistants:create",
]);

/**
 * Route refusals that do not look at the resource the path names (the
 * route, a run option or the body is refused, whoever owns it): on `dev` and
 * `js` the id is looked up in the server's storage before the refusal is
 * recorded, as the run checks do, so a probe of another tenant's thread
 * through a refused route (the protocol and cron routes,
 * `delete_threads=true`, a run webhook) names that tenant
 * (`target_tenant_id`). The answer does not change: the lookup runs for an
 * id that exists nowhere too, and its result only reaches the event.
 */
const LOOKED_UP: ReadonlySet<RefusalReason> = new Set<RefusalReason>(["operator_only", "run_option_refused", "body_too_large", "body_too_deep"]);

/** Why a stored resource is not the caller's, and its owner tenant as a refusal's resources name it (`lookedUpTenant`). */
type StoredOutside = { reason: RefusalReason; target: ReturnType<typeof lookedUpTenant> };

/** The statuses the server answers such a refusal with. */
const FILTERED = new Set([404, 409]);

/** The request variable that says a request's answer is watched already. */
const WATCHING = "langgraph-tenant-auth.watching";

const ID_FIELDS = ["thread_id", "assistant_id", "run_id", "cron_id"] as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object";
}

/**
 * The ids a handler's `value` names (never any other field of it). The
 * `run_id` of `threads:create_run` is the server's id for the run it would
 * create, not one the request named: left out.
 */
function idsOfValue(value: unknown, event?: string): ResourceIds {
  const ids: ResourceIds = {};
  if (!isRecord(value)) return ids;
  for (const key of ID_FIELDS) {
    if (key === "run_id" && event === "threads:create_run") continue;
    const id = value[key];
    if (typeof id === "string" && id !== "") ids[key] = id;
  }
  const namespace = value.namespace;
  if (Array.isArray(namespace) && namespace.every((label) => typeof label === "string")) ids.namespace = namespace as string[];
  return ids;
}

/** Merge: the first set's ids win (what the rule itself named). */
function merge(first: ResourceIds | undefined, second: ResourceIds): ResourceIds {
  return first === undefined ? second : { ...second, ...first };
}

/**
 * Build the recording side of an `Auth`.
 *
 * @example
 * const record = createAuthDecisions({ decisions, host: "dev", policy, visibility: "tenant" });
 */
export function createAuthDecisions(options: AuthDecisionsOptions): AuthDecisions {
  const { decisions, host, policy, visibility } = options;
  const platform = host === "platform";

  /** Route id and path ids of a request (method, raw path and query only). */
  const routeOf = (request: Request | undefined): { route: string | null; ids: ResourceIds } => {
    if (request === undefined) return { route: null, ids: {} };
    const target = requestTarget(request.url);
    if (target === undefined) return { route: null, ids: {} };
    const found = policy?.match(request.method, target.path);
    const ids: ResourceIds = {};
    if (found !== undefined) for (const key of ID_FIELDS) if (found.params[key] !== undefined) ids[key] = found.params[key];
    const namespace = target.query.get("namespace");
    if (namespace !== null && namespace !== "") ids.namespace = namespace.split(".");
    return { route: found?.route.id ?? null, ids };
  };

  /**
   * Record a refusal or an error, once; the error to throw is always one of
   * the package's (anything else is converted here: see `CheckFailedError`)
   * and carries the decision id where the client can see it.
   */
  const refuse = (thrown: unknown, input: Omit<DecisionInput, "outcome" | "status" | "reason">, context: ServerRequestContext | undefined): AuthError => {
    const refusal = thrown instanceof AuthError;
    const error = refusal ? thrown : new CheckFailedError({ cause: thrown });
    const id = decisions.record({
      ...input,
      outcome: refusal ? "refused" : "error",
      // Platform fact: the server answers every handler error with 403 (docs/platform-contract.md#errors).
      status: platform && input.source === "handler" ? 403 : error.status,
      reason: error.reason,
      resources: merge(error.resources, input.resources ?? {}),
      // What was thrown, for the operator: its class and code, never its message.
      ...(refusal ? {} : { error: decisionErrorOf(thrown) }),
    });
    // An answer that must match the server's own for a missing resource gets no id (it would tell them apart).
    if (id === undefined || !error.sendsDecisionId) return error;
    if (context !== undefined) {
      // The server's CORS middleware set its exposed headers on the response
      // being built; the refusal is merged under them, so the names go there.
      try {
        const headers = context.res.headers;
        headers.set("Access-Control-Expose-Headers", exposeHeaders(headers.get("Access-Control-Expose-Headers")));
      } catch {
        // A response whose headers are immutable: the id is still in the body.
      }
    }
    return error.withDecisionId(id);
  };

  /** After the server answered: a 404 on another tenant's resource is a cross-tenant attempt its filter refused. */
  const watchServerFilter = (request: HandlerRequest, principal: Principal, context: ServerRequestContext): void => {
    const outgoing: ServerOutgoing | undefined = context.env?.outgoing;
    // One watch per request (a copy raises two events): marked in the request's own variables.
    if (outgoing === undefined || typeof outgoing.once !== "function" || context.get(WATCHING) === true) return;
    context.set(WATCHING, true);
    const value = request.value;
    outgoing.once("close", () => {
      const status = outgoing.statusCode;
      if (!FILTERED.has(status)) return;
      void namedOutside(context, value, request.action, principal).then(
        (found) => {
          if (found === undefined) return;
          const { route, ids } = routeOf(context.req.raw);
          const resources = { ...merge(idsOfValue(value), ids), ...found.target };
          decisions.record({
            host,
            source: "server_filter",
            outcome: "refused",
            status,
            reason: found.reason,
            route,
            event: request.event,
            resources,
            caller: decisionCaller(principal),
          });
        },
        () => undefined,
      );
    });
  };

  /**
   * Why the resource a 404 request named is not the caller's (and whose it
   * is), or `undefined` when it is theirs or exists nowhere.
   */
  const namedOutside = async (
    context: ServerRequestContext,
    value: unknown,
    action: string,
    principal: Principal,
  ): Promise<StoredOutside | undefined> => {
    const storage = storageOfContext(context);
    if (storage === undefined) return undefined;
    return storedOutside(storage, merge(idsOfValue(value), routeOf(context.req.raw).ids), action, principal);
  };

  /**
   * Why the stored resources `ids` name are not the caller's (and whose
   * they are, as `lookedUpTenant` names it for a refusal's resources): the
   * thread, then the assistant, then the run's thread; `undefined` when they
   * are theirs or exist nowhere.
   */
  const storedOutside = async (
    storage: ServerStorage,
    ids: ResourceIds,
    action: string,
    principal: Principal,
  ): Promise<StoredOutside | undefined> => {
    const outside = (metadata: unknown): StoredOutside | undefined =>
      isInTenant(metadata, principal, visibility) ? undefined : { reason: outsideReason(metadata, principal), target: lookedUpTenant(metadata) };
    if (ids.thread_id !== undefined) {
      const thread = await storage.getThread(ids.thread_id);
      const found = thread && outside(thread.metadata);
      if (found) return found;
    }
    if (ids.assistant_id !== undefined) {
      const assistant = await storage.getAssistant(ids.assistant_id);
      if (assistant && isSystemAssistant(assistant)) return action === "read" ? undefined : { reason: "system_assistant_write", target: {} };
      const found = assistant && outside(assistant.metadata);
      if (found) return found;
    }
    if (ids.run_id !== undefined) {
      const run = await storage.getRun(ids.run_id);
      const thread = run ? await storage.getThread(run.thread_id) : undefined;
      const found = thread && outside(thread.metadata);
      if (found) return found;
    }
    return undefined;
  };

  const caller = (user: unknown): DecisionCaller | undefined => decisionCaller(user);

  return {
    get allowedRecorded() {
      return decisions.countsAllowed;
    },
    refusedRequest(error, request, principal) {
      const { route, ids } = routeOf(request);
      const context = platform ? undefined : currentServerContext();
      const input = { host, source: "authenticate" as const, route, resources: ids, caller: caller(principal) };
      const named = error instanceof AuthError ? merge(error.resources, ids) : ids;
      const storage = context === undefined ? undefined : storageOfContext(context);
      if (
        principal === undefined || storage === undefined || !(error instanceof AuthError) || !LOOKED_UP.has(error.reason) ||
        named.tenant_id !== undefined || (named.thread_id === undefined && named.assistant_id === undefined && named.run_id === undefined)
      ) {
        return refuse(error, input, context);
      }
      // As a read: a system assistant belongs to no tenant.
      return storedOutside(storage, named, "read", principal).then(
        (found) => {
          // Another tenant's (not another owner's in the caller's own tenant).
          const other = found?.target.tenant_id !== undefined && found.target.tenant_id !== principal.tenant_id;
          return refuse(error, other ? { ...input, resources: { ...ids, ...found.target } } : input, context);
        },
        // Storage that cannot be read: the refusal stands, recorded without the owner.
        () => refuse(error, input, context),
      );
    },
    allowedRequest(request, principal) {
      if (!decisions.recordsAllowed) {
        // Only counted (the metrics): no route and no resources to work out.
        decisions.record({ host, source: "authenticate", outcome: "allowed", status: null, reason: null, caller: caller(principal) });
        return;
      }
      const { route, ids } = routeOf(request);
      decisions.record({ host, source: "authenticate", outcome: "allowed", status: null, reason: null, route, resources: ids, caller: caller(principal) });
    },
    refusedEvent(error, request) {
      const context = platform ? undefined : currentServerContext();
      const { route, ids } = routeOf(context?.req.raw);
      return refuse(
        error,
        { host, source: "handler", route, event: request.event, resources: merge(idsOfValue(request.value, request.event), ids), caller: caller(request.user) },
        context,
      );
    },
    allowedEvent(request) {
      const recordAllowed = decisions.recordsAllowed;
      if (!recordAllowed && decisions.countsAllowed) {
        // Only counted (the metrics): the event and the caller, nothing to work out.
        decisions.record({ host, source: "handler", outcome: "allowed", status: null, reason: null, event: request.event, caller: caller(request.user) });
      }
      if (platform) {
        if (recordAllowed) {
          decisions.record({ host, source: "handler", outcome: "allowed", status: null, reason: null, event: request.event, resources: idsOfValue(request.value, request.event), caller: caller(request.user) });
        }
        return;
      }
      // With the log off, the metrics still count what the server's filter refused.
      const watch = decisions.mode !== "off" || decisions.countsAllowed;
      if (!recordAllowed && !(watch && WATCHED.has(request.event))) return;
      const context = currentServerContext();
      if (recordAllowed) {
        const { route, ids } = routeOf(context?.req.raw);
        decisions.record({
          host,
          source: "handler",
          outcome: "allowed",
          status: null,
          reason: null,
          route,
          event: request.event,
          resources: merge(idsOfValue(request.value, request.event), ids),
          caller: caller(request.user),
        });
      }
      // The handler allowed, so the user is a principal (requirePrincipal passed).
      if (watch && context !== undefined && WATCHED.has(request.event)) watchServerFilter(request, request.user as Principal, context);
    },
  };
}
