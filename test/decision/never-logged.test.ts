/**
 * Never logged: the token, the Authorization header or any other header
 * value, cookies, request bodies, and claims other than the configured
 * tenant and subject claims.
 *
 * Every refusal path (refusal-paths.ts: the `Auth` on `dev` and `platform`,
 * the Hono middleware, the tool guard, the runtime checks) is driven with the
 * canary in tokens (garbage tokens, a `kid`, claims `name`, `email` and a
 * custom one, a tenant claim that breaks the rule), in other headers and
 * cookies, and in bodies; with every decision logged (`all`) and a flood
 * bound of 1 so aggregates are written too. Then everything written is
 * searched: this process's standard output and standard error, every
 * `console` method's output (vitest routes `console.*` around the process's
 * streams, so each method is wrapped as well), the audit trail the decisions
 * go to, and the tool guard's audit trail. The canary
 * must appear zero times, and each output must hold what it should (so the
 * search cannot pass by finding nothing at all).
 *
 * Every wrapper also records into the real OpenTelemetry SDK (an in-memory
 * exporter), with the opt-in tenant label on, so the metric names, units,
 * descriptions and every attribute key and value are searched too. The
 * package adds no spans, so there are no span attributes to search.
 *
 * To search more outputs, add a reader to OUTPUTS: each is read after the
 * paths ran.
 * test/integration/decision-log.test.ts does the same against the real
 * `langgraph dev` (its whole standard output and error).
 */
import { readFile } from "node:fs/promises";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { format } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuditLog } from "../../src/audit/audit-log.ts";
import { createJsonLinesSink } from "../../src/audit/json-lines-sink.ts";
import { createAuditDecisionSink } from "../../src/decision/audit-decision-sink.ts";
import { createDecisionLog } from "../../src/decision/decision-log.ts";
import { createStderrDecisionSink } from "../../src/decision/stderr-decision-sink.ts";
import { createAuthMetrics } from "../../src/metrics/create-auth-metrics.ts";
import { METRIC_ATTRIBUTES as A } from "../../src/metrics/metric-names.ts";
import { metricText, startInMemoryMetrics, valueOf, type CollectedMetric, type InMemoryMetrics } from "../support/otel-metrics.ts";
import { createRefusalWorld, refusalPaths, type RefusalWorld } from "./refusal-paths.ts";

/** Letters only: it also passes as an Authorization scheme and a token68 token. */
const CANARY = `Canary${Array.from({ length: 12 }, () => String.fromCharCode(97 + Math.floor(Math.random() * 26))).join("")}`;

let world: RefusalWorld;
let dir: string;
let otel: InMemoryMetrics;
let collected: CollectedMetric[];
let stdout = "";
let stderr = "";
let consoled = "";
const restore: (() => void)[] = [];

/** Keep a copy of everything this process writes to a stream (and write nothing: the lines are searched, not shown). */
function capture(stream: NodeJS.WriteStream, keep: (text: string) => void): void {
  const original = stream.write;
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    keep(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
    const done = rest.find((r) => typeof r === "function") as (() => void) | undefined;
    done?.();
    return true;
  }) as typeof stream.write;
  restore.push(() => (stream.write = original));
}

/** Every method of `console` that writes something. */
const CONSOLE_METHODS = [
  "log", "info", "warn", "error", "debug", "trace", "dir", "dirxml", "table", "group", "groupCollapsed", "assert", "count", "countReset",
  "time", "timeLog", "timeEnd",
] as const;

/** Keep a copy of every `console` call's text (and write nothing): `console.*` need not reach `process.stdout` here. */
function captureConsole(keep: (text: string) => void): void {
  const target = console as unknown as Record<string, (...args: unknown[]) => void>;
  for (const name of CONSOLE_METHODS) {
    const original = target[name];
    if (typeof original !== "function") continue;
    target[name] = (...args: unknown[]) => {
      // assert(condition, ...data) writes only the data; the others write all their arguments.
      const data = name === "assert" ? args.slice(1) : args;
      keep(`console.${name} ${format(...data)}\n`);
    };
    restore.push(() => (target[name] = original));
  }
}

