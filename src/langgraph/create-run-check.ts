import { AuthError, RouteRefusedError, TenantForbiddenError } from "../errors.ts";
import { isRunnableAssistant } from "../policy/run-assistant.ts";
import { dropCredentialHeaders, isCredentialHeaderName } from "../policy/credential-headers.ts";
import type { RoutePolicy } from "../policy/route-policy.ts";
import { isInTenant, lookedUpTenant, outsideReason, type Visibility } from "../policy/tenant-filter.ts";
import type { Principal } from "../tenant/principal.ts";
import { readServerStorage, type ServerStorageSource } from "./server-storage.ts";

/** A check on the `value` of a `threads:create_run` event; throw an `AuthError` to refuse. */
export type RunCreationCheck = (value: Record<string, unknown>, principal: Principal) => Promise<void>;

/** Options of {@link createRunCheck}. */
export interface RunCheckOptions {
  /** Decides whether the caller may set a run `webhook`. */
  policy: RoutePolicy;
  /** Same visibility as the handlers. Default `tenant`. */
  visibility?: Visibility;
  /** The server's storage. Default: the current request's ({@link readServerStorage}). */
  storage?: ServerStorageSource;
  /**
   * The host (see `detect-host.ts`). Default `dev`. On `platform` there is no
   * storage to read and only `metadata` of a rewritten value is kept, so the
   * check refuses credential headers instead of deleting them and leaves the
   * assistant and thread lookups to the platform (see {@link createRunCheck}).
   */
  host?: "dev" | "js" | "platform";
}

/** The run options a check reads: a run's `kwargs`, or a cron's `payload` (the client's run body). */
export interface RunOptionsInput {
  webhook?: unknown;
  feedback_keys?: unknown;
  /** Only in a raw body (a cron payload): the server turns it into `configurable.langsmith_project`. */
  langsmith_tracer?: unknown;
  config?: unknown;
}

/**
 * The checks on a run's options that read nothing but the run: a `webhook`,
 * LangSmith options, a foreign `configurable.user_id`, credential-like `x-*`
 * headers in `configurable` (deleted in place with `credentialHeaders: "drop"`,
 * refused with `"refuse"` where a deletion would not be kept).
 *
 * @throws {TenantForbiddenError} the run asks for something the caller may not have (403).
 * @example
 * checkRunOptions(value.kwargs, principal, policy, "refuse");
 */
export function checkRunOptions(
  options: RunOptionsInput,
  principal: Principal,
  policy: RoutePolicy,
  credentialHeaders: "drop" | "refuse",
): void {
  const webhook = options.webhook;
  if (webhook !== undefined && webhook !== null && webhook !== "" && !policy.allowsWebhooks(principal)) {
    throw new TenantForbiddenError("run webhooks are not allowed", "run_option_refused");
  }
  const configurable = (options.config as { configurable?: Record<string, unknown> } | null | undefined)?.configurable;
  if (credentialHeaders === "drop") {
    // The server copied the request's x-* headers here and would store them with the run;
    // the object is the one it reads back, so deleting works (ops.mjs reads kwargs.config after this).
    dropCredentialHeaders(configurable);
  } else if (configurable !== null && typeof configurable === "object" && Object.keys(configurable).some(isCredentialHeaderName)) {
    // Platform fact: of a handler's rewrite only `metadata` is kept, so a deletion here would be
    // dropped and the header stored with the run. The names are not echoed (they are the client's).
    throw new TenantForbiddenError(
      "the run carries a credential-like x-* request header that would be stored with it; strip it at your proxy or leave it out of http.configurable_headers",
      "run_option_refused",
    );
  }
  // The server prefers a client's `configurable.user_id` over the authenticated
  // identity (ops.mjs), and graphs commonly key memories by it.
  const userId = configurable?.user_id;
  if (userId !== undefined && userId !== null && userId !== principal.identity) {
    throw new TenantForbiddenError("config.configurable.user_id must be omitted or be your own identity", "run_option_refused");
  }
  if (
    !policy.allowsLangSmith(principal) &&
    (isSet(options.feedback_keys) || isSet(options.langsmith_tracer) || namesLangSmithProject(options.config))
  ) {
    throw new TenantForbiddenError(LANGSMITH_REFUSAL, "run_option_refused");
  }
}

/** The refusal of LangSmith run options (feedback keys, a tracing project), the same words wherever they are checked. */
export const LANGSMITH_REFUSAL = "LangSmith feedback keys and tracing projects are not allowed";

function isSet(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  return value !== undefined && value !== null && value !== "";
}

/**
 * The server traces a run to `configurable.langsmith_project` (set from the
 * body's `langsmith_tracer`, or directly in `config`) with its own LangSmith key.
 * Used on a run's config and on an assistant's (merged under the run's).
 *
 * @example
 * namesLangSmithProject({ configurable: { langsmith_project: "theirs" } }); // true
 */
