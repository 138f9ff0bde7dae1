/**
 * Holds a refusal on LangGraph Platform to account (issue 20 §7): what the
 * client gets (status, the exact message) and the decision event the
 * refusal put on the worker's standard error (source, reason code, route id
 * for `authenticate`, the event for a handler, caller, target tenant), and
 * that the `decision_id` at the end of the client's message is that event's.
 *
 * The event is found by what it must say, among the lines the worker wrote
 * since the call began, never through the id in the message; the message is
 * then compared with `<message> (decision_id: <the event's id>)`, exactly.
 * So a message with no id, with another refusal's id, or with an id no line
 * carries, fails, and so does a refusal recorded twice or not at all.
 */
import { expect } from "vitest";
import type { DecisionEvent } from "../../src/decision/decision-event.ts";
import { isRefusalReason, type RefusalReason } from "../../src/errors.ts";
import { decisionRecordsIn, isDecisionEvent } from "../support/decision-events.ts";
import type { AuthenticateResult, AuthorizeResult, PlatformHost, PlatformRefusal } from "../support/platform-host.ts";

/** What a refusal must look like to the client and on the record. */
export interface ExpectedRefusal {
  /** The status the platform's client gets. */
  status: number;
  /** The message before the ` (decision_id: …)` suffix, exactly. */
  message: string;
  /** `authenticate` (token and route policy) or `handler` (a `.on` handler and the run check). */
  source: "authenticate" | "handler";
  reason: RefusalReason;
  /** For `authenticate`: the route id of the platform table, `null` for a path on no route. */
  route?: string | null;
  /** For a handler: the event (a handler's event has no route on the platform). */
  event?: string;
  /** The caller the event names (from a verified token); `null`: none (a refusal before verification). */
  caller: { tenant_id: string; subject: string } | null;
  /** The tenant whose resource it was, where the package can tell (a store namespace). Default `null`. */
  target?: string | null;
  /** Default `refused`; `error` for something thrown that was not a refusal. */
  outcome?: "refused" | "error";
}

/** The suffix a refusal's message ends with. */
export const withDecisionId = (message: string, id: string): string => `${message} (decision_id: ${id})`;

const describeExpected = (e: ExpectedRefusal) => `${e.source} ${e.reason} ${e.source === "authenticate" ? `route ${e.route}` : `event ${e.event}`}`;

/** Does `event` say what `expected` says of where and why? */
function isTheOne(event: DecisionEvent, expected: ExpectedRefusal): boolean {
  if (event.source !== expected.source || event.reason !== expected.reason) return false;
  return expected.source === "authenticate" ? event.route === (expected.route ?? null) && event.event === null : event.event === expected.event && event.route === null;
}

/**
 * A checker bound to one worker. `refused(call, expected)` runs the call
 * (an `authenticate` or `authorize` of the worker), asserts the refusal and
 * returns the answer and its event; `recorded` counts the events it matched,
 * so a suite can check at the end that nothing else was recorded.
 *
 * @example
 * const check = refusalChecker(worker);
 * await check.refused(() => worker.authenticate(url, "GET", {}), { status: 401, message: "authentication required: …", source: "authenticate", reason: "missing_token", route: "threads.get", caller: null });
 */
