/**
 * Every exported function that reads untrusted input returns or throws
 * within 50 ms, whatever it is fed: random, truncated and adversarial input
 * (test/entry-points/fixtures/fuzz-parsers.ts lists the functions and the
 * inputs; fast-check generates them from a seed printed on failure, and
 * `FUZZ_SEED=<seed>` replays a run).
 *
 * How the limit is enforced without making the suite flaky on a busy machine:
 *
 * - The calls run in a child process, and each is measured in CPU time
 *   (`process.cpuUsage()`, with `--single-threaded` so V8's compiler and GC
 *   helpers run on the calling thread), not wall time: a process that waits
 *   for a core accrues no CPU time, so six test runs sharing two cores do not
 *   make a 1 ms parser look slow. A call over 50 ms is measured twice more
 *   and the least of the three counts, so a GC pause or cache contention
 *   during one run is not a failure; a slow parser is slow every time.
 * - A call that never returns cannot measure itself. The child writes each
 *   call's parser and input to a state file before making it; this test
 *   polls the file and kills the child when no call has completed for 30 s,
 *   then fails naming that input. The 30 s backstop only catches calls that
 *   do not return: it is about 100 times what the slowest allowed call
 *   (50 ms of CPU) takes in wall time with the machine shared six ways, and
 *   it never decides the 50 ms verdict itself.
 * - A self-check plants a parser that takes 80 ms of CPU and one that never
 *   returns (FUZZ_PLANT in the fixture): the measure must catch the first
 *   and the watchdog name the second, so neither can pass vacuously.
 * - The child runs under `ulimit -t` (a CPU-time limit the kernel enforces),
 *   so even a hung child whose test process died is ended by the system.
 *
 * A worker thread with a watchdog was the other choice: it dies with the test
 * process, but Node 20 has no per-thread CPU clock, so it would have to time
 * calls in wall time, or in CPU time of a process whose other threads
 * (vitest's own) count too.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../support/langgraph-dev.ts";

const FIXTURE = "test/entry-points/fixtures/fuzz-parsers.ts";
/** Values per input family and function. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
/** No completed call for this long (wall time) means a call that does not return. */
const NO_PROGRESS_MS = 30_000;
/** How long the child may take to load before its first call (wall time, on a busy machine). */
const STARTUP_MS = 120_000;
/** The kernel's CPU-time limit on the child: a backstop for a hung child nobody is left to kill. */
const CHILD_CPU_SECONDS = 300;

/** The functions the child must have called: the list, and the others found. */
const PARSERS = [
  "inspectToken", "inspectToken (64 KiB cap)", "inspectToken (hostile payload)", "extractBearerToken", "extractBearerToken (64 KiB cap)",
  "peekBearerToken", "isBearerTokenSyntax", "requestTarget", "requestTarget (URL prefix)", "createJsonNestingScanner",
  "parseAuditLine", "createAuditLogParser", "verifyAuditLog", "parseChainHeads", "isChainHeadLine", "customRoutesVariable",
  "readConfig AUTH_CUSTOM_ROUTES", "readConfig", "parseTenantKey", "tenantIdFromNamespaceLabel", "isTenantId", "isResourceId",
  "isKeyOfTenant", "tenantKey", "tenantKey (tenant)", "tenantNamespaceLabel", "quoteHeaderValue", "isCredentialHeaderName",
  "requiredPermission", "isUuidV5", "toPrincipal", "readClaim", "routePolicy.decide", "canonicalJson", "digestArguments",
  "readToolCaller", "requireTenantNamespace", "systemAssistantFilter", "systemAssistantFilter (read)", "dropCredentialHeaders",
  "checkRunOptions", "checkRunOptions (refuse)", "namesLangSmithProject", "requireStampableMetadata", "requireMergeSafeUpdate",
  "requireCronTiedToThread", "isPlatformStudioUser", "readRunCaller", "tenantIdOfRun", "requireRunTenant",
  "refusedNamespaceReason", "namespaceResources", "isTenantNamespace", "isInTenant", "tenantOf", "outsideReason",
  "isRunnableAssistant", "checkAuditRecord", "decisionCaller", "requirePrincipal", "handleTenantEvent",
];

interface Summary {
  seed: number;
  calls: number;
  parsers: Record<string, { calls: number; slowestMs: number; threw: Record<string, number> }>;
  overLimit: { parser: string; cpuMs: number; input: string }[];
  wrongErrors: { parser: string; error: string; input: string }[];
  wrongErrorCount: number;
}