export function namesLangSmithProject(config: unknown): boolean {
  const configurable = (config as { configurable?: Record<string, unknown> } | null | undefined)?.configurable;
  if (configurable === null || typeof configurable !== "object") return false;
  return isSet(configurable.langsmith_project) || isSet(configurable.langsmith_example_id);
}

/**
 * The check run on every `threads:create_run` event (stateful and stateless
 * runs, waits, streams, each batch item, the protocol's `run.start`).
 *
 * The server looks the assistant up without any filter before calling the
 * handler, and ignores changes to `value.assistant_id`; so the handler reads
 * that same stored assistant from the server's storage and refuses unless it
 * is the caller's tenant's or a system assistant (404 otherwise, with the
 * server's own "not found" message). If storage cannot be read, the run is
 * refused (403).
 *
 * It deletes credential-like `x-*` request headers (an authenticating
 * proxy's tokens) that the server copied into the run's `configurable`, so
 * they are not stored with the run. It refuses a `configurable.user_id`
 * other than the caller's identity (the server would let it override the
 * authenticated user for the run). It also refuses a `webhook` (the server POSTs the whole run, headers
 * included, to any URL) and LangSmith options (`feedback_keys` make the
 * server mint feedback tokens, `langsmith_tracer` or a
 * `configurable.langsmith_project` on the run or its assistant send traces to
 * a project the client picks, both with the server's LangSmith key) unless the
 * policy allows them, and a run on a thread
 * that does not exist when it would not be created (the server answers that
 * with a 500 "Unreachable state" or a misleading 422).
 *
 * @example
 * createTenantAuth({ authenticator, checkRun: createRunCheck({ policy }) });
 */
export function createRunCheck(options: RunCheckOptions): RunCreationCheck {
  const visibility = options.visibility ?? "tenant";
  const storage = options.storage ?? readServerStorage;
  const host = options.host ?? "dev";
  if (host === "platform") {
    // Platform facts relied on instead of storage: the platform applies this
    // event's tenant filter to the run's thread, then calls `assistants:search`
    // with `{ metadata: {} }` and applies that filter to the assistant lookup
    // (system assistants exempt). So another tenant's thread or assistant is
    // "not found" there; test/platform/ proves the filters with its matcher.
    return async (value, principal) => {
      const kwargs = value.kwargs;
      checkRunOptions(kwargs !== null && typeof kwargs === "object" ? (kwargs as RunOptionsInput) : {}, principal, options.policy, "refuse");
    };
  }
  return async (value, principal) => {
    const kwargs = (value.kwargs ?? {}) as Record<string, unknown>;
    checkRunOptions(kwargs, principal, options.policy, "drop");
    const langSmithRefused = !options.policy.allowsLangSmith(principal);
    const store = await storage();
    if (!store) throw new TenantForbiddenError("run creation cannot be checked outside the LangGraph server", "check_unavailable");
    const assistantId = value.assistant_id;
    const assistant = typeof assistantId === "string" ? await store.getAssistant(assistantId) : undefined;
    if (typeof assistantId !== "string" || !isRunnableAssistant(assistant, principal, visibility)) {
      // The server's own answer for a missing assistant, word for word, so a
      // foreign id cannot be told apart from one that does not exist.
      throw new AuthError(
        "ERR_TENANT_FORBIDDEN",
        404,
        `No assistant found for "${String(assistantId)}". Make sure the assistant ID is for a valid assistant or a valid graph ID.`,
        // What `new Response(string)` sets, as on the server's own 404.
        { "Content-Type": "text/plain;charset=UTF-8" },
        {
          // Same answer, but the decision log tells another tenant's assistant from one that exists nowhere.
          // The server answers an id it has no assistant for itself, before any handler, with no decision
          // id: so this answer carries none either.
          sendsDecisionId: false,
          reason: assistant ? outsideReason(assistant.metadata, principal) : "not_found",
          resources: {
            ...(typeof assistantId === "string" ? { assistant_id: assistantId } : {}),
            ...lookedUpTenant(assistant?.metadata),
          },
        },
      );
    }

    // The assistant's config is merged under the run's after this check (ops.mjs), so a
    // tenant's assistant could carry the project instead.
    if (langSmithRefused && namesLangSmithProject(assistant?.config)) throw new TenantForbiddenError(LANGSMITH_REFUSAL, "run_option_refused");

    if (typeof value.thread_id === "string") {
      // Another tenant's thread and one that exists nowhere get the same answer,
      // from here (the server's own filter would answer the first with an empty
      // 404 and a missing thread with a 500): only the decision log tells them apart.
      const thread = await store.getThread(value.thread_id);
      const resources = { thread_id: value.thread_id };
      if (thread && !isInTenant(thread.metadata, principal, visibility)) {
        throw new RouteRefusedError(404, "no such thread", outsideReason(thread.metadata, principal), {
          resources: { ...resources, ...lookedUpTenant(thread.metadata) },
        });
      }
      if (!thread && value.if_not_exists !== "create") throw new RouteRefusedError(404, "no such thread", "not_found", { resources });
    }
  };
}
