/**
 * `npm run bench:server`: what this package's auth adds to a real
 * `langgraph dev`. Three servers on loopback: one with this package's auth,
 * one with a fixed-user `Auth` and no handlers (the server's own auth
 * plumbing), one with no `auth` in langgraph.json. All get the same mix of
 * thread reads and searches from autocannon, in rotating slices so all see
 * the same machine load.
 *
 * The three store the same data: every seeded thread carries the `tenant_id`
 * and `owner` metadata this package stamps (the auth server stamps it itself;
 * the other two get it in the create request), so all three answer with
 * byte-identical bodies and the table compares the cost of auth, not of
 * larger responses. All three run with LOG_LEVEL=warn, so the per-request
 * log lines (the same for all) do not flow through this process's pipes
 * while it is also the load generator.
 *
 * Not a test: it prints a table. Knobs (environment): BENCH_SERVER_ROUNDS
 * (default 15), BENCH_SERVER_SLICE_S (seconds per slice, default 2),
 * BENCH_SERVER_CONNECTIONS (default 8), BENCH_SERVER_THREADS (seeded per
 * server, default 20). Total time is bounded: (rounds + 1) × 3 × slice plus start-up.
 */
import autocannon from "autocannon";
import { readdirSync, readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { startLocalIssuer } from "../scripts/lib/local-issuer.ts";
import { ALL_PERMISSIONS } from "../scripts/lib/dev-settings.ts";
import { startLangGraphDev, type LangGraphDev } from "../test/support/langgraph-dev.ts";

const ROUNDS = Number(process.env.BENCH_SERVER_ROUNDS ?? 15);
const SLICE_S = Number(process.env.BENCH_SERVER_SLICE_S ?? 2);
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

/** What this package stamps on the bench user's threads (see tenantStamp); seeded on all three servers alike. */
const STAMP = { tenant_id: "acme", owner: "bench-user" };

async function seed(server: LangGraphDev, authorization: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < THREADS; i++) {
    const response = await fetch(`${server.url}/threads`, {
      method: "POST",
      headers: { authorization, "content-type": "application/json" },
      body: JSON.stringify({ metadata: { bench: true, n: i, ...STAMP } }),
    });
    if (response.status !== 200) throw new Error(`creating a thread answered ${response.status}: ${await response.text()}`);
    const thread = (await response.json()) as { thread_id: string; metadata: Record<string, unknown> };
    if (thread.metadata.tenant_id !== STAMP.tenant_id || thread.metadata.owner !== STAMP.owner) {
      throw new Error(`seeded thread carries ${JSON.stringify(thread.metadata)}, not the stamp ${JSON.stringify(STAMP)}`);
    }
    ids.push(thread.thread_id);
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

/**
 * CPU time (user + system, ms) of the processes serving `port`: the
 * `langgraph dev` server is a grandchild of the CLI, found by the port in
 * its command line. Linux only (/proc); `undefined` elsewhere.
 */
function serverCpuMs(port: string): number | undefined {
  let total = 0;
  let found = false;
  try {
    for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
      try {
        if (!readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(`"port":${port},`)) continue;
        const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
        total += (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, 100 ticks per second
        found = true;
      } catch {
        // the process went away
      }
    }
  } catch {
    return undefined;
  }
  return found ? total : undefined;
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
  const env = { ...issuer.env(), LOG_LEVEL: "warn" };
  const [withAuth, plumbing, noAuth] = await Promise.all([
    startLangGraphDev({ env }),
    startLangGraphDev({
      // The same environment: the deployment's own routes (http.app) read it too.
      env,
      editConfig: (config) => {
        const auth = config.auth as { path: string };
        auth.path = auth.path.replace(/src\/auth\.ts:auth$/, "bench/fixed-user-auth.ts:auth");
      },
    }),
    startLangGraphDev({
      // The same environment: the deployment's own routes (http.app) read it too.
      env,
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
    auth: { server: withAuth, requests: requestsFor(await seed(withAuth, authorization)), slices: [] as Slice[], port: new URL(withAuth.url).port, cpuMs: 0 },
    plumbing: { server: plumbing, requests: requestsFor(await seed(plumbing, authorization)), slices: [] as Slice[], port: new URL(plumbing.url).port, cpuMs: 0 },
    none: { server: noAuth, requests: requestsFor(await seed(noAuth, authorization)), slices: [] as Slice[], port: new URL(noAuth.url).port, cpuMs: 0 },
  };
  const names = ["auth", "plumbing", "none"] as const;

  // Warm all three (JIT, the auth module's key set fetch, the token cache).
  for (const name of names) await slice(targets[name].server.url, authorization, targets[name].requests);

  for (let round = 0; round < ROUNDS; round++) {
    // Rotate which goes first, so drifting load hits all alike.
    for (let k = 0; k < names.length; k++) {
      const target = targets[names[(round + k) % names.length]!];
      const before = serverCpuMs(target.port);
      const result = await slice(target.server.url, authorization, target.requests);
      const after = serverCpuMs(target.port);
      if (before !== undefined && after !== undefined) target.cpuMs += after - before;
      target.slices.push(result);
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
  const perRound = (x: Slice[], y: Slice[]) => x.map((slice, r) => (slice.p50 / y[r]!.p50 - 1) * 100).sort((p, q) => p - q);
  const pct = (x: number) => `${x >= 0 ? "+" : ""}${x.toFixed(1)} %`;
  const spread = (values: number[]) =>
    `median ${pct(median(values))}, middle half ${pct(values[Math.floor(values.length / 4)]!)} to ${pct(values[Math.floor((3 * values.length) / 4)]!)}, range ${pct(values[0]!)} to ${pct(values[values.length - 1]!)}`;
  const vsNone = perRound(targets.auth.slices, targets.none.slices);
  const rowsAdded = (a.p50 / n.p50 - 1) * 100;
  const met = median(vsNone) <= 10 && rowsAdded <= 10;
  console.log(`\nTarget: auth adds at most 10 % to p50. Per-round ratios this package ÷ no auth (${ROUNDS} rounds): ${spread(vsNone)}. Medians of the rows above: ${pct(rowsAdded)}. Verdict (both at most +10 %): ${met ? "met" : "MISSED"}.`);
  console.log(`Per-round ratios, plumbing only ÷ no auth: ${spread(perRound(targets.plumbing.slices, targets.none.slices))}.`);
  console.log(`Per-round ratios, this package ÷ plumbing only: ${spread(perRound(targets.auth.slices, targets.plumbing.slices))}.`);
  const cpuPerRequest = (name: (typeof names)[number]) => {
    const t = targets[name];
    const requests = t.slices.reduce((sum, s) => sum + s.requests, 0);
    return t.cpuMs > 0 && requests > 0 ? (t.cpuMs * 1000) / requests : Number.NaN;
  };
  const [cpuAuth, cpuPlumbing, cpuNone] = [cpuPerRequest("auth"), cpuPerRequest("plumbing"), cpuPerRequest("none")];
  if (Number.isFinite(cpuAuth) && Number.isFinite(cpuNone)) {
    console.log(
      `Server CPU per request (user + system of the server processes over all slices, /proc): this package ${cpuAuth.toFixed(0)} µs, plumbing only ${cpuPlumbing.toFixed(0)} µs, no auth ${cpuNone.toFixed(0)} µs; this package adds ${(cpuAuth - cpuNone).toFixed(0)} µs (${pct((cpuAuth / cpuNone - 1) * 100)}), of which plumbing ${(cpuPlumbing - cpuNone).toFixed(0)} µs.`,
    );
  }
  console.log(`Each row: median of ${ROUNDS} slices; the mix is ${targets.auth.requests.length} requests per cycle (reads of ${THREADS} threads, a search after every second read).`);
  console.log(`load average at end ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
} finally {
  await Promise.all(servers.map((s) => s.stop()));
  await issuer.close();
}
process.exit(0);
