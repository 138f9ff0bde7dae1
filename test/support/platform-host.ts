/**
 * The platform's side of the worker contract, following its JS bridge
 * (`langgraph_api/js/remote.py`: `CustomJsAuthBackend.authenticate`,
 * `handle_js_auth_event`) step by step, driving `test/support/platform-worker.ts`.
 * docs/platform-contract.md (#the-server-remotepy) lists each step:
 * - authenticate: the original headers as the server holds them (names
 *   lower-cased, the first value of a repeated header), `content-length`
 *   dropped, `x-langgraph-auth-url` (the full URL, query included) and
 *   `x-langgraph-auth-method` set over whatever the client sent under those
 *   names; POSTed with no body (so `content-length: 0`). It reads only the
 *   answer's JSON body, never the HTTP status: with `error` set, the client
 *   gets `status` (or 403), the body's `headers` and `message` (or
 *   "Unauthorized"); otherwise it keeps `scopes` and `user`;
 * - authorize: `{ resource, action, value, context: { user, scopes } }`; an
 *   answer with `error` becomes `status` (or 403), `headers`, `message` (or
 *   "Unauthorized"), which for this worker is always 403 with the message;
 * - of the returned `value` it applies only `metadata`, merged into the
 *   request's existing `value.metadata` dict, and only when that dict exists
 *   and the returned metadata is a non-empty dict.
 *
 * What the platform's client then receives for an error is the status, the
 * headers of the answer (`{}` from this worker) and the message as the body
 * (the server raises Starlette's `HTTPException(status, detail, headers)`).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { request as httpRequest } from "node:http";
import { createInterface } from "node:readline";

/** What the worker itself answered (the platform reads only `body`). */
export interface WorkerAnswer {
  status: number;
  body: unknown;
}

/** A refusal as the platform's client receives it, and what the worker sent. */
export interface PlatformRefusal {
  ok: false;
  /** The HTTP status the client gets: the body's `status`, or 403. */
  status: number;
  /** Headers added to the client's answer: the body's `headers` (`{}` from this worker), or none. */
  headers: Record<string, string>;
  /** The client's answer body: the body's `message`, or "Unauthorized". */
  message: string;
  /** The body's `error` (the error's `name`; "Error" for the server module's `HTTPException`). */
  error: string;
  worker: WorkerAnswer;
}

/** What the platform makes of the worker's authenticate answer. */
export type AuthenticateResult = { ok: true; context: { user: Record<string, unknown>; scopes: string[] }; worker: WorkerAnswer } | PlatformRefusal;

/** What the platform makes of the worker's authorize answer. */
export type AuthorizeResult = { ok: true; filters: Record<string, unknown> | null | undefined; value: unknown; worker: WorkerAnswer } | PlatformRefusal;

