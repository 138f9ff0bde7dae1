/**
 * A penetration tester's requests against the real `langgraph dev`, as tenant
 * B against tenant A and as a client with no token. Each case is a request
 * that once got through or produced a 500, or a trick (raw request targets,
 * duplicate and escaped JSON keys, other content types) the route policy must
 * see the same way the server does. The last case checks the server never
 * logged a stack overflow or an unconverted store error, and A's data is intact.
 */
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";
import { startLangGraphDev, type LangGraphDev } from "../support/langgraph-dev.ts";
import { decisionById } from "../support/decision-events.ts";
import { waitFor } from "../support/wait-for.ts";
import { sendRequest } from "../support/send-request.ts";

const ALL_SCOPES = "threads:read threads:write assistants:read assistants:write store:read store:write";
const TAG = Math.random().toString(36).slice(2, 10);
const SECRET_A = `secret-A-${TAG}`;

let issuer: LocalIssuer;
let server: LangGraphDev;
let tokenA: string;
let tokenB: string;
const a = { thread: "", assistant: "" };
let threadB = "";

interface Answer {
  status: number;
  text: string;
  /** `X-Decision-Id` of a refusal the package answered. */
  decision: string | null;
}

async function call(token: string | null, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await sendRequest(server.url, token, method, path, body, headers);
  return { status: response.status, text: await response.text(), decision: response.headers.get("x-decision-id") };
}

