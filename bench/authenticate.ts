/**
 * `npm run bench`: the cost of one bearer-token check, this package against
 * its floor (jose, node:crypto) and the libraries a team would pick instead,
 * in one process, on the same key set and the same tokens.
 *
 * Not a test: it prints tables. Every library checks signature, issuer,
 * audience and expiry. Each row gets a warm-up, then repeated rounds; ops/s
 * is the median round, p50/p99 are over every operation of every round.
 *
 * Knobs (environment): BENCH_ROUNDS (default 8), BENCH_ROUND_MS (250),
 * BENCH_WARMUP_MS (300), BENCH_ALGS (RS256,ES256,EdDSA), BENCH_PAIRED_MS (3000:
 * the paired cache-off ÷ jose measurement the uncached target is judged on).
 * BENCH_SMOKE=1: one 10 ms round per row, 20 users instead of 1,000 and a
 * cache of 100 tokens for the memory table (the knobs above still win), to
 * show the bench starts and prints its tables (test/bench/bench-smoke.test.ts);
 * its numbers and verdicts mean nothing.
 */
import { constants, createPublicKey, verify as cryptoVerify, type KeyObject } from "node:crypto";
import { execFileSync } from "node:child_process";
import { cpus, loadavg, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { createLocalJWKSet, jwtVerify, type JWK } from "jose";
import { auth as auth0 } from "express-oauth2-jwt-bearer";
import jwksClient from "jwks-rsa";
import jsonwebtoken from "jsonwebtoken";
import { createVerifier } from "fast-jwt";
import { createAuthenticator } from "../src/authenticate/create-authenticator.ts";
import { readConfig } from "../src/config/read-config.ts";
import { startLocalIssuer, type LocalIssuer } from "../test/support/local-issuer.ts";
import { markdownTable } from "./lib/markdown-table.ts";

const SMOKE = process.env.BENCH_SMOKE === "1";
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (SMOKE ? 1 : 8));
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? (SMOKE ? 10 : 250));
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? (SMOKE ? 10 : 300));
const ALGS = (process.env.BENCH_ALGS ?? "RS256,ES256,EdDSA").split(",") as Array<"RS256" | "ES256" | "EdDSA">;
const PAIRED_MS = Number(process.env.BENCH_PAIRED_MS ?? (SMOKE ? 50 : 3000));
const USERS = SMOKE ? 20 : 1_000;
const MEMORY_ENTRIES = SMOKE ? 100 : 10_000;

/** One operation; `i` counts operations so rows can cycle through many tokens. */
type Op = (i: number) => unknown;

interface Row {
  name: string;
  opsPerSecond: number;
  p50: number;
  p99: number;
}

/** Latencies in a log-scale histogram (1 % wide buckets from 10 ns): exact enough, constant memory. */
class Histogram {
  private readonly counts = new Float64Array(2_000);
  total = 0;
  record(ms: number): void {
    const ns = Math.max(10, ms * 1e6);
    this.counts[Math.min(1_999, Math.floor(Math.log(ns / 10) / Math.log(1.01)))]! += 1;
    this.total++;
  }
  /** The latency at quantile q, in µs. */
  quantile(q: number): number {
    let seen = 0;
    for (let b = 0; b < this.counts.length; b++) {
      seen += this.counts[b]!;
      if (seen >= q * this.total) return (10 * 1.01 ** (b + 0.5)) / 1000;
    }
    return Number.NaN;
  }
}

interface Candidate {
  name: string;
  op: Op;
  minWarmupOps: number;
  next: number;
  rates: number[];
  histogram: Histogram;
}

async function runRound(c: Candidate, durationMs: number, record: boolean): Promise<void> {
  const { op } = c;
  const start = performance.now();
  const end = start + durationMs;
  let count = 0;
  let t = start;
  while (t < end || (!record && count < c.minWarmupOps)) {
    const r = op(c.next++);
    if (r instanceof Promise) await r;
    const after = performance.now();
    if (record) c.histogram.record(after - t);
    t = after;
    count++;
  }
  if (record) c.rates.push(count / ((t - start) / 1000));
}

