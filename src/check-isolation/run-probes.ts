/**
 * Send probes and judge them: the part of the engine the isolation matrix
 * test shares with the command.
 */
import type { CreatedResources } from "./cleanup.ts";
import { fillPattern } from "./probe-helpers.ts";
import { excerpt, judge } from "./judge.ts";
import { describeError, isNotServed } from "../cli-kit/http-client.ts";
import type { Answer, Caller, ControlName, Probe, ProbeRequest, ProbeResult, SendAs, World } from "./types.ts";

/** A sender that can also open a WebSocket handshake. */
export type ProbeSender = SendAs & { upgrade(as: Caller, path: string): Promise<Answer> };

/**
 * The request a probe sends against a world.
 *
 * @example
 * requestOf(readThreadProbe, world); // { method: "GET", path: "/threads/<A's thread>" }
 */
export function requestOf(probe: Probe, w: World): ProbeRequest {
  return {
    method: probe.method,
    path: probe.path ? probe.path(w) : fillPattern(probe.pattern, w),
    ...(probe.body ? { body: probe.body(w) } : {}),
    ...(probe.raw ? { raw: probe.raw(w) } : {}),
  };
}

/**
 * A request on one line, its body cut to 200 characters.
 *
 * @example
 * describeRequest({ method: "POST", path: "/threads/search", body: { ids: ["x"] } }); // 'POST /threads/search {"ids":["x"]}'
 */
function describeRequest(request: ProbeRequest): string {
  const body = request.raw ?? (request.body === undefined ? "" : JSON.stringify(request.body));
  return `${request.method} ${request.path}${body ? ` ${body.length > 200 ? `${body.slice(0, 200)}… (${body.length} bytes)` : body}` : ""}`;
}

const CREATES: Record<string, "thread" | "assistant" | "cron"> = {
  "/threads": "thread",
  "/assistants": "assistant",
  "/runs/crons": "cron",
  "/threads/:thread_id/runs/crons": "cron",
};

/**
 * Read probes first, destructive ones (deletes, cancels, overwrites) last, so
 * a leaking delete cannot turn a later read into a false pass.
 *
 * @example
 * for (const probe of orderProbes(PROBES)) await runProbe(probe, world, send, controls);
 */
export function orderProbes(probes: readonly Probe[]): Probe[] {
  // Probes that plant something for A to find come after the reads, so a search never finds B's own plant.
  const rank = (p: Probe) => (p.method === "DELETE" ? 2 : p.followUp ? 1 : p.method === "PUT" || p.method === "PATCH" || p.pattern.endsWith("/cancel") || p.pattern === "/runs/cancel" ? 1 : 0);
  return [...probes].sort((x, y) => rank(x) - rank(y));
}

/**
 * Send one probe and judge it. `controls` holds the status of A's own
 * request per optional endpoint (none: judged as served). A resource a 2xx answer created is written
 * down for the cleanup. A network error or timeout is an `error` verdict;
 * an abort of the whole run is rethrown.
 *
 * @example
 * const result = await runProbe(probe, world, send, controls, created);
 */
export async function runProbe(probe: Probe, w: World, send: ProbeSender, controls: ReadonlyMap<ControlName, number>, created?: CreatedResources, signal?: AbortSignal): Promise<ProbeResult & { answer?: Answer }> {
  const as = probe.as ?? "b";
  const request = requestOf(probe, w);
  const base = { id: probe.id, group: probe.group, route: probe.route, as, method: probe.method, pattern: probe.pattern, request: describeRequest(request), attempt: probe.attempt };
  let answer: Answer;
  try {
    answer = probe.ws ? await send.upgrade(as, request.path) : await send(as, request);
  } catch (error) {
    if (signal?.aborted) throw error;
    return { ...base, status: 0, verdict: "error", detail: describeError(error) };
  }
  const accepted = answer.status >= 200 && answer.status < 300;
  const kind = CREATES[probe.pattern];
  const id = (answer.json as Record<string, unknown> | null)?.[`${kind}_id`];
  if (accepted && probe.method === "POST" && kind && typeof id === "string") created?.add({ kind, id, as });

  let { verdict, detail } = judge(probe, answer, w);
  if (verdict === "pass" && accepted && probe.followUp) {
    const leak = await probe.followUp(w, send, answer.json, request);
    if (leak) [verdict, detail] = ["leak", leak];
  }
  const control = probe.servedBy ? controls.get(probe.servedBy) : undefined;
  if (control !== undefined && isNotServed(control) && !accepted && verdict !== "leak") {
    [verdict, detail] = ["not-served", `A's own request answered ${control} too; B got ${answer.status}: ${excerpt(answer.text).slice(0, 120)}`];
  }
  return { ...base, status: answer.status, verdict, ...(detail ? { detail } : {}), answer };
}
