/**
 * On LangGraph Platform a handler error that is not one of the package's
 * coded errors is shown to the caller as a 403 with its raw message, and
 * one whose `name` is empty is not seen as an error at all
 * (docs/platform-contract.md#errors). So every handler of the platform `Auth`
 * must refuse only with an `AuthError` (`status` and `headers`, which the
 * server module turns into an `HTTPException`), whatever value and user the
 * platform hands it. Random JSON values and users, every event; no server.
 * The same for the route guard `authenticate` runs (an error that is not an
 * `HTTPException` is a 403 showing its message there too).
 *
 * And whatever the authenticator, the guard or the run check throw (any
 * value: errors of every class, nameless ones, strings, objects with a
 * `status` and `headers`, `undefined`), the `Auth`'s wrappers throw only a
 * coded error: a refusal as it was, anything else as `CheckFailedError`
 * (500, its fixed message, the original as `cause`), recorded once.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AuthError, CheckFailedError, InvalidTokenError } from "../../src/errors.ts";
import { createDecisionLog } from "../../src/decision/decision-log.ts";
import type { DecisionEvent } from "../../src/decision/decision-event.ts";
import { AUTH_EVENTS } from "../../src/policy/event-permission.ts";
import { createRoutePolicy } from "../../src/policy/route-policy.ts";
import { createRunCheck } from "../../src/langgraph/create-run-check.ts";
import { createTenantAuth } from "../../src/langgraph/create-tenant-auth.ts";
import { createPlatformRouteGuard } from "../../src/langgraph/create-platform-route-guard.ts";
import type { Authenticator } from "../../src/authenticate/create-authenticator.ts";
import { makePrincipal } from "../support/principal.ts";

type Handler = (request: Record<string, unknown>) => unknown;

const ALL = ["threads:read", "threads:write", "assistants:read", "assistants:write", "crons:read", "crons:write", "store:read", "store:write"];
const unused: Authenticator = {
  authenticateRequest: () => Promise.reject(new Error("not called")),
  verifyToken: () => Promise.reject(new Error("not called")),
};

function platformHandlers(operator: boolean): Record<string, Handler> {
  const policy = createRoutePolicy({
    host: "platform",
    operatorPermissions: operator ? { crons: "ops:crons", webhooks: "ops:webhooks", langsmith: "ops:langsmith" } : {},
  });
  const auth = createTenantAuth({
    authenticator: unused,
    host: "platform",
    guard: createPlatformRouteGuard({ policy }),
    checkRun: createRunCheck({ policy, host: "platform" }),
    policy,
    studioAccess: operator ? "operator" : "none",
    env: {},
    log: () => undefined,
  }) as unknown as { "~handlerCache": { callbacks: Record<string, Handler> } };
  return auth["~handlerCache"].callbacks;
}

/** Users the platform may hand a handler: this package's principals, Studio's user, and junk after a JSON round trip. */
const users = fc.oneof(
  fc.constant(makePrincipal({ tenant_id: "acme", identity: "alice", permissions: ALL })),
  fc.constant(makePrincipal({ tenant_id: "acme", identity: "olga", permissions: [...ALL, "ops:crons", "ops:webhooks", "ops:langsmith"] })),
  fc.constant({ kind: "StudioUser", identity: "dev@example.com", display_name: "dev@example.com", is_authenticated: true, permissions: [] }),
  fc.record({ identity: fc.jsonValue(), tenant_id: fc.jsonValue(), permissions: fc.jsonValue() }, { requiredKeys: [] }),
  fc.jsonValue(),
);

/** Values shaped like the platform's (the fields the handlers read), and anything JSON. */
const field = fc.oneof(fc.jsonValue(), fc.constant({}), fc.constant(null), fc.string());
const values = fc.oneof(
  fc.record(
    {
      thread_id: field,
      assistant_id: field,
      metadata: fc.oneof(field, fc.dictionary(fc.constantFrom("owner", "tenant_id", "created_by", "x"), fc.jsonValue())),
      namespace: fc.oneof(field, fc.array(fc.oneof(fc.constant("acme"), fc.string()), { maxLength: 3 })),
      kwargs: fc.oneof(field, fc.record({ webhook: field, config: fc.oneof(field, fc.record({ configurable: field })), feedback_keys: field }, { requiredKeys: [] })),
      payload: fc.oneof(field, fc.record({ webhook: field, config: field }, { requiredKeys: [] })),
      config: field,
      action: field,
    },
    { requiredKeys: [] },
  ),
  fc.jsonValue(),
);

describe("platform handlers refuse only with the package's coded errors", () => {
  it.each([
    ["nothing unlocked, AUTH_STUDIO_ACCESS=none", false],
    ["operator permissions and AUTH_STUDIO_ACCESS=operator", true],
  ])("%s", async (_, operator) => {
    const handlers = platformHandlers(operator);
    const events = [...AUTH_EVENTS, "threads:stream", "runs:create"];
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...events), values, users, async (event, value, user) => {
        const [resource, action] = event.split(":") as [string, string];
        // The server dispatches to the most specific handler: this Auth has one per SDK event and "*".
        const handler = handlers[event] ?? handlers["*"]!;
        // What the platform sends went through JSON.
        const request = JSON.parse(JSON.stringify({ event, resource, action, value, permissions: [], user })) as Record<string, unknown>;
        try {
          await handler(request);
        } catch (error) {
          refused += 1;
          expect(error, `${event} ${JSON.stringify(value)} as ${JSON.stringify(user)}: ${String(error)}`).toBeInstanceOf(AuthError);
          const coded = error as AuthError;
          expect(coded.name).not.toBe("");
          expect(coded.status).toBeGreaterThanOrEqual(400);
          expect(coded.status).toBeLessThan(500);
          expect(typeof coded.headers).toBe("object");
        }
      }),
      { numRuns: 3000 },
    );
    // The property saw refusals, not only allowed calls.
    expect(refused).toBeGreaterThan(1000);
  });
});

