/**
 * One list of metrics (`METRIC_DEFINITIONS`): the names follow OpenTelemetry's
 * naming rules, docs/observability.md lists exactly these metrics with the
 * same instrument, unit and attributes, and the real SDK exports exactly
 * these streams once every part has something to report.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createAuditLog } from "../../src/audit/audit-log.ts";
import { createJsonLinesSink } from "../../src/audit/json-lines-sink.ts";
import { createAuthenticator } from "../../src/authenticate/create-authenticator.ts";
import { readConfig } from "../../src/config/read-config.ts";
import { createAuditDecisionSink } from "../../src/decision/audit-decision-sink.ts";
import { createDecisionLog } from "../../src/decision/decision-log.ts";
import { createAuthMetrics } from "../../src/metrics/create-auth-metrics.ts";
import { METRIC_DEFINITIONS, METRIC_ATTRIBUTES, METRIC_PREFIX } from "../../src/metrics/metric-names.ts";
import { PROJECT_ROOT } from "../support/langgraph-dev.ts";
import { startLocalIssuer } from "../support/local-issuer.ts";
import { startInMemoryMetrics } from "../support/otel-metrics.ts";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";

const otel = startInMemoryMetrics();
afterAll(() => otel.shutdown());

/** The rows of the metrics table of docs/observability.md: name, instrument, unit, attributes (short names). */
function documentedMetrics(): { name: string; instrument: string; unit: string; attributes: string[] }[] {
  const text = readFileSync(join(PROJECT_ROOT, "docs/observability.md"), "utf8");
  const section = text.slice(text.indexOf("### The metrics"));
  return [...section.matchAll(/^\| `(langgraph_tenant_auth\.[a-z_.]+)` \| (\w+) \| `([^`]+)` \| (.*) \|$/gm)].map((m) => ({
    name: m[1]!,
    instrument: m[2]!,
    unit: m[3]!,
    attributes: [...m[4]!.matchAll(/`([a-z_.]+)`/g)].map((a) => a[1]!),
  }));
}

const short = (attribute: string) => attribute.replace(`${METRIC_PREFIX}.`, "");

describe("the metrics' names", () => {
  it("follow OpenTelemetry's naming rules: one prefix, lowercase, dots between namespaces, snake_case, UCUM units, no _total", () => {
    expect(METRIC_DEFINITIONS.length).toBe(11);
    for (const metric of METRIC_DEFINITIONS) {
      expect(metric.name).toMatch(/^langgraph_tenant_auth(\.[a-z][a-z0-9]*(_[a-z0-9]+)*)+$/);
      expect(metric.name).not.toMatch(/_total\b|\.total$/);
      expect(metric.unit).toMatch(/^(s|1|\{[a-z]+\})$/);
      // Counts of countable things are plural; an updowncounter is not ({entry}.count, .limit).
      if (metric.instrument === "counter") expect(metric.name, metric.name).toMatch(/s$/);
      if (metric.instrument === "updowncounter") expect(metric.name).toMatch(/\.(count|limit)$/);
      for (const attribute of metric.attributes) expect(attribute).toMatch(/^langgraph_tenant_auth\.[a-z_.]+$/);
    }
    for (const attribute of Object.values(METRIC_ATTRIBUTES)) expect(attribute).toMatch(/^(langgraph_tenant_auth\.[a-z][a-z_.]*[a-z]|otel\.metric\.overflow)$/);
    expect(Object.isFrozen(METRIC_DEFINITIONS) && METRIC_DEFINITIONS.every(Object.isFrozen)).toBe(true);
  });

  it("are the ones docs/observability.md lists, with the same instrument, unit and attributes", () => {
    const documented = documentedMetrics();
    expect(documented.map((m) => m.name)).toEqual(METRIC_DEFINITIONS.map((m) => m.name));
    for (const metric of METRIC_DEFINITIONS) {
      const row = documented.find((m) => m.name === metric.name)!;
      expect(row.instrument, metric.name).toBe(metric.instrument);
      expect(row.unit, metric.name).toBe(metric.unit);
      expect(row.attributes, metric.name).toEqual(metric.attributes.map(short));
    }
  });

  it("are exactly what the real SDK exports, with those units and instrument kinds", async () => {
    const issuer = await startLocalIssuer();
    const dir = await mkdtemp(join(tmpdir(), "metric-names-"));
    try {
      const metrics = createAuthMetrics({ meter: otel.meter, tenantLabel: true });
      const authenticator = createAuthenticator({ config: readConfig(issuer.env()) });
      await authenticator.authenticateRequest(new Request("http://x/", { headers: { authorization: `Bearer ${await issuer.sign({ sub: "a", org_id: "acme" })}` } }));
      metrics.observeAuthenticator(authenticator);
      const log = createDecisionLog({ sink: createAuditDecisionSink({ audit: createAuditLog({ sink: createJsonLinesSink({ file: join(dir, "a.jsonl") }) }), ownsAudit: true }) });
      metrics.observeDecisions(log);
      log.record({ host: "js", source: "authenticate", outcome: "refused", status: 401, reason: "missing_token" });
      await log.close();
      metrics.authenticateTimer("js")!(performance.now(), "refused");
      const collected = await otel.collect();
      const kinds: Record<string, string> = { counter: "sum", updowncounter: "sum", gauge: "gauge", histogram: "histogram" };
      expect(collected.map((m) => m.name).sort()).toEqual(METRIC_DEFINITIONS.map((m) => m.name).sort());
      for (const metric of METRIC_DEFINITIONS) {
        const exported = collected.find((m) => m.name === metric.name)!;
        expect(exported.unit, metric.name).toBe(metric.unit);
        expect(exported.description, metric.name).toBe(metric.description);
        expect(exported.type, metric.name).toBe(kinds[metric.instrument]);
        if (metric.instrument === "counter") expect(exported.monotonic, metric.name).toBe(true);
        if (metric.instrument === "updowncounter") expect(exported.monotonic, metric.name).toBe(false);
        for (const point of exported.points) for (const key of Object.keys(point.attributes)) expect(metric.attributes, `${metric.name}: ${key}`).toContain(key);
      }
    } finally {
      await issuer.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
