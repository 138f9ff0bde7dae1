/**
 * The decision log on the real `langgraph dev` (this checkout's
 * `langgraph.json`, keys from a local issuer):
 * - a refusal the package answers carries its decision id in `X-Decision-Id`
 *   and at the end of the body, a browser can read that header and
 *   `WWW-Authenticate` (the server's CORS middleware, with an `Origin`), and
 *   the id is the one of the event on the server's standard error;
 * - another tenant's thread or assistant read, changed or deleted by id gets
 *   exactly the server's answer for one that exists nowhere (status,
 *   headers, body), and only the first is on the record, as `cross_tenant`
 *   with the tenant it belongs to; run creation on another tenant's thread
 *   or assistant is answered by the package like a missing one;
 * - a flood of bad tokens is bounded and counted exactly (window 2 s);
 * - the canary sent in tokens, headers and bodies appears nowhere in what
 *   the server wrote;
 * - with `AUTH_DECISION_LOG_SINK=audit` the decisions are event records in
 *   the audit trail, which verifies.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyAuditLogFile } from "../../src/audit/audit-log-parser.ts";
import { ALL_PERMISSIONS } from "../support/dev-settings.ts";
import { decisionById, decisionRecordsIn, isDecisionAggregate, isDecisionEvent } from "../support/decision-events.ts";
import { startLangGraphDev, type LangGraphDev } from "../support/langgraph-dev.ts";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";
import { waitFor } from "../support/wait-for.ts";
import { sendRequest } from "../support/send-request.ts";

const CANARY = `Canary${Array.from({ length: 12 }, () => String.fromCharCode(97 + Math.floor(Math.random() * 26))).join("")}`;
const ORIGIN = "https://app.example.com";
let issuer: LocalIssuer;
let server: LangGraphDev;
let acme: string;
let globex: string;
const acmes = { thread: "", assistant: "" };

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

async function call(token: string | undefined, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await sendRequest(server.url, token, method, path, body, headers);
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** The headers of an answer that do not change from one request to the next. */
const stableHeaders = (answer: Answer) => {
  const headers: [string, string][] = [];
  answer.headers.forEach((value, name) => void (name !== "date" && headers.push([name, value])));
  return headers;
};

beforeAll(async () => {
  issuer = await startLocalIssuer();
  server = await startLangGraphDev({
    env: { ...issuer.env(), AUTH_DECISION_LOG_WINDOW: "2" },
    editConfig: (config) => {
      // A graph that goes through the tenant store and checkpointer (paths relative to the server's folder, as the echo graph's).
      const graphs = config.graphs as Record<string, string>;
      graphs.tenant_state = graphs.echo!.replace("examples/graphs/echo.ts:graph", "test/support/tenant-state-graph.ts:graph");
    },
  });
  acme = await issuer.sign({ sub: "alice", org_id: "acme", scope: ALL_PERMISSIONS });
  globex = await issuer.sign({ sub: "bob", org_id: "globex", scope: ALL_PERMISSIONS });
  const thread = await call(acme, "POST", "/threads", { metadata: { topic: "q3" } });
  expect(thread.status, thread.text).toBe(200);
  acmes.thread = (JSON.parse(thread.text) as { thread_id: string }).thread_id;
  const assistant = await call(acme, "POST", "/assistants", { graph_id: "echo", name: "acme-bot" });
  expect(assistant.status, assistant.text).toBe(200);
  acmes.assistant = (JSON.parse(assistant.text) as { assistant_id: string }).assistant_id;
}, 240_000);

afterAll(async () => {
  await server?.stop();
  await issuer?.close();
});

