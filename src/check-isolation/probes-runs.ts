/**
 * Probes of the run routes: tenant B runs A's assistant (on its own thread,
 * on A's thread, stateless, in batches), smuggles A's thread into a run's
 * config or checkpoint, claims A's user id, and reads, joins, streams,
 * cancels and deletes A's finished and still-pending runs.
 */
import { NOT_FOUND, anyBody, isEmptyList, probe, runBody, saysNotFound } from "./probe-helpers.ts";
import type { FollowUp, Probe } from "./types.ts";

const HOOK = "http://127.0.0.1:9/x";
const BAD_BODY = [400, 422];
/** A run on B's own thread that names A's thread or checkpoint: refused, or it ran on B's own state (the answer is scanned for A's data). */
const SMUGGLED = [400, 403, 404, 409, 422];

/** Did B's run keep the `configurable.user_id` that names A? */
const keptUserId: FollowUp = async (w, send, _json, request) => {
  if (!w.a.identity) return undefined; // an opaque token names no user to claim
  const runs = await send("b", { method: "GET", path: request.path.replace(/\/wait$/, "") });
  return runs.text.includes(`"user_id":${JSON.stringify(w.a.identity)}`)
    ? `B's run kept configurable.user_id=${JSON.stringify(w.a.identity)}: a graph that reads it acts as A's user`
    : undefined;
};

