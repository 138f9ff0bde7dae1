/**
 * The decision event: what one decision of this package puts on the record,
 * built from what the wrapper that made it knows. Only the fields below ever
 * leave the process: no token, no header value, no cookie, no body, no
 * claim but the configured tenant and subject claims (read from a verified
 * token, as the principal carries them).
 */
import type { RefusalReason, ResourceIds } from "../errors.ts";

/**
 * Where the decision was made: the LangGraph server the `Auth` runs in
 * (`dev`, `js`, `platform`) or an app's own routes behind the Hono
 * middleware (`app`, when it is not told the server).
 */
export type DecisionHost = "dev" | "js" | "platform" | "app";

/**
 * Which wrapper decided: `authenticate` (token and route policy),
 * `handler` (a `.on` handler and the run check), `server_filter` (the
 * server's own tenant filter answered 404 for a resource of another tenant
 * that the handler's filter hid; `langgraph dev` and `js` only), `middleware`
 * (the Hono middleware of custom routes), `tool_guard` (a tool call inside a graph),
 * `runtime` (the tenant checkpointer, store or `requireRunTenant` inside a graph).
 */
export type DecisionSource = "authenticate" | "handler" | "server_filter" | "middleware" | "tool_guard" | "runtime";

/** `allowed`, `refused`, or `error` (a check threw something that is not a refusal: the server answers 500). */
export type DecisionOutcome = "allowed" | "refused" | "error";

/** The caller as a verified token names it: the configured tenant and subject claims, nothing else. */
export interface DecisionCaller {
  tenant_id: string;
  subject: string;
}

/** What a wrapper hands the decision log about one decision. */
export interface DecisionInput {
  host: DecisionHost;
  source: DecisionSource;
  outcome: DecisionOutcome;
  /** The HTTP status of the refusal; `null` for an allowed decision (the server answers it). */
  status: number | null;
  /** From `REFUSAL_REASONS`; `null` for an allowed decision. */
  reason: RefusalReason | null;
  /** The route id of the route table (`threads.get`), when the request is known. */
  route?: string | null;
  /** The `.on` event (`threads:read`), for a handler's decision. */
  event?: string | null;
  /** The resources the request named. */
  resources?: ResourceIds | undefined;
  /** Only from a verified token; absent for a refusal before verification. */
  caller?: DecisionCaller | undefined;
  /**
   * For outcome `error` only: what was thrown, as {@link decisionErrorOf}
   * reads it (its class name and `code`, never its message).
   */
  error?: DecisionError | undefined;
}

/** What an `internal_error` event says of the error: its class name and `code`, never its message. */
export interface DecisionError {
  /** The constructor's name (`TypeError`, `DatabaseError`), when it is an identifier of at most 64 characters. */
  error_class?: string;
  /** Its `code` (`ECONNREFUSED`, `ERR_…`, a SQLSTATE), when a string or number of at most 64 safe characters. */
  error_code?: string;
}

/** The resources of an event: ids as sent (bounded, printable), the namespace as its labels. */
export interface DecisionResources {
  thread_id?: string;
  assistant_id?: string;
  run_id?: string;
  cron_id?: string;
  namespace?: string[];
}

/**
 * One decision, as every sink writes it (snake_case wire format, in this
 * order). `type` tells these lines apart from anything else on standard error.
 */
export interface DecisionEvent {
  type: "auth.decision";
  /** ISO 8601 UTC with milliseconds. */
  time: string;
  /**
   * Random UUID; a refusal counted into an aggregate (past the flood bound)
   * gets `<aggregate decision_id>:<n>`, the n-th refusal that aggregate counts.
   */
  decision_id: string;
  host: DecisionHost;
  source: DecisionSource;
  outcome: DecisionOutcome;
  status: number | null;
  reason: RefusalReason | null;
  route: string | null;
  event: string | null;
  resources: DecisionResources;
  /** From a verified token only; `null` when the refusal came before verification. */
  tenant_id: string | null;
  subject: string | null;
  /**
   * The tenant the named resource belongs to, when the package looked it up
   * (a `cross_tenant` refusal on `langgraph dev` or `js`, a store namespace
   * of another tenant); `null` otherwise (the platform cannot tell).
   */
  target_tenant_id: string | null;
  /** For outcome `error`: the thrown error's class name (see {@link DecisionError}); absent otherwise. */
  error_class?: string;
  /** For outcome `error`: the thrown error's `code`; absent otherwise. */
  error_code?: string;
  /** Present (true) when a field was cut so that the line stays within 4 KiB (`line-cap.ts`). */
  truncated?: true;
}