/**
 * Warm every candidate, then run the rounds interleaved (round 1 of each,
 * round 2 of each…), so load that drifts during the run falls on all alike.
 */
async function measureAll(candidates: Candidate[]): Promise<Row[]> {
  for (const c of candidates) await runRound(c, WARMUP_MS, false);
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of candidates) await runRound(c, ROUND_MS, true);
  }
  return candidates.map((c) => {
    const rates = [...c.rates].sort((a, b) => a - b);
    return {
      name: c.name,
      opsPerSecond: rates[Math.floor(rates.length / 2)]!,
      p50: c.histogram.quantile(0.5),
      p99: c.histogram.quantile(0.99),
    };
  });
}

/**
 * The ratio of two operations' costs, measured in alternating blocks of a few
 * dozen calls each (A, B, B, A, …) so both see the same machine at every
 * moment: the rows above run a quarter second at a time, long enough for a
 * shared VM's speed to change between two rows. Returns the median over
 * block pairs of time(A) ÷ time(B).
 */
async function pairedRatio(a: Op, b: Op, durationMs: number, block = 32): Promise<{ ratio: number; pairs: number }> {
  const runBlock = async (op: Op): Promise<number> => {
    const start = performance.now();
    for (let i = 0; i < block; i++) {
      const r = op(i);
      if (r instanceof Promise) await r;
    }
    return performance.now() - start;
  };
  const ratios: number[] = [];
  const end = performance.now() + durationMs;
  for (let k = 0; performance.now() < end; k++) {
    // Alternate which goes first, so neither always runs on a cache the other warmed.
    let ta: number;
    let tb: number;
    if (k % 2 === 0) {
      ta = await runBlock(a);
      tb = await runBlock(b);
    } else {
      tb = await runBlock(b);
      ta = await runBlock(a);
    }
    ratios.push(ta / tb);
  }
  ratios.sort((x, y) => x - y);
  return { ratio: ratios[Math.floor(ratios.length / 2)]!, pairs: ratios.length };
}

const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Fake Express request/response for express-oauth2-jwt-bearer's middleware. */
function expressRequest(token: string) {
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, host: "127.0.0.1" };
  return {
    headers,
    query: {},
    body: undefined,
    method: "GET",
    protocol: "http",
    url: "/threads/search",
    originalUrl: "/threads/search",
    socket: { remoteAddress: "127.0.0.1" },
    get: (name: string) => headers[name.toLowerCase()],
    is: () => false,
  } as Record<string, unknown>;
}

const claimsOf = (sub: string) => ({ sub, org_id: "acme", scope: "threads:read threads:write" });

