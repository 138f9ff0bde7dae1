/**
 * `npm run bench:server`: what this package's auth adds to a real
 * `langgraph dev`. Three servers on loopback: one with this package's auth,
 * one with a fixed-user `Auth` and no handlers (the server's own auth
 * plumbing), one with no `auth` in langgraph.json. All get the same mix of
 * thread reads and searches from autocannon, in rotating slices so all see
 * the same machine load.
 *
 * Not a test: it prints a table. Knobs (environment): BENCH_SERVER_ROUNDS
 * (default 9), BENCH_SERVER_SLICE_S (seconds per slice, default 3),
 * BENCH_SERVER_CONNECTIONS (default 8), BENCH_SERVER_THREADS (seeded per
 * server, default 20). Total time is bounded: (rounds + 1) × 3 × slice plus start-up.
 */
import autocannon from "autocannon";
import { cpus, loadavg } from "node:os";
import { startLocalIssuer } from "../scripts/lib/local-issuer.ts";
import { ALL_PERMISSIONS } from "../scripts/lib/dev-settings.ts";
import { startLangGraphDev, type LangGraphDev } from "../test/support/langgraph-dev.ts";

const ROUNDS = Number(process.env.BENCH_SERVER_ROUNDS ?? 9);
const SLICE_S = Number(process.env.BENCH_SERVER_SLICE_S ?? 3);
const CONNECTIONS = Number(process.env.BENCH_SERVER_CONNECTIONS ?? 8);
const THREADS = Number(process.env.BENCH_SERVER_THREADS ?? 20);

interface Slice {
  requests: number;
  p50: number;
  p90: number;
  p99: number;
  rps: number;
  errors: number;
}

async function seed(server: LangGraphDev, authorization: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < THREADS; i++) {
    const response = await fetch(`${server.url}/threads`, {
      method: "POST",
      headers: { authorization, "content-type": "application/json" },
      body: JSON.stringify({ metadata: { bench: true, n: i } }),
    });
    if (response.status !== 200) throw new Error(`creating a thread answered ${response.status}: ${await response.text()}`);
    ids.push(((await response.json()) as { thread_id: string }).thread_id);
  }
  return ids;
}

/** The mix: a read of each seeded thread, a search after every second read. */
function requestsFor(ids: string[]): autocannon.Request[] {
  const requests: autocannon.Request[] = [];
  ids.forEach((id, i) => {
    requests.push({ method: "GET", path: `/threads/${id}` });
    if (i % 2 === 1) {
      requests.push({
        method: "POST",
        path: "/threads/search",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ limit: 10, metadata: { bench: true } }),
      });
    }
  });
  return requests;
}

/**
 * One autocannon slice. autocannon's own latency histogram has whole-ms
 * buckets, too coarse for a 10 % question, so the exact response times of
 * its `response` events are kept instead.
 */
async function slice(url: string, authorization: string, requests: autocannon.Request[]): Promise<Slice> {
  const times: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      { url, connections: CONNECTIONS, duration: SLICE_S, headers: { authorization }, requests },
      (error, outcome) => (error ? reject(error) : resolve(outcome)),
    );
    instance.on("response", (_client: unknown, status: number, _bytes: number, ms: number) => {
      if (status >= 200 && status < 300) times.push(ms);
    });
  });
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(times.length * q))] ?? Number.NaN;
  return {
    requests: result.requests.total,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    rps: result.requests.average,
    errors: result.non2xx + result.errors + result.timeouts,
  };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

