/**
 * What each refusing row of the isolation matrix puts on the record on
 * `langgraph dev`: the decision event its refusal produced (source, reason
 * code, route id), or why there is none (the server's own answer for
 * something that is not a refusal of the package: a body its validator
 * rejects, an id that exists nowhere, a route it does not serve).
 *
 * A route refused whatever it names (operator routes, webhooks) still
 * names the tenant of A's thread or assistant in its path (`target`): the
 * package looks the id up on `langgraph dev`.
 *
 * Keyed by probe id (src/check-isolation/probe-table.ts). A refusing row
 * without an entry fails the matrix, so a new probe must say what it expects.
 */
import type { DecisionSource } from "../../src/decision/decision-event.ts";
import type { RefusalReason } from "../../src/errors.ts";

/** The event a refusal produced. */
export interface ExpectedDecision {
  source: DecisionSource;
  reason: RefusalReason;
  /** The route id of the route table (`null`: a path on no route). */
  route: string | null;
  /** The tenant whose resource it was, when the package looked it up. */
  target?: "tenant-a";
}

/** No event, and why. */
export interface NoDecision {
  none: string;
}

const auth = (reason: RefusalReason, route: string | null, target?: "tenant-a"): ExpectedDecision => ({ source: "authenticate", reason, route, ...(target ? { target } : {}) });
const handler = (reason: RefusalReason, route: string, target?: "tenant-a"): ExpectedDecision => ({ source: "handler", reason, route, ...(target ? { target } : {}) });
/** The server's own tenant filter answered; the package found the id in another tenant afterwards. */
const filtered = (route: string, reason: RefusalReason = "cross_tenant"): ExpectedDecision => ({
  source: "server_filter",
  reason,
  route,
  ...(reason === "cross_tenant" ? { target: "tenant-a" as const } : {}),
});

const VALIDATOR = "the server's own validator refuses the body (400): no decision of the package";

