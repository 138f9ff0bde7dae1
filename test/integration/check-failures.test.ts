/**
 * A check that throws something that is not a refusal, on the real
 * `langgraph dev` (test/platform/check-failures.test.ts does the same on the
 * platform worker stand-in). Without the conversion, the dev server answers
 * such an error with a bare `500 Internal Server Error` and prints it, with
 * its message, on its standard error (Hono's default error handler); with
 * it, the client gets a coded 500 with a fixed message and its decision id
 * (`X-Decision-Id`, end of the body), the event says `internal_error`
 * (outcome `error`), and the original is written nowhere.
 *
 * The `Auth` is test/fixtures/faulty-checks-auth.ts, wired into the copied
 * `langgraph.json` in place of `src/auth.ts`.
 */
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DecisionEvent } from "../../src/decision/decision-event.ts";
import { ALL_PERMISSIONS } from "../support/dev-settings.ts";
import { decisionById } from "../support/decision-events.ts";
import { startLangGraphDev, type LangGraphDev } from "../support/langgraph-dev.ts";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";
import { waitFor } from "../support/wait-for.ts";

const FAILED = "server_error: the authorization check failed; the request was refused";
/** The password in the fixture's `SECRET`, which every failure's message carries (not imported: the fixture builds an Auth at import). */
const SECRET_PART = "hunter2";

let issuer: LocalIssuer;
let server: LangGraphDev;
let alice: string;

beforeAll(async () => {
  issuer = await startLocalIssuer();
  const fixture = relative(fileURLToPath(new URL("../../.tmp/lg-dev-x/", import.meta.url)), fileURLToPath(new URL("../fixtures/faulty-checks-auth.ts", import.meta.url)));
  server = await startLangGraphDev({
    env: issuer.env(),
    editConfig: (config) => {
      config.auth = { path: `./${fixture}:auth`, disable_studio_auth: true };
    },
  });
  alice = await issuer.sign({ sub: "alice", org_id: "acme", scope: ALL_PERMISSIONS });
}, 240_000);

afterAll(async () => {
  await server?.stop();
  await issuer?.close();
});

/** Send, and hold the answer to the coded 500 and its event. */
async function failed(path: string, init: { fault?: string; body: unknown }): Promise<DecisionEvent> {
  const response = await fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${alice}`, "content-type": "application/json", ...(init.fault ? { "x-fault": init.fault } : {}) },
    body: JSON.stringify(init.body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  expect(response.status, text).toBe(500);
  const id = response.headers.get("x-decision-id");
  expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  expect(text).toBe(`${FAILED} (decision_id: ${id})`);
  await waitFor(() => server.output().includes(`"decision_id":"${id}"`), `the event of ${id}`, { timeoutMs: 15_000 });
  const event = decisionById(server.output(), id!);
  expect(event).toMatchObject({ host: "dev", outcome: "error", status: 500, reason: "internal_error" });
  return event;
}

describe("on langgraph dev, an error inside a check is a coded 500 with its decision id, never the original", () => {
  it("the route guard throws a plain Error (authenticate)", async () => {
    const event = await failed("/threads/search", { fault: "guard-throws", body: {} });
    expect(event).toMatchObject({ source: "authenticate", route: "threads.search", tenant_id: "acme", subject: "alice" });
  });

  it("the authenticator rejects with an Error whose name is empty (authenticate)", async () => {
    const event = await failed("/threads/search", { fault: "authenticator-rejects-nameless", body: {} });
    expect(event).toMatchObject({ source: "authenticate", route: "threads.search", tenant_id: null, subject: null });
  });

  it("the run check rejects with a plain Error (the threads:create_run handler)", async () => {
    const event = await failed("/runs/wait", { body: { assistant_id: "echo", input: { messages: [] }, metadata: { fault: "raw" } } });
    expect(event).toMatchObject({ source: "handler", route: "runs.wait", event: "threads:create_run", tenant_id: "acme", subject: "alice" });
  });

  it("the original message is nowhere in what the server wrote", () => {
    expect(server.output()).not.toContain(SECRET_PART);
  });
});