describe("decision ids back to the client, readable by a browser", () => {
  it.each([
    ["no token (401, authenticate)", () => call(undefined, "POST", "/threads/search", {}, { origin: ORIGIN }), 401, "missing_token", "threads.search"],
    ["the wipe route (404, route guard)", () => call(globex, "POST", "/internal/truncate", {}, { origin: ORIGIN }), 404, "operator_only", "internal.truncate"],
    ["a store read without the permission (403, handler)", async () => call(await issuer.sign({ sub: "bob", org_id: "globex", scope: "threads:read" }), "GET", "/store/items?namespace=globex&key=k", undefined, { origin: ORIGIN }), 403, "insufficient_scope", "store.get"],
    ["a run on another tenant's thread (404, run check)", () => call(globex, "POST", `/threads/${acmes.thread}/runs/wait`, { assistant_id: "echo", input: {} }, { origin: ORIGIN }), 404, "cross_tenant", "threads.runs.wait"],
  ] as const)("%s", async (_, send, status, reason, route) => {
    const answer = await send();
    expect(answer.status).toBe(status);
    const id = answer.headers.get("x-decision-id");
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(answer.text.endsWith(` (decision_id: ${id})`), answer.text).toBe(true);
    expect(answer.headers.get("access-control-allow-origin")).toBe("*");
    const exposed = (answer.headers.get("access-control-expose-headers") ?? "").toLowerCase().split(",");
    // The server's own exposed headers stay; the refusal's are added.
    expect(exposed).toEqual(expect.arrayContaining(["content-location", "x-pagination-total", "www-authenticate", "x-decision-id", "retry-after"]));
    await waitFor(() => server.output().includes(`"decision_id":"${id}"`), `the event of ${id}`);
    expect(decisionById(server.output(), id!)).toMatchObject({ status, reason, route, host: "dev", outcome: "refused" });
  });
});

