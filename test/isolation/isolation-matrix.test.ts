/**
 * Tenant isolation, route by route, against the real `langgraph dev`.
 *
 * Tenant A builds an assistant (with a secret in its config), a thread with a
 * finished run and a checkpoint, and a store item. Tenant B then sends every
 * probe of the shared probe table (src/check-isolation/probe-table.ts, the one
 * `check-isolation` sends to live deployments) against A's thread, run,
 * assistant, checkpoint and store item, and every route of the server's table
 * (SERVER_ROUTES) must be covered. Each attempt's status and body are
 * checked; a 5xx, an unexpected status or any of A's data in a body is a
 * failure. Every refusing row also holds the record to account: the
 * decision event its refusal produced on the server's standard error (source,
 * reason code, route id, the tenant whose resource it was), or the reason it
 * has none (expected-decisions.ts). The rows go to
 * reports/isolation-matrix.json. The last checks prove A's data is all still
 * there and unchanged.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";
import { createSender } from "../../src/cli-kit/http-client.ts";
import { brokenCredentials } from "../../src/check-isolation/derived-tokens.ts";
import type { DecisionEvent } from "../../src/decision/decision-event.ts";
import { decisionById, decisionRecordsIn, isDecisionEvent } from "../support/decision-events.ts";
import { waitFor } from "../support/wait-for.ts";
import { EXPECTED_DECISIONS } from "./expected-decisions.ts";
import { PROBES } from "../../src/check-isolation/probe-table.ts";
import { requestOf, runProbe } from "../../src/check-isolation/run-probes.ts";
import type { World } from "../../src/check-isolation/types.ts";
import { SERVER_ROUTES } from "../../src/policy/route-table.ts";
import { systemAssistantId } from "../../src/policy/run-assistant.ts";
import { PROJECT_ROOT, startLangGraphDev, type LangGraphDev } from "../support/langgraph-dev.ts";

const ALL_SCOPES = "threads:read threads:write assistants:read assistants:write store:read store:write";
const TAG = Math.random().toString(36).slice(2, 10);
const SECRET_A = `secret-A-${TAG}`;
const MESSAGE_A = `hello-from-A-${TAG}`;
const STORE_A = `store-secret-A-${TAG}`;
const SYSTEM_ECHO = systemAssistantId("echo");
const SYSTEM_SUPPORT = systemAssistantId("support");

let issuer: LocalIssuer;
let server: LangGraphDev;
let tokenA: string;
let tokenB: string;
let tokenOperator: string;

/** A's resources. */
const a = { thread: "", run: "", assistant: "", checkpoint: "" };
/** B's own resources, used as the "own" half of mixed attempts. */
const b = { thread: "", scratch: "", assistant: "", run: "" };

interface Answer {
  status: number;
  text: string;
  json: unknown;
  contentType?: string | null;
  /** `X-Decision-Id` of a refusal the package answered. */
  decision?: string | null;
}

async function call(token: string, method: string, path: string, body?: unknown): Promise<Answer> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, text, json, contentType: response.headers.get("content-type"), decision: response.headers.get("x-decision-id") };
}

/** The event a refusal the package answered itself put on the record (its id came back in X-Decision-Id). */
async function recordOf(answer: Answer): Promise<DecisionEvent> {
  expect(answer.decision, `${answer.status} ${answer.text.slice(0, 80)} carries a decision id`).toMatch(/^[0-9a-f-]{36}$/);
  await waitFor(() => server.output().includes(`"decision_id":"${answer.decision}"`), `the event of ${answer.decision}`);
  return decisionById(server.output(), answer.decision!);
}

interface Row {
  route: string;
  method: string;
  path: string;
  attempt: string;
  status: number;
  verdict: "refused" | "no-data" | "allowed-own" | "leak" | "server-error" | "unexpected-status";
  detail?: string;
  /** For a refusing row: what it put on the record (`source reason route`), or why nothing. */
  decision?: string;
}
const rows: Row[] = [];

interface Attempt {
  route: string;
  attempt: string;
  method: string;
  path: string;
  body?: unknown;
  /** Expected status(es). */
  expect: number | number[];
  /** A 2xx about B's own resource (positive control): ids of A are still a leak. */
  own?: boolean;
}