/** How a child run ended: its summary, or the call it was killed in. */
type ChildRun = { ended: number | string; stderr: string; summary?: Summary; hung?: { parser: string; input: string } };

/** Run the fixture in a child process, with the watchdog; `plant` adds a planted parser (FUZZ_PLANT). */
async function runChild(seed: number, runs: number, options: { plant?: "slow" | "hang"; noProgressMs?: number } = {}): Promise<ChildRun> {
  const noProgressMs = options.noProgressMs ?? NO_PROGRESS_MS;
  const dir = await mkdtemp(join(tmpdir(), "parsers-"));
  const stateFile = join(dir, "current-call");
  const child = spawn(
    "/bin/sh",
    ["-c", `ulimit -t ${CHILD_CPU_SECONDS} && exec "$0" "$@"`, process.execPath, "--single-threaded", "--import", "tsx", FIXTURE, stateFile, String(seed), String(runs)],
    { cwd: PROJECT_ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, FUZZ_PLANT: options.plant ?? "" } },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, "close").then(([code, signal]) => (signal as string | null) ?? (code as number));
  let ended: number | string | undefined;
  void exited.then((how) => (ended = how));
  try {
    // The watchdog: the state file's first line counts the calls begun.
    let seen = "";
    let lastProgress = performance.now();
    while (ended === undefined) {
      await sleep(250);
      const current = await readFile(stateFile, "utf8").catch(() => "");
      const count = current.slice(0, current.indexOf("\n"));
      if (count !== seen) [seen, lastProgress] = [count, performance.now()];
      // Until the first call begins, the child is loading (tsx, the package): that is not a call that does not return.
      else if (count === "" && performance.now() - lastProgress < STARTUP_MS) continue;
      else if (performance.now() - lastProgress > noProgressMs && ended === undefined) {
        child.kill("SIGKILL");
        const [, parser, ...input] = current.split("\n");
        return { ended: await exited, stderr, hung: { parser: parser!, input: input.join("\n").slice(0, 2000) } };
      }
    }
    const last = stdout.trim().split("\n").at(-1);
    return { ended, stderr, ...(ended === 0 && last ? { summary: JSON.parse(last) as Summary } : {}) };
  } finally {
    if (ended === undefined) child.kill("SIGKILL");
    await exited;
    await rm(dir, { recursive: true, force: true });
  }
}

describe("every parser of untrusted input", () => {
  it("returns or throws within 50 ms of CPU time on random, truncated and adversarial input", async () => {
    const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const run = await runChild(seed, RUNS);
    if (run.hung) expect.fail(`${run.hung.parser} did not return within ${NO_PROGRESS_MS / 1000} s (FUZZ_SEED=${seed}); input: ${run.hung.input}`);
    expect(run.ended, `the child failed (FUZZ_SEED=${seed}):\n${run.stderr.slice(-4000)}`).toBe(0);
    const summary = run.summary!;
    expect(summary.seed).toBe(seed);
    expect(summary.overLimit, `calls over 50 ms of CPU (FUZZ_SEED=${seed})`).toEqual([]);
    // A refusal of a request parser must be a coded error (never a 500); see the fixture for which may throw what.
    expect(summary.wrongErrors, `errors of the wrong kind (FUZZ_SEED=${seed})`).toEqual([]);
    expect(Object.keys(summary.parsers).sort()).toEqual([...PARSERS].sort());
    for (const parser of PARSERS) expect(summary.parsers[parser]!.calls, parser).toBeGreaterThan(RUNS / 2);
  }, 240_000);

  it("fails on a planted parser that takes 80 ms of CPU, and names one that never returns (self-check)", async () => {
    const slow = await runChild(1, 1, { plant: "slow" });
    expect(slow.ended, slow.stderr.slice(-2000)).toBe(0);
    expect(slow.summary!.overLimit.map((o) => o.parser)).toEqual(["planted (slow)"]);
    expect(slow.summary!.overLimit[0]!.cpuMs).toBeGreaterThan(50);
    // A short backstop here: the planted call is the first, and nothing else is waited for.
    const hang = await runChild(1, 1, { plant: "hang", noProgressMs: 3_000 });
    expect(hang.hung).toEqual({ parser: "planted (hang)", input: '"x"' });
    expect(hang.ended).toBe("SIGKILL");
  }, 120_000);
});