console.log(`# npm run bench:server: ${new Date().toISOString()}`);
console.log(`Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? "cpu"}, load average at start ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
console.log(`autocannon: ${CONNECTIONS} connections, ${ROUNDS} rounds × 3 servers × ${SLICE_S} s slices (after one warm-up slice each), ${THREADS} threads per server\n`);

const issuer = await startLocalIssuer();
const servers: LangGraphDev[] = [];
try {
  const token = await issuer.sign({ sub: "bench-user", org_id: "acme", scope: ALL_PERMISSIONS }, { expiresIn: 3600 });
  const authorization = `Bearer ${token}`;
  const [withAuth, plumbing, noAuth] = await Promise.all([
    startLangGraphDev({ env: issuer.env() }),
    startLangGraphDev({
      // The same environment: the deployment's own routes (http.app) read it too.
      env: issuer.env(),
      editConfig: (config) => {
        const auth = config.auth as { path: string };
        auth.path = auth.path.replace(/src\/auth\.ts:auth$/, "bench/fixed-user-auth.ts:auth");
      },
    }),
    startLangGraphDev({
      // The same environment: the deployment's own routes (http.app) read it too.
      env: issuer.env(),
      editConfig: (config) => {
        delete config.auth;
      },
    }),
  ]);
  servers.push(withAuth, plumbing, noAuth);

  // The no-auth server really has no auth; ours refuses a request without a token.
  const probe = await fetch(`${noAuth.url}/threads/search`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  const refused = await fetch(`${withAuth.url}/threads/search`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  if (probe.status !== 200 || refused.status !== 401) {
    throw new Error(`setup check failed: no-auth answered ${probe.status}, auth answered ${refused.status} without a token`);
  }

  const targets = {
    auth: { server: withAuth, requests: requestsFor(await seed(withAuth, authorization)), slices: [] as Slice[] },
    plumbing: { server: plumbing, requests: requestsFor(await seed(plumbing, authorization)), slices: [] as Slice[] },
    none: { server: noAuth, requests: requestsFor(await seed(noAuth, authorization)), slices: [] as Slice[] },
  };
  const names = ["auth", "plumbing", "none"] as const;

  // Warm all three (JIT, the auth module's key set fetch, the token cache).
  for (const name of names) await slice(targets[name].server.url, authorization, targets[name].requests);

  for (let round = 0; round < ROUNDS; round++) {
    // Rotate which goes first, so drifting load hits all alike.
    for (let k = 0; k < names.length; k++) {
      const target = targets[names[(round + k) % names.length]!];
      target.slices.push(await slice(target.server.url, authorization, target.requests));
    }
  }

  const summary = (name: string, slices: Slice[]) => ({
    name,
    rps: median(slices.map((s) => s.rps)),
    p50: median(slices.map((s) => s.p50)),
    p90: median(slices.map((s) => s.p90)),
    p99: median(slices.map((s) => s.p99)),
    requests: slices.reduce((n, s) => n + s.requests, 0),
    errors: slices.reduce((n, s) => n + s.errors, 0),
  });
  const a = summary("this package's auth", targets.auth.slices);
  const f = summary("LangGraph auth plumbing only (fixed user, no handlers)", targets.plumbing.slices);
  const n = summary("no auth configured", targets.none.slices);
  const row = (s: typeof a) => [s.name, s.rps.toFixed(0), s.p50.toFixed(2), s.p90.toFixed(2), s.p99.toFixed(2), String(s.requests), String(s.errors)];
  const ratio = (name: string, x: typeof a, y: typeof a) => [name, `${(x.rps / y.rps).toFixed(2)}×`, `${(x.p50 / y.p50).toFixed(2)}×`, `${(x.p90 / y.p90).toFixed(2)}×`, `${(x.p99 / y.p99).toFixed(2)}×`, "", ""];
  const headers = ["", "req/s", "p50 ms", "p90 ms", "p99 ms", "requests", "non-2xx/errors"];
  const rows = [row(a), row(f), row(n), ratio("this package ÷ no auth", a, n), ratio("this package ÷ plumbing only", a, f)];
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(" | ")} |`;
  console.log(line(headers));
  console.log(`|${widths.map((w, c) => (c === 0 ? ":" : "") + "-".repeat(w + 1) + (c === 0 ? "" : ":")).join("|")}|`);
  for (const r of rows) console.log(line(r));
  // Each round ran the three servers back to back, so a round's ratio compares
  // them under the same load; the spread of those ratios is the honest error bar.
  const perRound = targets.auth.slices.map((slice, r) => (slice.p50 / targets.none.slices[r]!.p50 - 1) * 100).sort((x, y) => x - y);
  const pct = (x: number) => `${x >= 0 ? "+" : ""}${x.toFixed(1)} %`;
  const added = median(perRound);
  console.log(`\nTarget: auth adds at most 10 % to p50. Median of the ${ROUNDS} per-round ratios: ${pct(added)} (${added <= 10 ? "met" : "MISSED"}); rounds ranged ${pct(perRound[0]!)} to ${pct(perRound[perRound.length - 1]!)}, middle half ${pct(perRound[Math.floor(perRound.length / 4)]!)} to ${pct(perRound[Math.floor((3 * perRound.length) / 4)]!)}. Medians of the rows above: ${pct((a.p50 / n.p50 - 1) * 100)}.`);
  console.log(`Each row: median of ${ROUNDS} slices; the mix is ${targets.auth.requests.length} requests per cycle (reads of ${THREADS} threads, a search after every second read).`);
  console.log(`load average at end ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
} finally {
  await Promise.all(servers.map((s) => s.stop()));
  await issuer.close();
}
process.exit(0);
