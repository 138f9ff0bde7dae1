/**
 * The platform's side of the worker contract (its JS bridge, `remote.py`, as
 * LANGGRAPH-AUTH-NOTES.md describes it), driving `test/support/platform-worker.ts`:
 * - authenticate: every header of the original request but `content-length`,
 *   plus `x-langgraph-auth-url` (full URL, query included) and `x-langgraph-auth-method`;
 *   keeps `scopes` and `user` of the answer;
 * - authorize: `context = { user, scopes }` after a JSON round trip (HTTP);
 * - of the returned `value` it applies only `metadata`, merged into the
 *   request's existing `value.metadata` dict, and only when that dict exists.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";

/** What the worker answered authenticate with. */
export type AuthenticateResult =
  | { ok: true; context: { user: Record<string, unknown>; scopes: string[] } }
  | { ok: false; status: number; headers: Record<string, string>; message: string; error: string };

/** What the worker answered authorize with. */
export type AuthorizeResult =
  | { ok: true; filters: Record<string, unknown> | null | undefined; value: unknown }
  | { ok: false; status: number; message: string; error: string };

/** A running worker and the platform calls into it. */
export interface PlatformHost {
  authenticate(url: string, method: string, headers: Record<string, string>): Promise<AuthenticateResult>;
  authorize(event: string, value: unknown, context: unknown): Promise<AuthorizeResult>;
  /** The worker's output so far (stdout and stderr): its start-up line is there. */
  output(): string;
  stop(): Promise<void>;
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
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    lines.on("line", (line) => {
      output += `${line}\n`;
      const m = /^PORT (\d+)$/.exec(line);
      if (m) resolve(Number(m[1]));
    });
    child.once("exit", (code) => reject(Object.assign(new Error(`worker exited with ${code}:\n${output}`), { code, output: () => output })));
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    output: () => output,
    async authenticate(url, method, headers) {
      const forwarded: Record<string, string> = {};
      for (const [name, value] of Object.entries(headers)) if (name.toLowerCase() !== "content-length") forwarded[name] = value;
      const res = await fetch(`${base}/auth/authenticate`, {
        method: "POST",
        headers: { ...forwarded, "x-langgraph-auth-url": url, "x-langgraph-auth-method": method },
      });
      const body = (await res.json()) as Record<string, unknown> | null;
      if (res.status !== 200) {
        return {
          ok: false,
          status: Number(body?.status ?? 403),
          headers: (body?.headers ?? {}) as Record<string, string>,
          message: String(body?.message ?? ""),
          error: String(body?.error ?? ""),
        };
      }
      const { user, scopes } = body as { user: Record<string, unknown>; scopes: string[] };
      return { ok: true, context: { user, scopes } };
    },
    async authorize(event, value, context) {
      const [resource, action] = event.split(":");
      const res = await fetch(`${base}/auth/authorize`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ resource, action, value, context }),
      });
      const body = (await res.json()) as Record<string, unknown>;
      if (res.status !== 200) return { ok: false, status: res.status, message: String(body.message ?? ""), error: String(body.error ?? "") };
      return { ok: true, filters: body.filters as Record<string, unknown> | undefined, value: body.value };
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      await once(child, "exit");
    },
  };
}

/**
 * What the platform keeps of a handler's returned value: only `metadata`,
 * merged into the request value's metadata dict when that dict exists.
 *
 * @returns the request value as the platform then uses it (a copy).
 */
export function applyPlatformValue(sent: unknown, returned: unknown): unknown {
  const copy = structuredClone(sent) as Record<string, unknown> | null;
  if (copy === null || typeof copy !== "object") return copy;
  const metadata = copy.metadata;
  const back = (returned as { metadata?: unknown } | null)?.metadata;
  if (metadata !== null && typeof metadata === "object" && !Array.isArray(metadata) && back !== null && typeof back === "object") {
    Object.assign(metadata, back);
  }
  return copy;
}