/** Run creation with A's assistant, thread, checkpoint or user. */
export const RUN_CREATE_PROBES: Probe[] = [
  probe("runs", "threads.runs.wait", "POST /threads/:thread_id/runs/wait", "ORIGINAL HOLE 1: run A's assistant on B's own thread (wait)", { path: (w) => `/threads/${w.b.thread}/runs/wait`, body: (w) => runBody(w, w.a.assistant), refused: NOT_FOUND, expect: 404 }),
  probe("runs", "threads.runs.create", "POST /threads/:thread_id/runs", "run A's assistant on B's own thread (background)", { path: (w) => `/threads/${w.b.thread}/runs`, body: (w) => runBody(w, w.a.assistant), refused: NOT_FOUND, expect: 404 }),
  probe("runs", "threads.runs.stream", "POST /threads/:thread_id/runs/stream", "run A's assistant on B's own thread (stream)", { path: (w) => `/threads/${w.b.thread}/runs/stream`, body: (w) => runBody(w, w.a.assistant), refused: NOT_FOUND, expect: 404 }),
  probe("runs", "threads.runs.create", "POST /threads/:thread_id/runs", "run A's assistant on a new thread (if_not_exists create)", { path: (w) => `/threads/${w.fresh()}/runs`, body: (w) => runBody(w, w.a.assistant, { if_not_exists: "create" }), refused: NOT_FOUND, expect: 404 }),
  probe("runs", "threads.runs.create", "POST /threads/:thread_id/runs", "run on A's thread with the system assistant", { body: (w) => runBody(w, w.graph), refused: NOT_FOUND, expect: 404 }),
  probe("runs", "threads.runs.wait", "POST /threads/:thread_id/runs/wait", "run on A's thread with A's assistant", { body: (w) => runBody(w, w.a.assistant), refused: NOT_FOUND, expect: 404 }),
  probe("runs", "threads.runs.stream", "POST /threads/:thread_id/runs/stream", "stream on A's thread with the system assistant", { body: (w) => runBody(w, w.graph), refused: NOT_FOUND, expect: 404 }),
  probe("runs", "threads.runs.list", "GET /threads/:thread_id/runs", "list own thread's runs: none carries A's assistant config", { path: (w) => `/threads/${w.b.thread}/runs`, refused: [], ok2xx: isEmptyList, expect: 200 }),
  probe("runs", "runs.wait", "POST /runs/wait", "stateless wait with A's assistant", { body: (w) => runBody(w, w.a.assistant), refused: NOT_FOUND, expect: 404 }),
  probe("runs", "runs.create", "POST /runs", "stateless background run with A's assistant", { body: (w) => runBody(w, w.a.assistant), refused: NOT_FOUND, expect: 404 }),
  probe("runs", "runs.stream", "POST /runs/stream", "stateless stream with A's assistant", { body: (w) => runBody(w, w.a.assistant), refused: NOT_FOUND, expect: 404 }),
  probe("runs", "runs.batch", "POST /runs/batch", "batch with A's assistant", { body: (w) => [runBody(w, w.a.assistant)], refused: NOT_FOUND, expect: 404 }),
  probe("runs", "runs.batch", "POST /runs/batch", "batch mixing the graph and A's assistant", { commandOnly: true, body: (w) => [runBody(w, w.graph), runBody(w, w.a.assistant)], refused: NOT_FOUND }),
  probe("runs", "runs.batch", "POST /runs/batch", "batch with config.configurable.thread_id naming A's thread", { commandOnly: true, body: (w) => [runBody(w, w.graph, { config: { configurable: { thread_id: w.a.thread } } })], refused: SMUGGLED, ok2xx: anyBody }),
  probe("runs", "runs.create", "POST /runs", "stateless run with A's assistant's id as graph name", { body: (w) => runBody(w, w.a.assistant.toUpperCase()), refused: NOT_FOUND, expect: 404 }),
  probe("runs", "threads.runs.wait", "POST /threads/:thread_id/runs/wait", "run on a new thread of its own with checkpoint naming A's thread", { commandOnly: true, path: (w) => `/threads/${w.fresh()}/runs/wait`, body: (w) => runBody(w, w.graph, { if_not_exists: "create", checkpoint: { thread_id: w.a.thread, checkpoint_id: w.a.checkpoint } }), refused: SMUGGLED, ok2xx: anyBody }),
  probe("runs", "threads.runs.wait", "POST /threads/:thread_id/runs/wait", "run on a new thread of its own with A's checkpoint_id", { commandOnly: true, path: (w) => `/threads/${w.fresh()}/runs/wait`, body: (w) => runBody(w, w.graph, { if_not_exists: "create", checkpoint_id: w.a.checkpoint }), refused: SMUGGLED, ok2xx: anyBody }),
  probe("runs", "threads.runs.wait", "POST /threads/:thread_id/runs/wait", "run on a new thread of its own with config.configurable.thread_id naming A's thread", { commandOnly: true, path: (w) => `/threads/${w.fresh()}/runs/wait`, body: (w) => runBody(w, w.graph, { if_not_exists: "create", config: { configurable: { thread_id: w.a.thread, checkpoint_id: w.a.checkpoint } } }), refused: SMUGGLED, ok2xx: anyBody }),
  probe("runs", "runs.wait", "POST /runs/wait", "stateless run with config.configurable.thread_id naming A's thread", { commandOnly: true, body: (w) => runBody(w, w.graph, { config: { configurable: { thread_id: w.a.thread } } }), refused: SMUGGLED, ok2xx: anyBody }),
  probe("runs", "threads.runs.wait", "POST /threads/:thread_id/runs/wait", "run on own thread claiming A's configurable.user_id", { commandOnly: true, path: (w) => `/threads/${w.fresh()}/runs/wait`, body: (w) => runBody(w, w.graph, { if_not_exists: "create", config: { configurable: { user_id: w.a.identity } } }), refused: [400, 403, 422], ok2xx: anyBody, followUp: keptUserId }),
  // The server itself would POST the run (headers included) to a webhook: never aimed at a live deployment's network.
  probe("runs", "threads.runs.create", "POST /threads/:thread_id/runs", "run with a webhook to an internal host", { suiteOnly: true, path: (w) => `/threads/${w.b.thread}/runs`, body: (w) => runBody(w, w.graph, { webhook: "http://169.254.169.254/latest/meta-data" }), refused: [403], expect: 403 }),
  probe("runs", "runs.batch", "POST /runs/batch", "batch item with a loopback webhook to /internal/truncate", { suiteOnly: true, body: (w) => [runBody(w, w.graph), runBody(w, w.graph, { webhook: "/internal/truncate" })], refused: [403], expect: 403 }),
  probe("runs", "runs.wait", "POST /runs/wait", "stateless run with a webhook", { suiteOnly: true, body: (w) => runBody(w, w.graph, { webhook: HOOK }), refused: [403], expect: 403 }),
  probe("runs", "runs.stream", "POST /runs/stream", "stateless stream with a webhook", { suiteOnly: true, body: (w) => runBody(w, w.graph, { webhook: HOOK }), refused: [403], expect: 403 }),
  probe("runs", "threads.runs.wait", "POST /threads/:thread_id/runs/wait", "wait run with a webhook", { suiteOnly: true, path: (w) => `/threads/${w.b.thread}/runs/wait`, body: (w) => runBody(w, w.graph, { webhook: HOOK }), refused: [403], expect: 403 }),
  probe("runs", "threads.runs.stream", "POST /threads/:thread_id/runs/stream", "stream run with a webhook", { suiteOnly: true, path: (w) => `/threads/${w.b.thread}/runs/stream`, body: (w) => runBody(w, w.graph, { webhook: HOOK }), refused: [403], expect: 403 }),
  // Malformed and oversized bodies: refused, never a 500.
  probe("runs", "threads.runs.create", "POST /threads/:thread_id/runs", "malformed JSON body", { path: (w) => `/threads/${w.b.thread}/runs`, raw: () => '{"assistant_id": ', refused: BAD_BODY }),
  probe("runs", "runs.batch", "POST /runs/batch", "batch body that is not a list", { body: (w) => ({ assistant_id: w.a.assistant }), refused: BAD_BODY }),
  probe("runs", "runs.create", "POST /runs", "body over the 1 MiB inspection limit", { raw: (w) => JSON.stringify(runBody(w, w.a.assistant, { pad: "x".repeat(1024 * 1024 + 10) })), refused: [400, 403, 404, 413], expect: 403 }),
  probe("runs", "threads.runs.create", "POST /threads/:thread_id/runs", "multitask interrupt on a missing thread (server answers 500 without the check)", { path: (w) => `/threads/${w.fresh()}/runs`, body: (w) => runBody(w, w.graph, { multitask_strategy: "interrupt" }), refused: NOT_FOUND, expect: 404 }),
];

