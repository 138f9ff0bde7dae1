/**
 * The metrics with the real OpenTelemetry SDK (`@opentelemetry/sdk-metrics`,
 * an in-memory exporter): the package's real parts (decision log and its
 * flood bound, authenticator and key store against a local issuer over
 * loopback, the Hono middleware, JSON-lines audit trails on disk) are
 * driven, and the exported data points are read back.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createAuditLog } from "../../src/audit/audit-log.ts";
import { NO_TENANT, digestArguments } from "../../src/audit/audit-record.ts";
import { createJsonLinesSink } from "../../src/audit/json-lines-sink.ts";
import { createAuthenticator } from "../../src/authenticate/create-authenticator.ts";
import { readConfig } from "../../src/config/read-config.ts";
import { createAuditDecisionSink } from "../../src/decision/audit-decision-sink.ts";
import type { DecisionRecord } from "../../src/decision/decision-event.ts";
import { createDecisionLog } from "../../src/decision/decision-log.ts";
import { createTenantMiddleware, type TenantEnv } from "../../src/hono/tenant-middleware.ts";
import { createAuthMetrics } from "../../src/metrics/create-auth-metrics.ts";
import { METRIC_ATTRIBUTES as A } from "../../src/metrics/metric-names.ts";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";
import { metricNamed, startInMemoryMetrics, valueOf, type InMemoryMetrics } from "../support/otel-metrics.ts";
import { waitFor } from "../support/wait-for.ts";

const P = "langgraph_tenant_auth";
let otel: InMemoryMetrics;
let issuer: LocalIssuer;
let dir: string;

beforeAll(async () => {
  issuer = await startLocalIssuer();
  dir = await mkdtemp(join(tmpdir(), "auth-metrics-"));
});
afterAll(async () => {
  await issuer?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await otel?.shutdown();
});

/** A decision log that keeps what its sink was handed. */
function loggedTo(options: Parameters<typeof createDecisionLog>[0] = {}) {
  const written: DecisionRecord[] = [];
  const log = createDecisionLog({ sink: { write: (record) => void written.push(record) }, setTimer: () => ({ cancel() {} }), ...options });
  return { log, written };
}

