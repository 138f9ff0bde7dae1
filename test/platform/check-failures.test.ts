/**
 * A check that throws something that is not a refusal, on LangGraph
 * Platform (STYLE item 3, docs/platform-contract.md#errors): the real
 * worker shows a handler's raw error to the caller as a 403 with its
 * message, turns an `authenticate` error that is not an `HTTPException` into
 * a 403 with its message, and takes an error whose `name` is empty for no
 * error at all (an allow). So the `Auth`'s wrappers convert anything that is
 * not one of the package's errors into `CheckFailedError`: the client sees a
 * coded refusal with a fixed message and its decision id, the event says
 * `internal_error` (outcome `error`), and the original, whose message looks
 * like a secret, is shown and written nowhere.
 *
 * The `Auth` is test/fixtures/faulty-checks-auth.ts: `src/auth.ts`'s pieces
 * with an authenticator, a guard and a run check that fail on request.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";
import { startPlatformWorker, type AuthenticateResult, type AuthorizeResult, type PlatformHost } from "../support/platform-host.ts";
import { refusalChecker, type RefusalChecker } from "./recorded-refusals.ts";

const ALL = "threads:read threads:write assistants:read assistants:write crons:read crons:write store:read store:write";
const URL_BASE = "https://agent.example.langgraph.app";
const FAILED = "server_error: the authorization check failed; the request was refused";
const ALICE = { tenant_id: "acme", subject: "alice" };
/** The password in the fixture's `SECRET`, which every failure's message carries (not imported: the fixture builds an Auth at import). */
const SECRET_PART = "hunter2";

let issuer: LocalIssuer;
let worker: PlatformHost;
let check: RefusalChecker;
const answers: (AuthenticateResult | AuthorizeResult)[] = [];

beforeAll(async () => {
  issuer = await startLocalIssuer();
  worker = await startPlatformWorker({
    ...issuer.env(),
    LANGGRAPH_AUTH: JSON.stringify({ path: "./test/fixtures/faulty-checks-auth.ts:auth" }),
    LANGSERVE_GRAPHS: JSON.stringify({ echo: "./examples/graphs/echo.ts:graph" }),
  });
  check = refusalChecker(worker);
});
afterAll(async () => {
  await worker?.stop();
  await issuer?.close();
});

const token = () => issuer.sign({ sub: "alice", org_id: "acme", scope: ALL });

async function contextOf() {
  const answer = await worker.authenticate(`${URL_BASE}/threads/search`, "POST", { authorization: `Bearer ${await token()}` });
  if (!answer.ok) throw new Error(answer.message);
  return answer.context;
}

/** Keep every answer, for the search for the secret at the end. */
const kept = <T extends AuthenticateResult | AuthorizeResult>(answer: T): T => {
  answers.push(answer);
  return answer;
};

describe("authenticate: an error inside a check is a coded 500, never the original", () => {
  it.each([
    ["the authenticator throws a plain Error", "authenticator-throws", null],
    ["the authenticator rejects with an Error whose name is empty", "authenticator-rejects-nameless", null],
    ["the authenticator rejects with a string", "authenticator-rejects-string", null],
    ["authenticateCached throws", "cache-throws", null],
    ["the route guard throws a plain Error", "guard-throws", ALICE],
    ["the route guard throws an Error whose name is empty", "guard-throws-nameless", ALICE],
    ["the route guard rejects", "guard-rejects", ALICE],
  ] as const)("%s", async (_, fault, caller) => {
    const headers = { authorization: `Bearer ${await token()}`, "x-fault": fault };
    const { answer } = await check.refused(async () => kept(await worker.authenticate(`${URL_BASE}/threads/search`, "POST", headers)), {
      // The worker sends the coded error's status in the body, and the platform keeps it.
      status: 500,
      message: FAILED,
      source: "authenticate",
      reason: "internal_error",
      route: "threads.search",
      caller,
      outcome: "error",
    });
    // An HTTPException to the worker: its own status, a named error (never "", which the server would not see).
    expect(answer.worker.status).toBe(500);
    expect(answer.error).toBe("Error");
    expect(JSON.stringify(answer.worker.body)).not.toContain(SECRET_PART);
  });
});

describe("a handler: an error inside the run check is a coded refusal (403 on the platform), never the original, never an allow", () => {
  it.each([
    ["rejects with a plain Error", "raw"],
    ["rejects with an Error whose name is empty (the platform would take it for an allow)", "nameless"],
    ["rejects with a string", "string"],
    ["throws at once", "sync"],
  ] as const)("the run check %s", async (_, fault) => {
    const context = await contextOf();
    const value = {
      thread_id: "0192f000-0000-7000-8000-000000000001",
      assistant_id: "0192f000-0000-7000-8000-000000000201",
      metadata: { fault },
      kwargs: { input: {}, config: { configurable: {} } },
    };
    const { answer } = await check.refused(async () => kept(await worker.authorize("threads:create_run", value, context)), {
      // Every handler error is a 403 on the platform (the worker's body has no status), recorded as such.
      status: 403,
      message: FAILED,
      source: "handler",
      reason: "internal_error",
      event: "threads:create_run",
      caller: ALICE,
      outcome: "error",
    });
    expect(answer.worker.status).toBe(500);
    expect(answer.error).toBe("Error");
    expect(JSON.stringify(answer.worker.body)).not.toContain(SECRET_PART);
  });

  it("without a fault the same run is allowed (the fixture fails only on request)", async () => {
    const answer = await worker.authorize(
      "threads:create_run",
      { thread_id: "0192f000-0000-7000-8000-000000000001", assistant_id: "0192f000-0000-7000-8000-000000000201", metadata: {}, kwargs: { input: {} } },
      await contextOf(),
    );
    expect(answer).toMatchObject({ ok: true, filters: { tenant_id: "acme" } });
  });
});

describe("the original error", () => {
  it("reached no client and no log: the secret is in no answer and nowhere in the worker's output", () => {
    expect(answers).toHaveLength(11);
    for (const answer of answers) expect(JSON.stringify(answer)).not.toContain(SECRET_PART);
    expect(worker.output()).not.toContain(SECRET_PART);
    // Each failure is one event (outcome error), and nothing else was written.
    expect(check.recorded).toBe(11);
  });

  it("docs/platform-contract.md shows what the client sees", () => {
    const page = readFileSync("docs/platform-contract.md", "utf8");
    const rows = page.split("\n").filter((line) => line.startsWith("| an error inside a check"));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/^\| an error inside a check .*`authenticate` \| 500 \|/);
    expect(rows[1]).toMatch(/^\| an error inside a check in a handler .* \| 403 \|/);
    for (const row of rows) expect(row).toContain(`\`${FAILED} (decision_id: <id>)\``);
    for (const row of rows) expect(row).toContain("`internal_error`");
  });
});
