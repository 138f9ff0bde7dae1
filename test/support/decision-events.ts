/**
 * Read the decision events a server wrote on its standard error (one JSON
 * line each, `src/decision/stderr-decision-sink.ts`) out of everything it
 * printed, for tests that assert what a refusal put on the record.
 */
import type { DecisionAggregate, DecisionEvent, DecisionRecord } from "../../src/decision/decision-event.ts";

/**
 * Every decision event and aggregate in `output`, in order. A line that
 * starts like one but does not parse fails loudly: a torn line is a bug. The
 * text after the last newline is a line still being read (a pipe may hand
 * it over in two chunks): left for the next call.
 *
 * @example
 * const events = decisionRecordsIn(server.output()).filter(isDecisionEvent);
 */
export function decisionRecordsIn(output: string): DecisionRecord[] {
  const records: DecisionRecord[] = [];
  const lines = output.split("\n");
  lines.pop();
  for (const line of lines) {
    if (!line.startsWith('{"type":"auth.decision')) continue;
    records.push(JSON.parse(line) as DecisionRecord);
  }
  return records;
}

/** A single decision (not an aggregate). */
export const isDecisionEvent = (record: DecisionRecord): record is DecisionEvent => record.type === "auth.decision";

/** An aggregate of refusals past the flood bound. */
export const isDecisionAggregate = (record: DecisionRecord): record is DecisionAggregate => record.type === "auth.decision.aggregate";

/**
 * The one decision event with this id (the `X-Decision-Id` a refusal carried).
 *
 * @throws {Error} none or several.
 * @example
 * decisionById(server.output(), response.headers.get("x-decision-id")!);
 */
export function decisionById(output: string, id: string): DecisionEvent {
  const found = decisionRecordsIn(output).filter(isDecisionEvent).filter((event) => event.decision_id === id);
  if (found.length !== 1) throw new Error(`${found.length} decision events with id ${id}`);
  return found[0]!;
}