/** A's existing runs: the finished one and the one still pending. */
export const RUN_ACCESS_PROBES: Probe[] = [
  probe("runs", "threads.runs.list", "GET /threads/:thread_id/runs", "list A's runs", { refused: NOT_FOUND, expect: 404 }),
  probe("runs", "threads.runs.get", "GET /threads/:thread_id/runs/:run_id", "read A's run", { refused: NOT_FOUND, expect: 404 }),
  probe("runs", "threads.runs.get", "GET /threads/:thread_id/runs/:run_id", "read A's run under own thread", { path: (w) => `/threads/${w.b.thread}/runs/${w.a.run}`, refused: NOT_FOUND, expect: 404 }),
  probe("runs", "threads.runs.delete", "DELETE /threads/:thread_id/runs/:run_id", "delete A's run", { refused: NOT_FOUND, expect: 404 }),
  probe("runs", "threads.runs.delete", "DELETE /threads/:thread_id/runs/:run_id", "delete A's run under own thread", { path: (w) => `/threads/${w.b.thread}/runs/${w.a.run}`, refused: NOT_FOUND, expect: 404 }),
  probe("runs", "threads.runs.cancel", "POST /threads/:thread_id/runs/:run_id/cancel", "cancel A's run", { refused: NOT_FOUND, expect: 404 }),
  probe("runs", "threads.runs.cancel", "POST /threads/:thread_id/runs/:run_id/cancel", "cancel A's run under own thread", { path: (w) => `/threads/${w.b.thread}/runs/${w.a.run}/cancel`, refused: NOT_FOUND, expect: 404 }),
  probe("runs", "threads.runs.join", "GET /threads/:thread_id/runs/:run_id/join", "join A's run", { refused: NOT_FOUND, ok2xx: saysNotFound, expect: 404 }),
  probe("runs", "threads.runs.join", "GET /threads/:thread_id/runs/:run_id/join", "join A's run under own thread", { path: (w) => `/threads/${w.b.thread}/runs/${w.a.run}/join`, refused: NOT_FOUND, ok2xx: saysNotFound, expect: 404 }),
  probe("runs", "threads.runs.join.stream", "GET /threads/:thread_id/runs/:run_id/stream", "stream A's run", { refused: NOT_FOUND, ok2xx: saysNotFound, expect: 404 }),
  probe("runs", "threads.runs.join.stream", "GET /threads/:thread_id/runs/:run_id/stream", "stream A's run under own thread", { path: (w) => `/threads/${w.b.thread}/runs/${w.a.run}/stream`, refused: NOT_FOUND, ok2xx: saysNotFound, expect: 404 }),
  probe("runs", "runs.join.stream", "GET /runs/:run_id/stream", "stream A's run by run id alone", { refused: NOT_FOUND, ok2xx: saysNotFound, expect: 404 }),
  probe("runs", "threads.runs.get", "GET /threads/:thread_id/runs/:run_id", "read A's pending run", { commandOnly: true, path: (w) => `/threads/${w.a.liveThread}/runs/${w.a.liveRun}`, refused: NOT_FOUND }),
  probe("runs", "threads.runs.join", "GET /threads/:thread_id/runs/:run_id/join", "join A's pending run", { commandOnly: true, path: (w) => `/threads/${w.a.liveThread}/runs/${w.a.liveRun}/join`, refused: NOT_FOUND, ok2xx: saysNotFound }),
  probe("runs", "threads.runs.join.stream", "GET /threads/:thread_id/runs/:run_id/stream", "stream A's pending run", { commandOnly: true, path: (w) => `/threads/${w.a.liveThread}/runs/${w.a.liveRun}/stream`, refused: NOT_FOUND, ok2xx: saysNotFound }),
  probe("runs", "runs.join.stream", "GET /runs/:run_id/stream", "stream A's pending run by run id alone", { commandOnly: true, path: (w) => `/runs/${w.a.liveRun}/stream`, refused: NOT_FOUND, ok2xx: saysNotFound }),
  probe("runs", "threads.runs.create", "POST /threads/:thread_id/runs", "enqueue a run on A's busy thread", { commandOnly: true, path: (w) => `/threads/${w.a.liveThread}/runs`, body: (w) => runBody(w, w.graph, { multitask_strategy: "enqueue" }), refused: NOT_FOUND }),
  probe("runs", "threads.runs.cancel", "POST /threads/:thread_id/runs/:run_id/cancel", "cancel A's pending run", { commandOnly: true, path: (w) => `/threads/${w.a.liveThread}/runs/${w.a.liveRun}/cancel`, refused: NOT_FOUND }),
  probe("runs", "runs.cancel", "POST /runs/cancel", "bulk-cancel A's pending run by id", { commandOnly: true, servedBy: "runs.cancel", body: (w) => ({ thread_id: w.a.liveThread, run_ids: [w.a.liveRun] }), refused: NOT_FOUND }),
];
