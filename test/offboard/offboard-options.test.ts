/**
 * The command line of `offboard`, without a server: what `--yes` demands
 * (the tenant named, an audit destination or its explicit waiver), where the
 * token and the audit destination come from, and that no usage error ever
 * repeats the token.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UsageError } from "../../src/cli-kit/command-line.ts";
import { DEFAULT_SETTLE_SECONDS, readOffboardOptions } from "../../src/offboard/offboard-options.ts";
import { runOffboardCli } from "../../src/offboard/run-offboard-cli.ts";
import { textSink } from "../support/text-sink.ts";

const TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl";
let dir: string;
let tokenFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "offboard-options-"));
  tokenFile = join(dir, "t.jwt");
  await writeFile(tokenFile, `Bearer ${TOKEN}\n`);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const base = () => ["--url", "https://agents.example.com", "--token-file", tokenFile];
const problems = (args: string[], env: NodeJS.ProcessEnv = {}) => {
  try {
    readOffboardOptions(args, env);
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
  return "";
};

describe("offboard's command line", () => {
  it("a dry run needs only the URL and the token (from a file, the environment, or a flag with a note)", () => {
    const options = readOffboardOptions(base(), {});
    expect(options).toMatchObject({ url: "https://agents.example.com", token: TOKEN, yes: false, settleMs: DEFAULT_SETTLE_SECONDS * 1000, requestTimeoutMs: 30_000, runStopMs: 60_000, noAuditRecord: false, warnings: [] });
    expect(options.audit).toBeUndefined();
    expect(readOffboardOptions([], { OFFBOARD_URL: "http://127.0.0.1:2024", OFFBOARD_TOKEN: TOKEN }).token).toBe(TOKEN);
    expect(readOffboardOptions(["--url", "http://127.0.0.1:2024"], { OFFBOARD_TOKEN_FILE: tokenFile }).token).toBe(TOKEN);
    expect(readOffboardOptions(["--url", "http://127.0.0.1:2024", "--token", TOKEN], {}).warnings[0]).toMatch(/--token is visible to other local users/);
    expect(readOffboardOptions([...base(), "--settle", "0"], {}).settleMs).toBe(0);
  });

  it("--yes needs the tenant named and an audit destination, or the explicit waiver", () => {
    expect(problems([...base(), "--yes"])).toMatch(/--yes needs --tenant <id>[\s\S]*--yes needs an audit destination/);
    expect(readOffboardOptions([...base(), "--yes", "--tenant", "acme.eu", "--no-audit-record"], {})).toMatchObject({ yes: true, tenant: "acme.eu", noAuditRecord: true });
    const fromEnv = readOffboardOptions([...base(), "--yes", "--tenant", "acme"], { AUDIT_LOG_FILE: "/var/log/agent/audit.jsonl" });
    expect(fromEnv.audit).toEqual({ file: "/var/log/agent/audit.jsonl", describe: "/var/log/agent/audit.jsonl", key: undefined });
    const database = readOffboardOptions([...base(), "--yes", "--tenant", "acme", "--audit-database-env", "AUDIT_DB"], { AUDIT_DB: "postgres://app:secret@db/app", AUDIT_LOG_FILE: "/ignored" });
    expect(database.audit).toEqual({ databaseUrl: "postgres://app:secret@db/app", describe: "the Postgres audit table (AUDIT_DB)", key: undefined });
    expect(problems([...base(), "--yes", "--tenant", "acme", "--audit-database-env", "UNSET_DB_VARIABLE"])).toMatch(/UNSET_DB_VARIABLE is not set/);
    expect(problems([...base(), "--yes", "--tenant", "acme", "--audit-file", "a.jsonl", "--no-audit-record"])).toMatch(/contradict/);
    expect(problems([...base(), "--yes", "--tenant", "acme", "--audit-file", "a.jsonl", "--audit-database-env", "X"])).toMatch(/not both/);
  });

  it("reads a keyed chain's key from the environment only, and refuses a short one", () => {
    const key = "k".repeat(40);
    expect(readOffboardOptions([...base(), "--audit-file", "a.jsonl"], { AUDIT_CHAIN_KEY: key }).audit?.key).toBe(key);
    expect(readOffboardOptions([...base(), "--audit-file", "a.jsonl", "--key-env", "MY_KEY"], { MY_KEY: key }).audit?.key).toBe(key);
    expect(problems([...base(), "--audit-file", "a.jsonl"], { AUDIT_CHAIN_KEY: "short" })).toMatch(/at least 32 bytes/);
  });

  it("refuses a bad tenant id, URL, number or flag, naming each", () => {
    const message = problems(["--url", "ftp://x", "--token-file", tokenFile, "--tenant", "a::b", "--settle", "soon"]);
    expect(message).toMatch(/--url must be an http\(s\) URL/);
    expect(message).toMatch(/--tenant is not a valid tenant id/);
    expect(message).toMatch(/--settle must be a positive number of seconds/);
    expect(problems(["--url", "https://user:pw@x.example.com", "--token-file", tokenFile])).toMatch(/must not carry credentials/);
    // An unknown option is named by position, never quoted (it could be a pasted token).
    const unknown = problems([...base(), "--wipe"]);
    expect(unknown).toMatch(new RegExp(`argument ${base().length + 1} after the command.s name is not an option of this command`));
    expect(unknown).not.toContain("wipe");
    expect(problems(["--url", "https://x.example.com"])).toMatch(/the tenant's token is missing/);
  });

  it("the command prints its help, and a usage error exits 2 without the token", async () => {
    const out = textSink();
    expect(await runOffboardCli(["--help"], {}, { stdout: out.stream, stderr: textSink().stream })).toBe(0);
    for (const flag of ["--url", "--token-file", "--tenant", "--yes", "--export", "--settle", "--json", "--audit-file", "--audit-database-env", "--no-audit-record"]) expect(out.text()).toContain(flag);
    const err = textSink();
    expect(await runOffboardCli(["--url", "nope", "--token", TOKEN, "--yes"], {}, { stdout: textSink().stream, stderr: err.stream })).toBe(2);
    expect(err.text()).toMatch(/--url is not a URL/);
    expect(err.text()).not.toContain(TOKEN);
  });
});