describe("cross-tenant attempts: on the record, and answered like a resource that exists nowhere", () => {
  const nowhere = "0193f0a1-dead-7000-8000-00000000beef";
  it.each([
    ["read a thread", "GET", (id: string) => `/threads/${id}`, undefined, "threads.get", "threads:read", "thread_id"],
    ["read a thread's state", "GET", (id: string) => `/threads/${id}/state`, undefined, "threads.state.get", "threads:read", "thread_id"],
    ["update a thread", "PATCH", (id: string) => `/threads/${id}`, { metadata: { x: 1 } }, "threads.update", "threads:update", "thread_id"],
    ["delete a thread", "DELETE", (id: string) => `/threads/${id}`, undefined, "threads.delete", "threads:delete", "thread_id"],
    ["read an assistant", "GET", (id: string) => `/assistants/${id}`, undefined, "assistants.get", "assistants:read", "assistant_id"],
    ["update an assistant", "PATCH", (id: string) => `/assistants/${id}`, { metadata: { x: 1 } }, "assistants.update", "assistants:update", "assistant_id"],
    ["delete an assistant", "DELETE", (id: string) => `/assistants/${id}`, undefined, "assistants.delete", "assistants:delete", "assistant_id"],
  ] as const)("%s by id: the server's own 404, byte for byte; only the real one is recorded", async (_, method, path, body, route, event, key) => {
    const target = key === "thread_id" ? acmes.thread : acmes.assistant;
    const foreign = await call(globex, method, path(target), body);
    const missing = await call(globex, method, path(nowhere), body);
    expect(foreign.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(stableHeaders(foreign)).toEqual(stableHeaders(missing));
    expect(foreign.headers.get("x-decision-id")).toBeNull();
    expect(foreign.text.replaceAll(target, "<id>")).toBe(missing.text.replaceAll(nowhere, "<id>"));
    // The server's filter answered; the package looked the id up afterwards (asynchronously).
    const recorded = () => decisionRecordsIn(server.output()).filter(isDecisionEvent).filter((e) => e.resources[key] === target && e.route === route);
    await waitFor(() => recorded().length === 1, `the cross-tenant event of ${route}`);
    expect(recorded()[0]).toMatchObject({
      source: "server_filter", outcome: "refused", status: 404, reason: "cross_tenant", route, event,
      tenant_id: "globex", subject: "bob", target_tenant_id: "acme",
    });
    // Nothing is recorded for the one that exists nowhere (nothing was refused: it does not exist).
    expect(decisionRecordsIn(server.output()).some((r) => isDecisionEvent(r) && JSON.stringify(r.resources).includes(nowhere))).toBe(false);
  });

  it("a run on another tenant's thread: the package answers it like one on a thread that exists nowhere (both with an id), and names it", async () => {
    const foreign = await call(globex, "POST", `/threads/${acmes.thread}/runs/wait`, { assistant_id: "echo", input: {} });
    const missing = await call(globex, "POST", `/threads/${nowhere}/runs/wait`, { assistant_id: "echo", input: {} });
    expect([foreign.status, missing.status]).toEqual([404, 404]);
    const foreignId = foreign.headers.get("x-decision-id")!;
    const missingId = missing.headers.get("x-decision-id")!;
    // Same headers but the id; same body but the id.
    const without = (answer: Answer, id: string) => stableHeaders(answer).map(([name, value]) => [name, value.replace(id, "<decision>")]);
    expect(without(foreign, foreignId)).toEqual(without(missing, missingId));
    expect(foreign.text.replace(foreignId, "<decision>")).toBe(missing.text.replace(missingId, "<decision>"));
    await waitFor(() => server.output().includes(missingId), "both events");
    expect(decisionById(server.output(), foreignId)).toMatchObject({ reason: "cross_tenant", route: "threads.runs.wait", source: "handler", event: "threads:create_run", target_tenant_id: "acme", tenant_id: "globex" });
    expect(decisionById(server.output(), missingId)).toMatchObject({ reason: "not_found", route: "threads.runs.wait", target_tenant_id: null });
  });

  it("a run of another tenant's assistant: the server's own answer for an assistant that exists nowhere, byte for byte (no id), and on the record", async () => {
    // The server answers an unknown assistant id itself, before any handler; the run check copies that answer.
    const before = decisionRecordsIn(server.output()).length;
    const foreign = await call(globex, "POST", "/runs/wait", { assistant_id: acmes.assistant, input: {} });
    const missing = await call(globex, "POST", "/runs/wait", { assistant_id: nowhere, input: {} });
    expect([foreign.status, missing.status]).toEqual([404, 404]);
    expect(stableHeaders(foreign)).toEqual(stableHeaders(missing));
    expect(foreign.headers.get("x-decision-id")).toBeNull();
    expect(foreign.text.replaceAll(acmes.assistant, "<id>")).toBe(missing.text.replaceAll(nowhere, "<id>"));
    await waitFor(() => decisionRecordsIn(server.output()).length > before, "the event");
    const recorded = decisionRecordsIn(server.output()).slice(before).filter(isDecisionEvent);
    expect(recorded).toEqual([
      expect.objectContaining({ reason: "cross_tenant", route: "runs.wait", event: "threads:create_run", resources: { assistant_id: acmes.assistant }, target_tenant_id: "acme", tenant_id: "globex" }),
    ]);
  });
});

describe("route refusals that name another tenant's resource: the owner is looked up, the answer unchanged", () => {
  const nowhere = "0193f0a1-dead-7000-8000-00000000cafe";
  it.each([
    ["a protocol route on a thread", "POST", (t: string) => `/threads/${t}/commands`, { command: "x" }, "protocol.commands", "operator_only", "thread_id"],
    ["a cron on a thread", "POST", (t: string) => `/threads/${t}/runs/crons`, { assistant_id: "echo", schedule: "* * * * *" }, "threads.crons.create", "operator_only", "thread_id"],
    ["a run webhook on a thread", "POST", (t: string) => `/threads/${t}/runs`, { assistant_id: "echo", input: {}, webhook: "https://hooks.example.com/x" }, "threads.runs.create", "run_option_refused", "thread_id"],
    ["delete_threads=true on an assistant", "DELETE", (a: string) => `/assistants/${a}?delete_threads=true`, undefined, "assistants.delete", "operator_only", "assistant_id"],
  ] as const)("%s: target_tenant_id on the record for the foreign id, none for the missing one", async (_, method, path, body, route, reason, key) => {
    const target = key === "thread_id" ? acmes.thread : acmes.assistant;
    const foreign = await call(globex, method, path(target), body);
    const missing = await call(globex, method, path(nowhere), body);
    const foreignId = foreign.headers.get("x-decision-id")!;
    const missingId = missing.headers.get("x-decision-id")!;
    expect(foreignId).toMatch(/^[0-9a-f-]{36}$/);
    expect(missingId).toMatch(/^[0-9a-f-]{36}$/);
    // The same answer (but the decision id) whether the id is another tenant's or nobody's.
    expect(foreign.status).toBe(missing.status);
    const without = (answer: Answer, id: string) => stableHeaders(answer).map(([name, value]) => [name, value.replace(id, "<decision>")]);
    expect(without(foreign, foreignId)).toEqual(without(missing, missingId));
    expect(foreign.text.replace(foreignId, "<decision>")).toBe(missing.text.replace(missingId, "<decision>"));
    await waitFor(() => server.output().includes(foreignId) && server.output().includes(missingId), "both events");
    expect(decisionById(server.output(), foreignId)).toMatchObject({
      source: "authenticate", outcome: "refused", reason, route, resources: { [key]: target }, tenant_id: "globex", subject: "bob", target_tenant_id: "acme",
    });
    expect(decisionById(server.output(), missingId)).toMatchObject({ reason, route, resources: { [key]: nowhere }, target_tenant_id: null });
  });

  it("the caller's own thread through a refused route names no target", async () => {
    const own = await call(acme, "POST", `/threads/${acmes.thread}/commands`, { command: "x" });
    const id = own.headers.get("x-decision-id")!;
    await waitFor(() => server.output().includes(id), "the event");
    expect(decisionById(server.output(), id)).toMatchObject({ reason: "operator_only", tenant_id: "acme", target_tenant_id: null });
  });
});

describe("create by id: an id of another tenant answers 409 (the oracle docs/security-model.md describes), on the record as cross_tenant", () => {
  it("a thread: 409 with if_exists raise or do_nothing, the same answer as the caller's own existing id with raise; recorded once each", async () => {
    const own = await call(globex, "POST", "/threads", { metadata: {} });
    const ownId = (JSON.parse(own.text) as { thread_id: string }).thread_id;
    const fresh = crypto.randomUUID();
    const raise = await call(globex, "POST", "/threads", { thread_id: acmes.thread });
    const doNothing = await call(globex, "POST", "/threads", { thread_id: acmes.thread, if_exists: "do_nothing" });
    const ownRaise = await call(globex, "POST", "/threads", { thread_id: ownId });
    const ownDoNothing = await call(globex, "POST", "/threads", { thread_id: ownId, if_exists: "do_nothing" });
    const created = await call(globex, "POST", "/threads", { thread_id: fresh });
    expect([raise.status, doNothing.status, ownRaise.status, ownDoNothing.status, created.status]).toEqual([409, 409, 409, 200, 200]);
    // Another tenant's id and the caller's own (raise) are answered alike; do_nothing tells them apart (documented).
    expect(raise.text).toBe(ownRaise.text);
    expect(stableHeaders(raise)).toEqual(stableHeaders(ownRaise));
    expect(raise.headers.get("x-decision-id")).toBeNull();
    const recorded = () => decisionRecordsIn(server.output()).filter(isDecisionEvent).filter((e) => e.route === "threads.create" && e.reason === "cross_tenant");
    await waitFor(() => recorded().length >= 2, "the two cross-tenant creates");
    expect(recorded()).toEqual([
      expect.objectContaining({ source: "server_filter", status: 409, event: "threads:create", resources: { thread_id: acmes.thread }, tenant_id: "globex", target_tenant_id: "acme" }),
      expect.objectContaining({ source: "server_filter", status: 409, event: "threads:create", resources: { thread_id: acmes.thread }, tenant_id: "globex", target_tenant_id: "acme" }),
    ]);
    // The caller's own id, and a fresh one, are nobody's refusal.
    expect(decisionRecordsIn(server.output()).some((r) => isDecisionEvent(r) && (r.resources.thread_id === ownId || r.resources.thread_id === fresh))).toBe(false);
  });

  it("a copy of another tenant's thread: 409, on the record as cross_tenant with its tenant", async () => {
    const answer = await call(globex, "POST", `/threads/${acmes.thread}/copy`, {});
    expect(answer.status).toBe(409);
    const recorded = () => decisionRecordsIn(server.output()).filter(isDecisionEvent).filter((e) => e.route === "threads.copy" && e.resources.thread_id === acmes.thread);
    await waitFor(() => recorded().length === 1, "the cross-tenant copy");
    expect(recorded()[0]).toMatchObject({ source: "server_filter", reason: "cross_tenant", status: 409, tenant_id: "globex", target_tenant_id: "acme" });
  });

  it("an assistant: 409, on the record as cross_tenant with its tenant", async () => {
    const answer = await call(globex, "POST", "/assistants", { graph_id: "echo", assistant_id: acmes.assistant, if_exists: "do_nothing" });
    expect(answer.status).toBe(409);
    const recorded = () => decisionRecordsIn(server.output()).filter(isDecisionEvent).filter((e) => e.route === "assistants.create" && e.resources.assistant_id === acmes.assistant);
    await waitFor(() => recorded().length === 1, "the cross-tenant create");
    expect(recorded()[0]).toMatchObject({ source: "server_filter", reason: "cross_tenant", status: 409, event: "assistants:create", tenant_id: "globex", target_tenant_id: "acme" });
  });
});

describe("refusals inside a graph (the tenant checkpointer, on the real server)", () => {
  it("a thread id that breaks the key rule: the run fails, and one runtime event names the reason and the caller, never the id", async () => {
    const thread = await call(globex, "POST", "/threads", {});
    const threadId = (JSON.parse(thread.text) as { thread_id: string }).thread_id;
    // Its own canary: the server may log the run's error, which is not the decision log's to keep clean.
    const marker = `Keycanary${crypto.randomUUID().slice(0, 8)}`;
    const key = `${marker}::stolen`;
    const before = decisionRecordsIn(server.output()).length;
    const run = await call(globex, "POST", `/threads/${threadId}/runs/wait`, {
      assistant_id: "tenant_state",
      input: { messages: [{ role: "human", content: JSON.stringify({ key, text: "x" }) }] },
    });
    // The run ends in the graph's error (the server's answer, not the package's).
    expect(run.text).toContain("InvalidTenantKeyError");
    const recorded = () => decisionRecordsIn(server.output()).slice(before).filter(isDecisionEvent).filter((e) => e.source === "runtime");
    await waitFor(() => recorded().length >= 1, "the in-graph refusal's event");
    expect(recorded()).toEqual([
      expect.objectContaining({ host: "app", source: "runtime", outcome: "refused", status: 400, reason: "invalid_tenant_key", event: "checkpointer", route: null, resources: {}, tenant_id: "globex", subject: "bob" }),
    ]);
    const decisionLines = server.output().split("\n").filter((line) => line.startsWith('{"type":"auth.decision'));
    expect(decisionLines.length).toBeGreaterThan(0);
    expect(decisionLines.join("\n")).not.toContain(marker);
  });
});

describe("a flood of bad tokens", () => {
  it("is bounded (at most 20 lines per window of 2 s, then one aggregate) and counted exactly", async () => {
    const N = 1_000;
    const marker = "flood.bad.token";
    const started = Date.now();
    for (let batch = 0; batch < N / 50; batch++) {
      const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => call(undefined, "POST", "/threads/search", {}, { authorization: `Bearer ${marker}.${batch * 50 + i}` })));
      for (const answer of answers) expect(answer.status).toBe(401);
    }
    const elapsed = Date.now() - started;
    const flood = () => decisionRecordsIn(server.output()).filter((r) => r.reason === "invalid_token" && r.tenant_id === null);
    const counted = () => flood().reduce((sum, r) => sum + (isDecisionAggregate(r) ? r.count : 1), 0);
    // The last window's aggregate is written when the window ends.
    await waitFor(() => counted() === N, `${N} refusals on the record`, { timeoutMs: 30_000 });
    const lines = flood();
    // The bound is per window, so it grows with the windows the flood spanned
    // (more of them on a loaded machine): at most 20 single events and one
    // aggregate per window for this one caller and reason.
    const windows = Math.ceil(elapsed / 2_000) + 1;
    const events = lines.filter(isDecisionEvent);
    const aggregates = lines.filter(isDecisionAggregate);
    expect(events.length).toBeLessThanOrEqual(20 * windows);
    expect(aggregates.length).toBeGreaterThanOrEqual(1);
    expect(aggregates.length).toBeLessThanOrEqual(windows);
    // Everything past the single events is counted in aggregates, not lost.
    expect(aggregates.reduce((sum, r) => sum + (isDecisionAggregate(r) ? r.count : 0), 0)).toBe(N - events.length);
  }, 180_000);
});

