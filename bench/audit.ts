/**
 * `npm run bench:audit`: what the audit trail and the tool guard cost.
 * Prints a table; numbers depend on the machine and its disk.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AIMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { ToolNode } from "@langchain/langgraph/prebuilt";
import { z } from "zod";
import { digestArguments, type AuditEntry } from "../src/audit/audit-record.ts";
import { createAuditLog } from "../src/audit/audit-log.ts";
import { createJsonLinesSink } from "../src/audit/json-lines-sink.ts";
import { createToolGuard } from "../src/runtime/guard-tools.ts";
import { createToolPolicy } from "../src/policy/tool-policy.ts";

const dir = await mkdtemp(join(tmpdir(), "bench-audit-"));
const rows: { case: string; ops: number; "ops/s": number; "µs/op": number }[] = [];

async function measure(name: string, ops: number, fn: (i: number) => Promise<unknown>, parallel = 1) {
  for (let i = 0; i < Math.min(200, ops); i++) await fn(i); // warm-up
  const start = performance.now();
  for (let i = 0; i < ops; i += parallel) {
    await Promise.all(Array.from({ length: Math.min(parallel, ops - i) }, (_, j) => fn(i + j)));
  }
  const ms = performance.now() - start;
  rows.push({ case: name, ops, "ops/s": Math.round((ops / ms) * 1000), "µs/op": Math.round((ms * 1000) / ops) });
}

const entry = (i: number, tenant = "acme"): AuditEntry => ({
  time: new Date().toISOString(), tenant_id: tenant, user_id: "u1", thread_id: "t1", run_id: "r1", tool: "search_docs",
  tool_call_id: `c${i}`, decision: "allowed", reason: null, duration_ms: 0.1, args_sha256: digestArguments({ i }),
});

const plain = createAuditLog({ sink: createJsonLinesSink({ file: join(dir, "plain.jsonl") }) });
await measure("JSON-lines file, 1 tenant, sequential", 5000, (i) => plain.record(entry(i)));
await measure("JSON-lines file, 8 tenants, 32 in flight", 5000, (i) => plain.record(entry(i, `t${i % 8}`)), 32);
const keyed = createAuditLog({ sink: createJsonLinesSink({ file: join(dir, "keyed.jsonl"), chainKey: "k".repeat(32) }), chainKey: "k".repeat(32) });
await measure("JSON-lines file, keyed (HMAC)", 5000, (i) => keyed.record(entry(i)));
const synced = createAuditLog({ sink: createJsonLinesSink({ file: join(dir, "fsync.jsonl"), fsync: true }) });
await measure("JSON-lines file, fsync per record", 500, (i) => synced.record(entry(i)));

const noop = tool(async ({ q }) => q, { name: "search_docs", description: "noop", schema: z.object({ q: z.string() }) });
const guard = createToolGuard({ policy: createToolPolicy({ everyone: ["search_docs"] }), audit: plain });
const user = { identity: "u1", tenant_id: "acme", permissions: [], roles: [] };
const config = { configurable: { thread_id: "t1", run_id: "r1", langgraph_auth_user: user } };
const call = (i: number) => ({ messages: [new AIMessage({ content: "", tool_calls: [{ name: "search_docs", args: { q: `x${i}` }, id: `c${i}`, type: "tool_call" as const }] })] });
const bare = new ToolNode([noop]);
const guarded = guard.createToolNode([noop]);
await measure("ToolNode, no guard (baseline)", 3000, (i) => bare.invoke(call(i), config));
await measure("ToolNode, guarded + audited", 3000, (i) => guarded.invoke(call(i), config));

await Promise.all([plain.close(), keyed.close(), synced.close()]);
await rm(dir, { recursive: true, force: true });
console.table(rows);
