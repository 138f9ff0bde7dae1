/**
 * What a LangGraph Platform client receives for each refusal of the package:
 * status, body (the message, ending with ` (decision_id: <id>)`) and headers
 * (none of the package's survive, `X-Decision-Id` included), through the
 * worker stand-in and the server's reading of its answers; and the decision
 * event with that id on the worker's standard error (reason code, route id or
 * event). Each case is a row of docs/platform-contract.md ("What a platform
 * client sees"), and the page must carry it with its reason code.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAuthMatching } from "@langchain/langgraph-api/auth";
import { createAuthenticator } from "../../src/authenticate/create-authenticator.ts";
import { readConfig } from "../../src/config/read-config.ts";
import { AuthError, type RefusalReason } from "../../src/errors.ts";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";
import { startPlatformWorker, type AuthenticateResult, type AuthorizeResult, type PlatformHost } from "../support/platform-host.ts";
import { refusalChecker, type ExpectedRefusal, type RefusalChecker } from "./recorded-refusals.ts";

const ALL = "threads:read threads:write assistants:read assistants:write crons:read crons:write store:read store:write";
const GRAPHS = JSON.stringify({ echo: "./examples/graphs/echo.ts:graph" });
const AUTH = JSON.stringify({ path: "./src/auth.ts:auth" });
const URL_BASE = "https://agent.example.langgraph.app";

let issuer: LocalIssuer;
let worker: PlatformHost;
let keyless: PlatformHost;
let gone: LocalIssuer;
let keylessToken = "";
let check: RefusalChecker;
let keylessCheck: RefusalChecker;

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
  check = refusalChecker(worker);
  keylessCheck = refusalChecker(keyless);
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

const ALICE = { tenant_id: "acme", subject: "alice" };
const NOBODY = null;
const auth = (reason: RefusalReason, route: string | null, caller: ExpectedRefusal["caller"]) => ({ source: "authenticate" as const, reason, route, caller });
const handler = (reason: RefusalReason, event: string, target?: string) => ({ source: "handler" as const, reason, event, caller: ALICE, ...(target ? { target } : {}) });

interface Case {
  /** The row's first column in docs/platform-contract.md. */
  refusal: string;
  status: number;
  /** The message before ` (decision_id: …)`. */
  message: string;
  /** What the decision event says. */
  record: Omit<ExpectedRefusal, "status" | "message">;
  run: () => Promise<AuthenticateResult | AuthorizeResult>;
  /** The worker it runs on. Default the one with a reachable issuer. */
  on?: "keyless";
}

const CASES: Case[] = [
  {
    refusal: "no token",
    status: 401,
    message: "authentication required: send Authorization: Bearer <token>",
    record: auth("missing_token", "threads.search", NOBODY),
    run: () => worker.authenticate(`${URL_BASE}/threads/search`, "POST", {}),
  },
  {
    refusal: "malformed Authorization header",
    status: 400,
    message: 'invalid_request: the Authorization header must be "Bearer <token>"',
    record: auth("invalid_request", "threads.search", NOBODY),
    run: () => worker.authenticate(`${URL_BASE}/threads/search`, "POST", { authorization: "Bearer a b" }),
  },
  {
    refusal: "token in the query",
    status: 400,
    message: "invalid_request: access tokens are accepted only in the Authorization header",
    record: auth("invalid_request", "threads.search", NOBODY),
    run: async () => worker.authenticate(`${URL_BASE}/threads/search?access_token=${await token()}`, "POST", {}),
  },
  {
    refusal: "bad signature",
    status: 401,
    message: "invalid_token: signature verification failed",
    record: auth("invalid_token", "threads.search", NOBODY),
    run: async () => worker.authenticate(`${URL_BASE}/threads/search`, "POST", bearer(`${(await token()).slice(0, -4)}AAAA`)),
  },
  {
    refusal: "expired token",
    status: 401,
    message: "invalid_token: the token has expired",
    record: auth("expired_token", "threads.search", NOBODY),
    run: async () => worker.authenticate(`${URL_BASE}/threads/search`, "POST", bearer(await token(ALL, -3600))),
  },
  {
    refusal: "identity provider's keys unreachable",
    status: 503,
    message: "temporarily_unavailable: the identity provider's signing keys cannot be fetched",
    record: auth("key_set_unavailable", "threads.search", NOBODY),
    run: () => keyless.authenticate(`${URL_BASE}/threads/search`, "POST", bearer(keylessToken)),
    on: "keyless",
  },
  {
    refusal: "unknown route",
    status: 404,
    message: "not found",
    record: auth("unknown_route", null, ALICE),
    run: async () => worker.authenticate(`${URL_BASE}/internal/truncate`, "POST", bearer(await token())),
  },
  {
    refusal: "operator route without its permission",
    status: 404,
    message: "not found",
    record: auth("operator_only", "threads.prune", ALICE),
    run: async () => worker.authenticate(`${URL_BASE}/threads/prune`, "POST", bearer(await token())),
  },
  {
    refusal: "cron without a thread (`POST /runs/crons`)",
    status: 403,
    message: "forbidden: a cron without a thread cannot be tied to your tenant; create it on a thread (POST /threads/{thread_id}/runs/crons)",
    record: auth("operator_only", "crons.create", ALICE),
    run: async () => worker.authenticate(`${URL_BASE}/runs/crons`, "POST", bearer(await token())),
  },
  {
    refusal: "`DELETE /assistants/{id}?delete_threads=true`",
    status: 403,
    message: "forbidden: delete_threads=true deletes threads of every tenant that name this assistant; delete threads one by one",
    record: auth("operator_only", "assistants.delete", ALICE),
    run: async () => worker.authenticate(`${URL_BASE}/assistants/a?delete_threads=true`, "DELETE", bearer(await token())),
  },
  {
    refusal: "missing permission (a handler)",
    status: 403,
    message: 'insufficient_scope: the "threads:write" permission is required',
    record: handler("insufficient_scope", "threads:create"),
    run: async () => worker.authorize("threads:create", { thread_id: "t", metadata: {} }, await contextOf("threads:read")),
  },
  {
    refusal: "another tenant's store namespace (a handler)",
    status: 403,
    message: 'forbidden: store namespaces must start with your tenant ("acme")',
    record: handler("cross_tenant", "store:get", "globex"),
    run: async () => worker.authorize("store:get", { namespace: ["globex", "notes"], key: "k" }, await contextOf()),
  },
  {
    refusal: "a create without a metadata object (a handler)",
    status: 403,
    message: 'forbidden: threads:create: this deployment keeps the tenant stamp only inside a metadata object; send "metadata": {} with the request',
    record: handler("platform_value_refused", "threads:create"),
    run: async () => worker.authorize("threads:create", { thread_id: "t" }, await contextOf()),
  },
];

