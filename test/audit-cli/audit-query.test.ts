/**
 * `npm run audit -- query` on a real trail: one JSON-lines file written by
 * the real sinks, as a deployment with `AUTH_DECISION_LOG_SINK=audit` and a
 * guarded tool writes it: the decision log's audit sink (decision events on
 * the caller's chain, the flood bound's aggregates among them) and the tool
 * guard (tool-call records, a refused one with its reason code), two
 * writers of one file. Every filter is checked on it, and the incident
 * responder's question: every cross-tenant attempt against acme in the last
 * 24 hours, by caller.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tool } from "@langchain/core/tools";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createAuditLog } from "../../src/audit/audit-log.ts";
import { createJsonLinesSink } from "../../src/audit/json-lines-sink.ts";
import { runAuditCli } from "../../src/audit-cli/run-audit-cli.ts";
import { createAuditDecisionSink } from "../../src/decision/audit-decision-sink.ts";
import type { DecisionInput } from "../../src/decision/decision-event.ts";
import { createDecisionLog } from "../../src/decision/decision-log.ts";
import { NO_METRICS } from "../../src/metrics/create-auth-metrics.ts";
import { createToolPolicy } from "../../src/policy/tool-policy.ts";
import { createToolGuard } from "../../src/runtime/guard-tools.ts";
import { auditCli } from "../support/audit-cli.ts";
import { textSink } from "../support/text-sink.ts";

const HOUR = 3_600_000;
const THREAD = "0193f0a1-0000-7000-8000-0000000000a1";
const ASSISTANT = "0193f0a1-0000-7000-8000-0000000000a2";
const RUN = "0193f0a1-0000-7000-8000-0000000000a3";

let dir: string;
let file: string;

async function query(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = textSink();
  const stderr = textSink();
  const code = await runAuditCli(["query", "--file", file, ...args], {}, { stdout: stdout.stream, stderr: stderr.stream });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

const records = (stdout: string) => stdout.trim().split("\n").filter(Boolean).map((line) => JSON.parse(line) as Record<string, any>);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "audit-query-"));
  file = join(dir, "audit.jsonl");
  const now = Date.now();
  const clock = { t: now - 48 * HOUR };
  // The decision log of AUTH_DECISION_LOG_SINK=audit, with a flood bound of one line per key and window.
  const decisions = createDecisionLog({
    sink: createAuditDecisionSink({ audit: createAuditLog({ sink: createJsonLinesSink({ file }) }), ownsAudit: true }),
    now: () => clock.t,
    flood: { burst: 1, windowMs: 60_000 },
    setTimer: () => ({ cancel() {} }),
  });
  const refuse = (input: Omit<DecisionInput, "outcome">) => decisions.record({ outcome: "refused", ...input });
  const bob = { tenant_id: "globex", subject: "bob" };
  const eve = { tenant_id: "initech", subject: "eve" };

  // Two days ago: eve tried acme's assistant (outside "the last 24 hours").
  refuse({ host: "dev", source: "handler", status: 404, reason: "cross_tenant", route: "runs.wait", event: "threads:create_run", resources: { assistant_id: ASSISTANT, tenant_id: "acme" }, caller: eve });
  decisions.flush();
  // An hour ago: bob reads acme's thread, then probes acme's store 40 times (burst 1: one line, then an aggregate of 39).
  clock.t = now - HOUR;
  refuse({ host: "dev", source: "server_filter", status: 404, reason: "cross_tenant", route: "threads.get", event: "threads:read", resources: { thread_id: THREAD, tenant_id: "acme" }, caller: bob });
  for (let i = 0; i < 40; i++) {
    refuse({ host: "dev", source: "handler", status: 403, reason: "cross_tenant", route: "store.put", event: "store:put", resources: { namespace: ["acme", "notes"], tenant_id: "acme" }, caller: bob });
  }
  // eve against acme's run, bob against initech, alice refused in her own tenant, three bad tokens.
  refuse({ host: "dev", source: "authenticate", status: 404, reason: "cross_tenant", route: "runs.join", resources: { run_id: RUN, tenant_id: "acme" }, caller: eve });
  refuse({ host: "dev", source: "handler", status: 403, reason: "cross_tenant", route: "store.put", event: "store:put", resources: { namespace: ["initech", "x"], tenant_id: "initech" }, caller: bob });
  refuse({ host: "dev", source: "handler", status: 403, reason: "insufficient_scope", route: "threads.get", event: "threads:read", resources: { thread_id: THREAD }, caller: { tenant_id: "acme", subject: "alice" } });
  for (let i = 0; i < 3; i++) refuse({ host: "dev", source: "authenticate", status: 401, reason: "invalid_token", route: "threads.search" });
  await decisions.close();

  // The tool guard on the same file: alice's allowed call in acme's thread, and a refused one.
  const audit = createAuditLog({ sink: createJsonLinesSink({ file }) });
  const guard = createToolGuard({ policy: createToolPolicy({ everyone: ["search_docs"] }), audit, decisions: createDecisionLog({ mode: "off" }), metrics: NO_METRICS });
  const tools = [
    tool(async () => "docs", { name: "search_docs", description: "search", schema: z.object({ query: z.string() }) }),
    tool(async () => "refunded", { name: "refund", description: "refund", schema: z.object({ note: z.string() }) }),
  ];
  const config = { configurable: { thread_id: THREAD, run_id: RUN, langgraph_auth_user: { identity: "alice", tenant_id: "acme", permissions: [], roles: ["viewer"], is_authenticated: true } } };
  expect((await guard.invoke(tools, { name: "search_docs", args: { query: "q" }, id: "call_1", type: "tool_call" }, config)).status).not.toBe("error");
  expect((await guard.invoke(tools, { name: "refund", args: { note: "n" }, id: "call_2", type: "tool_call" }, config)).status).toBe("error");
  await audit.close();
}, 60_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("audit query on a trail written by the decision log's audit sink and the tool guard", () => {
  it("the trail verifies (both writers, every chain)", async () => {
    const verified = await auditCli({}, "verify", file);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/4 tenant chain\(s\)/);
  });

  it("incident response: every cross-tenant attempt against acme in the last 24 hours, by caller (npm run audit)", async () => {
    const result = await auditCli({}, "query", "--target-tenant", "acme", "--reason", "cross_tenant", "--since", "24h", "--count-by", "caller", "--file", file);
    expect(result.code, result.stderr).toBe(0);
    // bob: the thread, then 40 store probes (1 line + an aggregate of 39); eve: the run (her attempt 2 days ago is out).
    expect(result.stdout).toBe("globex/bob 41\ninitech/eve 1\n");
    // The same records as JSON lines: on the callers' chains, each naming acme as the target. bob's
    // store probes of acme and his one of initech share a key (a tenant the client wrote keys no
    // aggregate): one aggregate of 40, which counts 39 against acme.
    const lines = records((await query("--target-tenant", "acme", "--reason", "cross_tenant", "--since", "24h")).stdout);
    // (Each chain keeps its order; appends of different tenants do not wait for each other.)
    expect(lines.map((r) => [r.tenant_id, r.user_id, r.data.type, r.data.count ?? 1]).sort()).toEqual([
      ["globex", "bob", "auth.decision", 1],
      ["globex", "bob", "auth.decision", 1],
      ["globex", "bob", "auth.decision.aggregate", 40],
      ["initech", "eve", "auth.decision", 1],
    ]);
    for (const record of lines) {
      if (record.data.type === "auth.decision") expect(record).toMatchObject({ v: 3, kind: "decision", data: { target_tenant_id: "acme" } });
      else expect(record).toMatchObject({ v: 3, kind: "decision", data: { target_tenant_id: null, target_counts: { acme: 39, initech: 1 } } });
    }
    // By target: the aggregate is split per tenant it counted.
    expect((await query("--target-tenant", "acme", "--reason", "cross_tenant", "--since", "24h", "--count-by", "target-tenant")).stdout).toBe("acme 42\n");
    // Not on acme's own chain: --tenant acme finds alice's own records only.
    const acmeChain = records((await query("--tenant", "acme")).stdout);
    expect(new Set(acmeChain.map((r) => r.user_id))).toEqual(new Set(["alice"]));
  });

  it("--tenant with --subject and --reason; --since and --until", async () => {
    const bob = records((await query("--tenant", "globex", "--subject", "bob", "--reason", "cross_tenant")).stdout);
    expect(bob.map((r) => r.data.target_tenant_id)).toEqual(["acme", "acme", null]);
    expect(bob[2]!.data).toMatchObject({ type: "auth.decision.aggregate", count: 40, target_counts: { acme: 39, initech: 1 } });
    expect(records((await query("--tenant", "initech", "--until", "24h")).stdout).map((r) => r.data.resources)).toEqual([{ assistant_id: ASSISTANT }]);
    expect((await query("--tenant", "nobody")).stdout).toBe("");
  });

  it("--resource: an id in a decision's resources or a tool call's thread and run, and a store namespace with dots", async () => {
    const thread = records((await query("--all-tenants", "--resource", THREAD)).stdout);
    expect(thread.map((r) => (r.v === 3 ? `decision ${r.data.reason}` : `tool ${r.tool} ${r.decision}`)).sort()).toEqual([
      "decision cross_tenant",
      "decision insufficient_scope",
      "tool refund refused",
      "tool search_docs finished",
      "tool search_docs started",
    ]);
    expect(records((await query("--all-tenants", "--resource", ASSISTANT)).stdout)).toHaveLength(1);
    expect(records((await query("--all-tenants", "--resource", RUN)).stdout).map((r) => r.v === 3 ? r.data.route : r.tool)).toEqual(["runs.join", "search_docs", "search_docs", "refund"]);
    // The namespace's first probe as a line of its own, and the aggregate of the other 39, which counts it by resource.
    expect(records((await query("--tenant", "globex", "--resource", "acme.notes")).stdout).map((r) => [r.data.type, r.data.count ?? 1])).toEqual([
      ["auth.decision", 1],
      ["auth.decision.aggregate", 40],
    ]);
  });

  it("--kind and --reason on tool-call records (their reason_code) and on decisions", async () => {
    const refused = records((await query("--tenant", "acme", "--kind", "tool_call", "--reason", "tool_not_allowed")).stdout);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ v: 2, tool: "refund", decision: "refused", reason_code: "tool_not_allowed", decision_id: expect.any(String) });
    expect(records((await query("--tenant", "acme", "--kind", "tool_call")).stdout)).toHaveLength(3);
    expect(records((await query("--tenant", "acme", "--kind", "decision")).stdout).map((r) => r.data.reason)).toEqual(["insufficient_scope"]);
    // A refusal before verification is on the _unauthenticated chain; --count-by counts it by reason.
    expect((await query("--tenant", "_unauthenticated", "--count-by", "reason")).stdout).toBe("invalid_token 3\n");
    expect((await query("--all-tenants", "--reason", "cross_tenant", "--count-by", "target-tenant")).stdout).toBe("acme 43\ninitech 1\n");
    expect((await query("--all-tenants", "--count-by", "kind")).stdout).toBe("decision 48\ntool_call 3\n");
  });

  it("refuses what it cannot answer: no chain, both a chain and --all-tenants, unknown reasons, kinds and groupings", async () => {
    for (const [args, message] of [
      [["--reason", "cross_tenant"], /query needs --tenant, --target-tenant or --all-tenants/],
      [["--all-tenants", "--tenant", "acme"], /--all-tenants searches every chain/],
      [["--tenant", "acme", "--reason", "cross-tenant"], /--reason is not a reason code \(see REFUSAL_REASONS/],
      [["--tenant", "acme", "--kind", "tool"], /--kind must be one of tool_call, decision, offboarding/],
      [["--tenant", "acme", "--count-by", "route"], /--count-by must be one of caller, tenant, subject, reason, target-tenant, kind/],
      [["--tenant", "acme", "--since", "yesterday"], /--since must be an ISO 8601 date or date-time, or a time ago/],
      [["--tenant", ""], /--tenant must not be empty/],
    ] as const) {
      const result = await query(...args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr).toMatch(message);
    }
  });
});

describe("--count-by prints one line per value, whatever the value holds", () => {
  it("a subject with a newline or an ANSI escape is shown escaped: it cannot forge a line of the count", async () => {
    const forgedFile = join(dir, "forged.jsonl");
    const decisions = createDecisionLog({ sink: createAuditDecisionSink({ audit: createAuditLog({ sink: createJsonLinesSink({ file: forgedFile }) }), ownsAudit: true }) });
    const subject = "mallory 1\nglobex/bob 1000\u001b[2K";
    decisions.record({ host: "dev", source: "handler", outcome: "refused", status: 404, reason: "cross_tenant", resources: { thread_id: THREAD, tenant_id: "acme" }, caller: { tenant_id: "globex", subject } });
    await decisions.close();
    const stdout = textSink();
    const stderr = textSink();
    const code = await runAuditCli(["query", "--file", forgedFile, "--target-tenant", "acme", "--count-by", "caller"], {}, { stdout: stdout.stream, stderr: stderr.stream });
    expect(code, stderr.text()).toBe(0);
    expect(stdout.text()).toBe("globex/mallory 1\\u000aglobex/bob 1000\\u001b[2K 1\n");
  });
});
