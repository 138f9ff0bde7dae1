/**
 * The support agent through the real `langgraph dev`, the real auth and a
 * real JSON-lines audit file: per-role binding, refusal of a tool call the
 * model emits anyway, an admin's refund, and `verify` on the log.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Client } from "@langchain/langgraph-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditRecord } from "../../src/audit/audit-record.ts";
import { parseAuditLine, verifyAuditLog } from "../../src/audit/verify-audit-chain.ts";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";
import { ALL_PERMISSIONS } from "../support/dev-settings.ts";
import { PROJECT_ROOT, startLangGraphDev, type LangGraphDev } from "../support/langgraph-dev.ts";

let issuer: LocalIssuer;
let server: LangGraphDev;
let dir: string;
let auditFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "support-agent-"));
  auditFile = join(dir, "audit.jsonl");
  issuer = await startLocalIssuer();
  server = await startLangGraphDev({ env: { ...issuer.env(), AUDIT_LOG_FILE: auditFile, SUPPORT_AGENT_MODEL: "scripted" } });
});

afterAll(async () => {
  await server?.stop();
  await issuer?.close();
  await rm(dir, { recursive: true, force: true });
});

async function clientFor(sub: string, roles: string[]): Promise<Client> {
  const token = await issuer.sign({ sub, org_id: "acme", scope: ALL_PERMISSIONS, roles });
  return new Client({ apiUrl: server.url, defaultHeaders: { authorization: `Bearer ${token}` } });
}

interface Message { type: string; content: unknown; status?: string; name?: string; tool_calls?: { name: string }[] }
interface SupportState { messages: Message[]; bound_tools: string[] }

/** One run of the support agent on a new thread: the final state and the run's ids. */
async function ask(client: Client, text: string, configurable?: Record<string, unknown>) {
  const thread = await client.threads.create();
  const run = await client.runs.create(thread.thread_id, "support", {
    input: { messages: [{ role: "user", content: text }] },
    ...(configurable ? { config: { configurable } } : {}),
  });
  await client.runs.join(thread.thread_id, run.run_id);
  const finished = await client.runs.get(thread.thread_id, run.run_id);
  const state = await client.threads.getState<SupportState>(thread.thread_id);
  return { threadId: thread.thread_id, runId: run.run_id, status: finished.status, values: state.values };
}

async function auditRecords(): Promise<AuditRecord[]> {
  const text = await readFile(auditFile, "utf8");
  return text.split("\n").filter(Boolean).map(parseAuditLine);
}

const run = promisify(execFile);
async function verify(file: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run(process.execPath, ["--import", "tsx", "src/cli.ts", "audit", "verify", file], { cwd: PROJECT_ROOT });
    return { code: 0, out: stdout };
  } catch (error) {
    const e = error as { code: number; stderr: string };
    return { code: e.code, out: e.stderr };
  }
}

