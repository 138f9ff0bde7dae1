/**
 * The deployment's API as `offboard` uses it, acting as the tenant: each
 * call named for what it does (so an error says which step failed), lists
 * read page by page until an empty page, and the transient answers of a busy server (429, 502,
 * 503, 504, a dropped connection) tried again a few times.
 */
import { describeError, type HttpAnswer, type HttpRequest, type Send } from "../cli-kit/http-client.ts";
import { pause } from "../cli-kit/pause.ts";

/** A JSON object as the server sent it. */
export type Json = Record<string, unknown>;

/**
 * A call failed: which step, the status (0 when no answer came) and what the server said.
 *
 * @example
 * new TenantApiError("deleting a thread", 500, "boom").message; // "deleting a thread: answered 500: boom"
 */
export class TenantApiError extends Error {
  override name = "TenantApiError";
  constructor(
    readonly step: string,
    readonly status: number,
    readonly detail: string,
  ) {
    super(`${step}: ${status === 0 ? detail : `answered ${status}${detail ? `: ${detail}` : ""}`}`);
  }
}

/** Options of {@link createTenantApi}. */
export interface TenantApiOptions {
  /** Tries of a call answered 429, 502, 503 or 504, or not answered at all. Default 4. */
  attempts?: number;
  /** The first pause between tries, ms, doubled each time (a `Retry-After` is not read: the client keeps no headers). Default 500. */
  backoffMs?: number;
  /** Items asked for per page of a list; a list is read until a page comes back empty, so a server that caps pages lower loses nothing. Default 100. */
  pageSize?: number;
  /** Stops the pauses between tries (Ctrl-C). */
  signal?: AbortSignal;
}

const TRANSIENT = new Set([429, 502, 503, 504]);

/**
 * What an answer says, on one line and at most 300 characters: its `detail`
 * or `message` when it is JSON, else its text.
 *
 * @example
 * excerptOf({ status: 404, text: '{"detail":"Thread not found"}', json: { detail: "Thread not found" }, contentType: null }); // "Thread not found"
 */
export function excerptOf(answer: HttpAnswer): string {
  const detail = (answer.json as { detail?: unknown; message?: unknown } | null)?.detail ?? (answer.json as { message?: unknown } | null)?.message;
  const text = typeof detail === "string" ? detail : answer.text;
  return text.replace(/\s+/g, " ").trim().slice(0, 300);
}

/** The tenant's view of the deployment. */
export interface TenantApi {
  /** Send one request (tried again on a transient failure); throws {@link TenantApiError} when no answer came. */
  call(step: string, request: HttpRequest): Promise<HttpAnswer>;
  /** Like {@link call}, and a non-2xx answer throws {@link TenantApiError}. */
  json(step: string, request: HttpRequest): Promise<unknown>;
  /** Every entry of a paged `POST …/search` (an array answer, or `{ items }` for the store). */
  search(step: string, path: string, body?: Json): Promise<Json[]>;
  /** Every run of a thread (`GET /threads/{id}/runs`, paged). */
  runs(threadId: string): Promise<Json[]>;
  /** Every checkpoint of a thread's history, newest first (`POST /threads/{id}/history`, paged with `before`). */
  history(threadId: string): Promise<Json[]>;
  /** Every version of an assistant (`POST /assistants/{id}/versions`, paged). */
  versions(assistantId: string): Promise<Json[]>;
}

/**
 * Build the tenant's API over a sender whose one caller is `"tenant"`.
 *
 * @example
 * const api = createTenantApi(createSender<"tenant">({ url, authorization: { tenant: `Bearer ${token}` }, requestTimeoutMs: 30_000 }));
 * const threads = await api.search("listing threads", "/threads/search");
 */
export function createTenantApi(send: Send<"tenant">, options: TenantApiOptions = {}): TenantApi {
  const attempts = options.attempts ?? 4;
  const backoffMs = options.backoffMs ?? 500;
  const pageSize = options.pageSize ?? 100;

  const call = async (step: string, request: HttpRequest): Promise<HttpAnswer> => {
    for (let attempt = 1; ; attempt++) {
      let answer: HttpAnswer | undefined;
      let failure: unknown;
      try {
        answer = await send("tenant", request);
      } catch (error) {
        failure = error;
      }
      const again = attempt < attempts && !options.signal?.aborted && (answer === undefined || TRANSIENT.has(answer.status));
      if (!again) {
        if (answer) return answer;
        throw new TenantApiError(step, 0, describeError(failure));
      }
      await pause(backoffMs * 2 ** (attempt - 1), options.signal);
    }
  };

  /** The JSON of a 2xx answer; anything else throws {@link TenantApiError}. */
  const checked = (step: string, answer: HttpAnswer): unknown => {
    if (answer.status < 200 || answer.status >= 300) throw new TenantApiError(step, answer.status, excerptOf(answer));
    if (answer.truncated) throw new TenantApiError(step, answer.status, "the answer was larger than the command reads at once (256 MiB)");
    return answer.json;
  };
  const json = async (step: string, request: HttpRequest): Promise<unknown> => checked(step, await call(step, request));

  const page = (step: string, value: unknown): Json[] => {
    const list = Array.isArray(value) ? value : (value as { items?: unknown } | null)?.items;
    if (!Array.isArray(list)) throw new TenantApiError(step, 200, "the answer is not a list");
    return list.filter((entry): entry is Json => entry !== null && typeof entry === "object");
  };

  /** Read a paged POST list until an empty page (or, when `pastEndIs404`, a 404 after the first page). */
  const pages = async (step: string, path: string, body: Json, pastEndIs404: boolean): Promise<Json[]> => {
    const all: Json[] = [];
    for (;;) {
      const answer = await call(step, { method: "POST", path, body: { ...body, limit: pageSize, offset: all.length } });
      if (pastEndIs404 && all.length > 0 && answer.status === 404) return all;
      const entries = page(step, checked(step, answer));
      if (entries.length === 0) return all;
      all.push(...entries);
    }
  };

  return {
    call,
    json,
    search: (step, path, body = {}) => pages(step, path, body, false),
    // The dev server answers a page past an assistant's last version with 404, not an empty list.
    versions: (assistantId) => pages(`reading the versions of assistant ${assistantId}`, `/assistants/${encodeURIComponent(assistantId)}/versions`, {}, true),
    async runs(threadId) {
      const step = `listing the runs of thread ${threadId}`;
      const all: Json[] = [];
      for (;;) {
        const entries = page(step, await json(step, { method: "GET", path: `/threads/${encodeURIComponent(threadId)}/runs?limit=${pageSize}&offset=${all.length}` }));
        if (entries.length === 0) return all;
        all.push(...entries);
      }
    },
    async history(threadId) {
      const step = `reading the history of thread ${threadId}`;
      const all: Json[] = [];
      let before: string | undefined;
      for (;;) {
        const body = { limit: pageSize, ...(before ? { before } : {}) };
        const entries = page(step, await json(step, { method: "POST", path: `/threads/${encodeURIComponent(threadId)}/history`, body }));
        const last = (entries.at(-1)?.checkpoint as { checkpoint_id?: unknown } | undefined)?.checkpoint_id;
        if (entries.length === 0 || typeof last !== "string" || last === before) return all;
        all.push(...entries);
        before = last;
      }
    },
  };
}
