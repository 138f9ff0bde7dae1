/**
 * The decision log in the platform's worker (the stand-in of
 * test/support/platform-worker.ts, which loads `src/auth.ts` as the platform
 * does): every refusal of `authenticate` and of a handler is an event on the
 * worker's standard error, and its decision id reaches the client in the
 * message, the one part of the answer the platform keeps of both calls (it
 * drops the headers of an authenticate error, and turns a handler's error
 * into a 403 with its message). The platform has no storage for the worker,
 * so a handler's event names the event but no route, and no target tenant.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decisionById } from "../support/decision-events.ts";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";
import { startPlatformWorker, type PlatformHost } from "../support/platform-host.ts";
import { refusalChecker } from "./recorded-refusals.ts";

const ALL = "threads:read threads:write assistants:read assistants:write crons:read crons:write store:read store:write";
const URL_BASE = "https://agent.example.langgraph.app";
const ID = / \(decision_id: ([0-9a-f-]{36})\)$/;

let issuer: LocalIssuer;
let worker: PlatformHost;

beforeAll(async () => {
  issuer = await startLocalIssuer();
  worker = await startPlatformWorker({
    ...issuer.env(),
    LANGSERVE_GRAPHS: JSON.stringify({ echo: "./examples/graphs/echo.ts:graph" }),
    LANGGRAPH_AUTH: JSON.stringify({ path: "./src/auth.ts:auth" }),
  });
});

afterAll(async () => {
  await worker?.stop();
  await issuer?.close();
});

/** The decision id at the end of a message, and the event it names on the worker's standard error. */
async function recorded(message: string) {
  const id = ID.exec(message)?.[1];
  expect(id, message).toBeDefined();
  await worker.waitForStderr((stderr) => stderr.includes(`"decision_id":"${id}"`), `the event of ${id}`);
  return decisionById(worker.stderr(), id!);
}

describe("on LangGraph Platform", () => {
  it("authenticate: the id is in the message (the platform keeps status and message, not headers)", async () => {
    const none = await worker.authenticate(`${URL_BASE}/threads/search`, "POST", {});
    const bad = await worker.authenticate(`${URL_BASE}/threads/search`, "POST", { authorization: "Bearer not.a-token" });
    const wipe = await worker.authenticate(`${URL_BASE}/threads/prune`, "POST", { authorization: `Bearer ${await issuer.sign({ sub: "bob", org_id: "globex", scope: ALL })}` });
    if (none.ok || bad.ok || wipe.ok) throw new Error("authenticate let a refusal through");
    expect([none.status, bad.status, wipe.status]).toEqual([401, 401, 404]);
    expect(await recorded(none.message)).toMatchObject({ host: "platform", source: "authenticate", reason: "missing_token", route: "threads.search", tenant_id: null });
    expect(await recorded(bad.message)).toMatchObject({ reason: "invalid_token", route: "threads.search", tenant_id: null, subject: null });
    expect(await recorded(wipe.message)).toMatchObject({ reason: "operator_only", route: "threads.prune", tenant_id: "globex", subject: "bob" });
  });

  it("handlers: a refusal becomes a 403 with its message, which carries the id; the event names the event, not a route", async () => {
    const token = await issuer.sign({ sub: "bob", org_id: "globex", scope: ALL });
    const login = await worker.authenticate(`${URL_BASE}/threads/search`, "POST", { authorization: `Bearer ${token}` });
    if (!login.ok) throw new Error(login.message);
    const store = await worker.authorize("store:put", { namespace: ["acme", "notes"], key: "k", value: { text: "x" } }, login.context);
    const stamp = await worker.authorize("threads:create", { thread_id: "t" }, login.context);
    if (store.ok || stamp.ok) throw new Error("a handler let a refusal through");
    expect(await recorded(store.message)).toMatchObject({
      host: "platform", source: "handler", reason: "cross_tenant", event: "store:put", route: null,
      resources: { namespace: ["acme", "notes"] }, tenant_id: "globex", subject: "bob", target_tenant_id: "acme",
    });
    expect(await recorded(stamp.message)).toMatchObject({ reason: "platform_value_refused", event: "threads:create", route: null });
  });

  it("a handler refusal thrown with another status (400) is recorded with the 403 the platform answers", async () => {
    const token = await issuer.sign({ sub: "bob", org_id: "globex", scope: ALL });
    const login = await worker.authenticate(`${URL_BASE}/threads/search`, "POST", { authorization: `Bearer ${token}` });
    if (!login.ok) throw new Error(login.message);
    // The package throws a 400 here (langgraph dev answers 400); the worker sends it, the platform answers 403.
    const { answer } = await refusalChecker(worker).refused(() => worker.authorize("store:put", { namespace: ["globex", "a:b"], key: "k", value: {} }, login.context), {
      status: 403,
      message: 'bad request: store namespace labels cannot contain ":"',
      source: "handler",
      reason: "store_namespace_refused",
      event: "store:put",
      caller: { tenant_id: "globex", subject: "bob" },
    });
    expect(answer.worker.status).toBe(400);
  });

  it("a read of another tenant's thread is left to the platform's filter: allowed here with a filter, not recorded (the worker cannot tell)", async () => {
    const token = await issuer.sign({ sub: "bob", org_id: "globex", scope: ALL });
    const login = await worker.authenticate(`${URL_BASE}/threads/search`, "POST", { authorization: `Bearer ${token}` });
    if (!login.ok) throw new Error(login.message);
    // unrecorded(): a refusal sent after it is the barrier, so an event the read wrote would have arrived.
    const read = await refusalChecker(worker).unrecorded(
      () => worker.authorize("threads:read", { thread_id: "0193f0a1-0000-7000-8000-0000000000a1" }, login.context),
      "a read of another tenant's thread",
    );
    expect(read).toMatchObject({ ok: true, filters: { tenant_id: "globex" } });
  });
});
