/**
 * Tenant A's small world (an assistant with a secret in its config, a thread
 * with a finished run and its checkpoint, a thread whose run is still
 * pending, a store item, a cron where the server has crons), tenant B's own
 * thread and assistant, the controls that tell which optional endpoints the
 * server serves, and A's snapshot of it all.
 */
import { isTenantId } from "../tenant/tenant-id.ts";
import { tenantNamespaceLabel } from "../tenant/tenant-namespace-label.ts";
import { randomUUID } from "node:crypto";
import type { CreatedResources } from "./cleanup.ts";
import { decodeClaims } from "../cli-kit/decode-claims.ts";
import { GraphNotFoundError, discoverGraph } from "./discover-graph.ts";
import { systemAssistantId } from "../policy/run-assistant.ts";
import { MARKER_KEY } from "./probe-helpers.ts";
import { WIPE_NOTHING } from "./probes-other.ts";
import type { Answer, Caller, ControlName, SendAs, World } from "./types.ts";
import { isNotServed } from "../cli-kit/http-client.ts";

/** A step of building the world failed: the run cannot prove anything. */
export class WorldError extends Error {
  override name = "WorldError";
}

/** Options of {@link buildWorld}. */
export interface BuildWorldOptions {
  marker: string;
  /** Graph for runs; default the first graph of A's system assistants, else of A's own (see `discoverGraph`). */
  graph?: string;
  /** Input of A's runs; default a one-message `messages` state. */
  input?: (text: string) => unknown;
  /** The tokens, to read A's and B's claims (tenant and user) for store namespaces. */
  tokens: { a: string; b: string };
  /** Store namespace prefix of each tenant; default: tried from the stamped metadata and the claims. */
  namespaceA?: string[];
  namespaceB?: string[];
}

const ok = (answer: Answer) => answer.status >= 200 && answer.status < 300;

async function must(send: SendAs, as: Caller, step: string, method: "GET" | "POST" | "PUT", path: string, body?: unknown): Promise<Answer> {
  const answer = await send(as, { method, path, body });
  if (!ok(answer)) throw new WorldError(`${step} (${method} ${path} as ${as.toUpperCase()}) answered ${answer.status}: ${answer.text.slice(0, 200)}`);
  return answer;
}

const field = (answer: Answer, name: string): string => {
  const value = (answer.json as Record<string, unknown> | null)?.[name];
  if (typeof value !== "string") throw new WorldError(`the answer has no ${name}: ${answer.text.slice(0, 200)}`);
  return value;
};

/** Metadata the server added to a thread: string values the client did not send. */
function stampedOf(answer: Answer, sent: Record<string, unknown>): Record<string, string> {
  const metadata = ((answer.json as { metadata?: Record<string, unknown> } | null)?.metadata ?? {}) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(metadata).filter((e): e is [string, string] => typeof e[1] === "string" && !(e[0] in sent)));
}

/** Put an item under the first candidate prefix the server accepts. */
async function putItem(send: SendAs, as: Caller, prefixes: string[][], tail: string[], key: string, value: unknown, created: CreatedResources) {
  const tried: string[] = [];
  for (const prefix of prefixes) {
    const namespace = [...prefix, ...tail];
    const answer = await send(as, { method: "PUT", path: "/store/items", body: { namespace, key, value } });
    tried.push(`${namespace.join(".")}: ${answer.status}`);
    if (ok(answer)) {
      created.add({ kind: "store", namespace, key, as });
      return namespace;
    }
  }
  throw new WorldError(`no store namespace was accepted for ${as.toUpperCase()} (set --namespace-${as}); tried ${tried.join(", ")}`);
}

/**
 * Store namespace prefixes to try for a tenant, best first: the values the
 * deployment stamped and the token's usual tenant claims, each also as this
 * package's store label of that tenant (see `tenantNamespaceLabel`).
 *
 * @example
 * prefixCandidates({ tenant_id: "acme_eu" }, token); // [["acme~5Feu"], ["acme_eu"], …]
 */
export function prefixCandidates(stamped: Record<string, string>, token: string): string[][] {
  const claims = decodeClaims(token);
  const values = [...Object.values(stamped), ...["tenant_id", "org_id", "tid", "organization", "sub"].map((k) => claims[k])];
  // A deployment behind this package expects the tenant's store label (`acme_eu` → `acme~5Feu`), tried first.
  const labelled = values.flatMap((v) => (isTenantId(v) ? [tenantNamespaceLabel(v), v] : [v]));
  return [...new Set(labelled.filter((v): v is string => typeof v === "string" && v !== "" && !v.includes(".")))].map((v) => [v]);
}

/**
 * Build the world as A and B, writing every created resource down first.
 *
 * @throws {WorldError} a step the probes depend on failed.
 * @example
 * const world = await buildWorld(send, created, { marker, tokens: { a, b } });
 */
