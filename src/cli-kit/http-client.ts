/**
 * The commands' HTTP client (SDK-free, so the bin needs no LangGraph
 * package): every request carries the caller's credential (never logged), a
 * per-request timeout and the run's abort signal. Streams are read only for
 * a moment, enough to see what a caller was given.
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

/** HTTP methods the commands send. */
export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** A request a command sends. */
export interface HttpRequest {
  method: HttpMethod;
  /** Path with query, already filled in. */
  path: string;
  body?: unknown;
  /** A body sent verbatim (malformed or oversized JSON). */
  raw?: string;
}

/** What one request answered. */
export interface HttpAnswer {
  status: number;
  text: string;
  json: unknown;
  contentType: string | null;
  /** The body was longer than `maxBodyBytes` and was cut (so `json` is usually `undefined`). */
  truncated?: true;
}

/** Send a request as one of the callers `C`. */
export type Send<C extends string> = (as: C, request: HttpRequest) => Promise<HttpAnswer>;

/** Options of {@link createSender}. */
export interface SenderOptions<C extends string> {
  /** Deployment base URL. */
  url: string;
  /** `Authorization` value per caller; a caller missing here sends no credential. */
  authorization: Partial<Record<C, string>>;
  /** Per request, ms. */
  requestTimeoutMs: number;
  /** Aborts every request (Ctrl-C, overall time limit). */
  signal?: AbortSignal;
  /** How long a stream is read before it is cut, ms. Default 1500. */
  streamReadMs?: number;
  /** At most this much of an answer is kept; the rest is cut and the answer marked `truncated`. Default 256 KiB (a leak shows in the first bytes). */
  maxBodyBytes?: number;
}

/**
 * An error in words: fetch's "fetch failed" says nothing without its cause's
 * code (ECONNREFUSED, ENOTFOUND, a certificate problem...).
 *
 * @example
 * describeError(error); // "fetch failed (ECONNREFUSED)"
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === "TimeoutError") return "no answer before the request timeout";
  const cause = error.cause as { code?: string; message?: string } | undefined;
  const detail = cause?.code ?? cause?.message;
  return detail ? `${error.message} (${detail})` : error.message;
}

const NOT_SERVED: ReadonlySet<number> = new Set([404, 405, 500, 501]);

/**
 * Statuses of a caller's own, well-formed request that `check-isolation`
 * reads as "the server has no such endpoint" for a probe whose control
 * request (A on A's own resource) failed the same way: the JS dev server
 * answers its unimplemented cron routes (and schemas it cannot extract)
 * with 500, and this package's route guard refuses the routes it does not
 * offer with 404. Only for that comparison: `offboard` never reads a status
 * alone as "not served" (its cron check wants `GET /info` or dev's exact
 * "Not implemented" answer), since there a 500 must be a failure.
 *
 * @example
 * isNotServed(404); // true
 */
export function isNotServed(status: number): boolean {
  return NOT_SERVED.has(status);
}


/** The default of `maxBodyBytes`. */
const MAX_BODY = 256 * 1024;

async function readBody(response: Response, streamReadMs: number, maxBody: number): Promise<{ text: string; truncated: boolean }> {
  if (!response.body) return { text: "", truncated: false };
  const reader = response.body.getReader();
  const isStream = (response.headers.get("content-type") ?? "").includes("text/event-stream");
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  let timer: NodeJS.Timeout | undefined;
  const cut = isStream ? new Promise<"cut">((resolve) => (timer = setTimeout(() => resolve("cut"), streamReadMs))) : undefined;
  try {
    for (;;) {
      const next = cut ? await Promise.race([reader.read(), cut]) : await reader.read();
      if (next === "cut" || next.done) break;
      chunks.push(next.value);
      size += next.value.byteLength;
      if (size > maxBody) {
        truncated = true;
        break;
      }
    }
  } finally {
    clearTimeout(timer);
    await reader.cancel().catch(() => undefined);
  }
  const bytes = Buffer.concat(chunks);
  return { text: (truncated ? bytes.subarray(0, maxBody) : bytes).toString("utf8"), truncated };
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A WebSocket upgrade handshake (fetch cannot send `Upgrade`): 101 when the server accepted it. */
function upgrade<C extends string>(options: SenderOptions<C>, as: C, path: string, signal: AbortSignal): Promise<HttpAnswer> {
  // Joined as text, like every other request: a deployment under a path prefix keeps it.
  const target = new URL(`${options.url.replace(/\/+$/, "")}${path}`);
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  const auth = options.authorization[as];
  return new Promise((resolve, reject) => {
    const req = send(target, {
      signal,
      headers: {
        ...(auth ? { authorization: auth } : {}),
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64"),
      },
    });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 101, text: "", json: undefined, contentType: null });
    });
    req.on("response", (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => {
        if (text.length < MAX_BODY) text += chunk.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text, json: parse(text), contentType: res.headers["content-type"] ?? null }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/**
 * Make the function that sends a request as a caller.
 *
 * @example
 * const send = createSender({ url, authorization: { a: `Bearer ${tokenA}` }, requestTimeoutMs: 30_000 });
 * const answer = await send("a", { method: "GET", path: "/info" });
 */
export function createSender<C extends string = string>(options: SenderOptions<NoInfer<C>>): Send<C> & { upgrade(as: C, path: string): Promise<HttpAnswer> } {
  const base = options.url.replace(/\/+$/, "");
  const signalFor = () =>
    options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(options.requestTimeoutMs)]) : AbortSignal.timeout(options.requestTimeoutMs);
  const send = async (as: C, request: HttpRequest): Promise<HttpAnswer> => {
    const auth = options.authorization[as];
    const hasBody = request.raw !== undefined || request.body !== undefined;
    const response = await fetch(`${base}${request.path}`, {
      method: request.method,
      headers: { ...(auth ? { authorization: auth } : {}), ...(hasBody ? { "content-type": "application/json" } : {}) },
      body: request.raw ?? (request.body === undefined ? undefined : JSON.stringify(request.body)),
      signal: signalFor(),
      redirect: "manual",
    });
    const { text, truncated } = await readBody(response, options.streamReadMs ?? 1500, options.maxBodyBytes ?? MAX_BODY);
    return { status: response.status, text, json: truncated ? undefined : parse(text), contentType: response.headers.get("content-type"), ...(truncated ? { truncated: true as const } : {}) };
  };
  return Object.assign(send, { upgrade: (as: C, path: string) => upgrade(options, as, path, signalFor()) });
}
