/**
 * A stand-in for LangGraph Platform's Node worker, reduced to its two auth
 * endpoints. It follows the worker's `client.mts` (`main()`: `registerAuth`,
 * `app.post("/auth/authenticate")`, `app.post("/auth/authorize")`) step by
 * step; docs/platform-contract.md (#the-worker-clientmts) lists each step and
 * where the stand-in differs:
 * - `LANGGRAPH_AUTH` is parsed down to `{ path, disable_studio_auth }` and
 *   handed to `registerAuth(…, { cwd })` of `@langchain/langgraph-api/auth`,
 *   so `src/auth.ts` is loaded by path, in its own process, with the
 *   platform's variables and no `langgraph dev`;
 * - the endpoints are routes of a Hono app, answered with `c.json(...)`, so a
 *   `Headers` object in an answer is written as JSON writes it (`{}`);
 * - `POST /auth/authenticate`: `new Request(x-langgraph-auth-url, { method:
 *   x-langgraph-auth-method, headers })` with every header the worker
 *   received but those two, no body. The context as JSON; an `HTTPException`
 *   as `serializeError(error)` (`{ error, message }`) plus `status:
 *   error.res?.status ?? error.status` and `headers: error.res?.headers`,
 *   sent with the exception's status; anything else as `serializeError(error)` with 403;
 * - `POST /auth/authorize`: `authorize(body)`, answered as JSON; an error as
 *   `serializeError(error)` only, sent with the exception's status (or 500).
 *   The body carries no `status`: the platform reads none (platform-host.ts).
 *
 * `serializeError` is the installed `@langchain/langgraph-api`'s own
 * (`dist/utils/serde.mjs`, the module the worker's copy comes from). The
 * worker serves the app with `@hono/node-server`; here a few lines of
 * `node:http` hand each request to `app.fetch`, keeping every header.
 *
 * Run as `node --import tsx test/support/platform-worker.ts`; prints `PORT <n>`.
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { authenticate, authorize, registerAuth } from "@langchain/langgraph-api/auth";

type SerializeError = (error: unknown) => { error: string; message: string };
const { serializeError } = (await import(new URL("../utils/serde.mjs", import.meta.resolve("@langchain/langgraph-api/auth")).href)) as {
  serializeError: SerializeError;
};

// The worker parses LANGGRAPH_AUTH with a schema of these two keys; any other
// key (`cache`, read by the platform's server) is not handed to registerAuth.
const section = JSON.parse(process.env.LANGGRAPH_AUTH ?? "{}") as { path?: string; disable_studio_auth?: boolean };
await registerAuth({ path: section.path, disable_studio_auth: section.disable_studio_auth } as never, { cwd: process.cwd() });

const AUTH_URL = "x-langgraph-auth-url";
const AUTH_METHOD = "x-langgraph-auth-method";

const app = new Hono();

app.post("/auth/authenticate", async (c) => {
  try {
    const received = c.req.raw.headers;
    const url = received.get(AUTH_URL) as string;
    const method = received.get(AUTH_METHOD) as string;
    const forwarded = new Headers(received);
    forwarded.delete(AUTH_URL);
    forwarded.delete(AUTH_METHOD);
    return c.json(await authenticate(new Request(url, { headers: forwarded, method })));
  } catch (error) {
    if (!(error instanceof HTTPException)) return c.json(serializeError(error), 403);
    // `res` is the Response the server module built for the error: its
    // `headers` is a Headers object, which c.json writes as {}.
    const answer = { ...serializeError(error), status: error.res?.status ?? error.status, headers: error.res?.headers };
    return c.json(answer, error.status as ContentfulStatusCode);
  }
});

app.post("/auth/authorize", async (c) => {
  try {
    return c.json(await authorize(await c.req.json()));
  } catch (error) {
    return c.json(serializeError(error), error instanceof HTTPException ? (error.status as ContentfulStatusCode) : 500);
  }
});

/** The request as `@hono/node-server` hands it to the app: every received header, repeated ones appended. */
async function toRequest(incoming: IncomingMessage): Promise<Request> {
  const headers = new Headers();
  for (let i = 0; i < incoming.rawHeaders.length; i += 2) headers.append(incoming.rawHeaders[i]!, incoming.rawHeaders[i + 1]!);
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  const method = incoming.method ?? "GET";
  const body = method === "GET" || method === "HEAD" ? undefined : Buffer.concat(chunks);
  return new Request(`http://127.0.0.1${incoming.url ?? "/"}`, { method, headers, body });
}

const server = createServer((incoming, outgoing) => {
  toRequest(incoming)
    .then((request) => app.fetch(request))
    .then(async (response) => {
      const headers: Record<string, string> = {};
      response.headers.forEach((value, name) => (headers[name] = value));
      outgoing.writeHead(response.status, headers);
      outgoing.end(Buffer.from(await response.arrayBuffer()));
    })
    .catch((error: unknown) => {
      outgoing.writeHead(500, { "content-type": "text/plain" });
      outgoing.end(String(error));
    });
});

server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`PORT ${(server.address() as AddressInfo).port}\n`);
});