async function benchAlgorithm(alg: "RS256" | "ES256" | "EdDSA"): Promise<{ rows: Row[]; notes: string[]; paired: { ratio: number; pairs: number } }> {
  const issuer: LocalIssuer = await startLocalIssuer({ alg, audience: "bench-api" });
  const notes: string[] = [];
  try {
    const token = await issuer.sign(claimsOf("user-0"), { expiresIn: 3600 });
    const tokens = await Promise.all(Array.from({ length: USERS }, (_, u) => issuer.sign(claimsOf(`user-${u}`))));
    const jwks = (await (await fetch(issuer.jwksUrl)).json()) as { keys: JWK[] };
    const publicKey: KeyObject = createPublicKey({ key: jwks.keys[0] as never, format: "jwk" });
    const pem = publicKey.export({ type: "spki", format: "pem" }) as string;
    const env = { ...issuer.env(), AUTH_ALGORITHMS: alg };
    const expected = { issuer: issuer.issuer, audience: issuer.audience };

    const request = (t: string) => new Request("http://127.0.0.1/threads/search", { headers: { authorization: `Bearer ${t}` } });
    const oneRequest = request(token);
    const userRequests = tokens.map(request);

    // This package, with its default remote key store on the issuer's JWKS.
    const cached = createAuthenticator({ config: readConfig(env) });
    const uncached = createAuthenticator({ config: readConfig({ ...env, AUTH_TOKEN_CACHE: "off" }) });
    await cached.authenticateRequest(oneRequest);
    await uncached.authenticateRequest(oneRequest);

    // jose alone, with a local key set.
    const localSet = createLocalJWKSet(jwks);
    const joseOptions = { issuer: expected.issuer, audience: expected.audience, algorithms: [alg], requiredClaims: ["exp"] };

    // node:crypto: the signature alone, on precomputed bytes.
    const dot = token.lastIndexOf(".");
    const signingInput = Buffer.from(token.slice(0, dot));
    const signature = Buffer.from(token.slice(dot + 1), "base64url");
    const cryptoArgs: [string | null, { key: KeyObject; dsaEncoding?: "ieee-p1363"; padding?: number }] =
      alg === "RS256"
        ? ["sha256", { key: publicKey, padding: constants.RSA_PKCS1_PADDING }]
        : alg === "ES256"
          ? ["sha256", { key: publicKey, dsaEncoding: "ieee-p1363" }]
          : [null, { key: publicKey }];

    // express-oauth2-jwt-bearer (Auth0): discovery + JWKS from the loopback issuer.
    const auth0Middleware = auth0({ issuerBaseURL: issuer.issuer, audience: issuer.audience, tokenSigningAlg: alg });
    const auth0Request = expressRequest(token);
    const runAuth0 = () =>
      new Promise<void>((resolve, reject) =>
        auth0Middleware(auth0Request as never, {} as never, (error?: unknown) => (error ? reject(error) : resolve())),
      );
    await runAuth0();

    // jwks-rsa + jsonwebtoken: the pattern of Auth0's older quick-starts.
    const keys = jwksClient({ jwksUri: issuer.jwksUrl, cache: true, rateLimit: false });
    const getKey: jsonwebtoken.GetPublicKeyOrSecret = (header, callback) => {
      keys.getSigningKey(header.kid).then(
        (key) => callback(null, key.getPublicKey()),
        (error: Error) => callback(error),
      );
    };
    const runJsonwebtoken = (t: string) =>
      new Promise<unknown>((resolve, reject) =>
        jsonwebtoken.verify(
          t,
          getKey,
          { issuer: expected.issuer, audience: expected.audience, algorithms: [alg as jsonwebtoken.Algorithm] },
          (error, payload) => (error ? reject(error) : resolve(payload)),
        ),
      );
    let jsonwebtokenWorks = true;
    try {
      await runJsonwebtoken(token);
    } catch (error) {
      jsonwebtokenWorks = false;
      notes.push(`${alg}: jwks-rsa + jsonwebtoken cannot verify it (${(error as Error).message}).`);
    }

    // fast-jwt: given the public key directly (it has no JWKS client of its own), synchronous.
    const fastOptions = {
      key: pem,
      algorithms: [alg],
      allowedIss: expected.issuer,
      allowedAud: expected.audience,
      requiredClaims: ["exp"],
    };
    const fastPlain = createVerifier(fastOptions);
    const fastCached = createVerifier({ ...fastOptions, cache: 10_000 });

    // Every library must accept the tokens before it is timed.
    await jwtVerify(token, localSet, joseOptions);
    fastPlain(token);
    if (!cryptoVerify(cryptoArgs[0], signingInput, cryptoArgs[1], signature)) throw new Error("node:crypto refused the signature");

    const candidates: Candidate[] = [];
    // Rows over many tokens warm up until each token was seen twice (a full cache).
    const add = (name: string, op: Op, minWarmupOps = 0) => {
      candidates.push({ name, op, minWarmupOps, next: 0, rates: [], histogram: new Histogram() });
    };
    add("this package, cache on, 1 token", () => cached.authenticateRequest(oneRequest));
    add(`this package, cache on, ${fmt(USERS)} users`, (i) => cached.authenticateRequest(userRequests[i % USERS]!), 2 * USERS);
    add("this package, cache off", () => uncached.authenticateRequest(oneRequest));
    add("jose jwtVerify, local key set", () => jwtVerify(token, localSet, joseOptions));
    add("node:crypto verify (signature only)", () => cryptoVerify(cryptoArgs[0], signingInput, cryptoArgs[1], signature));
    add("express-oauth2-jwt-bearer", runAuth0);
    if (jsonwebtokenWorks) add("jwks-rsa + jsonwebtoken", () => runJsonwebtoken(token));
    add("fast-jwt, no cache", () => fastPlain(token));
    add("fast-jwt, cache, 1 token", () => fastCached(token));
    add(`fast-jwt, cache, ${fmt(USERS)} users`, (i) => fastCached(tokens[i % USERS]!), 2 * USERS);
    const rows = await measureAll(candidates);
    const paired = await pairedRatio(() => uncached.authenticateRequest(oneRequest), () => jwtVerify(token, localSet, joseOptions), PAIRED_MS);
    return { rows, notes, paired };
  } finally {
    await issuer.close();
  }
}