describe("decisions", () => {
  it("counts every refusal exactly, also those the flood bound only counts into an aggregate", async () => {
    otel = startInMemoryMetrics();
    const metrics = createAuthMetrics({ meter: otel.meter });
    const { log, written } = loggedTo({ flood: { burst: 1 } });
    metrics.observeDecisions(log);
    for (let i = 0; i < 250; i++) log.record({ host: "dev", source: "authenticate", outcome: "refused", status: 401, reason: "invalid_token" });
    for (let i = 0; i < 3; i++) {
      log.record({ host: "dev", source: "handler", outcome: "refused", status: 404, reason: "cross_tenant", event: "threads:read", caller: { tenant_id: "globex", subject: "bob" }, resources: { tenant_id: "acme" } });
    }
    log.flush();
    // The log wrote 1 + 1 lines for each key (burst 1, then one aggregate of the rest).
    expect(written).toHaveLength(4);
    expect(written.filter((r) => r.type === "auth.decision.aggregate").map((r) => (r as { count: number }).count).sort()).toEqual([2, 249]);

    const collected = await otel.collect();
    const decisions = metricNamed(collected, `${P}.decisions`)!;
    expect(decisions).toMatchObject({ type: "sum", monotonic: true, unit: "{decision}" });
    expect(valueOf(collected, `${P}.decisions`, { [A.reason]: "invalid_token", [A.outcome]: "refused", [A.host]: "dev", [A.source]: "authenticate" })).toBe(250);
    expect(valueOf(collected, `${P}.decisions`, { [A.reason]: "cross_tenant", [A.event]: "threads:read", [A.source]: "handler" })).toBe(3);
    // No tenant label by default, whatever the decision carried.
    for (const point of decisions.points) expect(Object.keys(point.attributes)).not.toContain(A.tenant);
  });

  it("counts allowed decisions without building an event for them, and refusals with the log off", async () => {
    otel = startInMemoryMetrics();
    const metrics = createAuthMetrics({ meter: otel.meter });
    const off = loggedTo({ mode: "off" });
    expect(off.log.countsAllowed).toBe(false);
    metrics.observeDecisions(off.log);
    metrics.observeDecisions(off.log); // once per log, however often asked
    expect(off.log.countsAllowed).toBe(true);
    expect(off.log.recordsAllowed).toBe(false);
    const events: unknown[] = [];
    for (let i = 0; i < 5; i++) {
      off.log.record({ host: "platform", source: "handler", outcome: "allowed", status: null, reason: null, event: "threads:search", caller: { tenant_id: "acme", subject: "alice" } });
    }
    expect(off.log.record({ host: "platform", source: "authenticate", outcome: "refused", status: 401, reason: "expired_token" })).toBeUndefined();
    off.log.onDecision((event) => events.push(event));
    off.log.record({ host: "platform", source: "handler", outcome: "allowed", status: null, reason: null, event: "threads:search" });
    expect(off.written).toEqual([]);
    expect(events).toHaveLength(1);

    const collected = await otel.collect();
    expect(valueOf(collected, `${P}.decisions`, { [A.outcome]: "allowed", [A.event]: "threads:search", [A.reason]: undefined })).toBe(6);
    expect(valueOf(collected, `${P}.decisions`, { [A.outcome]: "refused", [A.reason]: "expired_token", [A.event]: undefined })).toBe(1);
  });

  it("with tenantLabel, carries the caller's tenant (the opt-in of AUTH_METRICS_TENANT_LABEL), never one a client named", async () => {
    otel = startInMemoryMetrics();
    const metrics = createAuthMetrics({ meter: otel.meter, tenantLabel: true });
    const { log } = loggedTo();
    metrics.observeDecisions(log);
    log.record({ host: "dev", source: "server_filter", outcome: "refused", status: 404, reason: "cross_tenant", event: "threads:read", caller: { tenant_id: "globex", subject: "bob" }, resources: { tenant_id: "acme", thread_id: "t1" } });
    // A store namespace names its tenant as the client wrote it: the log keeps it, a metric never does.
    log.record({ host: "dev", source: "handler", outcome: "refused", status: 403, reason: "cross_tenant", event: "store:put", caller: { tenant_id: "globex", subject: "bob" }, resources: { namespace: ["Clientmadethisup", "x"], tenant_id: "Clientmadethisup" } });
    log.record({ host: "dev", source: "authenticate", outcome: "refused", status: 401, reason: "missing_token" });
    const collected = await otel.collect();
    expect(valueOf(collected, `${P}.decisions`, { [A.tenant]: "globex", [A.reason]: "cross_tenant" })).toBe(2);
    expect(JSON.stringify(collected)).not.toContain("Clientmadethisup");
    expect(JSON.stringify(collected)).not.toContain("acme");
    // A refusal before verification has no tenant: the attribute is absent, not a placeholder.
    expect(valueOf(collected, `${P}.decisions`, { [A.reason]: "missing_token", [A.tenant]: undefined })).toBe(1);
    // The subject and the resource ids are never attributes.
    const text = JSON.stringify(metricNamed(collected, `${P}.decisions`)!.points);
    expect(text).not.toContain("bob");
    expect(text).not.toContain("t1");
    expect(() => createAuthMetrics({ meter: otel.meter, tenantLabel: false })).toThrow(/tenantLabel true/);
    expect(createAuthMetrics({ meter: otel.meter, tenantLabel: true })).toBe(metrics);
  });

  it("keeps at most maxSeries series and counts the rest under otel.metric.overflow", async () => {
    otel = startInMemoryMetrics();
    const metrics = createAuthMetrics({ meter: otel.meter, tenantLabel: true, maxSeries: 3 });
    const { log } = loggedTo();
    metrics.observeDecisions(log);
    for (let i = 0; i < 10; i++) {
      log.record({ host: "dev", source: "handler", outcome: "refused", status: 403, reason: "insufficient_scope", event: "threads:read", caller: { tenant_id: `t${i}`, subject: "s" } });
    }
    const collected = await otel.collect();
    const points = metricNamed(collected, `${P}.decisions`)!.points;
    expect(points).toHaveLength(4);
    expect(valueOf(collected, `${P}.decisions`, { [A.overflow]: true })).toBe(7);
    expect(valueOf(collected, `${P}.decisions`)).toBe(10);
  });
});

