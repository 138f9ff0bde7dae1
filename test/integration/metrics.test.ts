/**
 * The metrics on the real `langgraph dev`: the server is started with
 * `NODE_OPTIONS=--import examples/otel/metrics-preload.mjs` (the example the
 * docs give), which registers the real OpenTelemetry SDK with a Prometheus
 * exporter in the server process only (not in the CLI or tsx's watcher), and
 * the test scrapes it over loopback:
 * - every decision of the traffic below is counted exactly, also the
 *   refusals the flood bound only counts into an aggregate (burst 1) and the
 *   cross-tenant read the server's own filter answered;
 * - `authenticate`'s duration, the token cache, the key set and the
 *   decision log's audit trail (`AUTH_DECISION_LOG_SINK=audit`) are there;
 * - no tenant label without `AUTH_METRICS_TENANT_LABEL`;
 * - the canary sent in tokens, headers and bodies appears nowhere in the
 *   scraped text.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALL_PERMISSIONS } from "../support/dev-settings.ts";
import { PROJECT_ROOT, startLangGraphDev, type LangGraphDev } from "../support/langgraph-dev.ts";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";
import { parsePrometheus, sampleValue, type PrometheusSample } from "../support/otel-metrics.ts";
import { waitFor } from "../support/wait-for.ts";

const CANARY = `Canary${Array.from({ length: 12 }, () => String.fromCharCode(97 + Math.floor(Math.random() * 26))).join("")}`;
const PRELOAD = join(PROJECT_ROOT, "examples/otel/metrics-preload.mjs");
const GARBAGE = 25;
const MISSING = 3;

let issuer: LocalIssuer;
let server: LangGraphDev;
let dir: string;
let metricsUrl: string;

const label = (name: string) => `langgraph_tenant_auth_${name}`;
const decision = (labels: Record<string, string>) =>
  Object.fromEntries(Object.entries(labels).map(([key, value]) => [key === "host" ? label("host") : label(`decision_${key}`), value]));

async function call(token: string | undefined, method: string, path: string, body?: unknown): Promise<number> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
      "x-canary": CANARY,
      cookie: `session=${CANARY}`,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  await response.arrayBuffer();
  return response.status;
}

async function scrape(): Promise<{ text: string; samples: PrometheusSample[] }> {
  const response = await fetch(metricsUrl, { signal: AbortSignal.timeout(10_000) });
  expect(response.status).toBe(200);
  const text = await response.text();
  return { text, samples: parsePrometheus(text) };
}

beforeAll(async () => {
  issuer = await startLocalIssuer();
  dir = await mkdtemp(join(tmpdir(), "metrics-dev-"));
  server = await startLangGraphDev({
    env: {
      ...issuer.env(),
      NODE_OPTIONS: `--import ${pathToFileURL(PRELOAD).href}`,
      OTEL_EXPORTER_PROMETHEUS_PORT: "0",
      AUTH_DECISION_LOG_SINK: "audit",
      AUDIT_LOG_FILE: join(dir, "decisions.jsonl"),
      AUTH_DECISION_LOG_WINDOW: "1",
      AUTH_DECISION_LOG_BURST: "1",
    },
  });
  // Only the server process listens: the CLI and tsx's watcher load the preload too, and skip it.
  await waitFor(() => /metrics: http:\/\/127\.0\.0\.1:\d+\/metrics/.test(server.output()), "the metrics endpoint");
  const lines = server.output().split("\n").filter((line) => line.startsWith("metrics: "));
  expect(lines, server.output()).toHaveLength(1);
  metricsUrl = /metrics: (\S+)/.exec(lines[0]!)![1]!;
}, 240_000);

afterAll(async () => {
  await server?.stop();
  await issuer?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("metrics on langgraph dev (Prometheus exporter, scraped over loopback)", () => {
  it("count every decision exactly, time authenticate, and read the cache, the key set and the audit trail", async () => {
    const acme = await issuer.sign({ sub: "alice", org_id: "acme", scope: ALL_PERMISSIONS, name: CANARY });
    const globex = await issuer.sign({ sub: "bob", org_id: "globex", scope: ALL_PERMISSIONS, email: `${CANARY}@example.com` });

    const created = await fetch(`${server.url}/threads`, {
      method: "POST",
      headers: { authorization: `Bearer ${acme}`, "content-type": "application/json" },
      body: JSON.stringify({ metadata: { note: CANARY } }),
    });
    expect(created.status).toBe(200);
    const thread = ((await created.json()) as { thread_id: string }).thread_id;
    expect(await call(acme, "GET", `/threads/${thread}`)).toBe(200);
    // Another tenant's thread: the server's own filter answers 404; the package records it afterwards.
    expect(await call(globex, "GET", `/threads/${thread}`)).toBe(404);
    for (let i = 0; i < MISSING; i++) expect(await call(undefined, "POST", "/threads/search", { note: CANARY })).toBe(401);
    for (let i = 0; i < GARBAGE; i++) expect(await call(`${CANARY}.${CANARY}.${CANARY}`, "POST", "/threads/search", { note: CANARY })).toBe(401);
    expect(await call(acme, "POST", "/internal/truncate", { threads: true })).toBe(404);

    const decisions = label("decisions_total");
    await waitFor(async () => sampleValue((await scrape()).samples, decisions, decision({ source: "server_filter" })) === 1, "the server filter's refusal to be counted");
    // The aggregates of the flood bound reach the audit trail when the 1 s window ends. How many records
    // that makes depends on how many windows the requests spanned (more on a loaded machine), so wait
    // until the trail accounts for every refusal, then for the metric to count each record written.
    const auditRecords = label("audit_records_total");
    const writer = { [label("audit_writer")]: "decision_log" };
    const refusals = 1 + MISSING + GARBAGE + 1;
    const trail = async () =>
      (await readFile(join(dir, "decisions.jsonl"), "utf8"))
        .split("\n")
        .filter((line) => line.includes('"kind":"decision"'))
        .map((line) => JSON.parse(line) as { data: { type: string; count?: number } });
    await waitFor(async () => (await trail()).reduce((sum, r) => sum + (r.data.type === "auth.decision.aggregate" ? r.data.count! : 1), 0) === refusals, "every refusal in the audit trail");
    const records = (await trail()).length;
    await waitFor(async () => sampleValue((await scrape()).samples, auditRecords, { ...writer, [label("audit_result")]: "written" }) === records, "each decision record counted as written");

    const { text, samples } = await scrape();
    const count = (labels: Record<string, string>) => sampleValue(samples, decisions, decision(labels));
    expect(count({ outcome: "allowed", source: "authenticate", host: "dev" })).toBe(3);
    expect(count({ outcome: "allowed", source: "handler", event: "threads:create" })).toBe(1);
    expect(count({ outcome: "allowed", source: "handler", event: "threads:read" })).toBe(2);
    expect(count({ outcome: "refused", source: "server_filter", reason: "cross_tenant", event: "threads:read" })).toBe(1);
    expect(count({ outcome: "refused", source: "authenticate", reason: "missing_token" })).toBe(MISSING);
    // 1 line written, the other 24 only counted into an aggregate by the flood bound: all 25 counted.
    expect(count({ outcome: "refused", source: "authenticate", reason: "invalid_token" })).toBe(GARBAGE);
    expect(count({ outcome: "refused", source: "authenticate", reason: "operator_only" })).toBe(1);
    expect(sampleValue(samples, decisions)).toBe(3 + 1 + 2 + 1 + MISSING + GARBAGE + 1);

    // The log wrote burst + aggregate per key and window: at least 2 + 2 + 1 + 1 records (one window), all of them counted as written.
    const written = await trail();
    expect(written.length).toBeGreaterThanOrEqual(6);
    expect(sampleValue(samples, auditRecords, { ...writer, [label("audit_result")]: "written" })).toBe(written.length);
    // Never more than the burst (1) written one by one per key and window: the rest of the garbage tokens were aggregated.
    expect(written.filter((r) => r.data.type === "auth.decision").length).toBeLessThan(refusals);
    expect(sampleValue(samples, auditRecords, { ...writer, [label("audit_result")]: "failed" })).toBe(0);
    expect(sampleValue(samples, label("audit_stopped"), writer)).toBe(0);

    const duration = label("authenticate_duration");
    expect(sampleValue(samples, `${duration}_count`, { [label("host")]: "dev", [label("decision_outcome")]: "allowed" })).toBe(3);
    expect(sampleValue(samples, `${duration}_count`, { [label("host")]: "dev", [label("decision_outcome")]: "refused" })).toBe(MISSING + GARBAGE + 1);
    expect(sampleValue(samples, `${duration}_bucket`, { [label("decision_outcome")]: "allowed", le: "+Inf" })).toBe(3);
    expect(text).toMatch(/# UNIT langgraph_tenant_auth_authenticate_duration s\n/);

    // acme's token: verified once, then two hits; globex's once; every garbage token a miss (failures are never cached).
    const lookups = label("token_cache_lookups_total");
    expect(sampleValue(samples, lookups, { [label("token_cache_result")]: "hit" })).toBe(2);
    expect(sampleValue(samples, lookups, { [label("token_cache_result")]: "miss" })).toBe(2 + GARBAGE);
    // The Auth's cache holds the two valid tokens (the sample http.app's own authenticator saw no request).
    expect(sampleValue(samples, label("token_cache_entry_count"))).toBe(2);

    const issued = { [label("key_set_issuer")]: issuer.issuer };
    expect(sampleValue(samples, label("key_set_refreshes_total"), { ...issued, [label("key_set_refresh_result")]: "success" })).toBe(1);
    expect(sampleValue(samples, label("key_set_refreshes_total"), { ...issued, [label("key_set_refresh_result")]: "failure" })).toBe(0);
    expect(sampleValue(samples, label("key_set_stale_lookups_total"), issued)).toBe(0);
    expect(sampleValue(samples, label("key_set_unavailable_refusals_total"), issued)).toBe(0);
    expect(samples.some((s) => s.name === label("key_set_age") && s.labels[label("key_set_issuer")] === issuer.issuer)).toBe(true);

    // No tenant label by default, and nothing the clients sent.
    expect(text).not.toContain("tenant_auth_tenant_id");
    expect(text).not.toContain("target_tenant_id");
    expect(text).not.toContain("acme");
    expect(text.split(CANARY).length - 1).toBe(0);
    expect(server.output().split(CANARY).length - 1).toBe(0);
  });
});