interface MemorySample {
  entries: number;
  heapUsed: number;
  rss: number;
}

/**
 * One child's share of the memory measurement: verify 10,000 distinct (100 with BENCH_SMOKE=1)
 * tokens with the cache on or off, then report heap and RSS after full GCs.
 */
async function sampleMemory(cache: "on" | "off"): Promise<MemorySample> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const issuer = await startLocalIssuer({ alg: "ES256", audience: "bench-api" });
  try {
    const tokens = await Promise.all(Array.from({ length: MEMORY_ENTRIES }, (_, u) => issuer.sign(claimsOf(`member-${u}`))));
    const authenticator = createAuthenticator({
      config: readConfig({ ...issuer.env(), AUTH_TOKEN_CACHE: cache, AUTH_TOKEN_CACHE_MAX_ENTRIES: String(MEMORY_ENTRIES) }),
    });
    for (const token of tokens) {
      await authenticator.authenticateRequest(new Request("http://127.0.0.1/threads", { headers: { authorization: `Bearer ${token}` } }));
    }
    for (let i = 0; i < 4; i++) gc?.();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const { heapUsed, rss } = process.memoryUsage();
    return { entries: authenticator.cachedTokens ?? 0, heapUsed, rss };
  } finally {
    await issuer.close();
  }
}

/** Memory of a full cache: two fresh child processes doing the same work, cache on and cache off. */
function cacheMemory(): string[][] {
  const child = (cache: "on" | "off") =>
    JSON.parse(
      execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), `--memory=${cache}`], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
      }),
    ) as MemorySample;
  const on = child("on");
  const off = child("off");
  const mib = (bytes: number) => fmt(bytes / 1024 / 1024, 1);
  return [
    ["entries in the cache", fmt(on.entries)],
    ["heap used, cache on − cache off", `${mib(on.heapUsed - off.heapUsed)} MiB (${fmt((on.heapUsed - off.heapUsed) / on.entries)} B/entry)`],
    ["resident memory (RSS), cache on − cache off", `${mib(on.rss - off.rss)} MiB`],
    ["process RSS, cache on / cache off", `${mib(on.rss)} / ${mib(off.rss)} MiB`],
  ];
}

const memoryMode = process.argv.find((arg) => arg.startsWith("--memory="));
if (memoryMode) {
  process.stdout.write(JSON.stringify(await sampleMemory(memoryMode === "--memory=on" ? "on" : "off")));
  process.exit(0);
}

