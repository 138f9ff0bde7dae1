/**
 * `npm run bench:audit`: what the audit trail and the tool guard cost.
 * Prints two tables; numbers depend on the machine and its disk.
 *
 * Every row is measured in each of BENCH_AUDIT_ROUNDS rounds (default 5),
 * the rows in a rotating order; a row's µs/op is the median round, with the
 * spread (min–max) beside it, in wall time and in this process's CPU time.
 * The guard's target (issue 20 §5: a guarded, audited call at most 1.5× an
 * unguarded ToolNode) is judged on interleaved slices: in every round,
 * slices of unguarded and guarded calls alternate, so both see the same
 * machine, and the ratio is taken per round.
 *
 * BENCH_SMOKE=1: a tiny run (a few operations per row, one round) that
 * still prints both tables, so a test can check that the bench starts.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AIMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { ToolNode } from "@langchain/langgraph/prebuilt";
import { z } from "zod";
import { nodeAuditFileSystem, type AuditFileSystem } from "../src/audit/audit-file.ts";
import { digestArguments, type AuditEntry } from "../src/audit/audit-record.ts";
import { createAuditLog, type AuditLog } from "../src/audit/audit-log.ts";
import { createJsonLinesSink } from "../src/audit/json-lines-sink.ts";
import { createToolGuard } from "../src/runtime/guard-tools.ts";
import { createToolPolicy } from "../src/policy/tool-policy.ts";
import { markdownTable } from "./lib/markdown-table.ts";

const SMOKE = process.env.BENCH_SMOKE === "1";
const ROUNDS = SMOKE ? 1 : Math.max(1, Number(process.env.BENCH_AUDIT_ROUNDS ?? 5));
/** Operations per row and round (fsync rows a tenth). */
const OPS = SMOKE ? 20 : Math.max(100, Number(process.env.BENCH_AUDIT_OPS ?? 2000));
/** Guard rounds: alternating slices of this many calls each. */
const SLICE = SMOKE ? 10 : 200;
const SLICES = SMOKE ? 2 : 10;

const dir = await mkdtemp(join(tmpdir(), "bench-audit-"));

/** The real file system, counting writes and syncs (to show how many records one sync carries). */
function countingFileSystem(): { fileSystem: AuditFileSystem; counts: { writes: number; syncs: number } } {
  const counts = { writes: 0, syncs: 0 };
  const fileSystem: AuditFileSystem = {
    async open(path, flags, mode) {
      const handle = await nodeAuditFileSystem.open(path, flags, mode);
      return {
        ...handle,
        writeSync: (buffer, offset, length) => ((counts.writes += 1), handle.writeSync!(buffer, offset, length)),
        datasync: () => ((counts.syncs += 1), handle.datasync()),
      };
    },
  };
  return { fileSystem, counts };
}

let n = 0;
const entry = (tenant = "acme"): AuditEntry => ({
  time: new Date().toISOString(), tenant_id: tenant, user_id: "u1", thread_id: "t1", run_id: "r1", tool: "search_docs",
  tool_call_id: `c${n}`, decision: "allowed", reason: null, duration_ms: 0.1, args_sha256: digestArguments({ i: n++ }),
});

/** Run `ops` operations, `parallel` at a time; wall and CPU µs per operation. */
async function measure(ops: number, fn: () => Promise<unknown>, parallel = 1): Promise<{ wall: number; cpu: number }> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < ops; i += parallel) await Promise.all(Array.from({ length: Math.min(parallel, ops - i) }, fn));
  const wall = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { wall: (wall * 1000) / ops, cpu: (used.user + used.system) / ops };
}

interface Row {
  name: string;
  ops: number;
  run: () => Promise<{ wall: number; cpu: number }>;
  counts?: { writes: number; syncs: number };
  records?: () => number;
  wall: number[];
  cpu: number[];
}

const logs: AuditLog[] = [];
function fileLog(name: string, options: { fsync?: boolean; chainKey?: string } = {}) {
  const { fileSystem, counts } = countingFileSystem();
  const log = createAuditLog({ sink: createJsonLinesSink({ file: join(dir, name), fileSystem, ...options }), chainKey: options.chainKey });
  logs.push(log);
  return { log, counts };
}

const rows: Row[] = [];
function row(name: string, ops: number, make: () => { log: AuditLog; counts: Row["counts"] }, parallel = 1, tenants = 1) {
  const { log, counts } = make();
  let written = 0;
  rows.push({
    name, ops, counts, wall: [], cpu: [], records: () => written,
    run: async () => {
      const result = await measure(ops, () => (written++, log.record(entry(tenants === 1 ? "acme" : `t${n % tenants}`))), parallel);
      return result;
    },
  });
}
row("JSON-lines file, 1 tenant, sequential", OPS, () => fileLog("plain.jsonl"));
row("JSON-lines file, 8 tenants, 32 in flight", OPS, () => fileLog("busy.jsonl"), 32, 8);
row("JSON-lines file, keyed (HMAC), sequential", OPS, () => fileLog("keyed.jsonl", { chainKey: "k".repeat(32) }));
row("JSON-lines file, fsync, sequential", Math.ceil(OPS / 10), () => fileLog("fsync.jsonl", { fsync: true }));
row("JSON-lines file, fsync, 8 tenants, 32 in flight", Math.ceil(OPS / 10), () => fileLog("fsync-busy.jsonl", { fsync: true }), 32, 8);

