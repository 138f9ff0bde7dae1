/**
 * `check-isolation`: build tenant A's world, send every probe as tenant B
 * (and A's read-only second user), have A re-read its world, and delete
 * everything created, also when the run fails, times out or is interrupted.
 */
import { randomBytes } from "node:crypto";
import { CreatedResources, cleanUp, type CleanupReport } from "./cleanup.ts";
import { brokenCredentials } from "./derived-tokens.ts";
import { createSender, describeError } from "../cli-kit/http-client.ts";
import { PROBES } from "./probe-table.ts";
import { orderProbes, runProbe } from "./run-probes.ts";
import type { Caller, Probe, ProbeResult, World } from "./types.ts";
import { buildWorld, probeControls, snapshotWorld } from "./world.ts";

/** Options of {@link checkIsolation}. */
export interface CheckIsolationOptions {
  /** Deployment base URL. */
  url: string;
  /** Tenant A's token, tenant B's token, and optionally a read-only second user of tenant A. */
  tokens: { a: string; b: string; a2?: string };
  /** Graph for runs. Default: the first system assistant's graph A finds, else A's own first assistant's (see `discoverGraph`). */
  graph?: string;
  /** Store namespace prefixes (default: found from the tenant metadata and the claims). */
  namespaceA?: string[];
  namespaceB?: string[];
  /** Per-request timeout, ms. Default 30000. */
  requestTimeoutMs?: number;
  /** The whole check (not the cleanup), ms. Default 600000. */
  timeLimitMs?: number;
  /** Stops the check (Ctrl-C); the cleanup still runs. */
  signal?: AbortSignal;
  /** Called after each step, for a progress line. */
  onProgress?: (event: ProgressEvent) => void;
  /** The probes to send. Default: every probe of the table not marked `suiteOnly`. */
  probes?: readonly Probe[];
  /** Run marker. Default `ci-` and 12 random hex digits. */
  marker?: string;
  /**
   * The broken credentials sent as A. Default: `brokenCredentials(tokens.a)`.
   * The command line passes the ones it redacts, so the expired copy (whose
   * `exp` depends on the clock) is the very one that is sent.
   */
  broken?: ReturnType<typeof brokenCredentials>;
}

/** A progress step. */
export type ProgressEvent =
  | { phase: "world" | "controls" | "snapshot" | "cleanup"; message: string }
  | { phase: "probe"; done: number; total: number; result: ProbeResult };

/** The outcome of a run. */
export interface IsolationReport {
  url: string;
  graph?: string;
  marker: string;
  startedAt: string;
  finishedAt: string;
  /** Whether the owner and permission probes ran (a third token was given). */
  ownerProbes: boolean;
  results: ProbeResult[];
  summary: { probes: number; pass: number; leak: number; error: number; notServed: number };
  /** Why the check stopped early (Ctrl-C, time limit). */
  interrupted?: string;
  /** A failure that stopped the check (A's world could not be built, for example). */
  failure?: string;
  cleanup: CleanupReport;
}

/**
 * True when nothing leaked, nothing errored, the check ran to its end and
 * the cleanup left nothing behind: the command's exit code 0. Endpoints the
 * server does not serve do not count against it.
 *
 * @example
 * process.exitCode = isClean(report) ? 0 : 1;
 */
export function isClean(report: IsolationReport): boolean {
  return (
    report.summary.leak === 0 &&
    report.summary.error === 0 &&
    !report.interrupted &&
    !report.failure &&
    report.cleanup.failed.length === 0 &&
    report.cleanup.leftovers.length === 0
  );
}

/**
 * Run the check against a deployment.
 *
 * @example
 * const report = await checkIsolation({ url: "https://preview.example.com", tokens: { a, b } });
 * process.exitCode = isClean(report) ? 0 : 1;
 */
