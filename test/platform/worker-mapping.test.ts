/**
 * The stand-in maps errors as the real platform does (docs/platform-contract.md#errors),
 * shown with an `Auth` that throws each kind (fixtures/mapping-auth.ts):
 * - authenticate: an `HTTPException` keeps its status and message and loses
 *   its headers; anything else is a 403 showing its message;
 * - authorize: every refusal is a 403 showing its message, whatever status
 *   was thrown; `false` is a 403 "Unauthorized"; an invalid handler result is
 *   a 403 with the server module's message; an error whose `name` is empty
 *   is not seen as an error at all (allowed, no filter).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPlatformWorker, type PlatformHost } from "../support/platform-host.ts";

const URL_BASE = "https://agent.example.langgraph.app";
const USER = { user: { identity: "u", permissions: [], display_name: "u", is_authenticated: true }, scopes: [] };

let worker: PlatformHost;

beforeAll(async () => {
  worker = await startPlatformWorker({
    LANGGRAPH_AUTH: JSON.stringify({ path: "./test/platform/fixtures/mapping-auth.ts:auth" }),
    LANGSERVE_GRAPHS: JSON.stringify({ echo: "./examples/graphs/echo.ts:graph" }),
  });
});
afterAll(async () => {
  await worker?.stop();
});

describe("authenticate errors on the platform", () => {
  it("an HTTPException keeps its status and message; its headers are lost", async () => {
    expect(await worker.authenticate(`${URL_BASE}/challenge`, "GET", {})).toMatchObject({
      ok: false,
      status: 401,
      headers: {},
      message: "invalid_token: expired",
      worker: { status: 401, body: { status: 401, headers: {} } },
    });
    const unavailable = await worker.authenticate(`${URL_BASE}/unavailable`, "GET", {});
    expect(unavailable).toMatchObject({ ok: false, status: 503, message: "try later" });
    expect(unavailable.ok || unavailable.headers).toEqual({});
  });

  it("anything else is a 403 that shows its message", async () => {
    const raw = await worker.authenticate(`${URL_BASE}/raw`, "GET", {});
    expect(raw).toMatchObject({ ok: false, status: 403, message: "raw authenticate error: db at 10.0.0.7", error: "Error", worker: { status: 403 } });
    expect(raw.ok || raw.worker.body).not.toHaveProperty("status");
  });

  it("a success is the context the platform keeps", async () => {
    expect(await worker.authenticate(`${URL_BASE}/threads`, "GET", {})).toMatchObject({ ok: true, context: { user: { identity: "u" }, scopes: [] } });
  });
});

describe("authorize errors on the platform", () => {
  it.each([
    ["an HTTPException 404", "threads:read", 404, "no such thread"],
    ["an HTTPException 409", "threads:update", 409, "conflict"],
    ["a raw error (a 500 on langgraph dev)", "threads:delete", 500, "raw handler error: db at 10.0.0.7"],
    ["false", "threads:search", 403, "Unauthorized"],
    ["an invalid result", "threads:create", 500, 'Auth handler returned invalid result. Expected filter object, null, undefined or boolean. Got "number" instead.'],
  ])("%s reaches the client as a 403 with its message", async (_, event, workerStatus, message) => {
    const answer = await worker.authorize(event, { thread_id: "t" }, USER);
    expect(answer).toMatchObject({ ok: false, status: 403, message, worker: { status: workerStatus } });
    expect(answer.ok || answer.worker.body).not.toHaveProperty("status");
  });

  it("an error whose name is empty is not an error to the platform: allowed, with no filter", async () => {
    const answer = await worker.authorize("assistants:read", { assistant_id: "a" }, USER);
    expect(answer).toMatchObject({ ok: true, filters: undefined, worker: { status: 500, body: { error: "" } } });
  });
});
