/**
 * The command's HTTP client: every request carries the caller's credential
 * (never logged), a per-request timeout and the run's abort signal. Streams
 * are read only for a moment, enough to see what a caller was given.
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Answer, Caller, ProbeRequest, SendAs } from "./types.ts";

/** Options of {@link createSender}. */
export interface SenderOptions {
  /** Deployment base URL. */
  url: string;
  /** `Authorization` value per caller; a caller missing here sends no credential. */
  authorization: Partial<Record<Caller, string>>;
  /** Per request, ms. */
  requestTimeoutMs: number;
  /** Aborts every request (Ctrl-C, overall time limit). */
  signal?: AbortSignal;
  /** How long a stream is read before it is cut, ms. Default 1500. */
  streamReadMs?: number;
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

/** At most this much of an answer is kept (a leak shows in the first bytes). */
const MAX_BODY = 256 * 1024;

async function readBody(response: Response, streamReadMs: number): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const isStream = (response.headers.get("content-type") ?? "").includes("text/event-stream");
  const chunks: Uint8Array[] = [];
  let size = 0;
  let timer: NodeJS.Timeout | undefined;
  const cut = isStream ? new Promise<"cut">((resolve) => (timer = setTimeout(() => resolve("cut"), streamReadMs))) : undefined;
  try {
    while (size < MAX_BODY) {
      const next = cut ? await Promise.race([reader.read(), cut]) : await reader.read();
      if (next === "cut" || next.done) break;
      chunks.push(next.value);
      size += next.value.byteLength;
    }
  } finally {
    clearTimeout(timer);
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).toString("utf8").slice(0, MAX_BODY);
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A WebSocket upgrade handshake (fetch cannot send `Upgrade`): 101 when the server accepted it. */
function upgrade(options: SenderOptions, as: Caller, path: string, signal: AbortSignal): Promise<Answer> {
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
export function createSender(options: SenderOptions): SendAs & { upgrade(as: Caller, path: string): Promise<Answer> } {
  const base = options.url.replace(/\/+$/, "");
  const signalFor = () =>
    options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(options.requestTimeoutMs)]) : AbortSignal.timeout(options.requestTimeoutMs);
  const send = async (as: Caller, request: ProbeRequest): Promise<Answer> => {
    const auth = options.authorization[as];
    const hasBody = request.raw !== undefined || request.body !== undefined;
    const response = await fetch(`${base}${request.path}`, {
      method: request.method,
      headers: { ...(auth ? { authorization: auth } : {}), ...(hasBody ? { "content-type": "application/json" } : {}) },
      body: request.raw ?? (request.body === undefined ? undefined : JSON.stringify(request.body)),
      signal: signalFor(),
      redirect: "manual",
    });
    const text = await readBody(response, options.streamReadMs ?? 1500);
    return { status: response.status, text, json: parse(text), contentType: response.headers.get("content-type") };
  };
  return Object.assign(send, { upgrade: (as: Caller, path: string) => upgrade(options, as, path, signalFor()) });
}