/**
 * Identical refusals past the flood bound, counted over one window
 * (see `flood-bound.ts`): `count` refusals of one key, or of one caller's
 * or everyone's overflow (`bound`).
 */
export interface DecisionAggregate {
  type: "auth.decision.aggregate";
  /** When the aggregate was written (the end of its window, or a flush). */
  time: string;
  /** The id the counted refusals' ids start with (`<decision_id>:<n>`). */
  decision_id: string;
  host: DecisionHost;
  source: DecisionSource;
  outcome: "refused" | "error";
  /** The status of the first refusal counted. */
  status: number | null;
  reason: RefusalReason | null;
  /** `null` for the overflow of everyone (`bound: "all"`). */
  tenant_id: string | null;
  /** `*` for the overflow of everyone (`bound: "all"`). */
  subject: string | null;
  /**
   * The tenant whose resources every counted refusal named (as their events'
   * `target_tenant_id`); `null` when they named none, or several (then
   * `resource_counts` still says which resources).
   */
  target_tenant_id: string | null;
  /**
   * Which bound counted them: `key` (past the burst of their key), `caller`
   * (the caller's overflow: it had used its keys of the window), `all` (the
   * overflow of everyone: the table of keys was full).
   */
  bound: "key" | "caller" | "all";
  /** Refusals counted (none of them written one by one). */
  count: number;
  /** The first and last counted refusal's time. */
  first: string;
  last: string;
  /** Counts per route id (`-` for no route), at most 16 routes; the rest under `*`. */
  routes: Record<string, number>;
  /**
   * Counts per resource id the counted refusals named (`thread:<id>`,
   * `assistant:<id>`, `run:<id>`, `cron:<id>`, `namespace:<a.b>`): the first
   * 16 distinct ids of the window, the refusals naming any further id under `*`.
   */
  resource_counts: Record<string, number>;
  /**
   * Counts per target tenant the counted refusals named (their events'
   * `target_tenant_id`): the first 16 tenants of the window, the rest under
   * `*`; `{}` when none named one. So refusals against several tenants in one
   * aggregate still say how many were against each.
   */
  target_counts: Record<string, number>;
  /** Present (true) when a field was cut so that the line stays within 4 KiB (`line-cap.ts`). */
  truncated?: true;
}

/** What a sink receives. */
export type DecisionRecord = DecisionEvent | DecisionAggregate;

/** An id as an event writes it: printable ASCII without spaces, at most 128 characters; anything else says so. */
const ID = /^[\x21-\x7e]{1,128}$/;
const INVALID = "<invalid>";
const MAX_LABELS = 10;

function safeId(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === "string" && ID.test(value) ? value : INVALID;
}

/**
 * The resources as an event writes them: each id printable (else
 * `<invalid>`), at most 10 namespace labels.
 *
 * @example
 * decisionResources({ thread_id: "0193…", namespace: ["acme", "notes"] });
 */
export function decisionResources(ids: ResourceIds | undefined): DecisionResources {
  const out: DecisionResources = {};
  if (ids === undefined) return out;
  for (const key of ["thread_id", "assistant_id", "run_id", "cron_id"] as const) {
    const id = safeId(ids[key]);
    if (id !== undefined) out[key] = id;
  }
  if (Array.isArray(ids.namespace)) out.namespace = ids.namespace.slice(0, MAX_LABELS).map((label) => safeId(label) ?? INVALID);
  return out;
}

const MAX_SUBJECT = 256;