export function refusalChecker(worker: PlatformHost) {
  let recorded = 0;
  const checker = {
    /** Events matched so far (one per refusal checked, the barriers of `unrecorded` included). */
    get recorded() {
      return recorded;
    },
    /**
     * Run `call` (an allowed one) and assert it wrote no decision event. A
     * refusal sent after it is the barrier: the worker writes its events in
     * order on one pipe, so once the barrier's event has arrived, anything
     * the call wrote has too, and only the barrier's may be there.
     */
    async unrecorded<T>(call: () => Promise<T>, label: string): Promise<T> {
      const from = worker.stderr().length;
      const result = await call();
      const barrier = await checker.refused(() => worker.authenticate("https://agent.example.langgraph.app/threads/search", "POST", {}), {
        status: 401,
        message: "authentication required: send Authorization: Bearer <token>",
        source: "authenticate",
        reason: "missing_token",
        route: "threads.search",
        caller: null,
      }, `the barrier after ${label}`);
      expect(decisionRecordsIn(worker.stderr().slice(from)), `${label} wrote no decision event`).toEqual([barrier.event]);
      return result;
    },
    /**
     * For calls whose reason is not the point (odd values, odd requests):
     * run `call`; when it is refused, the one event written since names the
     * same source (and event, for a handler), is a refusal with a reason code
     * of the list other than `internal_error`, and the client's message ends
     * with ` (decision_id: <its id>)`. Returns the answer (allowed or not).
     */
    async anyRefusal<T extends AuthenticateResult | AuthorizeResult>(
      call: () => Promise<T>,
      where: { source: "authenticate" } | { source: "handler"; event: string },
      label: string,
    ): Promise<T> {
      const from = worker.stderr().length;
      const answer = await call();
      if (answer.ok) return answer;
      const matching = (text: string) =>
        decisionRecordsIn(text.slice(from)).filter(isDecisionEvent).filter((e) => e.source === where.source && (where.source === "authenticate" || e.event === where.event));
      await worker.waitForStderr((text) => matching(text).length > 0, `the event of ${label}`).catch(() => undefined);
      const found = matching(worker.stderr());
      if (found.length !== 1) throw new Error(`${label}: expected one event, found ${found.length} (${answer.status} ${answer.message})`);
      const event = found[0]!;
      recorded += 1;
      expect(answer.message.endsWith(` (decision_id: ${event.decision_id})`), `${label}: "${answer.message}" ends with the id of ${event.decision_id}`).toBe(true);
      expect(isRefusalReason(event.reason) && event.reason !== "internal_error", `${label}: reason ${event.reason}`).toBe(true);
      expect([event.host, event.outcome, event.status], label).toEqual(["platform", "refused", answer.status]);
      return answer;
    },
    async refused(
      call: () => Promise<AuthenticateResult | AuthorizeResult>,
      expected: ExpectedRefusal,
      label = describeExpected(expected),
    ): Promise<{ answer: PlatformRefusal; event: DecisionEvent }> {
      const from = worker.stderr().length;
      const answer = await call();
      if (answer.ok) throw new Error(`${label}: allowed, expected a ${expected.status} refusal`);
      expect(answer.status, `${label}: status (${answer.message})`).toBe(expected.status);
      // The platform keeps no header of the worker's answer (a Headers object is {} in JSON; authorize sends none).
      expect(answer.headers, `${label}: headers`).toEqual({});
      const matching = (text: string) => decisionRecordsIn(text.slice(from)).filter(isDecisionEvent).filter((e) => isTheOne(e, expected));
      // The event is written before the worker answers, but may reach this process after the answer.
      await worker.waitForStderr((text) => matching(text).length > 0, `the event of ${label}`).catch(() => undefined);
      const found = matching(worker.stderr());
      if (found.length !== 1) {
        const seen = decisionRecordsIn(worker.stderr().slice(from)).map((r) => JSON.stringify(r));
        throw new Error(`${label}: expected one event, found ${found.length}; written since the call: ${seen.join("\n") || "nothing"}`);
      }
      const event = found[0]!;
      recorded += 1;
      // The id the client got is this event's id, after the exact message.
      expect(answer.message, label).toBe(withDecisionId(expected.message, event.decision_id));
      expect(event.decision_id, label).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(
        {
          host: event.host,
          outcome: event.outcome,
          status: event.status,
          tenant_id: event.tenant_id,
          subject: event.subject,
          target_tenant_id: event.target_tenant_id,
        },
        label,
      ).toEqual({
        host: "platform",
        outcome: expected.outcome ?? "refused",
        status: expected.status,
        tenant_id: expected.caller?.tenant_id ?? null,
        subject: expected.caller?.subject ?? null,
        target_tenant_id: expected.target ?? null,
      });
      return { answer, event };
    },
  };
  return checker;
}

/** The refusal checker of one worker. */
export type RefusalChecker = ReturnType<typeof refusalChecker>;