function leakOf(answer: Answer): string | undefined {
  // Secrets only A's data holds are a leak in any answer.
  for (const marker of [SECRET_A, MESSAGE_A, STORE_A]) if (answer.text.includes(marker)) return `body contains ${marker}`;
  // A successful answer naming A's resources is a leak (a refusal may echo the id B sent).
  if (answer.status < 300) {
    for (const id of [a.thread, a.run, a.assistant, a.checkpoint]) if (answer.text.includes(id)) return `2xx body names A's ${id}`;
    if (answer.text.includes('"tenant-a"')) return "2xx body names tenant-a";
  }
  return undefined;
}

async function attempt(spec: Attempt, token = tokenB): Promise<Row> {
  const answer = await call(token, spec.method, spec.path, spec.body);
  const expected = Array.isArray(spec.expect) ? spec.expect : [spec.expect];
  const leak = leakOf(answer);
  let verdict: Row["verdict"];
  let detail: string | undefined;
  if (answer.status >= 500) {
    verdict = "server-error";
    detail = answer.text.slice(0, 200);
  } else if (leak) {
    verdict = "leak";
    detail = leak;
  } else if (!expected.includes(answer.status)) {
    verdict = "unexpected-status";
    detail = `expected ${expected.join("|")}: ${answer.text.slice(0, 200)}`;
  } else {
    verdict = answer.status < 300 ? (spec.own ? "allowed-own" : "no-data") : "refused";
  }
  const row: Row = { route: spec.route, method: spec.method, path: spec.path, attempt: spec.attempt, status: answer.status, verdict, ...(detail ? { detail } : {}) };
  rows.push(row);
  return row;
}

const runBody = (assistant: string, extra: Record<string, unknown> = {}) => ({
  assistant_id: assistant,
  input: { messages: [{ role: "user", content: "from-B" }] },
  ...extra,
});

/** Everything A can see of A's data, for the before/after comparison. */
async function snapshotA(): Promise<Record<string, unknown>> {
  const get = async (method: string, path: string, body?: unknown) => {
    const answer = await call(tokenA, method, path, body);
    expect(answer.status, `${method} ${path}`).toBe(200);
    return answer.json;
  };
  return {
    assistant: await get("GET", `/assistants/${a.assistant}`),
    versions: await get("POST", `/assistants/${a.assistant}/versions`, {}),
    thread: await get("GET", `/threads/${a.thread}`),
    state: await get("GET", `/threads/${a.thread}/state`),
    checkpoint: await get("GET", `/threads/${a.thread}/state/${a.checkpoint}`),
    history: await get("GET", `/threads/${a.thread}/history`),
    runs: await get("GET", `/threads/${a.thread}/runs`),
    run: await get("GET", `/threads/${a.thread}/runs/${a.run}`),
    store: await get("GET", `/store/items?namespace=tenant-a.notes&key=k1`),
    threadCount: await get("POST", "/threads/count", {}),
    assistantCount: await get("POST", "/assistants/count", {}),
    // Not A's, but readable by every tenant and changeable by none: B's update, latest and delete rows must leave it as it was.
    systemAssistant: await get("GET", `/assistants/${SYSTEM_ECHO}`),
    systemVersions: await get("POST", `/assistants/${SYSTEM_ECHO}/versions`, {}),
  };
}

let before: Record<string, unknown>;