describe("never logged, on the real server", () => {
  it("the canary in tokens, claims, headers, cookies and bodies appears nowhere in what the server wrote", async () => {
    const headers = { cookie: `session=${CANARY}`, "x-api-key": CANARY, "user-agent": CANARY, "x-forwarded-for": CANARY };
    const claims = { name: CANARY, email: `${CANARY}@example.com`, note: CANARY };
    const weak = await issuer.sign({ sub: "bob", org_id: "globex", scope: "threads:read", ...claims });
    const full = await issuer.sign({ sub: "bob", org_id: "globex", scope: ALL_PERMISSIONS, ...claims });
    const expired = await issuer.sign({ sub: "bob", org_id: "globex", ...claims }, { expiresIn: -600 });
    const noTenant = await issuer.sign({ sub: "bob", ...claims });
    const before = decisionRecordsIn(server.output()).length;
    const answers = [
      await call(undefined, "POST", "/threads/search", { metadata: { note: CANARY } }, headers),
      await call(undefined, "GET", "/threads/search", undefined, { ...headers, authorization: `${CANARY} abc` }),
      await call(undefined, "POST", "/threads/search", {}, { ...headers, authorization: `Bearer ${CANARY}.${CANARY}.${CANARY}` }),
      await call(expired, "POST", "/threads/search", {}, headers),
      await call(noTenant, "POST", "/threads/search", {}, headers),
      await call(weak, "PUT", "/store/items", { namespace: ["globex"], key: "k", value: { text: CANARY } }, headers),
      await call(full, "PUT", "/store/items", { namespace: ["acme", "notes"], key: "k", value: { text: CANARY } }, headers),
      await call(full, "POST", "/runs/wait", { assistant_id: acmes.assistant, input: { messages: [{ role: "user", content: CANARY }] }, config: { configurable: { api_key: CANARY } } }, headers),
      await call(full, "POST", "/runs/wait", { assistant_id: "echo", input: {}, webhook: `https://${CANARY}.example.com/` }, headers),
      await call(full, "POST", "/threads", `{"metadata":{"x":${"[".repeat(150)}"${CANARY}"${"]".repeat(150)}}}`, headers),
      await call(full, "POST", "/internal/truncate", { threads: false, note: CANARY }, headers),
      await call(full, "GET", `/threads/${acmes.thread}`, undefined, headers),
    ];
    expect(answers.map((a) => a.status)).toEqual([401, 400, 401, 401, 401, 403, 403, 404, 403, 400, 404, 404]);
    // Every one of them is on the record (the last by the server's filter, after the answer).
    await waitFor(() => decisionRecordsIn(server.output()).length >= before + answers.length, "the events of every refusal");
    const output = server.output();
    expect(output.split(CANARY).length - 1, "the server's output contains the canary").toBe(0);
  });
});

