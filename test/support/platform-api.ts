/**
 * A small in-memory stand-in for LangGraph Platform's HTTP API, for the
 * routes `offboard` (and the SDK calls that build and read a tenant's world)
 * use. It owns no auth of its own: every request is authenticated and every
 * event authorized through the worker (`platform-host.ts`), as the platform's
 * server does (LANGGRAPH-AUTH-NOTES.md, "What the server does with the
 * answers"):
 * - authenticate: the original URL, method and headers; a refusal keeps its
 *   status and message (the worker's headers do not survive);
 * - authorize: `{ resource, action, value, context }` with the values of
 *   `test/platform/platform-events.ts`; every refusal of a handler is a 403
 *   with its message (the real worker's body carries no status);
 * - filters applied with the server's matcher (`isAuthMatching`), to
 *   metadata; of a returned value only `metadata` is kept (`applyPlatformValue`);
 * - run creation also calls `assistants:search` with `{ metadata: {} }` and
 *   applies that filter to the assistant, system assistants exempt.
 *
 * What is assumed, not known, is marked "assumed" below: the value of a
 * single-run cancel, and that a cron is matched through its thread's
 * metadata. Runs never execute: a created run stays pending until cancelled.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { isAuthMatching } from "@langchain/langgraph-api/auth";
import { systemAssistantId } from "../../src/policy/run-assistant.ts";
import { applyPlatformValue, type PlatformHost } from "./platform-host.ts";

type Json = Record<string, any>;

/** What the stand-in holds (read by tests to prove what is gone). */
export interface PlatformStorage {
  threads: Map<string, Json>;
  /** Checkpoints per thread, oldest first. */
  checkpoints: Map<string, Json[]>;
  runs: Map<string, Json>;
  assistants: Map<string, Json>;
  versions: Json[];
  crons: Map<string, Json>;
  /** Items by `namespace.join(".")` then key. */
  store: Map<string, Map<string, Json>>;
}

/** Options of {@link startPlatformApi}. */
export interface PlatformApiOptions {
  /** Graph ids: each gets its system assistant (`created_by: "system"`, id `uuid5(graph)`). */
  graphs: string[];
  /** Answer the first `n` requests matching `METHOD /pattern` with 503 (a busy platform). */
  faults?: Record<string, number>;
  /** Wait this long before answering each DELETE, ms (so a test can interrupt half way). */
  deleteDelayMs?: number;
  /**
   * A late write (langchain-ai/langgraph#7206): after the first thread
   * deletion, right after the next thread search has been answered, a
   * checkpoint write of its cancelled run brings that thread back, with the
   * metadata it had (once). Tied to that search, not to a delay, so it lands
   * between the command's two searches however loaded the machine is.
   */
  lateWrite?: boolean;
  /** The body of `GET /info`. Default `{ version: "stand-in" }` (no flags: the platform serves crons). */
  info?: Json;
  /** Answer every request matching `METHOD /pattern` this way, after authentication: a JSON body, or `text` as text/plain. */
  answers?: Record<string, { status: number; body?: unknown; text?: string }>;
  /** Cap every page at this many entries, whatever `limit` asks (a platform that pages lower). */
  maxPageSize?: number;
  /** Cancelling a run answers 200 but leaves it running (a worker that does not stop). */
  cancelIgnored?: boolean;
  /**
   * Right before each request matching `METHOD /pattern` is handled, with its path parameters (to delete
   * something meanwhile, as another operator would).
   */
  beforeHandle?: Record<string, (params: Record<string, string>, storage: PlatformStorage) => void>;
}