describe("the platform route guard refuses only with the package's coded errors", () => {
  it("for any method, path and query", () => {
    const guard = createPlatformRouteGuard({ policy: createRoutePolicy({ host: "platform" }) });
    const principal = makePrincipal({ tenant_id: "acme", identity: "alice", permissions: ALL });
    const segment = fc.oneof(fc.constantFrom("threads", "runs", "crons", "assistants", "store", "items", "search", "%2e%2e", "..", "", "a%ZZ"), fc.uuid(), fc.string());
    let refused = 0;
    fc.assert(
      fc.property(fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "PURGE"), fc.array(segment, { maxLength: 6 }), fc.string(), (method, segments, query) => {
        let request: Request;
        try {
          request = new Request(`https://agent.example.langgraph.app/${segments.join("/")}?${query}`, { method });
        } catch {
          return; // not a request the worker could build either
        }
        try {
          guard(request, principal);
        } catch (error) {
          refused += 1;
          expect(error, `${method} ${request.url}`).toBeInstanceOf(AuthError);
          expect((error as AuthError).status).toBeLessThan(500);
        }
      }),
      { numRuns: 3000 },
    );
    expect(refused).toBeGreaterThan(1000);
  });
});

describe("anything else a check throws becomes CheckFailedError, recorded once", () => {
  /** What a faulty check may throw: anything at all, and a refusal now and then. */
  const thrown = fc.oneof(
    fc.anything(),
    fc.string().map((message) => new Error(message)),
    fc.string().map((message) => Object.assign(new Error(message), { name: "" })),
    fc.string().map((message) => new TypeError(message)),
    fc.record({ status: fc.integer(), headers: fc.constant({}), message: fc.string() }),
    fc.constant(new InvalidTokenError("a refusal, kept as it is")),
  );

  /** An Auth whose authenticator, guard and run check throw `value` where `where` says. */
  function faultyAuth(where: "authenticator" | "authenticator-sync" | "cache" | "guard" | "guard-async" | "run-check" | "run-check-sync", value: unknown) {
    const events: DecisionEvent[] = [];
    const decisions = createDecisionLog({ sink: { write: () => undefined } });
    decisions.onDecision((event) => void events.push(event));
    const principal = makePrincipal({ tenant_id: "acme", identity: "alice", permissions: ALL });
    const authenticator: Authenticator = {
      authenticateCached: () => {
        if (where === "cache") throw value;
        return undefined;
      },
      authenticateRequest: () => {
        if (where === "authenticator-sync") throw value;
        return where === "authenticator" ? Promise.reject(value) : Promise.resolve(principal);
      },
      verifyToken: () => Promise.reject(new Error("not called")),
    };
    const auth = createTenantAuth({
      authenticator,
      host: "platform",
      guard: () => {
        if (where === "guard") throw value;
        return where === "guard-async" ? Promise.reject(value) : undefined;
      },
      checkRun: () => {
        if (where === "run-check-sync") throw value;
        return where === "run-check" ? Promise.reject(value) : Promise.resolve();
      },
      env: {},
      log: () => undefined,
      decisions,
    }) as unknown as { "~handlerCache": { authenticate: (request: Request) => unknown; callbacks: Record<string, Handler> } };
    return { cache: auth["~handlerCache"], events, principal };
  }

  it.each(["authenticator", "authenticator-sync", "cache", "guard", "guard-async", "run-check", "run-check-sync"] as const)("thrown by the %s", async (where) => {
    await fc.assert(
      fc.asyncProperty(thrown, async (value) => {
        const { cache, events, principal } = faultyAuth(where, value);
        const run = where.startsWith("run-check")
          ? () => cache.callbacks["threads:create_run"]!({
              event: "threads:create_run", resource: "threads", action: "create_run", permissions: [], user: JSON.parse(JSON.stringify(principal)),
              value: { thread_id: "t", assistant_id: "a", metadata: {}, kwargs: {} },
            })
          : () => cache.authenticate(new Request("https://agent.example.langgraph.app/threads/search", { method: "POST", headers: { authorization: "Bearer x" } }));
        const error = await Promise.resolve()
          .then(run)
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        expect(error, fc.stringify(value)).toBeInstanceOf(AuthError);
        const refusals = events.filter((e) => e.outcome !== "allowed");
        expect(refusals).toHaveLength(1);
        if (value instanceof AuthError) {
          // A refusal passes as it was (with its decision id).
          expect(error).toMatchObject({ code: value.code, status: value.status, decisionId: refusals[0]!.decision_id });
          expect(refusals[0]).toMatchObject({ outcome: "refused", reason: value.reason });
          return;
        }
        expect(error).toBeInstanceOf(CheckFailedError);
        const failed = error as CheckFailedError;
        expect(failed.name).toBe("CheckFailedError");
        expect(failed.status).toBe(500);
        expect(failed.cause).toBe(value);
        expect(failed.message).toBe(`server_error: the authorization check failed; the request was refused (decision_id: ${refusals[0]!.decision_id})`);
        expect(refusals[0]).toMatchObject({
          outcome: "error",
          reason: "internal_error",
          // Platform fact: a handler's error reaches the client as a 403; authenticate's keeps its status.
          status: where.startsWith("run-check") ? 403 : 500,
          source: where.startsWith("run-check") ? "handler" : "authenticate",
        });
      }),
      { numRuns: 300 },
    );
  });
});