describe("tenant isolation matrix (real langgraph dev)", () => {
  beforeAll(async () => {
    issuer = await startLocalIssuer();
    server = await startLangGraphDev({
      // Every refusal written on its own: tenant B sends far more than the flood bound's default burst of 20.
      env: { ...issuer.env(), AUTH_ROUTE_PERMISSIONS: "truncate=admin:truncate", AUTH_DECISION_LOG_BURST: "1000" },
    });
    tokenA = await issuer.sign({ sub: "alice", org_id: "tenant-a", scope: ALL_SCOPES });
    tokenB = await issuer.sign({ sub: "bob", org_id: "tenant-b", scope: ALL_SCOPES });
    tokenOperator = await issuer.sign({ sub: "ops", org_id: "operators", scope: `${ALL_SCOPES} admin:truncate` });

    // Tenant A's data.
    const assistant = await call(tokenA, "POST", "/assistants", {
      graph_id: "echo",
      name: "a-assistant",
      config: { configurable: { api_key: SECRET_A } },
      metadata: { purpose: "a" },
    });
    expect(assistant.status).toBe(200);
    a.assistant = (assistant.json as { assistant_id: string }).assistant_id;
    const thread = await call(tokenA, "POST", "/threads", { metadata: { purpose: "a" } });
    expect(thread.status).toBe(200);
    a.thread = (thread.json as { thread_id: string }).thread_id;
    const run = await call(tokenA, "POST", `/threads/${a.thread}/runs/wait`, {
      assistant_id: a.assistant,
      input: { messages: [{ role: "user", content: MESSAGE_A }] },
    });
    expect(run.status, run.text).toBe(200);
    const runs = await call(tokenA, "GET", `/threads/${a.thread}/runs`);
    a.run = (runs.json as { run_id: string }[])[0]!.run_id;
    const state = await call(tokenA, "GET", `/threads/${a.thread}/state`);
    a.checkpoint = (state.json as { checkpoint: { checkpoint_id: string } }).checkpoint.checkpoint_id;
    const put = await call(tokenA, "PUT", "/store/items", { namespace: ["tenant-a", "notes"], key: "k1", value: { text: STORE_A } });
    expect(put.status, put.text).toBe(204);

    // Tenant B's own thread and assistant.
    b.thread = ((await call(tokenB, "POST", "/threads", {})).json as { thread_id: string }).thread_id;
    b.scratch = ((await call(tokenB, "POST", "/threads", {})).json as { thread_id: string }).thread_id;
    const bAssistant = await call(tokenB, "POST", "/assistants", { graph_id: "echo", name: "b-assistant" });
    b.assistant = (bAssistant.json as { assistant_id: string }).assistant_id;

    before = await snapshotA();
  }, 240_000);

  afterAll(async () => {
    await mkdir(join(PROJECT_ROOT, "reports"), { recursive: true });
    await writeFile(
      join(PROJECT_ROOT, "reports", "isolation-matrix.json"),
      JSON.stringify({ server: "@langchain/langgraph-api 1.5.1 (langgraph dev)", rows: rows.length, generated: new Date().toISOString(), results: rows }, null, 2),
    );
    await server?.stop();
    await issuer?.close();
  });

  it("refuses or empties tenant B's attempt on every route of the server's table", async () => {
    // The rows are the shared probe table's (src/check-isolation), the same
    // the check-isolation command sends; each is held to this package's exact status.
    const world: World = {
      marker: TAG,
      graph: "echo",
      a: { ...a, liveThread: "", liveRun: "", namespace: ["tenant-a", "notes"], key: "k1", tag: { purpose: "a" }, identity: "alice", stamped: { tenant_id: "tenant-a" } },
      b: { thread: b.thread, scratch: b.scratch, assistant: b.assistant, namespace: ["tenant-b", "notes"] },
      secrets: [SECRET_A, MESSAGE_A, STORE_A],
      fresh: () => crypto.randomUUID(),
    };
    // The broken credentials are really sent (a caller missing here would send none at all).
    const send = createSender({ url: server.url, authorization: { a: `Bearer ${tokenA}`, b: `Bearer ${tokenB}`, ...brokenCredentials(tokenA) }, requestTimeoutMs: 30_000 });
    const matrixStart = server.output().length;
    let expectedEvents = 0;
    const unrecorded: string[] = [];
    for (const probe of PROBES.filter((p) => !p.commandOnly)) {
      const from = server.output().length;
      const result = await runProbe(probe, world, send, new Map());
      let decision: string | undefined;
      if (result.status >= 400) {
        // A refusing row: the event its refusal produced, or the reason it has none.
        const expected = EXPECTED_DECISIONS[probe.id];
        if (expected === undefined) unrecorded.push(`${probe.id}: refused ${result.status}, and expected-decisions.ts says nothing about it`);
        else if ("none" in expected) decision = `none: ${expected.none}`;
        else {
          expectedEvents += 1;
          const matching = () =>
            decisionRecordsIn(server.output().slice(from)).filter(isDecisionEvent).filter((e) => e.source === expected.source && e.reason === expected.reason && e.route === expected.route);
          await waitFor(() => matching().length > 0, `${probe.id}: ${expected.source} ${expected.reason} ${expected.route}`, { timeoutMs: 15_000 }).catch(() => undefined);
          const found = matching();
          if (found.length !== 1) {
            const seen = decisionRecordsIn(server.output().slice(from)).map((e) => `${e.source} ${e.reason} ${"route" in e ? e.route : ""}`);
            unrecorded.push(`${probe.id}: expected one ${expected.source} ${expected.reason} ${expected.route}, saw ${JSON.stringify(seen)}`);
          } else {
            const event = found[0]!;
            // Who asked (from a verified token only), whose it was, what status the client got.
            const broken = probe.as !== undefined && probe.as !== "b";
            expect([event.tenant_id, event.subject], probe.id).toEqual(broken ? [null, null] : ["tenant-b", "bob"]);
            expect(event.target_tenant_id, probe.id).toBe(expected.target ?? null);
            expect(event.status, probe.id).toBe(result.status);
            decision = `${event.source} ${event.reason} ${event.route}`;
          }
        }
      }
      const answer = result.answer!;
      let verdict: Row["verdict"];
      let detail: string | undefined;
      if (result.status >= 500) [verdict, detail] = ["server-error", answer.text.slice(0, 200)];
      else if (result.verdict === "leak") [verdict, detail] = ["leak", result.detail];
      else if (!probe.expect.includes(result.status)) [verdict, detail] = ["unexpected-status", `expected ${probe.expect.join("|")}: ${answer.text.slice(0, 200)}`];
      else if (result.verdict !== "pass") [verdict, detail] = ["unexpected-status", result.detail];
      else if (result.status < 300 && probe.suiteBody && !probe.suiteBody(answer.json, world)) [verdict, detail] = ["leak", `2xx body is not what this package answers: ${answer.text.slice(0, 200)}`];
      else verdict = result.status < 300 ? "no-data" : "refused";
      rows.push({ route: probe.route, method: probe.method, path: requestOf(probe, world).path, attempt: probe.attempt, status: result.status, verdict, ...(detail ? { detail } : {}), ...(decision ? { decision } : {}) });
    }
    expect(unrecorded).toEqual([]);
    // Nothing else was recorded: one event per refusing row that expects one (none twice, none extra).
    await waitFor(() => decisionRecordsIn(server.output().slice(matrixStart)).length >= expectedEvents, "every expected event");
    expect(decisionRecordsIn(server.output().slice(matrixStart)).length).toBe(expectedEvents);

    // A foreign assistant is answered exactly like one that does not exist: no existence oracle.
    const unknown = "0192b8d2-6c4a-7a57-9a8e-5b7f3d9b0a11";
    const foreignAnswer = await call(tokenB, "POST", "/runs/wait", runBody(a.assistant));
    const unknownAnswer = await call(tokenB, "POST", "/runs/wait", runBody(unknown));
    expect(foreignAnswer.status).toBe(unknownAnswer.status);
    expect(foreignAnswer.contentType).toBe(unknownAnswer.contentType);
    expect(foreignAnswer.text.replace(a.assistant, "<id>")).toBe(unknownAnswer.text.replace(unknown, "<id>"));
    // Not even a decision id tells them apart (the server answers the unknown one itself); only the record does.
    expect([foreignAnswer.decision, unknownAnswer.decision]).toEqual([null, null]);
    await waitFor(
      () => decisionRecordsIn(server.output()).some((r) => isDecisionEvent(r) && r.route === "runs.wait" && r.resources.assistant_id === a.assistant && r.reason === "cross_tenant"),
      "the foreign assistant's run on the record",
    );

    const failures = rows.filter((r) => !["refused", "no-data", "allowed-own"].includes(r.verdict));
    expect(failures).toEqual([]);
    const covered = new Set(rows.map((r) => r.route));
    expect(SERVER_ROUTES.map((r) => r.id).filter((id) => !covered.has(id))).toEqual([]);
  }, 180_000);

  it("keeps the graph's system assistant usable and B's own resources working (positive controls)", async () => {
    const specs: Attempt[] = [
      { route: "threads.runs.wait", attempt: "run the system assistant by graph name on own thread", method: "POST", path: `/threads/${b.thread}/runs/wait`, body: runBody("echo"), expect: 200, own: true },
      { route: "threads.runs.wait", attempt: "run the system assistant by its uuid5 id", method: "POST", path: `/threads/${b.thread}/runs/wait`, body: runBody(SYSTEM_ECHO), expect: 200, own: true },
      { route: "threads.runs.wait", attempt: "run own assistant on own thread", method: "POST", path: `/threads/${b.thread}/runs/wait`, body: runBody(b.assistant), expect: 200, own: true },
      { route: "runs.wait", attempt: "stateless run of the system assistant", method: "POST", path: "/runs/wait", body: runBody("echo"), expect: 200, own: true },
      { route: "runs.batch", attempt: "batch of the system assistant", method: "POST", path: "/runs/batch", body: [runBody("echo")], expect: 200, own: true },
    ];
    for (const spec of specs) await attempt(spec);
    const runs = await call(tokenB, "GET", `/threads/${b.thread}/runs`);
    b.run = (runs.json as { run_id: string }[])[0]!.run_id;
    await attempt({ route: "threads.runs.join", attempt: "join own run", method: "GET", path: `/threads/${b.thread}/runs/${b.run}/join`, expect: 200, own: true });
    await attempt({ route: "threads.runs.join.stream", attempt: "stream own finished run", method: "GET", path: `/threads/${b.thread}/runs/${b.run}/stream`, expect: 200, own: true });
    const stateless = await call(tokenB, "POST", "/runs", runBody("echo", { on_completion: "keep" }));
    expect(stateless.status, stateless.text).toBe(200);
    const statelessRun = (stateless.json as { run_id: string }).run_id;
    await attempt({ route: "runs.join.stream", attempt: "stream own stateless run by run id", method: "GET", path: `/runs/${statelessRun}/stream`, expect: 200, own: true });
    await attempt({ route: "store.put", attempt: "put own item", method: "PUT", path: "/store/items", body: { namespace: ["tenant-b", "notes"], key: "k1", value: { text: "b" } }, expect: 204, own: true });
    await attempt({ route: "store.search", attempt: "search own prefix", method: "POST", path: "/store/items/search", body: { namespace_prefix: ["tenant-b"] }, expect: 200, own: true });
    expect(rows.slice(-10).map((r) => r.verdict)).toEqual(Array(10).fill("allowed-own"));
    // This checkout's langgraph.json has two graphs: after every attempt of the table, B's system search finds exactly their two system assistants.
    const system = await call(tokenB, "POST", "/assistants/search", { metadata: { created_by: "system" }, limit: 100 });
    expect((system.json as { assistant_id: string }[]).map((x) => x.assistant_id).sort()).toEqual([SYSTEM_ECHO, SYSTEM_SUPPORT].sort());
    expect((await call(tokenB, "POST", "/assistants/count", { metadata: { created_by: "system" } })).json).toBe(2);
    // The system assistant's run shows B's own tenant, and A's secret is nowhere in B's runs.
    expect(runs.text).not.toContain(SECRET_A);
    expect(runs.text).toContain('"tenant-b"');
  }, 120_000);

  it("never lets metadata move a resource into or out of a tenant", async () => {
    // Create with another tenant's id in metadata: stamped with the caller's.
    const created = await call(tokenB, "POST", "/threads", { metadata: { tenant_id: "tenant-a", owner: "alice" } });
    expect(created.status).toBe(200);
    const moved = created.json as { thread_id: string; metadata: Record<string, unknown> };
    expect(moved.metadata).toMatchObject({ tenant_id: "tenant-b", owner: "bob" });
    // Patch into tenant A: pinned to B, A cannot see it.
    const patched = await call(tokenB, "PATCH", `/threads/${moved.thread_id}`, { metadata: { tenant_id: "tenant-a" } });
    expect((patched.json as { metadata: Record<string, unknown> }).metadata.tenant_id).toBe("tenant-b");
    expect((await call(tokenA, "GET", `/threads/${moved.thread_id}`)).status).toBe(404);
    // Null tenant (out of every tenant): pinned too.
    const nulled = await call(tokenB, "PATCH", `/threads/${moved.thread_id}`, { metadata: { tenant_id: null } });
    expect((nulled.json as { metadata: Record<string, unknown> }).metadata.tenant_id).toBe("tenant-b");
    // Assistants, same rules.
    const asst = await call(tokenB, "POST", "/assistants", { graph_id: "echo", metadata: { tenant_id: "tenant-a" } });
    expect((asst.json as { metadata: Record<string, unknown> }).metadata.tenant_id).toBe("tenant-b");
    const asstId = (asst.json as { assistant_id: string }).assistant_id;
    const asstPatched = await call(tokenB, "PATCH", `/assistants/${asstId}`, { metadata: { tenant_id: "tenant-a" } });
    expect((asstPatched.json as { metadata: Record<string, unknown> }).metadata.tenant_id).toBe("tenant-b");
    const posing = await call(tokenB, "PATCH", `/assistants/${asstId}`, { metadata: { created_by: "system" } });
    expect(posing.status).toBe(403);
    expect(await recordOf(posing)).toMatchObject({ reason: "system_assistant_write", route: "assistants.update", event: "assistants:update", tenant_id: "tenant-b" });
    expect((await call(tokenA, "GET", `/assistants/${asstId}`)).status).toBe(404);
    // A run's metadata cannot put the new thread in tenant A.
    const runThread = crypto.randomUUID();
    const run = await call(tokenB, "POST", `/threads/${runThread}/runs/wait`, runBody("echo", { if_not_exists: "create", metadata: { tenant_id: "tenant-a" } }));
    expect(run.status, run.text).toBe(200);
    expect((await call(tokenA, "GET", `/threads/${runThread}`)).status).toBe(404);
    expect(((await call(tokenB, "GET", `/threads/${runThread}`)).json as { metadata: Record<string, unknown> }).metadata.tenant_id).toBe("tenant-b");
    // A search whose metadata names tenant A returns nothing of it.
    for (const path of ["/threads/search", "/assistants/search"]) {
      const found = await call(tokenB, "POST", path, { metadata: { tenant_id: "tenant-a" } });
      expect(found.json).toEqual([]);
    }
  }, 120_000);

  it("leaves all of tenant A's data there and unchanged", async () => {
    const after = await snapshotA();
    expect(after).toEqual(before);
    expect(JSON.stringify(after.assistant)).toContain(SECRET_A);
    expect(JSON.stringify(after.state)).toContain(MESSAGE_A);
    expect(JSON.stringify(after.store)).toContain(STORE_A);
    // Tenant A still runs its own assistant.
    const run = await call(tokenA, "POST", `/threads/${a.thread}/runs/wait`, { assistant_id: a.assistant, input: { messages: [{ role: "user", content: "again" }] } });
    expect(run.status, run.text).toBe(200);
  }, 120_000);

  it("lets an operator permission unlock /internal/truncate, and only that one", async () => {
    // The operator token carries admin:truncate (AUTH_ROUTE_PERMISSIONS=truncate=admin:truncate).
    const crons = await call(tokenOperator, "POST", "/runs/crons/search", {});
    const commands = await call(tokenOperator, "POST", `/threads/${a.thread}/commands`, { id: 1, method: "state.get" });
    expect([crons.status, commands.status]).toEqual([404, 404]);
    expect(await recordOf(crons)).toMatchObject({ reason: "operator_only", route: "crons.search", tenant_id: "operators", subject: "ops" });
    expect(await recordOf(commands)).toMatchObject({ reason: "operator_only", route: "protocol.commands", tenant_id: "operators" });
    const wiped = await call(tokenOperator, "POST", "/internal/truncate", { threads: true });
    expect(wiped.status, wiped.text).toBe(200);
    expect((await call(tokenA, "GET", `/threads/${a.thread}`)).status).toBe(404);
  }, 60_000);
});