/**
 * The caller of a principal-like object: its `tenant_id` and `identity`
 * (the configured tenant and subject claims), when both are non-empty
 * strings; `undefined` otherwise. Nothing else of the principal is read.
 *
 * @example
 * decisionCaller({ tenant_id: "acme", identity: "alice", display_name: "Alice" }); // { tenant_id: "acme", subject: "alice" }
 */
export function decisionCaller(principal: unknown): DecisionCaller | undefined {
  const p = principal as { tenant_id?: unknown; identity?: unknown } | null | undefined;
  if (p === null || typeof p !== "object") return undefined;
  const { tenant_id: tenant, identity } = p;
  if (typeof tenant !== "string" || tenant === "" || typeof identity !== "string" || identity === "") return undefined;
  return { tenant_id: tenant.slice(0, 128), subject: identity.slice(0, MAX_SUBJECT) };
}

/**
 * The tenant whose resource a decision named, as an event writes it
 * (`target_tenant_id`): printable, else `<invalid>`; `null` when unknown.
 *
 * @example
 * decisionTarget({ thread_id: "t1", tenant_id: "acme" }); // "acme"
 */
export function decisionTarget(ids: ResourceIds | undefined): string | null {
  return safeId(ids?.tenant_id) ?? null;
}

/**
 * The target tenant as the flood bound keys it: only one looked up in
 * storage (`tenant_looked_up`), never one the client wrote (a store
 * namespace's first label); `null` otherwise.
 *
 * @example
 * decisionKeyTarget({ namespace: ["globex"], tenant_id: "globex" }); // null
 * decisionKeyTarget({ thread_id: "t1", tenant_id: "acme", tenant_looked_up: true }); // "acme"
 */
export function decisionKeyTarget(ids: ResourceIds | undefined): string | null {
  return ids?.tenant_looked_up === true ? decisionTarget(ids) : null;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]{0,63}$/;
const CODE = /^[\w.:-]{1,64}$/;

/**
 * What an `internal_error` event may say of a thrown value: its class name
 * (the constructor's, when an identifier) and its `code` (a string or number
 * of safe characters), never its message, its stack or any other field.
 *
 * @example
 * decisionErrorOf(Object.assign(new Error("password=…"), { code: "ECONNREFUSED" })); // { error_class: "Error", error_code: "ECONNREFUSED" }
 */
export function decisionErrorOf(thrown: unknown): DecisionError {
  const out: DecisionError = {};
  if (thrown === null || typeof thrown !== "object") return out;
  try {
    const name: unknown = (Object.getPrototypeOf(thrown) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
    if (typeof name === "string" && IDENTIFIER.test(name)) out.error_class = name;
    const code: unknown = (thrown as { code?: unknown }).code;
    const text = typeof code === "number" && Number.isFinite(code) ? String(code) : code;
    if (typeof text === "string" && CODE.test(text)) out.error_code = text;
  } catch {
    // A getter that throws, a revoked proxy: nothing to say.
  }
  return out;
}

/**
 * Build the event of one decision.
 *
 * @example
 * buildDecisionEvent({ host: "dev", source: "authenticate", outcome: "refused", status: 401, reason: "invalid_token" }, id, new Date().toISOString());
 */
export function buildDecisionEvent(input: DecisionInput, decisionId: string, time: string): DecisionEvent {
  return {
    type: "auth.decision",
    time,
    decision_id: decisionId,
    host: input.host,
    source: input.source,
    outcome: input.outcome,
    status: input.status,
    reason: input.reason,
    route: input.route ?? null,
    event: input.event ?? null,
    resources: decisionResources(input.resources),
    tenant_id: input.caller?.tenant_id ?? null,
    subject: input.caller?.subject ?? null,
    target_tenant_id: decisionTarget(input.resources),
    ...(input.outcome === "error" ? decisionErrorOfInput(input.error) : {}),
  };
}

/** The error fields of an input, re-checked (a wrapper may hand in anything). */
function decisionErrorOfInput(error: DecisionError | undefined): DecisionError {
  const out: DecisionError = {};
  if (typeof error?.error_class === "string" && IDENTIFIER.test(error.error_class)) out.error_class = error.error_class;
  if (typeof error?.error_code === "string" && CODE.test(error.error_code)) out.error_code = error.error_code;
  return out;
}