/** Every refusing row's record. */
export const EXPECTED_DECISIONS: Readonly<Record<string, ExpectedDecision | NoDecision>> = {
  "internal.truncate/reach-the-wipe-every-tenant-route-with-nothing-to-wipe": auth("operator_only", "internal.truncate"),
  "internal.truncate/original-hole-2-wipe-every-tenant": auth("operator_only", "internal.truncate"),
  "internal.truncate/percent-encoded-path-to-truncate": auth("unknown_route", null),
  "internal.truncate/trailing-slash-truncate": auth("unknown_route", null),
  "unknown/a-route-not-in-the-table": auth("unknown_route", null),

  "threads.get/read-a-s-thread-with-no-token": auth("missing_token", "threads.get"),
  "threads.search/search-threads-with-no-token": auth("missing_token", "threads.search"),
  "store.get/read-a-s-item-with-no-token": auth("missing_token", "store.get"),
  "threads.get/read-a-s-thread-with-a-malformed-token": auth("invalid_token", "threads.get"),
  "threads.search/search-threads-with-a-malformed-token": auth("invalid_token", "threads.search"),
  "store.get/read-a-s-item-with-a-malformed-token": auth("invalid_token", "store.get"),
  // The copy's claims were re-encoded under A's signature: the signature no longer matches (checked before exp).
  "threads.get/read-a-s-thread-with-an-expired-copy-of-a-s-token": auth("invalid_token", "threads.get"),
  "threads.search/search-threads-with-an-expired-copy-of-a-s-token": auth("invalid_token", "threads.search"),
  "store.get/read-a-s-item-with-an-expired-copy-of-a-s-token": auth("invalid_token", "store.get"),
  "threads.get/read-a-s-thread-with-a-s-claims-with-alg-none": auth("invalid_token", "threads.get"),
  "threads.search/search-threads-with-a-s-claims-with-alg-none": auth("invalid_token", "threads.search"),
  "store.get/read-a-s-item-with-a-s-claims-with-alg-none": auth("invalid_token", "store.get"),

  "assistants.create/create-with-a-s-assistant-id-if-exists-do-nothing-returns-the-existing-one": filtered("assistants.create"),
  "assistants.create/pre-claim-a-system-assistant-id-uuid5-of-a-future-graph": handler("system_assistant_write", "assistants.create"),
  "assistants.create/stamp-created-by-system": handler("system_assistant_write", "assistants.create"),
  "assistants.get/read-a-s-assistant": filtered("assistants.get"),
  "assistants.delete/delete-a-s-assistant": filtered("assistants.delete"),
  "assistants.delete/delete-a-s-assistant-with-delete-threads-true": auth("operator_only", "assistants.delete", "tenant-a"),
  "assistants.delete/delete-own-assistant-with-delete-threads-true-cascade-ignores-tenants": auth("operator_only", "assistants.delete"),
  "assistants.update/patch-a-s-assistant": filtered("assistants.update"),
  "assistants.graph/read-a-s-assistant-graph": filtered("assistants.graph"),
  "assistants.schemas/read-a-s-assistant-schemas": filtered("assistants.schemas"),
  "assistants.subgraphs/read-a-s-assistant-subgraphs": filtered("assistants.subgraphs"),
  "assistants.subgraphs.namespace/read-a-s-assistant-subgraph-by-namespace": filtered("assistants.subgraphs.namespace"),
  "assistants.latest/roll-a-s-assistant-to-version-1": filtered("assistants.latest"),
  "assistants.versions/list-a-s-assistant-versions": filtered("assistants.versions"),
  "assistants.update/update-the-system-assistant-a-patch-that-sets-no-field": filtered("assistants.update", "system_assistant_write"),
  "assistants.latest/set-the-system-assistant-s-latest-version-to-the-current-one": filtered("assistants.latest", "system_assistant_write"),
  "assistants.update/rename-the-system-assistant": filtered("assistants.update", "system_assistant_write"),
  "assistants.delete/delete-the-system-assistant": filtered("assistants.delete", "system_assistant_write"),
  "assistants.update/patch-own-assistant-to-created-by-system": handler("system_assistant_write", "assistants.update"),

  "threads.create/create-with-a-s-thread-id-if-exists-do-nothing": filtered("threads.create"),
  "threads.state.get/read-a-s-state": filtered("threads.state.get"),
  "threads.state.update/write-a-s-state": filtered("threads.state.update"),
  "threads.state.update/write-a-s-state-through-own-path-checkpoint-thread-id": { none: `${VALIDATOR} (the checkpoint names another thread than the path's own)` },
  "threads.state.checkpoint.get/read-a-s-checkpoint": filtered("threads.state.checkpoint.get"),
  "threads.state.checkpoint.post/read-a-s-checkpoint-post": filtered("threads.state.checkpoint.post"),
  "threads.history.get/read-a-s-history": filtered("threads.history.get"),
  "threads.history.post/read-a-s-history-post": filtered("threads.history.post"),
  "threads.get/read-a-s-thread": filtered("threads.get"),
  "threads.delete/delete-a-s-thread": filtered("threads.delete"),
  "threads.update/patch-a-s-thread-into-tenant-b": filtered("threads.update"),
  "threads.copy/copy-a-s-thread-with-its-checkpoints": filtered("threads.copy"),

  "crons.create/create-a-cron-on-a-s-assistant": auth("operator_only", "crons.create"),
  "crons.search/search-crons-of-a-s-assistant": auth("operator_only", "crons.search"),
  "crons.delete/delete-a-cron": auth("operator_only", "crons.delete"),
  "threads.crons.create/create-a-cron-on-a-s-thread": auth("operator_only", "threads.crons.create", "tenant-a"),

  "threads.runs.wait/original-hole-1-run-a-s-assistant-on-b-s-own-thread-wait": handler("cross_tenant", "threads.runs.wait", "tenant-a"),
  "threads.runs.create/run-a-s-assistant-on-b-s-own-thread-background": handler("cross_tenant", "threads.runs.create", "tenant-a"),
  "threads.runs.stream/run-a-s-assistant-on-b-s-own-thread-stream": handler("cross_tenant", "threads.runs.stream", "tenant-a"),
  "threads.runs.create/run-a-s-assistant-on-a-new-thread-if-not-exists-create": handler("cross_tenant", "threads.runs.create", "tenant-a"),
  "threads.runs.create/run-on-a-s-thread-with-the-system-assistant": handler("cross_tenant", "threads.runs.create", "tenant-a"),
  "threads.runs.wait/run-on-a-s-thread-with-a-s-assistant": handler("cross_tenant", "threads.runs.wait", "tenant-a"),
  "threads.runs.stream/stream-on-a-s-thread-with-the-system-assistant": handler("cross_tenant", "threads.runs.stream", "tenant-a"),
  "runs.wait/stateless-wait-with-a-s-assistant": handler("cross_tenant", "runs.wait", "tenant-a"),
  "runs.create/stateless-background-run-with-a-s-assistant": handler("cross_tenant", "runs.create", "tenant-a"),
  "runs.stream/stateless-stream-with-a-s-assistant": handler("cross_tenant", "runs.stream", "tenant-a"),
  "runs.batch/batch-with-a-s-assistant": handler("cross_tenant", "runs.batch", "tenant-a"),
  "runs.create/stateless-run-with-a-s-assistant-s-id-as-graph-name": {
    none: "no assistant and no graph has that name: the server's own 404 for something that exists nowhere",
  },
  "threads.runs.create/run-with-a-webhook-to-an-internal-host": auth("run_option_refused", "threads.runs.create"),
  "runs.batch/batch-item-with-a-loopback-webhook-to-internal-truncate": auth("run_option_refused", "runs.batch"),
  "runs.wait/stateless-run-with-a-webhook": auth("run_option_refused", "runs.wait"),
  "runs.stream/stateless-stream-with-a-webhook": auth("run_option_refused", "runs.stream"),
  "threads.runs.wait/wait-run-with-a-webhook": auth("run_option_refused", "threads.runs.wait"),
  "threads.runs.stream/stream-run-with-a-webhook": auth("run_option_refused", "threads.runs.stream"),
  "threads.runs.create/malformed-json-body": { none: VALIDATOR },
  "runs.batch/batch-body-that-is-not-a-list": { none: VALIDATOR },
  "runs.create/body-over-the-1-mib-inspection-limit": auth("body_too_large", "runs.create"),
  "threads.runs.create/multitask-interrupt-on-a-missing-thread-server-answers-500-without-the-check": handler("not_found", "threads.runs.create"),

  "threads.runs.list/list-a-s-runs": filtered("threads.runs.list"),
  "threads.runs.get/read-a-s-run": filtered("threads.runs.get"),
  "threads.runs.get/read-a-s-run-under-own-thread": filtered("threads.runs.get"),
  "threads.runs.delete/delete-a-s-run": filtered("threads.runs.delete"),
  "threads.runs.delete/delete-a-s-run-under-own-thread": filtered("threads.runs.delete"),
  "threads.runs.cancel/cancel-a-s-run": filtered("threads.runs.cancel"),
  "threads.runs.cancel/cancel-a-s-run-under-own-thread": filtered("threads.runs.cancel"),
  "threads.runs.join/join-a-s-run": auth("cross_tenant", "threads.runs.join", "tenant-a"),
  "threads.runs.join/join-a-s-run-under-own-thread": auth("cross_tenant", "threads.runs.join", "tenant-a"),
  "threads.runs.join.stream/stream-a-s-run": auth("cross_tenant", "threads.runs.join.stream", "tenant-a"),
  "threads.runs.join.stream/stream-a-s-run-under-own-thread": auth("cross_tenant", "threads.runs.join.stream", "tenant-a"),
  "runs.join.stream/stream-a-s-run-by-run-id-alone": auth("cross_tenant", "runs.join.stream", "tenant-a"),

  "store.namespaces/list-every-namespace-no-prefix": auth("store_namespace_refused", "store.namespaces"),
  "store.namespaces/list-a-s-namespaces": auth("cross_tenant", "store.namespaces", "tenant-a"),
  "store.search/search-every-item-empty-prefix": auth("store_namespace_refused", "store.search"),
  "store.search/search-a-s-items": auth("cross_tenant", "store.search", "tenant-a"),
  "store.put/overwrite-a-s-item": handler("cross_tenant", "store.put", "tenant-a"),
  "store.delete/delete-a-s-item": handler("cross_tenant", "store.delete", "tenant-a"),
  "store.get/read-a-s-item": handler("cross_tenant", "store.get", "tenant-a"),

  "protocol.events.ws/open-a-websocket-on-a-s-thread": auth("operator_only", "protocol.events.ws", "tenant-a"),
  "protocol.events.ws/plain-get-on-a-s-thread-event-socket": auth("operator_only", "protocol.events.ws", "tenant-a"),
  "protocol.commands/state-get-on-a-s-thread": auth("operator_only", "protocol.commands", "tenant-a"),
  "protocol.commands/run-start-with-a-s-assistant-on-own-thread": auth("operator_only", "protocol.commands"),
  "protocol.events.sse/attach-to-a-s-thread-events": auth("operator_only", "protocol.events.sse", "tenant-a"),
  "ui.render/render-a-ui-bundle": { none: "the route is let through (a valid token is all it needs); this app registers no UI, so the server answers 404 itself" },
  "ui.asset/fetch-a-ui-asset-auth-is-skipped-for-get-ui": { none: "the server skips authenticate for GET /ui*, and serves no UI here (its own 404)" },
};
