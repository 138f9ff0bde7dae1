/**
 * A container stop must not lose the flood bound's counts: a real child
 * process makes refusals through the shared decision log (most of them
 * counted into aggregates, the window a minute long), receives SIGTERM (or
 * SIGINT), and what it wrote adds up to exactly the refusals it made. The
 * signal keeps Node's default behaviour: the process still ends by it, or,
 * when the application listens for it itself, as that listener decides.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DecisionRecord } from "../../src/decision/decision-event.ts";

const PROJECT_ROOT = join(import.meta.dirname, "..", "..");
const N = 257;

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Start the fixture, wait until its refusals are made (and, with `until`,
 * until its standard error satisfies it), send `signal`, wait for it to end.
 */
function refuseThenStop(signal: NodeJS.Signals, env: Record<string, string>, ...args: string[]): Promise<Ended> {
  return refuseWaitStop(signal, env, undefined, ...args);
}

function refuseWaitStop(signal: NodeJS.Signals, env: Record<string, string>, until: ((stderr: string) => boolean) | undefined, ...args: string[]): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "test/decision/fixtures/refuse-then-wait.ts", String(N), ...args], {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH ?? "", AUTH_DECISION_LOG_BURST: "5", AUTH_DECISION_LOG_WINDOW: "3600", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let sent = false;
    const maybeStop = () => {
      if (!sent && stdout.includes(`ready ${N}\n`) && (until === undefined || until(stderr))) {
        sent = true;
        child.kill(signal);
      }
    };
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
      maybeStop();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
      maybeStop();
    });
    child.on("error", reject);
    child.on("close", (code, endSignal) => resolve({ code, signal: endSignal, stdout, stderr }));
  });
}

/** The decision records among lines (other lines skipped). */
function records(text: string): DecisionRecord[] {
  return text.split("\n").filter((line) => line.startsWith('{"type":"auth.decision')).map((line) => JSON.parse(line) as DecisionRecord);
}

/** Refusals on the record: one per written event, `count` per aggregate. */
const total = (all: DecisionRecord[]) => all.reduce((sum, r) => sum + (r.type === "auth.decision" ? 1 : r.count), 0);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "signal-flush-"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("aggregates pending when the process is stopped", () => {
  it.each(["SIGTERM", "SIGINT"] as const)("%s: written to standard error, counts exact, the process still ends by the signal", async (signal) => {
    const ended = await refuseThenStop(signal, {});
    expect(ended.signal).toBe(signal);
    const written = records(ended.stderr);
    // Two callers: 5 lines each, and the rest in one aggregate each, written by the flush.
    expect(written.filter((r) => r.type === "auth.decision")).toHaveLength(10);
    const aggregates = written.filter((r) => r.type === "auth.decision.aggregate");
    expect(aggregates).toHaveLength(2);
    expect(total(written)).toBe(N);
    expect(aggregates.map((a) => (a.type === "auth.decision.aggregate" ? a.resource_counts : {}))).toEqual([
      { "thread:thread-0": expect.any(Number), "thread:thread-1": expect.any(Number), "thread:thread-2": expect.any(Number) },
      { "thread:thread-0": expect.any(Number), "thread:thread-1": expect.any(Number), "thread:thread-2": expect.any(Number) },
    ]);
  }, 60_000);

  it("SIGTERM with the audit sink: the audit trail holds every refusal, the process still ends by the signal", async () => {
    const file = join(dir, "audit.jsonl");
    const ended = await refuseThenStop("SIGTERM", { AUTH_DECISION_LOG_SINK: "audit", AUDIT_LOG_FILE: file });
    expect(ended.signal).toBe("SIGTERM");
    const lines = (await readFile(file, "utf8")).trim().split("\n").map((line) => JSON.parse(line) as { kind?: string; data?: { type?: string; count?: number } });
    const decisions = lines.filter((line) => line.kind === "decision");
    const counted = decisions.reduce((sum, line) => sum + (line.data?.type === "auth.decision.aggregate" ? line.data.count! : 1), 0);
    expect(decisions.filter((line) => line.data?.type === "auth.decision.aggregate")).toHaveLength(2);
    expect(counted).toBe(N);
  }, 60_000);

  it("at the end of each window, while the process runs: the window's aggregates are written by the (unref'd) timer, before any signal", async () => {
    // A window of 1 s: the test waits for both aggregates to appear (no fixed sleep), then stops the process.
    let before = "";
    const ended = await refuseWaitStop("SIGTERM", { AUTH_DECISION_LOG_WINDOW: "1" }, (stderr) => {
      before = stderr;
      return records(stderr).filter((r) => r.type === "auth.decision.aggregate").length >= 2;
    });
    expect(ended.signal).toBe("SIGTERM");
    // Written before the signal was sent, and nothing left for the flush to add.
    expect(total(records(before))).toBe(N);
    expect(total(records(ended.stderr))).toBe(N);
  }, 60_000);

  it("SIGTERM when the application listens for it itself: flushed, and the application's listener decides how it ends", async () => {
    const ended = await refuseThenStop("SIGTERM", {}, "own-listener");
    expect(ended.stdout).toContain("own listener ran");
    expect(ended.code).toBe(0);
    expect(ended.signal).toBeNull();
    expect(total(records(ended.stderr))).toBe(N);
  }, 60_000);
});