/** Everything written, by where: read after the paths ran. Add metric and span readers here. */
const OUTPUTS: Record<string, () => Promise<string>> = {
  "standard output": async () => stdout,
  "standard error": async () => stderr,
  "console.* (in process)": async () => consoled,
  "the decisions' audit trail": async () => readFile(join(dir, "decisions.jsonl"), "utf8"),
  "the tool guard's audit trail": async () => readFile(world.auditFile, "utf8"),
  "metric names and attributes (OpenTelemetry SDK)": async () => metricText(collected),
};

/** What each output must hold, so that finding no canary means something. */
const EXPECTED: Record<string, RegExp> = {
  "standard error": /"type":"auth\.decision".*"reason":"invalid_token"/,
  // The key store's warning of the key set it could not fetch (the key_set_unavailable path), on console.warn.
  "console.* (in process)": /console\.warn langgraph-tenant-auth: key set fetch for \S+ failed/,
  "the decisions' audit trail": /"reason":"cross_tenant"[^\n]*"kind":"decision"/,
  "the tool guard's audit trail": /"reason_code":"tool_not_allowed"/,
  "metric names and attributes (OpenTelemetry SDK)": /langgraph_tenant_auth\.decision\.reason\ninvalid_token[\s\S]*langgraph_tenant_auth\.tenant\.id\ntenant-b/,
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "never-logged-"));
  capture(process.stdout, (text) => (stdout += text));
  capture(process.stderr, (text) => (stderr += text));
  captureConsole((text) => (consoled += text));
  const audit = createAuditLog({ sink: createJsonLinesSink({ file: join(dir, "decisions.jsonl") }) });
  const toStderr = createStderrDecisionSink();
  const toAudit = createAuditDecisionSink({ audit, fallback: toStderr, ownsAudit: true });
  // Both sinks at once, every decision, and a burst of 1 so aggregates are written too.
  const decisions = createDecisionLog({
    mode: "all",
    sink: { write: (record) => (toStderr.write(record), toAudit.write(record)), close: () => toAudit.close!() },
    flood: { burst: 1 },
  });
  otel = startInMemoryMetrics();
  const metrics = createAuthMetrics({ meter: otel.meter, tenantLabel: true });
  world = await createRefusalWorld({ canary: CANARY, decisions, metrics });
  for (const path of refusalPaths(decisions)) {
    await path.drive(world);
    // Twice: the second of a kind is counted into an aggregate.
    await path.drive(world);
  }
  await decisions.close();
  collected = await otel.collect();
}, 120_000);

afterAll(async () => {
  for (const undo of restore.splice(0)) undo();
  await otel?.shutdown();
  await world?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("never logged", () => {
  it("the requests carried the canary where the package must not copy it from", () => {
    expect(world.decided.length).toBeGreaterThan(40);
    expect(CANARY).toMatch(/^Canary[a-z]{12}$/);
  });

  it.each(Object.keys(OUTPUTS))("%s holds no canary", async (name) => {
    const text = await OUTPUTS[name]!();
    if (EXPECTED[name]) expect(text, `${name} holds what it should`).toMatch(EXPECTED[name]!);
    expect(text.split(CANARY).length - 1, `${name} contains the canary`).toBe(0);
  });

  it("aggregates were written too (the flood bound's own lines are searched)", () => {
    expect(stderr).toMatch(/"type":"auth\.decision\.aggregate"/);
  });

  it("the decisions counter counted every decision the log was handed, by reason (aggregated ones too)", () => {
    const expected = new Map<string, number>();
    for (const event of world.decided) {
      const key = `${event.outcome} ${event.reason ?? "-"}`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
    expect(expected.size).toBeGreaterThan(20);
    for (const [key, count] of expected) {
      const [outcome, reason] = key.split(" ") as [string, string];
      expect(valueOf(collected, "langgraph_tenant_auth.decisions", { [A.outcome]: outcome, [A.reason]: reason === "-" ? undefined : reason }), key).toBe(count);
    }
    expect(valueOf(collected, "langgraph_tenant_auth.decisions")).toBe(world.decided.length);
  });
});