describe("authenticate: duration, token cache and key sets", () => {
  it("times every request of the Hono middleware by outcome, and reads the cache's hits, misses and size", async () => {
    otel = startInMemoryMetrics();
    const metrics = createAuthMetrics({ meter: otel.meter });
    const authenticator = createAuthenticator({ config: readConfig({ ...issuer.env(), AUTH_TOKEN_CACHE_MAX_ENTRIES: "50" }) });
    const { log } = loggedTo();
    const app = new Hono<TenantEnv>();
    app.use("/custom/*", createTenantMiddleware({ authenticator, decisions: log, metrics }));
    app.get("/custom/tenant", (c) => c.json({ tenant: c.get("principal").tenant_id }));
    const token = await issuer.sign({ sub: "alice", org_id: "acme" });
    for (let i = 0; i < 4; i++) expect((await app.request("/custom/tenant", { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await app.request("/custom/tenant")).status).toBe(401);
    expect((await app.request("/custom/tenant", { headers: { authorization: "Bearer a.b.c" } })).status).toBe(401);

    const collected = await otel.collect();
    const duration = metricNamed(collected, `${P}.authenticate.duration`)!;
    expect(duration).toMatchObject({ type: "histogram", unit: "s" });
    const allowed = duration.points.find((p) => p.attributes[A.outcome] === "allowed")!;
    expect(allowed.attributes).toEqual({ [A.host]: "app", [A.outcome]: "allowed" });
    expect(allowed.histogram!.count).toBe(4);
    expect(allowed.histogram!.sum).toBeGreaterThan(0);
    expect(allowed.histogram!.sum).toBeLessThan(60);
    // Buckets in seconds, from 10 µs: a cache hit lands in the first few.
    expect(allowed.histogram!.buckets.boundaries[0]).toBe(0.00001);
    expect(duration.points.find((p) => p.attributes[A.outcome] === "refused")!.histogram!.count).toBe(2);
    expect(valueOf(collected, `${P}.decisions`, { [A.source]: "middleware", [A.outcome]: "allowed" })).toBe(4);
    expect(valueOf(collected, `${P}.decisions`, { [A.source]: "middleware", [A.reason]: "missing_token" })).toBe(1);
    // The first request with the token missed and was verified, the next three hit; "a.b.c" missed too.
    expect(valueOf(collected, `${P}.token_cache.lookups`, { [A.cacheResult]: "hit" })).toBe(3);
    expect(valueOf(collected, `${P}.token_cache.lookups`, { [A.cacheResult]: "miss" })).toBe(2);
    expect(valueOf(collected, `${P}.token_cache.entry.count`)).toBe(1);
    expect(valueOf(collected, `${P}.token_cache.entry.limit`)).toBe(50);
    expect(metricNamed(collected, `${P}.token_cache.entry.count`)).toMatchObject({ type: "sum", monotonic: false, unit: "{entry}" });
    // One key set fetched, for the configured issuer, and its age.
    expect(valueOf(collected, `${P}.key_set.refreshes`, { [A.issuer]: issuer.issuer, [A.refreshResult]: "success" })).toBe(1);
    expect(valueOf(collected, `${P}.key_set.refreshes`, { [A.issuer]: issuer.issuer, [A.refreshResult]: "failure" })).toBe(0);
    const age = metricNamed(collected, `${P}.key_set.age`)!;
    expect(age).toMatchObject({ type: "gauge", unit: "s" });
    expect(age.points[0]!.value).toBeGreaterThanOrEqual(0);
    expect(age.points[0]!.value).toBeLessThan(600);
  });

  it("counts failed refreshes, answers from a stale key set (stale-if-error) and key-set-unavailable refusals, per issuer", async () => {
    otel = startInMemoryMetrics();
    const metrics = createAuthMetrics({ meter: otel.meter });
    const state = { down: false };
    const flaky = await startLocalIssuer({
      intercept: (req) => {
        if (!state.down) return false;
        req.socket.destroy();
        return true;
      },
    });
    try {
      const clock = { t: Date.now() };
      const env = { ...flaky.env(), AUTH_JWKS_MAX_AGE: "60", AUTH_JWKS_COOLDOWN: "1", AUTH_JWKS_STALE_IF_ERROR: "3600", AUTH_TOKEN_CACHE: "off" };
      const authenticator = createAuthenticator({ config: readConfig(env), now: () => clock.t, log: () => undefined });
      metrics.observeAuthenticator(authenticator);
      const sign = () => {
        const s = Math.floor(clock.t / 1000);
        return flaky.sign({ sub: "alice", org_id: "acme", iat: s, exp: s + 24 * 3600 });
      };
      const request = async () => new Request("http://127.0.0.1/threads", { headers: { authorization: `Bearer ${await sign()}` } });
      await authenticator.authenticateRequest(await request());

      // The provider goes down and the set grows old: answers come from the stale set while it is refreshed (and fails).
      state.down = true;
      clock.t += 2 * 60_000;
      await authenticator.authenticateRequest(await request());
      await expect.poll(() => authenticator.stats!().keySets[0]!.fetchFailures, { timeout: 10_000 }).toBe(1);
      clock.t += 2_000;
      await authenticator.authenticateRequest(await request());
      await authenticator.authenticateRequest(await request());

      // Past stale-if-error, nothing usable is left: 503.
      clock.t += 2 * 3600_000;
      await expect(authenticator.authenticateRequest(await request())).rejects.toMatchObject({ status: 503, reason: "key_set_unavailable" });

      const collected = await otel.collect();
      const of = { [A.issuer]: flaky.issuer };
      expect(valueOf(collected, `${P}.key_set.refreshes`, { ...of, [A.refreshResult]: "success" })).toBe(1);
      expect(valueOf(collected, `${P}.key_set.refreshes`, { ...of, [A.refreshResult]: "failure" })).toBeGreaterThanOrEqual(2);
      expect(valueOf(collected, `${P}.key_set.stale_lookups`, of)).toBeGreaterThanOrEqual(2);
      expect(valueOf(collected, `${P}.key_set.unavailable_refusals`, of)).toBe(1);
      // The set in use is the old one: its age by the key store's clock, in seconds.
      expect(valueOf(collected, `${P}.key_set.age`, of)).toBeGreaterThan(2 * 3600);
      // No token cache configured: no cache series at all.
      expect(metricNamed(collected, `${P}.token_cache.lookups`)).toBeUndefined();
    } finally {
      await flaky.close();
    }
  });
});

describe("audit trails", () => {
  it("counts records written and refused by writer, and says while a trail refuses writes", async () => {
    otel = startInMemoryMetrics();
    const metrics = createAuthMetrics({ meter: otel.meter });
    const folder = join(dir, "trail");
    await mkdir(folder);
    const file = join(folder, "tools.jsonl");
    const audit = metrics.observeAudit(createAuditLog({ sink: createJsonLinesSink({ file, log: () => undefined }) }), "tool_guard");
    expect(metrics.observeAudit(audit, "tool_guard")).toBe(audit);
    const entry = (i: number) => ({
      time: new Date().toISOString(), tenant_id: "acme", user_id: "alice", thread_id: "t", run_id: "r", tool: "search_docs",
      tool_call_id: `c${i}`, decision: "allowed" as const, reason: null, duration_ms: 1, args_sha256: digestArguments({ i }),
    });
    await audit.ready();
    for (let i = 0; i < 3; i++) await audit.record(entry(i));
    let collected = await otel.collect();
    expect(valueOf(collected, `${P}.audit.records`, { [A.auditWriter]: "tool_guard", [A.auditResult]: "written" })).toBe(3);
    expect(valueOf(collected, `${P}.audit.stopped`, { [A.auditWriter]: "tool_guard" })).toBe(0);

    // The folder goes away once the sink has let its lock go: the lock file cannot be created, the append is refused.
    await waitFor(() => !existsSync(`${file}.lock`), "the sink to let its lock go");
    await rm(folder, { recursive: true, force: true });
    await expect(audit.record(entry(3))).rejects.toMatchObject({ code: "ERR_AUDIT_WRITE" });
    collected = await otel.collect();
    expect(valueOf(collected, `${P}.audit.records`, { [A.auditWriter]: "tool_guard", [A.auditResult]: "failed" })).toBe(1);
    expect(valueOf(collected, `${P}.audit.stopped`, { [A.auditWriter]: "tool_guard" })).toBe(1);

    // Back: the next append takes the lock again and is written, and the trail no longer refuses.
    await mkdir(folder);
    await audit.record(entry(4));
    collected = await otel.collect();
    expect(valueOf(collected, `${P}.audit.records`, { [A.auditWriter]: "tool_guard", [A.auditResult]: "written" })).toBe(4);
    expect(valueOf(collected, `${P}.audit.records`, { [A.auditWriter]: "tool_guard", [A.auditResult]: "failed" })).toBe(1);
    expect(valueOf(collected, `${P}.audit.stopped`, { [A.auditWriter]: "tool_guard" })).toBe(0);
    expect(metricNamed(collected, `${P}.audit.stopped`)).toMatchObject({ type: "gauge", unit: "1" });
    await audit.close();
  });

  it("reads the decision log's audit sink as the decision_log writer", async () => {
    otel = startInMemoryMetrics();
    const metrics = createAuthMetrics({ meter: otel.meter });
    const audit = createAuditLog({ sink: createJsonLinesSink({ file: join(dir, "decisions.jsonl") }) });
    const sink = createAuditDecisionSink({ audit, ownsAudit: true });
    const log = createDecisionLog({ sink });
    metrics.observeDecisions(log);
    log.record({ host: "dev", source: "authenticate", outcome: "refused", status: 401, reason: "missing_token" });
    log.record({ host: "dev", source: "handler", outcome: "refused", status: 403, reason: "insufficient_scope", caller: { tenant_id: "acme", subject: "alice" } });
    await log.close();
    expect(log.sinkStats()).toEqual({ written: 2, failed: 0, stopped: false });
    const collected = await otel.collect();
    expect(valueOf(collected, `${P}.audit.records`, { [A.auditWriter]: "decision_log", [A.auditResult]: "written" })).toBe(2);
    expect(valueOf(collected, `${P}.audit.stopped`, { [A.auditWriter]: "decision_log" })).toBe(0);
    expect(NO_TENANT).toBe("_unauthenticated");
  });
});