/** Send a request target verbatim (fetch would normalise it): returns the status code. */
function raw(method: string, target: string, token: string | null, body = "", extra = ""): Promise<number> {
  const port = Number(new URL(server.url).port);
  const head =
    `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
    (token ? `Authorization: Bearer ${token}\r\n` : "") +
    `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n${extra}\r\n`;
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let out = "";
    socket.on("data", (chunk: Buffer) => (out += chunk.toString()));
    socket.on("end", () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(out)?.[1] ?? 0)));
    socket.on("error", reject);
    socket.setTimeout(15_000, () => socket.destroy(new Error(`no answer to ${method} ${target}`)));
    socket.write(head + body);
  });
}

const deep = (levels: number) => `${"[".repeat(levels)}${"]".repeat(levels)}`;
const input = { messages: [{ role: "user", content: "from-B" }] };

describe("red team: tenant B and anonymous clients against the real langgraph dev", () => {
  beforeAll(async () => {
    issuer = await startLocalIssuer();
    server = await startLangGraphDev({ env: issuer.env() });
    tokenA = await issuer.sign({ sub: "alice", org_id: "tenant-a", scope: ALL_SCOPES });
    tokenB = await issuer.sign({ sub: "bob", org_id: "tenant-b", scope: ALL_SCOPES });
    const assistant = await call(tokenA, "POST", "/assistants", { graph_id: "echo", config: { configurable: { api_key: SECRET_A } } });
    expect(assistant.status, assistant.text).toBe(200);
    a.assistant = (JSON.parse(assistant.text) as { assistant_id: string }).assistant_id;
    a.thread = (JSON.parse((await call(tokenA, "POST", "/threads", {})).text) as { thread_id: string }).thread_id;
    threadB = (JSON.parse((await call(tokenB, "POST", "/threads", {})).text) as { thread_id: string }).thread_id;
  }, 240_000);

  afterAll(async () => {
    await server?.stop();
    await issuer?.close();
  });

  it("never reaches truncate through a path the policy and the router could read differently", async () => {
    const wipe = JSON.stringify({ runs: true, threads: true, assistants: true, checkpointer: true, store: true });
    const port = new URL(server.url).port;
    const targets = [
      "//internal/truncate",
      "/internal//truncate",
      "/./internal/truncate",
      "/threads/../internal/truncate",
      "/internal/./truncate",
      "/Internal/truncate",
      "/internal/truncate;x",
      "/internal/truncate#x",
      "/internal/%74runcate",
      "/threads/..%2finternal/truncate",
      "/internal/truncate%00",
      `http://127.0.0.1:${port}/internal/truncate`,
    ];
    for (const target of targets) expect(await raw("POST", target, tokenB, wipe), target).toBe(404);
    // A fragment is cut by both the policy and the router: this is POST /threads, not truncate.
    expect(await raw("POST", "/threads#/../internal/truncate", tokenB, "{}")).toBe(200);
    expect(await raw("POST", `/threads/${a.thread}`, tokenB, "{}", "X-HTTP-Method-Override: DELETE\r\n")).toBe(404);
    expect(await raw("HEAD", "/internal/truncate", tokenB)).toBe(404);
    expect((await call(tokenA, "GET", `/threads/${a.thread}`)).status).toBe(200);
  });

  it("authenticates nothing but a bearer token: Studio header, API key, cookie and two tokens are refused", async () => {
    expect((await call(null, "POST", "/threads/search", {}, { "x-auth-scheme": "langsmith" })).status).toBe(401);
    expect((await call(null, "POST", "/threads/search", {}, { "x-api-key": "anything" })).status).toBe(401);
    expect((await call(null, "POST", "/threads/search", {}, { cookie: `authorization=Bearer ${tokenA}` })).status).toBe(401);
    expect((await call(null, "GET", "/custom/tenant")).status).toBe(401);
    expect(await raw("POST", "/threads/search", null, "{}", `Authorization: Bearer ${tokenB}\r\nAuthorization: Bearer ${tokenA}\r\n`)).toBe(400);
  });

  it("refuses JSON nested deeper than 100 levels on every route before the server stores it (was a 500, then no tenant's data persisted)", async () => {
    const attempts: [string, string, string][] = [
      ["POST", "/threads", `{"metadata":{"x":${deep(5000)}}}`],
      ["PATCH", `/threads/${threadB}`, `{"metadata":{"x":${deep(5000)}}}`],
      ["POST", "/assistants", `{"graph_id":"echo","config":{"configurable":{"x":${deep(3000)}}}}`],
      ["POST", `/threads/${threadB}/runs/wait`, `{"assistant_id":"echo","input":{"messages":[],"x":${deep(5000)}}}`],
      ["PUT", "/store/items", `{"namespace":["tenant-b"],"key":"k","value":{"x":${deep(5000)}}}`],
      ["POST", "/custom/notes", `{"text":${deep(5000)}}`],
    ];
    for (const [method, path, body] of attempts) {
      const answer = await call(tokenB, method, path, body);
      expect(answer.status, `${method} ${path}: ${answer.text}`).toBe(400);
      expect(answer.text).toMatch(/nested deeper than 100 levels/);
    }
    // Text bodies are checked too: the guard reads bytes, not the content type.
    expect((await call(tokenB, "POST", "/threads", `{"metadata":{"x":${deep(500)}}}`, { "content-type": "text/plain" })).status).toBe(400);
    // Real nesting still passes.
    expect((await call(tokenB, "POST", "/threads", { metadata: { x: JSON.parse(deep(20)) } })).status).toBe(200);
  });

  it("keeps the server's LangSmith key to the operator: feedback keys and tracing projects are refused", async () => {
    const traced = await call(tokenB, "POST", "/assistants", { graph_id: "echo", config: { configurable: { langsmith_project: "b-picks" } } });
    expect(traced.status, traced.text).toBe(200);
    const tracedAssistant = (JSON.parse(traced.text) as { assistant_id: string }).assistant_id;
    const attempts: [string, unknown][] = [
      [`/threads/${threadB}/runs/wait`, { assistant_id: "echo", input, feedback_keys: ["score"] }],
      ["/runs/wait", { assistant_id: "echo", input, langsmith_tracer: { project_name: "b-picks" } }],
      [`/threads/${threadB}/runs`, { assistant_id: "echo", input, config: { configurable: { langsmith_project: "b-picks" } } }],
      ["/runs/stream", { assistant_id: tracedAssistant, input }],
      ["/runs/batch", [{ assistant_id: "echo", input, feedback_keys: ["score"] }]],
    ];
    for (const [path, body] of attempts) {
      const answer = await call(tokenB, "POST", path, body);
      expect(answer.status, `${path} ${JSON.stringify(body)}: ${answer.text}`).toBe(403);
      expect(answer.decision).toMatch(/^[0-9a-f-]{36}$/);
      expect(answer.text).toBe(`forbidden: LangSmith feedback keys and tracing projects are not allowed (decision_id: ${answer.decision})`);
      await waitFor(() => server.output().includes(`"decision_id":"${answer.decision}"`), "the refusal's event");
      expect(decisionById(server.output(), answer.decision!)).toMatchObject({ reason: "run_option_refused", tenant_id: "tenant-b" });
    }
    expect((await call(tokenB, "POST", "/runs/wait", { assistant_id: "echo", input, feedback_keys: [] })).status).toBe(200);
  });

  it("sees a JSON body the way the server does: duplicate keys, escaped keys, a BOM, text/plain", async () => {
    const webhook = "http://127.0.0.1:1/hook";
    const bodies = [
      `{"webhook":null,"webhook":"${webhook}","assistant_id":"echo"}`,
      `{"assistant_id":"echo","web\\u0068ook":"${webhook}"}`,
      `\ufeff{"assistant_id":"echo","webhook":"${webhook}"}`,
    ];
    for (const body of bodies) expect((await call(tokenB, "POST", `/threads/${threadB}/runs`, body)).status, body).toBe(403);
    expect((await call(tokenB, "POST", "/runs", `{"assistant_id":"echo","webhook":"${webhook}"}`, { "content-type": "text/plain" })).status).toBe(403);
    expect((await call(tokenB, "POST", `/threads/${threadB}/runs/wait`, `{"assistant_id":"echo","assistant_id":"${a.assistant}","input":{}}`)).status).toBe(404);
    expect((await call(tokenB, "POST", "/store/items/search", '{"namespace_prefix":["tenant-b"],"namespace\\u005fprefix":["tenant-a"]}')).status).toBe(403);
    expect((await call(tokenB, "POST", "/store/namespaces", '{"prefix":["tenant-b"],"prefix":["*"]}')).status).toBe(403);
  });

  it("does not keep an authenticating proxy's token headers in the run (they were stored and shown to the tenant)", async () => {
    const headers = { "x-amzn-oidc-accesstoken": `proxy-token-${TAG}`, "x-forwarded-access-token": `oauth2-proxy-${TAG}`, "x-request-id": `req-${TAG}` };
    const run = await call(tokenB, "POST", `/threads/${threadB}/runs/wait`, { assistant_id: "echo", input }, headers);
    expect(run.status, run.text).toBe(200);
    const runs = await call(tokenB, "GET", `/threads/${threadB}/runs`);
    expect(runs.status).toBe(200);
    expect(runs.text).toContain(`req-${TAG}`);
    expect(runs.text).not.toContain(`proxy-token-${TAG}`);
    expect(runs.text).not.toContain(`oauth2-proxy-${TAG}`);
  });

  it("does not let a run claim another user id than the token's (the server prefers the client's user_id)", async () => {
    const spoof = await call(tokenB, "POST", `/threads/${threadB}/runs/wait`, { assistant_id: "echo", input, config: { configurable: { user_id: "alice" } } });
    expect(spoof.status, spoof.text).toBe(403);
    expect((await call(tokenB, "POST", `/threads/${threadB}/runs/wait`, { assistant_id: "echo", input, config: { configurable: { user_id: "bob" } } })).status).toBe(200);
  });

  it("answers a ':' in a store namespace label with a 400, not the store's 500", async () => {
    const put = await call(tokenB, "PUT", "/store/items", { namespace: ["tenant-b", "a:b"], key: "k", value: { x: 1 } });
    expect(put.status, put.text).toBe(400);
    expect((await call(tokenB, "POST", "/store/items/search", { namespace_prefix: ["tenant-b", "a:b"] })).status).toBe(400);
    expect((await call(tokenB, "PUT", "/store/items", { namespace: ["tenant-b", "ab"], key: "k", value: { x: 1 } })).status).toBe(204);
  });

  it("logged no stack overflow or unconverted store error, and A's data is intact", async () => {
    const assistant = await call(tokenA, "GET", `/assistants/${a.assistant}`);
    expect(assistant.status).toBe(200);
    expect(assistant.text).toContain(SECRET_A);
    expect((await call(tokenA, "GET", `/threads/${a.thread}`)).status).toBe(200);
    expect(server.output()).not.toMatch(/Maximum call stack size exceeded|InvalidNamespaceError/);
  });
});
