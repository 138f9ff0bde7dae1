/**
 * The command line: tokens from flags, files or the environment (one source
 * each), every problem named at once, and a note when a token sits on the
 * command line.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCliOptions, UsageError } from "../../src/check-isolation/cli-options.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "check-isolation-cli-"));
  await writeFile(join(dir, "a.jwt"), "Bearer aaa.bbb.ccc\n");
  await writeFile(join(dir, "b.jwt"), "xxx.yyy.zzz\n");
  await writeFile(join(dir, "bad.jwt"), "two words\n");
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const problems = (args: string[], env: NodeJS.ProcessEnv = {}) => {
  try {
    readCliOptions(args, env);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error("no UsageError");
};

describe("check-isolation options", () => {
  it("reads the tokens from files and the environment, with no note", () => {
    const options = readCliOptions(["--url", "https://preview.example.com", "--token-a-file", join(dir, "a.jwt"), "--graph", "agent", "--json", "r.json", "--junit", "r.xml", "--request-timeout", "5", "--time-limit", "90", "--namespace-a", "acme.notes"], { CHECK_ISOLATION_TOKEN_B: "b.token.x", CHECK_ISOLATION_TOKEN_A2_FILE: join(dir, "b.jwt") });
    expect(options).toEqual({
      url: "https://preview.example.com",
      tokens: { a: "aaa.bbb.ccc", b: "b.token.x", a2: "xxx.yyy.zzz" },
      graph: "agent",
      json: "r.json",
      junit: "r.xml",
      namespaceA: ["acme", "notes"],
      requestTimeoutMs: 5000,
      timeLimitMs: 90_000,
      warnings: [],
    });
  });

  it("takes the URL and token files from the environment; defaults 30 s per request and 600 s in all", () => {
    const options = readCliOptions([], { CHECK_ISOLATION_URL: "http://127.0.0.1:2024", CHECK_ISOLATION_TOKEN_A_FILE: join(dir, "a.jwt"), CHECK_ISOLATION_TOKEN_B_FILE: join(dir, "b.jwt") });
    expect(options.tokens).toEqual({ a: "aaa.bbb.ccc", b: "xxx.yyy.zzz" });
    expect([options.requestTimeoutMs, options.timeLimitMs]).toEqual([30_000, 600_000]);
  });

  it("accepts a token flag but notes that the process list shows it, without repeating the token", () => {
    const options = readCliOptions(["--url", "http://x.test", "--token-a", "flag.token.a", "--token-b-file", join(dir, "b.jwt")], {});
    expect(options.tokens.a).toBe("flag.token.a");
    expect(options.warnings).toEqual(["--token-a is visible to other local users in the process list; prefer CHECK_ISOLATION_TOKEN_A or --token-a-file"]);
    expect(options.warnings.join()).not.toContain("flag.token.a");
  });

  it("names every problem at once", () => {
    const message = problems(["--url", "ftp://x", "--token-a", "t.a.a", "--token-a-file", join(dir, "a.jwt"), "--token-b-file", join(dir, "missing.jwt"), "--request-timeout", "0", "--namespace-b", "a..b"]);
    expect(message.split("\n")).toEqual([
      "--url must be an http(s) URL",
      "give tenant A's token once: --token-a and --token-a-file both set",
      "--token-b-file: cannot read the file (ENOENT)",
      "--namespace-b must be dot-separated non-empty labels",
      "--request-timeout must be a positive number of seconds",
    ]);
    expect(problems([])).toMatch(/--url is missing[\s\S]*tenant A's token is missing[\s\S]*tenant B's token is missing/);
    expect(problems(["--url", "http://x.test", "--token-a-file", join(dir, "bad.jwt"), "--token-b", "b.b.b"])).toContain("--token-a-file: the token is empty or contains whitespace");
    expect(problems(["--url", "http://u:p@x.test", "--token-a", "same", "--token-b", "same"])).toMatch(/must not carry credentials[\s\S]*are the same token/);
    expect(problems(["--bogus"])).toMatch(/argument 1 after the command.s name is not an option of this command/);
    expect(problems(["--bogus"])).not.toContain("bogus");
  });
});