/** The page's row for a refusal and status (its first two columns). */
function rowOf(page: string, refusal: string, status: number): string | undefined {
  return page.split("\n").find((line) => line.startsWith(`| ${refusal} | ${status} |`));
}

describe("what a platform client sees (docs/platform-contract.md)", () => {
  const page = readFileSync("docs/platform-contract.md", "utf8");

  it.each(CASES.map((c) => [c.refusal, c.status, c] as const))("%s: %d, the message ending with the decision id of its event", async (refusal, status, c) => {
    // The checker asserts the status, no header of the package (none survives on this host), the
    // exact message ending with ` (decision_id: <id>)`, and that <id> is the event's.
    const { event } = await (c.on === "keyless" ? keylessCheck : check).refused(c.run, { status, message: c.message, ...c.record }, refusal);
    const row = rowOf(page, refusal, status);
    expect(row, "the page has this row").toBeDefined();
    // The row names the reason code and where the event says it was decided.
    expect(row).toContain(`\`${event.reason}\``);
    expect(row).toContain(event.source === "authenticate" ? `\`${event.route ?? "null"}\`` : `\`${event.event}\``);
    expect(row).toContain("(decision_id: <id>)");
  });

  it("another tenant's thread, run, assistant or cron: the handler's filter does not match, the platform answers its own 404, and nothing is recorded", async () => {
    const context = await contextOf();
    // Allowed with a filter, so nothing is written (mode refusals): the platform's 404 is not on the package's record.
    const answer = await check.unrecorded(() => worker.authorize("threads:read", { thread_id: "t" }, context), "threads:read of another tenant's thread");
    if (!answer.ok) throw new Error(answer.message);
    expect(isAuthMatching({ tenant_id: "globex", owner: "bob" }, answer.filters as never)).toBe(false);
    expect(isAuthMatching({ tenant_id: "acme", owner: "alice" }, answer.filters as never)).toBe(true);
    expect(rowOf(page, "another tenant's thread, run, assistant or cron", 404)).toContain("no decision event");
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
    ["a bad signature", "invalid_token", async () => ({ authorization: `Bearer ${(await token()).slice(0, -4)}AAAA` })],
    ["an expired token", "expired_token", async () => ({ authorization: `Bearer ${await token(ALL, -3600)}` })],
    ["a malformed header", "invalid_request", async () => ({ authorization: "Bearer a b" })],
    ["a token from an issuer not trusted here", "invalid_token", async () => ({ authorization: `Bearer ${await gone.sign({ sub: "x", org_id: "acme" })}` })],
  ] as const)("%s: the message is `<error>: <error_description>` of the challenge langgraph dev sends, then its decision id", async (_, reason, headersOf) => {
    const headers = await headersOf();
    // What langgraph dev answers: the package's own error, with its WWW-Authenticate challenge.
    const dev = await createAuthenticator({ config: readConfig(issuer.env()) })
      .authenticateRequest(new Request(`${URL_BASE}/threads/search`, { method: "POST", headers }))
      .then(() => undefined, (error: unknown) => error);
    expect(dev).toBeInstanceOf(AuthError);
    const { error, error_description: description } = challengeParams((dev as AuthError).headers["WWW-Authenticate"]!);
    expect(error).toMatch(/^(invalid_token|invalid_request)$/);
    await check.refused(() => worker.authenticate(`${URL_BASE}/threads/search`, "POST", headers), {
      status: (dev as AuthError).status,
      message: `${error}: ${description}`,
      source: "authenticate",
      reason,
      route: "threads.search",
      caller: null,
    });
  });
});