/** A running worker and the platform calls into it. */
export interface PlatformHost {
  /**
   * `headers`: the client's request headers, as an object or as name/value
   * pairs (a repeated header is a pair per value).
   */
  authenticate(url: string, method: string, headers: Record<string, string> | readonly (readonly [string, string])[]): Promise<AuthenticateResult>;
  authorize(event: string, value: unknown, context: unknown): Promise<AuthorizeResult>;
  /** The worker's output so far (stdout and stderr): its start-up line is there. */
  output(): string;
  /** The worker's standard error so far: the decision log's JSON lines (test/support/decision-events.ts reads them). */
  stderr(): string;
  /**
   * Resolve once `check(stderr())` is true: checked at once and again each
   * time the worker writes to its standard error (no polling, no sleep).
   * Rejects after `timeoutMs` (default 10 s: only how long a failing test takes to say so).
   */
  waitForStderr(check: (stderr: string) => boolean, what: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** POST to the worker with exactly these headers (fetch would rewrite `host` and add its own). */
function post(port: number, path: string, headers: Record<string, string>, body?: string): Promise<WorkerAnswer> {
  return new Promise((resolve, reject) => {
    const sent = body === undefined ? { ...headers, "content-length": "0" } : { ...headers, "content-length": String(Buffer.byteLength(body)) };
    const req = httpRequest({ host: "127.0.0.1", port, path, method: "POST", headers: sent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown });
        } catch {
          reject(new Error(`the worker answered ${res.statusCode} with a body that is not JSON (the platform would fail: 500): ${text}`));
        }
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** The server's reading of an answer whose body has `error` set. */
function refusal(worker: WorkerAnswer): PlatformRefusal | undefined {
  const data = worker.body as Record<string, unknown> | null;
  if (data === null || typeof data !== "object" || !data.error) return undefined;
  return {
    ok: false,
    status: Number(data.status || 403),
    headers: (data.headers ?? {}) as Record<string, string>,
    message: String(data.message || "Unauthorized"),
    error: String(data.error),
    worker,
  };
}

/** The server's view of the client's headers: lower-case names, the first value of each. */
function asServerHolds(headers: Record<string, string> | readonly (readonly [string, string])[]): Record<string, string> {
  const held: Record<string, string> = {};
  for (const [name, value] of Array.isArray(headers) ? headers : Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!(lower in held)) held[lower] = value;
  }
  return held;
}

/**
 * Start the worker with `env` (the platform's variables and `AUTH_*`), wait
 * for its port, or for its exit (then `exit` carries the code and output).
 */
export async function startPlatformWorker(env: Record<string, string>): Promise<PlatformHost> {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "test/support/platform-worker.ts"], {
    cwd: process.cwd(),
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let stderr = "";
  const waiters = new Set<() => void>();
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (chunk: string) => {
    output += chunk;
    stderr += chunk;
    for (const waiter of [...waiters]) waiter();
  });
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    lines.on("line", (line) => {
      output += `${line}\n`;
      const m = /^PORT (\d+)$/.exec(line);
      if (m) resolve(Number(m[1]));
    });
    child.once("exit", (code) => reject(Object.assign(new Error(`worker exited with ${code}:\n${output}`), { code, output: () => output })));
  });
  return {
    output: () => output,
    stderr: () => stderr,
    waitForStderr(check, what, timeoutMs = 10_000) {
      if (check(stderr)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const waiter = () => {
          if (!check(stderr)) return;
          finish();
          resolve();
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} on the worker's standard error`));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          waiters.delete(waiter);
        };
        waiters.add(waiter);
      });
    },
    async authenticate(url, method, headers) {
      const forwarded = asServerHolds(headers);
      // Every HTTP/1.1 request carries Host: the client's, as the platform received it.
      forwarded.host ??= new URL(url).host;
      delete forwarded["content-length"];
      forwarded["x-langgraph-auth-url"] = url;
      forwarded["x-langgraph-auth-method"] = method;
      const worker = await post(port, "/auth/authenticate", forwarded);
      const refused = refusal(worker);
      if (refused) return refused;
      const data = worker.body as { user?: Record<string, unknown>; scopes?: string[] } | null;
      // The server indexes data["scopes"] and data["user"]: an answer without them is a 500 there.
      if (!data || !Array.isArray(data.scopes) || data.user === null || typeof data.user !== "object") {
        return { ok: false, status: 500, headers: {}, message: "Internal Server Error", error: "", worker };
      }
      return { ok: true, context: { user: data.user, scopes: data.scopes }, worker };
    },
    async authorize(event, value, context) {
      const [resource, action] = event.split(":");
      const body = JSON.stringify({ resource, action, value, context });
      const worker = await post(port, "/auth/authorize", { "content-type": "application/json" }, body);
      const refused = refusal(worker);
      if (refused) return refused;
      const data = worker.body as { filters?: Record<string, unknown> | null; value?: unknown };
      return { ok: true, filters: data.filters, value: data.value, worker };
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      await once(child, "exit");
    },
  };
}

const isDict = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === "object" && !Array.isArray(value);

/**
 * What the platform keeps of a handler's returned value: only `metadata`,
 * merged into the request value's metadata dict when that dict exists and
 * the returned metadata is a non-empty dict.
 *
 * @returns the request value as the platform then uses it (a copy).
 */
export function applyPlatformValue(sent: unknown, returned: unknown): unknown {
  const copy = structuredClone(sent) as Record<string, unknown> | null;
  if (!isDict(copy) || !isDict(returned)) return copy;
  const back = returned.metadata;
  if (isDict(copy.metadata) && isDict(back) && Object.keys(back).length > 0) Object.assign(copy.metadata, back);
  return copy;
}