export async function checkIsolation(options: CheckIsolationOptions): Promise<IsolationReport> {
  const startedAt = new Date().toISOString();
  const marker = options.marker ?? `ci-${randomBytes(6).toString("hex")}`;
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const limit = AbortSignal.timeout(options.timeLimitMs ?? 600_000);
  const signal = options.signal ? AbortSignal.any([options.signal, limit]) : limit;
  const authorization: Partial<Record<Caller, string>> = {
    a: `Bearer ${options.tokens.a}`,
    b: `Bearer ${options.tokens.b}`,
    ...(options.tokens.a2 ? { a2: `Bearer ${options.tokens.a2}` } : {}),
    ...(options.broken ?? brokenCredentials(options.tokens.a)),
  };
  const send = createSender({ url: options.url, authorization, requestTimeoutMs, signal });
  // The cleanup must outlive Ctrl-C and the time limit: its own sender has only the per-request timeout.
  const cleanupSend = createSender({ url: options.url, authorization, requestTimeoutMs });
  const created = new CreatedResources();
  const progress = options.onProgress ?? (() => undefined);
  const results: ProbeResult[] = [];
  let world: World | undefined;
  let interrupted: string | undefined;
  let failure: string | undefined;

  try {
    progress({ phase: "world", message: "building tenant A's world" });
    world = await buildWorld(send, created, { marker, tokens: options.tokens, graph: options.graph, namespaceA: options.namespaceA, namespaceB: options.namespaceB });
    progress({ phase: "controls", message: "asking which optional endpoints the server serves" });
    const served = await probeControls(send, world, created);
    progress({ phase: "snapshot", message: "tenant A reads its world" });
    const before = await snapshotWorld(send, world);
    const probes = orderProbes((options.probes ?? PROBES.filter((p) => !p.suiteOnly)).filter((p) => p.as !== "a2" || options.tokens.a2));
    for (const probe of probes) {
      signal.throwIfAborted();
      const { answer: _answer, ...result } = await runProbe(probe, world, send, served, created, signal);
      results.push(result);
      progress({ phase: "probe", done: results.length, total: probes.length, result });
    }
    progress({ phase: "snapshot", message: "tenant A re-reads its world" });
    const after = await snapshotWorld(send, world);
    for (const [name, was] of Object.entries(before)) {
      const now = after[name];
      const same = JSON.stringify(now) === JSON.stringify(was);
      results.push({
        id: `world/${name.replace(/\W+/g, "-")}`,
        group: "world",
        route: "world",
        as: "a",
        method: "GET",
        pattern: "(A re-reads)",
        request: `A re-reads its ${name}`,
        attempt: `A's ${name} is unchanged after every probe`,
        status: now?.status ?? 0,
        verdict: same ? "pass" : "leak",
        ...(same ? {} : { detail: `A's ${name} changed: before ${JSON.stringify(was).slice(0, 300)} after ${JSON.stringify(now).slice(0, 300)}` }),
      });
    }
  } catch (error) {
    if (signal.aborted) interrupted = options.signal?.aborted ? "interrupted" : `time limit of ${options.timeLimitMs ?? 600_000} ms reached`;
    else failure = describeError(error);
  }
  progress({ phase: "cleanup", message: `deleting everything marked ${marker}` });
  const cleanup = await cleanUp(cleanupSend, created, marker, options.tokens.a2 ? ["a", "b", "a2"] : ["a", "b"]);
  const count = (v: ProbeResult["verdict"]) => results.filter((r) => r.verdict === v).length;
  return {
    url: options.url,
    ...(world ? { graph: world.graph } : {}),
    marker,
    startedAt,
    finishedAt: new Date().toISOString(),
    ownerProbes: Boolean(options.tokens.a2),
    results,
    summary: { probes: results.length, pass: count("pass"), leak: count("leak"), error: count("error"), notServed: count("not-served") },
    ...(interrupted ? { interrupted } : {}),
    ...(failure ? { failure } : {}),
    cleanup,
  };
}