const started = Date.now();
console.log(`# npm run bench: ${new Date().toISOString()}${SMOKE ? " (BENCH_SMOKE=1: a start-up check, not a measurement)" : ""}`);
console.log(
  `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? "cpu"}, ${fmt(totalmem() / 2 ** 30)} GiB, load average at start ${loadavg().map((l) => l.toFixed(2)).join(" ")}`,
);
console.log(`Sequential calls, warm-up ${WARMUP_MS} ms, ${ROUNDS} interleaved rounds × ${ROUND_MS} ms per row; ops/s = median round.\n`);

const targets: string[][] = [];
for (const alg of ALGS) {
  const { rows, notes, paired } = await benchAlgorithm(alg);
  const ours = rows[0]!.opsPerSecond;
  const oursOff = rows[2]!.opsPerSecond;
  console.log(`## ${alg}\n`);
  console.log(
    markdownTable(
      ["", "ops/s", "p50 µs", "p99 µs", "cache-on ours ÷ row", "cache-off ours ÷ row"],
      rows.map((r) => [
        r.name,
        fmt(r.opsPerSecond),
        fmt(r.p50, 1),
        fmt(r.p99, 1),
        `${fmt(ours / r.opsPerSecond, 2)}×`,
        `${fmt(oursOff / r.opsPerSecond, 2)}×`,
      ]),
    ),
  );
  for (const note of notes) console.log(`\n${note}`);
  console.log("");
  const by = (prefix: string) => rows.find((r) => r.name.startsWith(prefix));
  const auth0Row = by("express-oauth2-jwt-bearer")!;
  const joseRow = by("jose")!;
  const oursMix = rows[1]!.opsPerSecond;
  const fastOne = by("fast-jwt, cache, 1 token")!;
  const fastMix = by(`fast-jwt, cache, ${fmt(USERS)} users`)!;
  const peers = rows.filter((r) => !r.name.startsWith("this package") && !r.name.startsWith("jose") && !r.name.startsWith("node:crypto"));
  const bestPeer = peers.reduce((a, b) => (a.opsPerSecond >= b.opsPerSecond ? a : b));
  const verdict = (ok: boolean) => (ok ? "met" : "MISSED");
  targets.push(
    [alg, "cached ≥ 20× express-oauth2-jwt-bearer", `${fmt(ours / auth0Row.opsPerSecond, 1)}× (1 token), ${fmt(oursMix / auth0Row.opsPerSecond, 1)}× (${fmt(USERS)} users)`, verdict(Math.min(ours, oursMix) / auth0Row.opsPerSecond >= 20)],
    [alg, `cached ahead of every peer (fastest peer: ${bestPeer.name})`, `${fmt(ours / fastOne.opsPerSecond, 2)}× fast-jwt's cache (1 token), ${fmt(oursMix / fastMix.opsPerSecond, 2)}× (${fmt(USERS)} users)`, verdict(ours > fastOne.opsPerSecond && oursMix > fastMix.opsPerSecond && peers.every((p) => p.name.startsWith("fast-jwt, cache") || ours > p.opsPerSecond))],
    [alg, "uncached within 1.15× of jose jwtVerify", `${fmt(paired.ratio, 2)}× jose's time per call (median of ${fmt(paired.pairs)} paired blocks); rows above: jose ${fmt(joseRow.opsPerSecond / oursOff, 2)}× ours in ops/s, ours ${fmt(rows[2]!.p50 / joseRow.p50, 2)}× jose at p50`, verdict(paired.ratio <= 1.15)],
  );
}

console.log("## Targets\n");
console.log(markdownTable(["alg", "target", "measured", "verdict"], targets));
console.log("\n## Memory of a full cache (ES256 tokens)\n");
console.log(markdownTable(["", "value"], cacheMemory()));
console.log(`\nload average at end ${loadavg().map((l) => l.toFixed(2)).join(" ")}; took ${fmt((Date.now() - started) / 1000)} s`);
process.exit(0);
