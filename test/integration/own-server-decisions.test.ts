/**
 * Host `js`: your own program starts the LangGraph JS server with
 * `startServer` and this package's `Auth` (test/support/own-server.ts). The
 * same wrappers record the same decisions there: a refusal's decision id
 * comes back, a cross-tenant read that the server's filter answers is on the
 * record as such, with `host: "js"`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALL_PERMISSIONS } from "../support/dev-settings.ts";
import { decisionById, decisionRecordsIn, isDecisionEvent } from "../support/decision-events.ts";
import { PROJECT_ROOT } from "../support/langgraph-dev.ts";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";
import { waitFor } from "../support/wait-for.ts";

let issuer: LocalIssuer;
let child: ChildProcess;
let dir: string;
let url: string;
let output = "";

beforeAll(async () => {
  issuer = await startLocalIssuer();
  await mkdir(join(PROJECT_ROOT, ".tmp"), { recursive: true });
  dir = await mkdtemp(join(PROJECT_ROOT, ".tmp", "own-server-"));
  child = spawn(process.execPath, ["--import", "tsx", "test/support/own-server.ts", dir], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...issuer.env(), AUTH_SERVER: "js", LANGGRAPH_CLI_NO_ANALYTICS: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const port = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      output += `${line}\n`;
      const found = /^PORT (\d+)$/.exec(line);
      if (found) resolve(found[1]!);
    });
    child.once("exit", (code) => reject(new Error(`the server exited with ${code}:\n${output}`)));
  });
  url = `http://127.0.0.1:${port}`;
}, 180_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }
  await issuer?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const call = async (token: string | undefined, method: string, path: string, body?: unknown) => {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, id: response.headers.get("x-decision-id"), text: await response.text() };
};

describe("your own startServer (host js)", () => {
  it("records refusals with host js, sends their id back, and names a cross-tenant read the server's filter answered", async () => {
    const acme = await issuer.sign({ sub: "alice", org_id: "acme", scope: ALL_PERMISSIONS });
    const globex = await issuer.sign({ sub: "bob", org_id: "globex", scope: ALL_PERMISSIONS });
    expect(output).toContain("langgraph-tenant-auth: host=js (AUTH_SERVER)");
    const thread = JSON.parse((await call(acme, "POST", "/threads", {})).text) as { thread_id: string };

    const none = await call(undefined, "POST", "/threads/search", {});
    expect(none.status).toBe(401);
    await waitFor(() => output.includes(`"decision_id":"${none.id}"`), "the 401's event");
    expect(decisionById(output, none.id!)).toMatchObject({ host: "js", source: "authenticate", reason: "missing_token", route: "threads.search" });

    const run = await call(globex, "POST", `/threads/${thread.thread_id}/runs/wait`, { assistant_id: "echo", input: {} });
    expect(run.status).toBe(404);
    await waitFor(() => output.includes(`"decision_id":"${run.id}"`), "the run's event");
    expect(decisionById(output, run.id!)).toMatchObject({ host: "js", source: "handler", reason: "cross_tenant", target_tenant_id: "acme" });

    const read = await call(globex, "GET", `/threads/${thread.thread_id}`);
    expect(read.status).toBe(404);
    expect(read.id).toBeNull();
    const filtered = () => decisionRecordsIn(output).filter(isDecisionEvent).filter((e) => e.source === "server_filter");
    await waitFor(() => filtered().length === 1, "the server filter's event");
    expect(filtered()[0]).toMatchObject({ host: "js", reason: "cross_tenant", route: "threads.get", tenant_id: "globex", subject: "bob", target_tenant_id: "acme" });
  });
});
