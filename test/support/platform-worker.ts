/**
 * A stand-in for LangGraph Platform's Node worker (`langgraph_api/js/client.mts`
 * in the platform's API server), reduced to its two auth endpoints, written
 * from the contract in LANGGRAPH-AUTH-NOTES.md ("The two calls the server
 * makes into the worker"):
 * - it registers the `Auth` with `registerAuth(JSON.parse(LANGGRAPH_AUTH), { cwd })`
 *   from `@langchain/langgraph-api/auth`, so `src/auth.ts` is loaded by path,
 *   in its own process, with the platform's variables and no `langgraph dev`;
 * - `POST /auth/authenticate`: `new Request(x-langgraph-auth-url, { method:
 *   x-langgraph-auth-method, headers })`, no body; answers the context as
 *   JSON; an `HTTPException` keeps its status and headers, anything else is 403;
 * - `POST /auth/authorize`: `authorize({ resource, action, value, context })`;
 *   answers `{ filters, value }`; an `HTTPException` keeps its status, anything else is 500.
 *
 * Run as `node --import tsx test/support/platform-worker.ts`; prints `PORT <n>`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { HTTPException } from "hono/http-exception";
import { authenticate, authorize, registerAuth } from "@langchain/langgraph-api/auth";

const section = JSON.parse(process.env.LANGGRAPH_AUTH ?? "{}") as { path?: string };
await registerAuth(section as never, { cwd: process.cwd() });

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

/** The worker's error answer: `{ error, status, headers, message }`; the platform turns it into an HTTP error. */
async function answerError(res: ServerResponse, error: unknown, otherwise: number): Promise<void> {
  if (error instanceof HTTPException) {
    const response = error.getResponse();
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => (headers[name] = value));
    answer(res, error.status, {
      error: "HTTPException",
      status: error.status,
      headers,
      message: await response.text(),
    });
    return;
  }
  answer(res, otherwise, { error: (error as Error)?.name ?? "Error", status: otherwise, message: String((error as Error)?.message ?? error) });
}

const server = createServer(async (req, res) => {
  try {
    if (req.method === "POST" && req.url === "/auth/authenticate") {
      await readBody(req);
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (value === undefined || name === "x-langgraph-auth-url" || name === "x-langgraph-auth-method") continue;
        if (name === "content-length" || name === "host" || name === "connection" || name === "transfer-encoding") continue;
        headers.set(name, Array.isArray(value) ? value.join(", ") : value);
      }
      const request = new Request(String(req.headers["x-langgraph-auth-url"]), {
        method: String(req.headers["x-langgraph-auth-method"]),
        headers,
      });
      try {
        answer(res, 200, (await authenticate(request)) ?? null);
      } catch (error) {
        await answerError(res, error, 403);
      }
      return;
    }
    if (req.method === "POST" && req.url === "/auth/authorize") {
      const payload = JSON.parse(await readBody(req)) as Parameters<typeof authorize>[0];
      try {
        answer(res, 200, await authorize(payload));
      } catch (error) {
        await answerError(res, error, 500);
      }
      return;
    }
    answer(res, 404, { error: "not found" });
  } catch (error) {
    answer(res, 500, { error: "worker", message: String(error) });
  }
});

server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`PORT ${(server.address() as AddressInfo).port}\n`);
});
