/**
 * What a LangGraph Platform client receives for each refusal of the package:
 * status, body (the message) and headers (none of the package's survive),
 * through the worker stand-in and the server's reading of its answers. Each
 * case is a row of docs/platform-contract.md ("What a platform client sees"),
 * and the page must carry it.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAuthMatching } from "@langchain/langgraph-api/auth";
import { createAuthenticator } from "../../src/authenticate/create-authenticator.ts";
import { readConfig } from "../../src/config/read-config.ts";
import { AuthError } from "../../src/errors.ts";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";
import { startPlatformWorker, type AuthenticateResult, type AuthorizeResult, type PlatformHost } from "../support/platform-host.ts";

const ALL = "threads:read threads:write assistants:read assistants:write crons:read crons:write store:read store:write";
const GRAPHS = JSON.stringify({ echo: "./examples/graphs/echo.ts:graph" });
const AUTH = JSON.stringify({ path: "./src/auth.ts:auth" });
const URL_BASE = "https://agent.example.langgraph.app";

let issuer: LocalIssuer;
let worker: PlatformHost;
let keyless: PlatformHost;
let gone: LocalIssuer;
let keylessToken = "";

beforeAll(async () => {
  [issuer, gone] = await Promise.all([startLocalIssuer(), startLocalIssuer()]);
  const goneEnv = gone.env();
  const goneToken = await gone.sign({ sub: "alice", org_id: "acme", scope: ALL });
  await gone.close();
  [worker, keyless] = await Promise.all([
    startPlatformWorker({ ...issuer.env(), LANGGRAPH_AUTH: AUTH, LANGSERVE_GRAPHS: GRAPHS }),
    startPlatformWorker({ ...goneEnv, LANGGRAPH_AUTH: AUTH, LANGSERVE_GRAPHS: GRAPHS }),
  ]);
  keylessToken = goneToken;
});
afterAll(async () => {
  await Promise.all([worker?.stop(), keyless?.stop()]);
  await issuer?.close();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const token = (scope = ALL, expiresIn?: number) => issuer.sign({ sub: "alice", org_id: "acme", scope }, expiresIn === undefined ? {} : { expiresIn });

async function contextOf(scope = ALL) {
  const answer = await worker.authenticate(`${URL_BASE}/threads/search`, "POST", bearer(await token(scope)));
  if (!answer.ok) throw new Error(answer.message);
  return answer.context;
}

type Case = [refusal: string, status: number, body: string | RegExp, run: () => Promise<AuthenticateResult | AuthorizeResult>];

const CASES: Case[] = [
  ["no token", 401, "authentication required: send Authorization: Bearer <token>", () => worker.authenticate(`${URL_BASE}/threads/search`, "POST", {})],
  ["malformed Authorization header", 400, 'invalid_request: the Authorization header must be "Bearer <token>"', () =>
    worker.authenticate(`${URL_BASE}/threads/search`, "POST", { authorization: "Bearer a b" })],
  ["token in the query", 400, "invalid_request: access tokens are accepted only in the Authorization header", async () =>
    worker.authenticate(`${URL_BASE}/threads/search?access_token=${await token()}`, "POST", {})],
  ["bad signature", 401, /^invalid_token: \S/, async () => worker.authenticate(`${URL_BASE}/threads/search`, "POST", bearer(`${(await token()).slice(0, -4)}AAAA`))],
  ["expired token", 401, "invalid_token: the token has expired", async () => worker.authenticate(`${URL_BASE}/threads/search`, "POST", bearer(await token(ALL, -3600)))],
  ["identity provider's keys unreachable", 503, "temporarily_unavailable: the identity provider's signing keys cannot be fetched", () =>
    keyless.authenticate(`${URL_BASE}/threads/search`, "POST", bearer(keylessToken))],
  ["unknown route", 404, "not found", async () => worker.authenticate(`${URL_BASE}/internal/truncate`, "POST", bearer(await token()))],
  ["operator route without its permission", 404, "not found", async () => worker.authenticate(`${URL_BASE}/threads/prune`, "POST", bearer(await token()))],
  [
    "cron without a thread (`POST /runs/crons`)",
    403,
    "forbidden: a cron without a thread cannot be tied to your tenant; create it on a thread (POST /threads/{thread_id}/runs/crons)",
    async () => worker.authenticate(`${URL_BASE}/runs/crons`, "POST", bearer(await token())),
  ],
  [
    "`DELETE /assistants/{id}?delete_threads=true`",
    403,
    "forbidden: delete_threads=true deletes threads of every tenant that name this assistant; delete threads one by one",
    async () => worker.authenticate(`${URL_BASE}/assistants/a?delete_threads=true`, "DELETE", bearer(await token())),
  ],
  ["missing permission (a handler)", 403, 'insufficient_scope: the "threads:write" permission is required', async () =>
    worker.authorize("threads:create", { thread_id: "t", metadata: {} }, await contextOf("threads:read"))],
  ["another tenant's store namespace (a handler)", 403, 'forbidden: store namespaces must start with your tenant ("acme")', async () =>
    worker.authorize("store:get", { namespace: ["globex", "notes"], key: "k" }, await contextOf())],
  [
    "a create without a metadata object (a handler)",
    403,
    'forbidden: threads:create: this deployment keeps the tenant stamp only inside a metadata object; send "metadata": {} with the request',
    async () => worker.authorize("threads:create", { thread_id: "t" }, await contextOf()),
  ],
];

describe("what a platform client sees (docs/platform-contract.md)", () => {
  const page = readFileSync("docs/platform-contract.md", "utf8");

  it.each(CASES)("%s: %d", async (refusal, status, body, run) => {
    const answer = await run();
    if (answer.ok) throw new Error(`${refusal}: allowed`);
    expect(answer.status).toBe(status);
    if (typeof body === "string") expect(answer.message).toBe(body);
    else expect(answer.message).toMatch(body);
    // No header of the package reaches the client on this host.
    expect(answer.headers).toEqual({});
    expect(page, "the page has this row").toContain(`| ${refusal} | ${status} |`);
  });

  it("another tenant's thread, run, assistant or cron: the handler's filter does not match, the platform answers its own 404", async () => {
    const answer = await worker.authorize("threads:read", { thread_id: "t" }, await contextOf());
    if (!answer.ok) throw new Error(answer.message);
    expect(isAuthMatching({ tenant_id: "globex", owner: "bob" }, answer.filters as never)).toBe(false);
    expect(isAuthMatching({ tenant_id: "acme", owner: "alice" }, answer.filters as never)).toBe(true);
    expect(page).toContain("| another tenant's thread, run, assistant or cron | 404 |");
  });
});

describe("the RFC 6750 error code and description reach a platform client in the message", () => {
  /** `error` and `error_description` of a challenge, unquoted. */
  function challengeParams(header: string): Record<string, string> {
    const params: Record<string, string> = {};
    for (const m of header.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) params[m[1]!] = m[2]!.replace(/\\(.)/g, "$1");
    return params;
  }

  it.each([
    ["a bad signature", async () => ({ authorization: `Bearer ${(await token()).slice(0, -4)}AAAA` })],
    ["an expired token", async () => ({ authorization: `Bearer ${await token(ALL, -3600)}` })],
    ["a malformed header", async () => ({ authorization: "Bearer a b" })],
    ["a token from an issuer not trusted here", async () => ({ authorization: `Bearer ${await gone.sign({ sub: "x", org_id: "acme" })}` })],
  ])("%s: the message is `<error>: <error_description>` of the challenge langgraph dev sends", async (_, headersOf) => {
    const headers = await headersOf();
    // What langgraph dev answers: the package's own error, with its WWW-Authenticate challenge.
    const dev = await createAuthenticator({ config: readConfig(issuer.env()) })
      .authenticateRequest(new Request(`${URL_BASE}/threads/search`, { method: "POST", headers }))
      .then(() => undefined, (error: unknown) => error);
    expect(dev).toBeInstanceOf(AuthError);
    const { error, error_description: description } = challengeParams((dev as AuthError).headers["WWW-Authenticate"]!);
    expect(error).toMatch(/^(invalid_token|invalid_request)$/);
    const platform = await worker.authenticate(`${URL_BASE}/threads/search`, "POST", headers);
    expect(platform).toMatchObject({ ok: false, status: (dev as AuthError).status, headers: {}, message: `${error}: ${description}` });
  });
});