// The guard: a ToolNode with a no-op tool, unguarded and guarded (write-ahead: started, then outcome).
const noop = tool(async ({ q }) => q, { name: "search_docs", description: "noop", schema: z.object({ q: z.string() }) });
const user = { identity: "u1", tenant_id: "acme", permissions: [], roles: [] };
const config = { configurable: { thread_id: "t1", run_id: "r1", langgraph_auth_user: user } };
const call = () => ({ messages: [new AIMessage({ content: "", tool_calls: [{ name: "search_docs", args: { q: `x${n++}` }, id: `c${n}`, type: "tool_call" as const }] })] });
const bare = new ToolNode([noop]);
const guarded = createToolGuard({ policy: createToolPolicy({ everyone: ["search_docs"] }), audit: fileLog("guard.jsonl").log }).createToolNode([noop]);
const guard = { bare: { wall: [] as number[], cpu: [] as number[] }, guarded: { wall: [] as number[], cpu: [] as number[] }, ratioWall: [] as number[], ratioCpu: [] as number[] };

// Warm-up: every path once at some length (JIT, the files opened and verified).
for (const r of rows) await measure(Math.min(200, r.ops), () => r.run().then(() => undefined));
for (let i = 0; i < (SMOKE ? 5 : 300); i++) await bare.invoke(call(), config), await guarded.invoke(call(), config);
for (const r of rows) if (r.counts) (r.counts.writes = 0), (r.counts.syncs = 0);
const recordsAtStart = new Map(rows.map((r) => [r, r.records!()]));

for (let round = 0; round < ROUNDS; round++) {
  const order = rows.map((_, i) => rows[(i + round) % rows.length]!);
  for (const r of order) {
    const { wall, cpu } = await r.run();
    r.wall.push(wall);
    r.cpu.push(cpu);
  }
  // Interleaved slices: bare, guarded, bare, guarded …
  const sums = { bare: { wall: 0, cpu: 0 }, guarded: { wall: 0, cpu: 0 } };
  for (let s = 0; s < SLICES; s++) {
    for (const [name, node] of (s % 2 === 0 ? [["bare", bare], ["guarded", guarded]] : [["guarded", guarded], ["bare", bare]]) as [keyof typeof sums, ToolNode][]) {
      const { wall, cpu } = await measure(SLICE, () => node.invoke(call(), config));
      sums[name].wall += wall / SLICES;
      sums[name].cpu += cpu / SLICES;
    }
  }
  guard.bare.wall.push(sums.bare.wall);
  guard.bare.cpu.push(sums.bare.cpu);
  guard.guarded.wall.push(sums.guarded.wall);
  guard.guarded.cpu.push(sums.guarded.cpu);
  guard.ratioWall.push(sums.guarded.wall / sums.bare.wall);
  guard.ratioCpu.push(sums.guarded.cpu / sums.bare.cpu);
}

await Promise.all(logs.map((log) => log.close()));
await rm(dir, { recursive: true, force: true });

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const us = (values: number[]) => median(values).toFixed(values.some((v) => v < 10) ? 1 : 0);
const spread = (values: number[], digits = 0) => `${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}`;
const times = (values: number[]) => `${median(values).toFixed(2)}× (${spread(values, 2)})`;

console.log(`Audit trail, ${ROUNDS} round(s); µs per record: median round (min–max)${SMOKE ? " — BENCH_SMOKE: a tiny run, not a measurement" : ""}\n`);
console.log(markdownTable(
  ["case", "records/round", "wall µs/record", "spread", "CPU µs/record", "records per write", "records per sync"],
  rows.map((r) => {
    const records = r.records!() - recordsAtStart.get(r)!;
    return [
      r.name, String(r.ops), us(r.wall), spread(r.wall), us(r.cpu),
      r.counts && r.counts.writes > 0 ? (records / r.counts.writes).toFixed(1) : "-",
      r.counts && r.counts.syncs > 0 ? (records / r.counts.syncs).toFixed(1) : "-",
    ];
  }),
));
console.log(`\nTool guard: ToolNode with a no-op tool, ${SLICES} alternating slices of ${SLICE} calls per round; guarded = write-ahead audit (started, then outcome) to a JSON-lines file, multi-writer lock on\n`);
console.log(markdownTable(
  ["case", "wall µs/call", "spread", "CPU µs/call", "spread", "wall ÷ unguarded", "CPU ÷ unguarded"],
  [
    ["ToolNode, no guard (baseline)", us(guard.bare.wall), spread(guard.bare.wall), us(guard.bare.cpu), spread(guard.bare.cpu), "1.00×", "1.00×"],
    ["ToolNode, guarded + audited", us(guard.guarded.wall), spread(guard.guarded.wall), us(guard.guarded.cpu), spread(guard.guarded.cpu), times(guard.ratioWall), times(guard.ratioCpu)],
  ],
));
process.exit(0);