export async function buildWorld(send: SendAs, created: CreatedResources, options: BuildWorldOptions): Promise<World> {
  const { marker } = options;
  const mark = { [MARKER_KEY]: marker };
  const tag = { check_isolation_owner: `a-${marker}` };
  const secrets = [`a-config-secret-${randomUUID()}`, `a-message-secret-${randomUUID()}`, `a-store-secret-${randomUUID()}`];
  const input = options.input ?? ((text: string) => ({ messages: [{ role: "user", content: text }] }));

  let graph = options.graph;
  if (!graph) {
    try {
      graph = await discoverGraph(send);
    } catch (error) {
      if (error instanceof GraphNotFoundError) throw new WorldError(error.message);
      throw error;
    }
  }

  const assistantA = await must(send, "a", "creating A's assistant", "POST", "/assistants", {
    graph_id: graph,
    name: `check-isolation ${marker}`,
    config: { configurable: { check_isolation_secret: secrets[0] } },
    metadata: { ...mark, ...tag },
  });
  const assistant = field(assistantA, "assistant_id");
  created.add({ kind: "assistant", id: assistant, as: "a" });

  const sentA = { ...mark, ...tag };
  const threadA = await must(send, "a", "creating A's thread", "POST", "/threads", { metadata: sentA });
  const thread = field(threadA, "thread_id");
  created.add({ kind: "thread", id: thread, as: "a" });
  const threadB = await must(send, "b", "creating B's thread", "POST", "/threads", { metadata: mark });
  created.add({ kind: "thread", id: field(threadB, "thread_id"), as: "b" });
  const stampedB = stampedOf(threadB, mark);
  // Only what differs between the tenants names A (a stamped graph id or version would be the same for both).
  const stamped = Object.fromEntries(Object.entries(stampedOf(threadA, sentA)).filter(([k, v]) => stampedB[k] !== v));

  await must(send, "a", "running A's assistant", "POST", `/threads/${thread}/runs/wait`, { assistant_id: assistant, input: input(secrets[1]!), metadata: mark });
  const runs = await must(send, "a", "listing A's runs", "GET", `/threads/${thread}/runs`);
  const run = (runs.json as Array<{ run_id?: string }>)[0]?.run_id;
  if (!run) throw new WorldError("A's finished run is not listed");
  const state = await must(send, "a", "reading A's state", "GET", `/threads/${thread}/state`);
  const checkpoint = (state.json as { checkpoint?: { checkpoint_id?: string } }).checkpoint?.checkpoint_id;
  if (!checkpoint) throw new WorldError("A's thread has no checkpoint after its run");

  const live = await must(send, "a", "creating A's second thread", "POST", "/threads", { metadata: sentA });
  const liveThread = field(live, "thread_id");
  created.add({ kind: "thread", id: liveThread, as: "a" });
  // Scheduled an hour ahead, the run stays pending for the whole check. A
  // server without `after_seconds` gets a plain background run: still in
  // progress for the first probes when the graph is slow, finished otherwise.
  const pendingBody = { assistant_id: assistant, input: input("pending"), metadata: mark };
  const scheduled = await send("a", { method: "POST", path: `/threads/${liveThread}/runs`, body: { ...pendingBody, after_seconds: 3600 } });
  const pending = ok(scheduled) ? scheduled : await must(send, "a", "starting A's pending run", "POST", `/threads/${liveThread}/runs`, pendingBody);
  const liveRun = field(pending, "run_id");
  created.add({ kind: "run", id: liveRun, thread: liveThread, as: "a" });

  const scratch = await must(send, "b", "creating B's second thread", "POST", "/threads", { metadata: mark });
  created.add({ kind: "thread", id: field(scratch, "thread_id"), as: "b" });
  const assistantB = await must(send, "b", "creating B's assistant", "POST", "/assistants", { graph_id: graph, metadata: mark });
  created.add({ kind: "assistant", id: field(assistantB, "assistant_id"), as: "b" });

  const tail = ["check_isolation", marker];
  const namespaceA = await putItem(send, "a", options.namespaceA ? [options.namespaceA] : prefixCandidates(stamped, options.tokens.a), tail, "a-item", { text: secrets[2], ...mark }, created);
  const namespaceB = await putItem(send, "b", options.namespaceB ? [options.namespaceB] : prefixCandidates(stampedB, options.tokens.b), tail, "b-item", { text: "b", ...mark }, created);

  const fresh = () => {
    const id = randomUUID();
    created.add({ kind: "thread", id, as: "b" });
    return id;
  };
  // The system assistant's current version, for a `latest` probe that changes nothing even where it is let through.
  let system: World["system"];
  for (const as of ["b", "a"] as const) {
    const read = await send(as, { method: "GET", path: `/assistants/${systemAssistantId(graph)}` });
    const version = (read.json as { version?: unknown } | null)?.version;
    if (ok(read) && typeof version === "number") {
      system = { version };
      break;
    }
  }
  const identity = decodeClaims(options.tokens.a).sub;
  return {
    marker,
    graph,
    a: { thread, run, assistant, checkpoint, liveThread, liveRun, namespace: namespaceA, key: "a-item", tag, identity: typeof identity === "string" ? identity : "", stamped },
    b: { thread: field(threadB, "thread_id"), scratch: field(scratch, "thread_id"), assistant: field(assistantB, "assistant_id"), namespace: namespaceB },
    ...(system ? { system } : {}),
    secrets,
    fresh,
  };
}

