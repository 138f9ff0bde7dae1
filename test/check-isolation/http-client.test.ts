/**
 * The command's HTTP client against a loopback server that misbehaves on
 * purpose: one that never answers (the request timeout turns it into an
 * error verdict, not a hang), and an event stream that never ends (read for
 * a moment, then cut).
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSender } from "../../src/cli-kit/http-client.ts";
import { probe } from "../../src/check-isolation/probe-helpers.ts";
import { runProbe } from "../../src/check-isolation/run-probes.ts";
import type { World } from "../../src/check-isolation/types.ts";

let server: Server;
let url: string;
const seen: IncomingHttpHeaders[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req.headers);
    if (req.url === "/hang") return; // never answers
    if (req.url === "/stream") {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("event: values\ndata: {}\n\n"); // and never ends
      return;
    }
    res.writeHead(404, { "content-type": "application/json" }).end('{"detail":"not found"}');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const world = { a: { stamped: {}, namespace: [] }, b: { namespace: [] }, secrets: [] } as unknown as World;

describe("the check-isolation HTTP client", () => {
  it("sends each caller's credential, and none for the caller without one", async () => {
    const send = createSender({ url, authorization: { a: "Bearer token-a" }, requestTimeoutMs: 5000 });
    expect((await send("a", { method: "GET", path: "/x" })).status).toBe(404);
    expect((await send("none", { method: "POST", path: "/x", body: {} })).json).toEqual({ detail: "not found" });
    expect(seen.at(-2)?.authorization).toBe("Bearer token-a");
    expect(seen.at(-1)?.authorization).toBeUndefined();
    expect(seen.at(-1)?.["content-type"]).toBe("application/json");
  });

  it("turns a request that gets no answer into an error verdict at the request timeout", async () => {
    const send = createSender({ url, authorization: {}, requestTimeoutMs: 300 });
    const hang = probe("meta", "hang", "GET /hang", "a route that never answers", { refused: [404] });
    const result = await runProbe(hang, world, send, new Map());
    expect(result).toMatchObject({ status: 0, verdict: "error", detail: "no answer before the request timeout" });
  });

  it("reads an endless event stream for a moment, then cuts it", async () => {
    const send = createSender({ url, authorization: {}, requestTimeoutMs: 30_000, streamReadMs: 2000 });
    const answer = await send("b", { method: "GET", path: "/stream" });
    expect(answer.status).toBe(200);
    expect(answer.text).toBe("event: values\ndata: {}\n\n");
  });

  it("rethrows when the whole run is aborted, instead of judging the probe", async () => {
    const controller = new AbortController();
    const send = createSender({ url, authorization: {}, requestTimeoutMs: 30_000, signal: controller.signal });
    const hang = probe("meta", "hang", "GET /hang", "a route that never answers", { refused: [404] });
    const pending = runProbe(hang, world, send, new Map(), undefined, controller.signal);
    controller.abort(new Error("SIGINT"));
    await expect(pending).rejects.toThrow("SIGINT");
  });
});