describe("support agent on langgraph dev", () => {
  it("binds no billing or admin tool for a viewer", async () => {
    const viewer = await clientFor("vera", ["viewer"]);
    const { status, values } = await ask(viewer, "hello, what can you do?");
    expect(status).toBe("success");
    expect(values.bound_tools).toEqual(["search_docs"]);
    expect(values.messages.at(-1)?.content).toBe("I can help with: search_docs.");
  });

  it("refuses the refund a model emits anyway for a viewer: the refund never runs and the refusal is logged", async () => {
    const viewer = await clientFor("vera", ["viewer"]);
    const { status, values, threadId, runId } = await ask(viewer, '/call refund {"invoice_id":"inv_viewer","amount_cents":99900}');
    expect(status).toBe("success");
    expect(values.messages.find((m) => m.type === "ai")?.tool_calls?.map((c) => c.name)).toEqual(["refund"]);
    const toolMessage = values.messages.find((m) => m.type === "tool");
    expect(toolMessage).toMatchObject({ status: "error", name: "refund" });
    expect(String(toolMessage?.content)).toMatch(/not available to this user, so it was not run/);

    // The refund tool writes to the store when it runs; nothing is there.
    expect(await viewer.store.getItem(["acme", "refunds"], "inv_viewer")).toBeNull();

    const refusals = (await auditRecords()).filter((r) => r.thread_id === threadId);
    expect(refusals).toEqual([
      expect.objectContaining({
        tenant_id: "acme", user_id: "vera", thread_id: threadId, run_id: runId, tool: "refund",
        decision: "refused", reason: "the policy does not allow this tool for this user",
      }),
    ]);
  });

  it("ignores a user a client smuggles into the run config", async () => {
    const viewer = await clientFor("vera", ["viewer"]);
    const forged = { identity: "ada", tenant_id: "acme", roles: ["admin"], permissions: [], is_authenticated: true };
    const { values, threadId } = await ask(viewer, '/call refund {"invoice_id":"inv_forged","amount_cents":1}', {
      langgraph_auth_user: forged,
    });
    expect(values.bound_tools).toEqual(["search_docs"]);
    expect(values.messages.find((m) => m.type === "tool")).toMatchObject({ status: "error", name: "refund" });
    expect(await viewer.store.getItem(["acme", "refunds"], "inv_forged")).toBeNull();
    expect((await auditRecords()).filter((r) => r.thread_id === threadId)).toEqual([
      expect.objectContaining({ user_id: "vera", tool: "refund", decision: "refused" }),
    ]);
  });

  it("runs and logs an admin's refund", async () => {
    const admin = await clientFor("ada", ["admin"]);
    const { status, values, threadId, runId } = await ask(admin, "please refund inv_admin1");
    expect(status).toBe("success");
    expect(values.bound_tools).toEqual(["search_docs", "billing_lookup", "refund"]);
    expect(values.messages.find((m) => m.type === "tool")).toMatchObject({ status: "success", content: "refund of 4200 cents on inv_admin1 issued" });
    const item = await admin.store.getItem(["acme", "refunds"], "inv_admin1");
    expect(item?.value).toEqual({ invoice_id: "inv_admin1", amount_cents: 4200, issued_by: "ada" });

    const records = (await auditRecords()).filter((r) => r.thread_id === threadId);
    expect(records).toEqual([
      expect.objectContaining({ tenant_id: "acme", user_id: "ada", run_id: runId, tool: "refund", decision: "started", reason: null }),
      expect.objectContaining({ tenant_id: "acme", user_id: "ada", run_id: runId, tool: "refund", decision: "finished", reason: null }),
    ]);
    expect(records[1]!.call_id).toBe(records[0]!.call_id);
  });

  it("writes a log that verifies, and verify finds an edited, a deleted and a reordered record", async () => {
    expect(await verify(auditFile)).toMatchObject({ code: 0, out: expect.stringMatching(/OK: 4 record\(s\), 1 tenant chain/) });
    const lines = (await readFile(auditFile, "utf8")).trimEnd().split("\n");
    expect(lines).toHaveLength(4);

    const edited = join(dir, "edited.jsonl");
    // Someone hides the refusal: "finished", without the fields only a refusal has (so the record still parses).
    const hidden = lines[0]!.replace('"decision":"refused"', '"decision":"finished"').replace(/"decision_id":"[^"]*",/, "").replace(/"reason_code":"[^"]*",/, "");
    expect(hidden).not.toMatch(/reason_code|decision_id|"refused"/);
    await writeFile(edited, `${hidden}\n${lines[1]}\n`);
    expect(await verify(edited)).toMatchObject({ code: 1, out: expect.stringMatching(/BROKEN at line 1 \(tenant "acme", seq 0\).*edited/) });

    // Deletion and reordering, checked in-process (the CLI runs the same verifier).
    expect(verifyAuditLog(`${lines[0]}\n${lines[2]}\n`).problem).toMatchObject({ line: 2, tenant_id: "acme", seq: 2 });
    expect(verifyAuditLog(`${lines[1]}\n${lines[0]}\n`).problem).toMatchObject({ line: 1, tenant_id: "acme", seq: 1 });
  });
});