/**
 * Ask, as A on A's own resources, which optional endpoints the server
 * serves: the status of A's own request per control (see `isNotServed`).
 * A cron is created for A when crons are served.
 *
 * @example
 * const controls = await probeControls(send, world, created);
 * isNotServed(controls.get("crons")!); // true on langgraph dev
 */
export async function probeControls(send: SendAs, w: World, created: CreatedResources): Promise<Map<ControlName, number>> {
  const controls: Array<[ControlName, "GET" | "POST", string, unknown]> = [
    ["crons", "POST", "/runs/crons/search", { assistant_id: w.a.assistant }],
    ["threads.stream", "GET", `/threads/${w.a.thread}/stream`, undefined],
    ["runs.cancel", "POST", "/runs/cancel", { thread_id: w.a.thread, run_ids: [w.a.run] }],
    ["threads.prune", "POST", "/threads/prune", { thread_ids: [] }],
    ["protocol", "POST", `/threads/${w.a.thread}/commands`, { id: 1, method: "state.get", params: {} }],
    ["ui", "POST", `/ui/${w.graph}`, {}],
    ["internal.truncate", "POST", "/internal/truncate", WIPE_NOTHING],
    // The dev server answers 500 for the schemas of a graph it cannot extract them from (a plain .mjs graph).
    ["assistants.schemas", "GET", `/assistants/${w.a.assistant}/schemas`, undefined],
  ];
  const served = new Map<ControlName, number>();
  for (const [name, method, path, body] of controls) served.set(name, (await send("a", { method, path, body })).status);
  if (!isNotServed(served.get("crons")!)) {
    const cron = await send("a", { method: "POST", path: "/runs/crons", body: { assistant_id: w.a.assistant, schedule: "0 0 1 1 *", input: {}, metadata: { [MARKER_KEY]: w.marker } } });
    const id = (cron.json as { cron_id?: unknown } | null)?.cron_id;
    if (ok(cron) && typeof id === "string") {
      created.add({ kind: "cron", id, as: "a" });
      w.a.cron = id;
    } else served.set("crons", cron.status);
  }
  return served;
}

/**
 * Everything A can see of its world, for the before/after comparison.
 *
 * @example
 * const before = await snapshotWorld(send, world);
 */
export async function snapshotWorld(send: SendAs, w: World): Promise<Record<string, { status: number; json: unknown }>> {
  const reads: Array<[string, "GET" | "POST", string, unknown]> = [
    ["assistant", "GET", `/assistants/${w.a.assistant}`, undefined],
    ["assistant versions", "POST", `/assistants/${w.a.assistant}/versions`, {}],
    ["thread", "GET", `/threads/${w.a.thread}`, undefined],
    ["state", "GET", `/threads/${w.a.thread}/state`, undefined],
    ["history", "POST", `/threads/${w.a.thread}/history`, {}],
    ["runs", "GET", `/threads/${w.a.thread}/runs`, undefined],
    ["run", "GET", `/threads/${w.a.thread}/runs/${w.a.run}`, undefined],
    ["pending thread's runs", "GET", `/threads/${w.a.liveThread}/runs`, undefined],
    ["store item", "GET", `/store/items?namespace=${encodeURIComponent(w.a.namespace.join("."))}&key=${w.a.key}`, undefined],
    ["threads tagged A", "POST", "/threads/count", { metadata: w.a.tag }],
    ["assistants tagged A", "POST", "/assistants/count", { metadata: w.a.tag }],
    // Not A's, but no tenant may change it: a 404 both times where system assistants are hidden.
    ["view of the system assistant", "GET", `/assistants/${systemAssistantId(w.graph)}`, undefined],
  ];
  if (w.a.cron) reads.push(["crons", "POST", "/runs/crons/search", { assistant_id: w.a.assistant }]);
  const snapshot: Record<string, { status: number; json: unknown }> = {};
  for (const [name, method, path, body] of reads) {
    const answer = await send("a", { method, path, body });
    snapshot[name] = { status: answer.status, json: answer.json };
  }
  return snapshot;
}
