/**
 * A stray argument never reaches any output: a user may paste a token in the
 * wrong place, and Node's `parseArgs` (and langgraph dev's own parser) quote
 * what they did not expect. Every command of the bin, run as a child process
 * from this checkout, is given a canary as a stray positional argument and as
 * an unknown option (with a value), and must exit 2 naming the position only.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { startCommand } from "../support/command-line.ts";

const canary = `eyJcanary${randomUUID().replaceAll("-", "")}`;
const stray = [canary, `--${canary}=${canary}`];

/** Each command with the arguments that come before the stray ones. */
const CASES: Array<[string, string[]]> = [
  ["check-isolation", ["--url", "http://127.0.0.1:9"]],
  ["offboard", ["--url", "http://127.0.0.1:9"]],
  ["audit", ["verify", "audit.jsonl"]],
  ["audit", ["head", "audit.jsonl"]],
  ["audit", ["repair", "audit.jsonl"]],
  ["audit", ["query", "--tenant", "acme"]],
  ["audit", ["export", "--tenant", "acme", "--file", "audit.jsonl"]],
  ["dev", []],
  ["token", ["--tenant", "acme", "--sub", "alice"]],
];

describe("a stray argument is named by its position, never quoted", () => {
  it.each(CASES)("%s %j + a canary", async (command, before) => {
    const run = startCommand(command, [...before, ...stray], { AUDIT_LOG_FILE: "" });
    const code = await run.exited;
    expect(code, run.stderr()).toBe(2);
    // Counted after the command's name (`audit`'s subcommand included); verify, head and repair take a positional file.
    expect(run.stderr()).toMatch(new RegExp(`argument (${before.length + 1}|${before.length + 2}) after the command's name`));
    expect(run.stdout() + run.stderr()).not.toContain(canary);
    expect(run.stdout() + run.stderr()).not.toContain(canary.slice(0, 20));
  });

  it("the audit subcommand and the command itself are not quoted either", async () => {
    for (const args of [["audit", canary], [canary]]) {
      const run = startCommand(args[0]!, args.slice(1), {});
      expect(await run.exited, run.stderr()).toBe(2);
      expect(run.stderr()).toMatch(/not shown, in case it is a secret/);
      expect(run.stdout() + run.stderr()).not.toContain(canary.slice(0, 20));
    }
  });
});
