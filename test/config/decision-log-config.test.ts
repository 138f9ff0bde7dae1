/**
 * `AUTH_DECISION_LOG_SINK=audit` is a promise to put every decision in the
 * audit trail: without an `AUDIT_LOG_FILE` this process can append to, it is
 * refused at start (a `ConfigError` saying what to set), by the config
 * loader and by a real start of the `Auth` module, never found on the first
 * refusal that cannot be written. Real files in a private temporary folder.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readDecisionLogConfig } from "../../src/config/decision-log-config.ts";
import { readConfig } from "../../src/config/read-config.ts";
import { ConfigError } from "../../src/errors.ts";
import { PROJECT_ROOT } from "../support/langgraph-dev.ts";

const BASE = { AUTH_ISSUER: "http://127.0.0.1:9/", AUTH_AUDIENCE: "https://api.example.com" };
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "decision-sink-config-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function problemsOf(read: () => unknown): readonly string[] {
  try {
    read();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  return [];
}

describe("AUTH_DECISION_LOG_SINK=audit at start", () => {
  const cases = [
    ["unset", () => undefined, /^AUTH_DECISION_LOG_SINK=audit needs AUDIT_LOG_FILE: set it to .*, or set AUTH_DECISION_LOG_SINK=stderr$/],
    ["blank", () => "  ", /^AUTH_DECISION_LOG_SINK=audit needs AUDIT_LOG_FILE/],
    ["in a folder that does not exist", () => join(dir, "missing", "audit.jsonl"), /^AUDIT_LOG_FILE: ".*audit\.jsonl" cannot be appended to \(its folder does not exist\).*set it to a file in a folder this process can write, or set AUTH_DECISION_LOG_SINK=stderr$/],
    ["a folder, not a file", () => dir, /^AUDIT_LOG_FILE: .* cannot be appended to \(it is not a regular file\)/],
    ["under a file, as if it were a folder", () => join(dir, "plain.txt", "audit.jsonl"), /^AUDIT_LOG_FILE: .* cannot be appended to \(the file system says ENOTDIR\)/],
  ] as const;

  it.each(cases)("AUDIT_LOG_FILE %s: a ConfigError from readConfig and readDecisionLogConfig, saying what to set", async (_, file, message) => {
    await writeFile(join(dir, "plain.txt"), "x");
    const env = { ...BASE, AUTH_DECISION_LOG_SINK: "audit", AUDIT_LOG_FILE: file() };
    expect(problemsOf(() => readConfig(env))).toEqual([expect.stringMatching(message)]);
    expect(problemsOf(() => readDecisionLogConfig(env))).toEqual([expect.stringMatching(message)]);
  });

  it("a file that can be created, or appended to, passes, and nothing is created by the check", async () => {
    const fresh = join(dir, "fresh.jsonl");
    const env = { ...BASE, AUTH_DECISION_LOG_SINK: "audit", AUDIT_LOG_FILE: fresh };
    expect(readConfig(env).decisionLog).toMatchObject({ sink: "audit" });
    expect(readDecisionLogConfig(env)).toMatchObject({ sink: "audit" });
    expect(existsSync(fresh)).toBe(false);
    const existing = join(dir, "existing.jsonl");
    await writeFile(existing, "");
    expect(readConfig({ ...env, AUDIT_LOG_FILE: existing }).decisionLog).toMatchObject({ sink: "audit" });
  });

  it("the stderr sink does not look at AUDIT_LOG_FILE", () => {
    expect(readConfig({ ...BASE, AUDIT_LOG_FILE: join(dir, "missing", "audit.jsonl") }).decisionLog).toMatchObject({ sink: "stderr" });
  });
});

/** Load `src/auth.ts` (what langgraph.json points at) in a fresh Node process with `env`. */
function startAuthModule(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", "await import('./src/auth.ts'); console.log('AUTH MODULE LOADED')"], {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", AUTH_SERVER: "js", ...BASE, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, output }));
  });
}

describe("a real start of the Auth module (src/auth.ts)", () => {
  it("refuses to start with an audit file in a folder that does not exist, and starts with one it can write", async () => {
    const missing = join(dir, "nowhere", "audit.jsonl");
    const refused = await startAuthModule({ AUTH_DECISION_LOG_SINK: "audit", AUDIT_LOG_FILE: missing });
    expect(refused.code).not.toBe(0);
    expect(refused.output).toContain("ConfigError: invalid auth configuration:");
    expect(refused.output).toContain(`AUDIT_LOG_FILE: "${missing}" cannot be appended to (its folder does not exist)`);
    expect(refused.output).not.toContain("AUTH MODULE LOADED");
    const started = await startAuthModule({ AUTH_DECISION_LOG_SINK: "audit", AUDIT_LOG_FILE: join(dir, "start.jsonl") });
    expect(started.output).toContain("AUTH MODULE LOADED");
    expect(started.code).toBe(0);
  }, 120_000);
});