/** A running stand-in. */
export interface PlatformApi {
  url: string;
  storage: PlatformStorage;
  /** Requests served, as `METHOD /pattern STATUS`. */
  log: string[];
  stop(): Promise<void>;
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const now = () => new Date().toISOString();
const page = <T>(list: T[], body: Json) => list.slice(Number(body.offset ?? 0), Number(body.offset ?? 0) + Number(body.limit ?? 10));
/** The client's own metadata filter: every key equal (what the SDK's `metadata` search means). */
const metadataMatches = (metadata: Json, wanted: Json | undefined) => Object.entries(wanted ?? {}).every(([k, v]) => JSON.stringify(metadata?.[k]) === JSON.stringify(v));

async function readBody(req: IncomingMessage): Promise<Json> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  return text === "" ? {} : (JSON.parse(text) as Json);
}

/**
 * Start the stand-in on 127.0.0.1 in front of a started worker.
 *
 * @example
 * const worker = await startPlatformWorker({ ...issuer.env(), LANGSERVE_GRAPHS, LANGGRAPH_AUTH });
 * const platform = await startPlatformApi(worker, { graphs: ["echo"] });
 */
export async function startPlatformApi(host: Pick<PlatformHost, "authenticate" | "authorize">, options: PlatformApiOptions): Promise<PlatformApi> {
  const storage: PlatformStorage = { threads: new Map(), checkpoints: new Map(), runs: new Map(), assistants: new Map(), versions: [], crons: new Map(), store: new Map() };
  for (const graph of options.graphs) {
    const id = systemAssistantId(graph);
    const assistant = { assistant_id: id, graph_id: graph, name: graph, config: {}, context: {}, metadata: { created_by: "system" }, version: 1, created_at: now(), updated_at: now() };
    storage.assistants.set(id, assistant);
    storage.versions.push({ ...assistant });
  }
  const faults = new Map(Object.entries(options.faults ?? {}));
  const log: string[] = [];
  let lateWritten = false;
  /** The late write waiting for the next thread search to be answered. */
  let lateWritePending: (() => void) | undefined;

  const state = (threadId: string) => {
    const list = storage.checkpoints.get(threadId) ?? [];
    const last = list.at(-1);
    return {
      values: last?.values ?? {},
      next: [],
      tasks: [],
      metadata: last?.metadata ?? {},
      created_at: last?.created_at ?? null,
      checkpoint: { thread_id: threadId, checkpoint_ns: "", checkpoint_id: last?.checkpoint_id ?? null },
      parent_checkpoint: last?.parent_checkpoint_id ? { thread_id: threadId, checkpoint_ns: "", checkpoint_id: last.parent_checkpoint_id } : null,
    };
  };
  const asState = (threadId: string, c: Json) => ({ ...state(threadId), values: c.values, metadata: c.metadata, created_at: c.created_at, checkpoint: { thread_id: threadId, checkpoint_ns: "", checkpoint_id: c.checkpoint_id } });

  /** One route: its events are authorized by `handle` through `authorize`. */
  type Handler = (p: Record<string, string>, body: Json, query: URLSearchParams, authorize: (event: string, value: Json) => Promise<Json | undefined>) => Promise<[number, unknown]>;
  const thread = (id: string, filters: Json | undefined) => {
    const found = storage.threads.get(id);
    if (!found || (filters && !isAuthMatching(found.metadata, filters as never))) throw new Refusal(404, `Thread ${id} not found`);
    return found;
  };
  const assistant = (id: string, filters: Json | undefined) => {
    const found = storage.assistants.get(id);
    if (!found || (filters && !isAuthMatching(found.metadata, filters as never))) throw new Refusal(404, `Assistant ${id} not found`);
    return found;
  };
  /** Assumed: a cron is matched through its thread's metadata (CronCreate carries none). */
  const cronMetadata = (cron: Json) => storage.threads.get(cron.thread_id)?.metadata ?? {};
  const deleteThread = (id: string) => {
    const deleted = storage.threads.get(id);
    storage.threads.delete(id);
    storage.checkpoints.delete(id);
    for (const [runId, run] of storage.runs) if (run.thread_id === id) storage.runs.delete(runId);
    for (const [cronId, cron] of storage.crons) if (cron.thread_id === id) storage.crons.delete(cronId);
    if (deleted && options.lateWrite && !lateWritten) {
      lateWritten = true;
      lateWritePending = () => {
        storage.threads.set(id, { ...deleted, updated_at: now() });
        storage.checkpoints.set(id, [{ checkpoint_id: randomUUID(), values: { late: true }, metadata: { source: "loop" }, created_at: now(), parent_checkpoint_id: null }]);
      };
    }
  };

  const routes: Array<[string, string, Handler]> = [
    ["POST", "/threads", async (_p, body, _q, authorize) => {
      const value = { thread_id: body.thread_id ?? randomUUID(), metadata: body.metadata ?? {}, if_exists: body.if_exists ?? "raise" };
      await authorize("threads:create", value);
      const created = { thread_id: value.thread_id, created_at: now(), updated_at: now(), metadata: value.metadata, status: "idle", values: {}, interrupts: {} };
      storage.threads.set(created.thread_id, created);
      return [200, created];
    }],
    ["POST", "/threads/search", async (_p, body, _q, authorize) => {
      const filters = await authorize("threads:search", { metadata: body.metadata ?? {}, values: body.values ?? {}, status: body.status ?? null, limit: body.limit ?? 10, offset: body.offset ?? 0 });
      const found = [...storage.threads.values()].filter((t) => metadataMatches(t.metadata, body.metadata) && (!filters || isAuthMatching(t.metadata, filters as never)));
      const answer = page(found, body);
      const late = lateWritePending;
      lateWritePending = undefined;
      late?.();
      return [200, answer];
    }],
    ["GET", "/threads/:thread_id", async (p, _b, _q, authorize) => [200, thread(p.thread_id!, await authorize("threads:read", { thread_id: p.thread_id }))]],
    ["DELETE", "/threads/:thread_id", async (p, _b, _q, authorize) => {
      thread(p.thread_id!, await authorize("threads:delete", { thread_id: p.thread_id }));
      deleteThread(p.thread_id!);
      return [204, null];
    }],
    ["GET", "/threads/:thread_id/state", async (p, _b, _q, authorize) => {
      thread(p.thread_id!, await authorize("threads:read", { thread_id: p.thread_id }));
      return [200, state(p.thread_id!)];
    }],
    ["POST", "/threads/:thread_id/state", async (p, body, _q, authorize) => {
      const t = thread(p.thread_id!, await authorize("threads:update", { thread_id: p.thread_id }));
      const list = storage.checkpoints.get(t.thread_id) ?? [];
      const checkpoint = { checkpoint_id: randomUUID(), values: { ...(list.at(-1)?.values ?? {}), ...(body.values ?? {}) }, metadata: { source: "update", step: list.length }, created_at: now(), parent_checkpoint_id: list.at(-1)?.checkpoint_id ?? null };
      storage.checkpoints.set(t.thread_id, [...list, checkpoint]);
      Object.assign(t, { values: checkpoint.values, updated_at: now() });
      return [200, { checkpoint: { thread_id: t.thread_id, checkpoint_ns: "", checkpoint_id: checkpoint.checkpoint_id } }];
    }],
    ["POST", "/threads/:thread_id/history", async (p, body, _q, authorize) => {
      thread(p.thread_id!, await authorize("threads:read", { thread_id: p.thread_id }));
      let list = [...(storage.checkpoints.get(p.thread_id!) ?? [])].reverse();
      const before = typeof body.before === "string" ? body.before : body.before?.configurable?.checkpoint_id;
      if (before) list = list.slice(list.findIndex((c) => c.checkpoint_id === before) + 1);
      return [200, list.slice(0, Number(body.limit ?? 10)).map((c) => asState(p.thread_id!, c))];
    }],
    ["POST", "/threads/:thread_id/runs", async (p, body, _q, authorize) => {
      const value = { thread_id: p.thread_id, assistant_id: body.assistant_id, run_id: randomUUID(), status: "pending", metadata: body.metadata ?? {}, prevent_insert_if_inflight: true, multitask_strategy: "reject", if_not_exists: "reject", after_seconds: 0, kwargs: { input: body.input ?? null, config: body.config ?? {}, stream_mode: ["values"] } };
      const filters = await authorize("threads:create_run", value);
      thread(p.thread_id!, filters);
      const owned = await authorize("assistants:search", { metadata: {} });
      const chosen = storage.assistants.get(body.assistant_id) ?? storage.assistants.get(systemAssistantId(String(body.assistant_id)));
      if (!chosen || (chosen.metadata.created_by !== "system" && owned && !isAuthMatching(chosen.metadata, owned as never))) throw new Refusal(404, "Assistant not found");
      const run = { run_id: value.run_id, thread_id: p.thread_id, assistant_id: chosen.assistant_id, status: "pending", metadata: value.metadata, multitask_strategy: "reject", created_at: now(), updated_at: now(), kwargs: value.kwargs };
      storage.runs.set(run.run_id, run);
      storage.threads.get(p.thread_id!)!.status = "busy";
      return [200, run];
    }],
    ["GET", "/threads/:thread_id/runs", async (p, _b, query, authorize) => {
      thread(p.thread_id!, await authorize("threads:read", { thread_id: p.thread_id }));
      const runs = [...storage.runs.values()].filter((r) => r.thread_id === p.thread_id);
      return [200, page(runs, { limit: query.get("limit") ?? 10, offset: query.get("offset") ?? 0 })];
    }],
    ["GET", "/threads/:thread_id/runs/:run_id", async (p, _b, _q, authorize) => {
      thread(p.thread_id!, await authorize("threads:read", { thread_id: p.thread_id, run_id: p.run_id }));
      const run = storage.runs.get(p.run_id!);
      if (!run || run.thread_id !== p.thread_id) throw new Refusal(404, "Run not found");
      return [200, run];
    }],
    ["POST", "/threads/:thread_id/runs/:run_id/cancel", async (p, _b, query, authorize) => {
      // Assumed: a single-run cancel raises threads:update with { thread_id, run_id, action } (test/platform/platform-events.ts).
      thread(p.thread_id!, await authorize("threads:update", { thread_id: p.thread_id, run_id: p.run_id, action: query.get("action") ?? "interrupt" }));
      const run = storage.runs.get(p.run_id!);
      if (!run || run.thread_id !== p.thread_id) throw new Refusal(404, "Run not found");
      if (run.status !== "pending" && run.status !== "running") throw new Refusal(409, "Run is not pending or running");
      if (!options.cancelIgnored) Object.assign(run, { status: "interrupted", updated_at: now() });
      storage.threads.get(p.thread_id!)!.status = "idle";
      return [202, null];
    }],
    ["POST", "/threads/:thread_id/runs/crons", async (p, body, _q, authorize) => {
      const filters = await authorize("crons:create", { thread_id: p.thread_id, payload: { assistant_id: body.assistant_id, input: body.input ?? {} }, schedule: body.schedule });
      thread(p.thread_id!, filters);
      const cron = { cron_id: randomUUID(), thread_id: p.thread_id, assistant_id: body.assistant_id, schedule: body.schedule, payload: { input: body.input ?? {} }, created_at: now(), updated_at: now() };
      storage.crons.set(cron.cron_id, cron);
      return [200, cron];
    }],
    ["POST", "/runs/crons/search", async (_p, body, _q, authorize) => {
      const filters = await authorize("crons:search", { thread_id: body.thread_id ?? null, assistant_id: body.assistant_id ?? null, limit: body.limit ?? 10, offset: body.offset ?? 0 });
      const found = [...storage.crons.values()].filter((c) => !filters || isAuthMatching(cronMetadata(c), filters as never));
      return [200, page(found, body)];
    }],
    ["DELETE", "/runs/crons/:cron_id", async (p, _b, _q, authorize) => {
      const filters = await authorize("crons:delete", { cron_id: p.cron_id });
      const cron = storage.crons.get(p.cron_id!);
      if (!cron || (filters && !isAuthMatching(cronMetadata(cron), filters as never))) throw new Refusal(404, "Cron not found");
      storage.crons.delete(p.cron_id!);
      return [204, null];
    }],
    ["POST", "/assistants", async (_p, body, _q, authorize) => {
      const value = { assistant_id: body.assistant_id ?? randomUUID(), graph_id: body.graph_id, config: body.config ?? {}, context: body.context ?? {}, metadata: body.metadata ?? {}, if_exists: body.if_exists ?? "raise", name: body.name ?? "Untitled" };
      await authorize("assistants:create", value);
      const created = { assistant_id: value.assistant_id, graph_id: value.graph_id, name: value.name, config: value.config, context: value.context, metadata: value.metadata, version: 1, created_at: now(), updated_at: now() };
      storage.assistants.set(created.assistant_id, created);
      storage.versions.push({ ...created });
      return [200, created];
    }],
    ["PATCH", "/assistants/:assistant_id", async (p, body, _q, authorize) => {
      const value = { assistant_id: p.assistant_id, ...(body.metadata ? { metadata: body.metadata } : {}), ...(body.name ? { name: body.name } : {}) };
      const filters = await authorize("assistants:update", value);
      const found = assistant(p.assistant_id!, filters);
      Object.assign(found, { name: body.name ?? found.name, metadata: { ...found.metadata, ...(value.metadata ?? {}) }, version: found.version + 1, updated_at: now() });
      storage.versions.push({ ...found });
      return [200, found];
    }],
    ["POST", "/assistants/search", async (_p, body, _q, authorize) => {
      const filters = await authorize("assistants:search", { graph_id: body.graph_id ?? null, metadata: body.metadata ?? {}, limit: body.limit ?? 10, offset: body.offset ?? 0 });
      const found = [...storage.assistants.values()].filter((a) => metadataMatches(a.metadata, body.metadata) && (!filters || isAuthMatching(a.metadata, filters as never)));
      return [200, page(found, body)];
    }],
    ["GET", "/assistants/:assistant_id", async (p, _b, _q, authorize) => [200, assistant(p.assistant_id!, await authorize("assistants:read", { assistant_id: p.assistant_id }))]],
    ["DELETE", "/assistants/:assistant_id", async (p, _b, _q, authorize) => {
      assistant(p.assistant_id!, await authorize("assistants:delete", { assistant_id: p.assistant_id }));
      storage.assistants.delete(p.assistant_id!);
      storage.versions = storage.versions.filter((v) => v.assistant_id !== p.assistant_id);
      return [204, null];
    }],
    ["POST", "/assistants/:assistant_id/versions", async (p, body, _q, authorize) => {
      assistant(p.assistant_id!, await authorize("assistants:read", { assistant_id: p.assistant_id }));
      return [200, page(storage.versions.filter((v) => v.assistant_id === p.assistant_id).reverse(), body)];
    }],
    ["PUT", "/store/items", async (_p, body, _q, authorize) => {
      await authorize("store:put", { namespace: body.namespace, key: body.key, value: body.value, index: null });
      const key = (body.namespace as string[]).join(".");
      if (!storage.store.has(key)) storage.store.set(key, new Map());
      storage.store.get(key)!.set(body.key, { namespace: body.namespace, key: body.key, value: body.value, created_at: now(), updated_at: now() });
      return [204, null];
    }],
    ["DELETE", "/store/items", async (_p, body, _q, authorize) => {
      await authorize("store:delete", { namespace: body.namespace, key: body.key });
      const key = (body.namespace as string[]).join(".");
      storage.store.get(key)?.delete(body.key);
      if (storage.store.get(key)?.size === 0) storage.store.delete(key);
      return [204, null];
    }],
    ["POST", "/store/items/search", async (_p, body, _q, authorize) => {
      await authorize("store:search", { namespace: body.namespace_prefix, filter: body.filter ?? null, limit: body.limit ?? 10, offset: body.offset ?? 0, query: null });
      const prefix = body.namespace_prefix as string[];
      const items = [...storage.store.values()].flatMap((m) => [...m.values()]).filter((i) => prefix.every((label, n) => i.namespace[n] === label));
      return [200, { items: page(items, body) }];
    }],
  ];
  const compiled = routes.map(([method, pattern, handle]) => ({ method, pattern, handle, parts: pattern.split("/") }));
  const match = (method: string, path: string) => {
    const parts = path.split("/");
    for (const route of compiled) {
      if (route.method !== method || route.parts.length !== parts.length) continue;
      const params: Record<string, string> = {};
      if (route.parts.every((part, i) => (part.startsWith(":") ? ((params[part.slice(1)] = decodeURIComponent(parts[i]!)), true) : part === parts[i]))) return { route, params };
    }
    return undefined;
  };

  let base = "";
  const answer = (res: ServerResponse, status: number, body: unknown) => {
    if (body === null) res.writeHead(status).end();
    else res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  };
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", base);
    const method = req.method ?? "GET";
    if (method === "GET" && url.pathname === "/info") return answer(res, 200, options.info ?? { version: "stand-in" });
    const found = match(method, url.pathname);
    const label = `${method} ${found?.route.pattern ?? url.pathname}`;
    try {
      const body = await readBody(req);
      const headers = Object.fromEntries(Object.entries(req.headers).filter((e): e is [string, string] => typeof e[1] === "string"));
      const authenticated = await host.authenticate(url.toString(), method, headers);
      if (!authenticated.ok) throw new Refusal(authenticated.status, authenticated.message);
      if (!found) throw new Refusal(404, "Not Found");
      const left = faults.get(label) ?? 0;
      if (left > 0) {
        faults.set(label, left - 1);
        throw new Refusal(503, "busy (a fault the test asked for)");
      }
      if (method === "DELETE" && options.deleteDelayMs) await new Promise((resolve) => setTimeout(resolve, options.deleteDelayMs));
      const fixed = options.answers?.[label];
      if (fixed) {
        log.push(`${label} ${fixed.status}`);
        if (fixed.text !== undefined) return void res.writeHead(fixed.status, { "content-type": "text/plain" }).end(fixed.text);
        return answer(res, fixed.status, fixed.body ?? null);
      }
      if (options.maxPageSize !== undefined) {
        if (typeof body.limit === "number" && body.limit > options.maxPageSize) body.limit = options.maxPageSize;
        if (Number(url.searchParams.get("limit") ?? 0) > options.maxPageSize) url.searchParams.set("limit", String(options.maxPageSize));
      }
      options.beforeHandle?.[label]?.(found.params, storage);
      const authorize = async (event: string, value: Json) => {
        const result = await host.authorize(event, value, authenticated.context);
        // The real worker's error body has no status: the platform answers 403 with the message.
        if (!result.ok) throw new Refusal(403, result.message);
        const kept = applyPlatformValue(value, result.value) as Json;
        if (kept.metadata && value.metadata) Object.assign(value.metadata, kept.metadata);
        return (result.filters ?? undefined) as Json | undefined;
      };
      const [status, result] = await found.route.handle(found.params, body, url.searchParams, authorize);
      log.push(`${label} ${status}`);
      answer(res, status, result);
    } catch (error) {
      const status = error instanceof Refusal ? error.status : 500;
      log.push(`${label} ${status}`);
      answer(res, status, { detail: error instanceof Error ? error.message : String(error) });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    storage,
    log,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
