/**
 * The process's metrics: nothing unless the application registered an
 * OpenTelemetry SDK (the real `@opentelemetry/api` global and a real
 * `MeterProvider`), and the parts pick that SDK up by default.
 */
import { metrics as otelMetrics } from "@opentelemetry/api";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuthenticator } from "../../src/authenticate/create-authenticator.ts";
import { readConfig } from "../../src/config/read-config.ts";
import { createDecisionLog } from "../../src/decision/decision-log.ts";
import { ConfigError } from "../../src/errors.ts";
import { createTenantMiddleware, type TenantEnv } from "../../src/hono/tenant-middleware.ts";
import { NO_METRICS } from "../../src/metrics/create-auth-metrics.ts";
import { METRIC_ATTRIBUTES as A } from "../../src/metrics/metric-names.ts";
import { metricsFromEnv } from "../../src/metrics/metrics-from-env.ts";
import { registeredMeter } from "../../src/metrics/registered-meter.ts";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";
import { startInMemoryMetrics, valueOf, type InMemoryMetrics } from "../support/otel-metrics.ts";

let issuer: LocalIssuer;
beforeAll(async () => {
  issuer = await startLocalIssuer();
});
afterAll(async () => {
  otelMetrics.disable();
  await issuer?.close();
});

describe("metricsFromEnv", () => {
  it("records nothing when no SDK is registered, or when @opentelemetry/api is not installed", () => {
    otelMetrics.disable();
    expect(registeredMeter("langgraph-tenant-auth")).toBeUndefined();
    expect(metricsFromEnv({})).toBe(NO_METRICS);
    expect(metricsFromEnv({}, () => undefined)).toBe(NO_METRICS);
    expect(NO_METRICS.enabled).toBe(false);
    expect(NO_METRICS.authenticateTimer("dev")).toBeUndefined();
    // A log observed by no metrics pays nothing for allowed decisions.
    const log = createDecisionLog({ sink: { write: () => undefined } });
    NO_METRICS.observeDecisions(log);
    expect(log.countsAllowed).toBe(false);
    expect(Object.isFrozen(NO_METRICS)).toBe(true);
  });

  it("checks AUTH_METRICS_TENANT_LABEL even without an SDK", () => {
    expect(() => metricsFromEnv({ AUTH_METRICS_TENANT_LABEL: "1" })).toThrow(ConfigError);
    expect(() => metricsFromEnv({ AUTH_METRICS_TENANT_LABEL: "1" })).toThrow(/AUTH_METRICS_TENANT_LABEL must be "true" or "false"/);
  });

  describe("with an SDK registered as the global MeterProvider", () => {
    let otel: InMemoryMetrics;
    beforeAll(() => {
      otel = startInMemoryMetrics();
      expect(otelMetrics.setGlobalMeterProvider(otel.provider)).toBe(true);
    });
    afterAll(async () => {
      otelMetrics.disable();
      await otel.shutdown();
    });

    it("records into it, with the tenant label as the environment says (one set of instruments per meter)", () => {
      const metrics = metricsFromEnv({ AUTH_METRICS_TENANT_LABEL: "true" });
      expect(metrics.enabled).toBe(true);
      expect(metrics.tenantLabel).toBe(true);
      expect(metricsFromEnv({ AUTH_METRICS_TENANT_LABEL: "true" })).toBe(metrics);
      expect(() => metricsFromEnv({})).toThrow(/already records with tenantLabel true/);
    });

    it("is what the Hono middleware uses by default: its decisions and authenticate duration reach the SDK", async () => {
      const authenticator = createAuthenticator({ config: readConfig(issuer.env()) });
      const decisions = createDecisionLog({ sink: { write: () => undefined } });
      const previous = process.env.AUTH_METRICS_TENANT_LABEL;
      process.env.AUTH_METRICS_TENANT_LABEL = "true";
      let app: Hono<TenantEnv>;
      try {
        app = new Hono<TenantEnv>();
        app.use("/custom/*", createTenantMiddleware({ authenticator, decisions, host: "dev" }));
        app.get("/custom/tenant", (c) => c.json({ tenant: c.get("principal").tenant_id }));
      } finally {
        if (previous === undefined) delete process.env.AUTH_METRICS_TENANT_LABEL;
        else process.env.AUTH_METRICS_TENANT_LABEL = previous;
      }
      const token = await issuer.sign({ sub: "alice", org_id: "acme" });
      expect((await app.request("/custom/tenant", { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      expect((await app.request("/custom/tenant")).status).toBe(401);
      const collected = await otel.collect();
      expect(valueOf(collected, "langgraph_tenant_auth.decisions", { [A.host]: "dev", [A.outcome]: "allowed", [A.tenant]: "acme" })).toBe(1);
      expect(valueOf(collected, "langgraph_tenant_auth.decisions", { [A.host]: "dev", [A.reason]: "missing_token" })).toBe(1);
      expect(valueOf(collected, "langgraph_tenant_auth.authenticate.duration", { [A.host]: "dev" })).toBe(2);
      expect(valueOf(collected, "langgraph_tenant_auth.token_cache.lookups", { [A.cacheResult]: "miss" })).toBe(1);
    });
  });
});
