import type { FetchLike } from "./key-store.ts";
import { readBoundedBody } from "../lib/read-bounded-body.ts";

/** Options of {@link fetchJson}. */
export interface FetchJsonOptions {
  /** `fetch` to use. Default: the global one. */
  fetch?: FetchLike | undefined;
  /** Give up (and abort the request) after this many ms, body included. Default 5000. */
  timeoutMs?: number | undefined;
  /** Refuse a body larger than this many bytes. Default 262144 (256 KiB). */
  maxBytes?: number | undefined;
}

/** Default cap on a key set or discovery document: 256 KiB. */
export const DEFAULT_MAX_DOCUMENT_BYTES = 256 * 1024;

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * GET a JSON document from an identity provider with the hygiene a key
 * fetch needs: a timeout covering headers and body, no redirects (a 3xx is a
 * failure: a redirect could move the key set to a host nobody configured),
 * only 200 accepted, a size cap enforced while streaming (a lying or absent
 * `Content-Length` does not help an attacker) and strict UTF-8 JSON.
 *
 * The errors are plain `Error`s whose messages name the URL and the reason;
 * the key store turns them into stale-if-error or a 503.
 *
 * @example
 * const jwks = await fetchJson("https://idp.example.com/.well-known/jwks.json", { timeoutMs: 2000 });
 */
export async function fetchJson(url: string, options: FetchJsonOptions = {}): Promise<unknown> {
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_DOCUMENT_BYTES;
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Race as well as abort: an injected fetch may ignore the signal.
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`GET ${url} timed out after ${timeoutMs} ms`);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    return await Promise.race([timeout, read(doFetch, url, controller, maxBytes)]);
  } finally {
    clearTimeout(timer);
  }
}

async function read(doFetch: FetchLike, url: string, controller: AbortController, maxBytes: number): Promise<unknown> {
  const response = await doFetch(url, {
    redirect: "manual",
    signal: controller.signal,
    headers: { accept: "application/json" },
  });
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => undefined);
    const kind = response.status >= 300 && response.status < 400 ? " (redirects are not followed)" : "";
    throw new Error(`GET ${url} answered HTTP ${response.status}${kind}`);
  }
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new Error(`GET ${url}: the document is larger than ${maxBytes} bytes`);
  }
  let bytes: Uint8Array = new Uint8Array(0);
  if (response.body) {
    const body = await readBoundedBody(response.body, maxBytes);
    if (body.kind !== "read") {
      controller.abort();
      throw new Error(`GET ${url}: the document is larger than ${maxBytes} bytes`);
    }
    bytes = body.bytes;
  }
  try {
    return JSON.parse(strictUtf8.decode(bytes));
  } catch {
    throw new Error(`GET ${url}: the answer is not UTF-8 JSON`);
  }
}
