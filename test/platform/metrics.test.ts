/**
 * The metrics in the platform's worker (the stand-in of
 * test/support/platform-worker.ts, which loads `src/auth.ts` as the platform
 * does), with the real OpenTelemetry SDK registered by the docs' preload
 * (`NODE_OPTIONS=--import examples/otel/metrics-preload.mjs`) and scraped
 * from its Prometheus endpoint over loopback. Here with
 * `AUTH_METRICS_TENANT_LABEL=true`: the caller's tenant is a label, and
 * nothing a client sent is (not the tenant its store namespace named either).
 * A second worker whose key set cannot be fetched counts the failed
 * refreshes and the 503 refusals.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../support/langgraph-dev.ts";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";
import { parsePrometheus, sampleValue, type PrometheusSample } from "../support/otel-metrics.ts";
import { startPlatformWorker, type PlatformHost } from "../support/platform-host.ts";
import { waitFor } from "../support/wait-for.ts";

const ALL = "threads:read threads:write assistants:read assistants:write crons:read crons:write store:read store:write";
const URL_BASE = "https://agent.example.langgraph.app";
const CANARY = `Canary${Array.from({ length: 12 }, () => String.fromCharCode(97 + Math.floor(Math.random() * 26))).join("")}`;
const PRELOAD = pathToFileURL(join(PROJECT_ROOT, "examples/otel/metrics-preload.mjs")).href;

let issuer: LocalIssuer;
const workers: PlatformHost[] = [];

const label = (name: string) => `langgraph_tenant_auth_${name}`;

/** Start a worker with the preload; its metrics endpoint from the line the preload prints. */
async function start(env: Record<string, string>): Promise<{ worker: PlatformHost; scrape(): Promise<{ text: string; samples: PrometheusSample[] }> }> {
  const worker = await startPlatformWorker({
    ...env,
    LANGSERVE_GRAPHS: JSON.stringify({ echo: "./examples/graphs/echo.ts:graph" }),
    LANGGRAPH_AUTH: JSON.stringify({ path: "./src/auth.ts:auth" }),
    NODE_OPTIONS: `--import ${PRELOAD}`,
    OTEL_EXPORTER_PROMETHEUS_PORT: "0",
    AUTH_METRICS_TENANT_LABEL: "true",
  });
  workers.push(worker);
  await waitFor(() => /metrics: http:\S+/.test(worker.output()), "the worker's metrics endpoint");
  const url = /metrics: (http:\S+)/.exec(worker.output())![1]!;
  return {
    worker,
    async scrape() {
      const text = await (await fetch(url, { signal: AbortSignal.timeout(10_000) })).text();
      return { text, samples: parsePrometheus(text) };
    },
  };
}

beforeAll(async () => {
  issuer = await startLocalIssuer();
});

afterAll(async () => {
  for (const worker of workers) await worker.stop();
  await issuer?.close();
});

describe("metrics in the platform's worker", () => {
  it("count authenticate's and the handlers' decisions, with the opt-in tenant labels, and nothing a client sent", async () => {
    const { worker, scrape } = await start(issuer.env());
    const token = await issuer.sign({ sub: "bob", org_id: "globex", scope: ALL, name: CANARY });
    const headers = { authorization: `Bearer ${token}`, "x-canary": CANARY, cookie: `s=${CANARY}` };
    const login = await worker.authenticate(`${URL_BASE}/threads/search?q=${CANARY}`, "POST", headers);
    if (!login.ok) throw new Error(login.message);
    expect((await worker.authenticate(`${URL_BASE}/threads/search`, "POST", { "x-canary": CANARY })).ok).toBe(false);
    expect((await worker.authenticate(`${URL_BASE}/threads/prune`, "POST", headers)).ok).toBe(false);
    const store = await worker.authorize("store:put", { namespace: ["acme", "notes"], key: CANARY, value: { text: CANARY } }, login.context);
    expect(store.ok).toBe(false);
    const read = await worker.authorize("threads:read", { thread_id: "0193f0a1-0000-7000-8000-0000000000a1" }, login.context);
    expect(read.ok).toBe(true);

    const { text, samples } = await scrape();
    const decisions = label("decisions_total");
    const of = (labels: Record<string, string>) =>
      sampleValue(samples, decisions, Object.fromEntries(Object.entries(labels).map(([k, v]) => [label(k), v])));
    expect(of({ host: "platform", decision_source: "authenticate", decision_outcome: "allowed", tenant_id: "globex" })).toBe(1);
    expect(of({ decision_source: "authenticate", decision_reason: "missing_token" })).toBe(1);
    expect(of({ decision_source: "authenticate", decision_reason: "operator_only", tenant_id: "globex" })).toBe(1);
    expect(of({ decision_source: "handler", decision_reason: "cross_tenant", decision_event: "store:put", tenant_id: "globex" })).toBe(1);
    // The namespace named acme; its first label is the client's word for a tenant, never a label.
    expect(text).not.toContain("acme");
    expect(of({ decision_source: "handler", decision_outcome: "allowed", decision_event: "threads:read", tenant_id: "globex" })).toBe(1);
    // A refusal before verification carries no tenant label at all.
    const missing = samples.find((s) => s.name === decisions && s.labels[label("decision_reason")] === "missing_token")!;
    expect(Object.keys(missing.labels)).not.toContain(label("tenant_id"));
    expect(sampleValue(samples, `${label("authenticate_duration")}_count`, { [label("host")]: "platform" })).toBe(3);
    expect(sampleValue(samples, label("key_set_refreshes_total"), { [label("key_set_issuer")]: issuer.issuer, [label("key_set_refresh_result")]: "success" })).toBe(1);
    // The subject, the ids and everything the client sent stay out.
    expect(text).not.toContain('"bob"');
    expect(text.split(CANARY).length - 1).toBe(0);
    expect(worker.output().split(CANARY).length - 1).toBe(0);
  });

  it("count failed key set refreshes and the 503s of a key set that cannot be had", async () => {
    const { worker, scrape } = await start({ ...issuer.env(), AUTH_JWKS_URL: "http://127.0.0.1:9/jwks.json", AUTH_JWKS_TIMEOUT_MS: "500", AUTH_JWKS_COOLDOWN: "1" });
    const token = await issuer.sign({ sub: "bob", org_id: "globex", scope: ALL });
    for (let i = 0; i < 2; i++) {
      const answer = await worker.authenticate(`${URL_BASE}/threads/search`, "POST", { authorization: `Bearer ${token}` });
      expect(answer).toMatchObject({ ok: false, status: 503 });
    }
    const { samples } = await scrape();
    const issued = { [label("key_set_issuer")]: issuer.issuer };
    expect(sampleValue(samples, label("key_set_unavailable_refusals_total"), issued)).toBe(2);
    expect(sampleValue(samples, label("key_set_refreshes_total"), { ...issued, [label("key_set_refresh_result")]: "failure" })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(samples, label("key_set_refreshes_total"), { ...issued, [label("key_set_refresh_result")]: "success" })).toBe(0);
    expect(samples.some((s) => s.name === label("key_set_age"))).toBe(false);
    expect(sampleValue(samples, label("decisions_total"), { [label("decision_reason")]: "key_set_unavailable" })).toBe(2);
  });
});