describe("AUTH_DECISION_LOG_SINK=audit", () => {
  it("puts the decisions in the audit trail as event records on the caller's chain (_unauthenticated without one), and the file verifies", async () => {
    const dir = await mkdtemp(join(tmpdir(), "decision-audit-"));
    const file = join(dir, "audit.jsonl");
    const audited = await startLangGraphDev({ env: { ...issuer.env(), AUTH_DECISION_LOG_SINK: "audit", AUDIT_LOG_FILE: file } });
    try {
      const url = audited.url;
      const noToken = await fetch(`${url}/threads/search`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
      const wipe = await fetch(`${url}/internal/truncate`, { method: "POST", body: "{}", headers: { "content-type": "application/json", authorization: `Bearer ${globex}` } });
      expect([noToken.status, wipe.status]).toEqual([401, 404]);
      const ids = [noToken.headers.get("x-decision-id"), wipe.headers.get("x-decision-id")];
      await waitFor(async () => ids.every((id) => id !== null) && (await readFile(file, "utf8").catch(() => "")).split("\n").filter(Boolean).length >= 2, "two event records");
      const records = (await readFile(file, "utf8")).trim().split("\n").map((line) => JSON.parse(line) as { v: number; kind: string; tenant_id: string; user_id: string | null; data: Record<string, unknown> });
      expect(records.map((r) => [r.v, r.kind, r.tenant_id, r.user_id, r.data.reason, r.data.decision_id])).toEqual([
        [3, "decision", "_unauthenticated", null, "missing_token", ids[0]],
        [3, "decision", "globex", "bob", "operator_only", ids[1]],
      ]);
      expect((await verifyAuditLogFile(file)).ok).toBe(true);
      // Not on standard error too: one record per decision.
      expect(decisionRecordsIn(audited.output())).toEqual([]);
    } finally {
      await audited.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
