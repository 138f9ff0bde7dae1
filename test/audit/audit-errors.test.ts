/**
 * The audit layer throws coded errors (a class with a stable `code`, STYLE
 * item 2), never a plain `Error` or `TypeError`, for anything that reaches
 * it at run time: values to hash, log lines, saved heads, queries, short
 * writes. A factory's options are the one exception (a `TypeError` naming
 * the option at construction, STYLE item 1).
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  AuditShortWriteError, InvalidAuditLineError, InvalidAuditQueryError, InvalidChainHeadError, NoJsonFormError,
} from "../../src/audit/audit-errors.ts";
import { writeWhole, type AuditFileHandle } from "../../src/audit/audit-file.ts";
import { digestArguments, sealAuditRecord, type AuditEntry } from "../../src/audit/audit-record.ts";
import { createAuditLog } from "../../src/audit/audit-log.ts";
import { canonicalJson } from "../../src/audit/canonical-json.ts";
import { parseChainHeads } from "../../src/audit/chain-heads.ts";
import { createJsonLinesSink } from "../../src/audit/json-lines-sink.ts";
import { matchesAuditQuery } from "../../src/audit/query-audit-log.ts";
import { parseAuditLine, verifyAuditLog } from "../../src/audit/verify-audit-chain.ts";
import { PROJECT_ROOT } from "../support/langgraph-dev.ts";

const call = (extra: Partial<AuditEntry> = {}): AuditEntry => ({
  time: "2026-12-06T09:00:00.000Z", tenant_id: "acme", user_id: "u1", thread_id: "t1", run_id: "r1", tool: "search_docs",
  tool_call_id: "c1", decision: "allowed", reason: null, duration_ms: 0, args_sha256: digestArguments({}), ...extra,
});

/** What `fn` throws (fails the test when it returns). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

/** An array nested `depth` deep, built without recursion. */
function nested(depth: number): unknown[] {
  let value: unknown[] = [];
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

describe("coded errors of the audit layer", () => {
  it("canonicalJson: a value with no JSON form, including one nested deeper than the stack, is a NoJsonFormError", () => {
    for (const bad of [Number.NaN, 1n, () => 1, Symbol("s"), [undefined], nested(200_000)]) {
      const error = thrown(() => canonicalJson(bad));
      expect(error).toBeInstanceOf(NoJsonFormError);
      expect(error).toMatchObject({ code: "ERR_AUDIT_NO_JSON_FORM", name: "NoJsonFormError" });
    }
    expect(thrown(() => canonicalJson(nested(200_000)))).toMatchObject({ message: "canonicalJson: the value is nested too deeply" });
  });

  it("parseAuditLine: InvalidAuditLineError with a short reason, never the line", () => {
    for (const [line, reason] of [
      ["{not json secret-canary", /^the line is not JSON$/],
      ['{"secret-canary":1}', /^not an audit record \(v: Invalid discriminator value/],
      ["[]", /^not an audit record \(record: /],
    ] as const) {
      const error = thrown(() => parseAuditLine(line));
      expect(error).toBeInstanceOf(InvalidAuditLineError);
      expect(error).toMatchObject({ code: "ERR_AUDIT_LINE_INVALID", message: expect.stringMatching(reason) });
      expect((error as Error).message).not.toContain("secret-canary");
    }
  });

  it("the chain verifier reports a record nested too deeply to hash as a problem of its line, instead of throwing", () => {
    const good = canonicalJson(sealAuditRecord(call(), undefined));
    const deep = good.replace('"args_sha256"', `"args":${"[".repeat(50_000)}${"]".repeat(50_000)},"args_sha256"`);
    expect(verifyAuditLog(`${good}\n${deep}\n`)).toMatchObject({
      ok: false, records: 1, problem: { line: 2, reason: "the record cannot be hashed (canonicalJson: the value is nested too deeply)" },
    });
  });

  it("sealing and recording arguments nested too deeply: coded errors, nothing written", async () => {
    expect(thrown(() => sealAuditRecord(call({ args: nested(200_000) }), undefined))).toBeInstanceOf(NoJsonFormError);
    const lines: string[] = [];
    const log = createAuditLog({ sink: createJsonLinesSink({ stream: { write: (line: string, done: () => void) => (lines.push(line), done()) } as never }) });
    await expect(log.record(call({ args: nested(200_000) }))).rejects.toMatchObject({ code: "ERR_AUDIT_WRITE", cause: { code: "ERR_AUDIT_NO_JSON_FORM" } });
    expect(lines).toEqual([]);
  });

  it("parseChainHeads: InvalidChainHeadError naming the line", () => {
    for (const [text, message] of [
      ["acme 1 nothex", /^line 1 is not a chain head/],
      [`acme 1 ${"a".repeat(64)}\nacme 2 ${"b".repeat(64)}`, /^line 2: a second head for tenant "acme"/],
      [`acme 99999999999999999999 ${"a".repeat(64)}`, /^line 1: seq is too large/],
    ] as const) {
      expect(thrown(() => parseChainHeads(text))).toBeInstanceOf(InvalidChainHeadError);
      expect(thrown(() => parseChainHeads(text))).toMatchObject({ code: "ERR_AUDIT_HEAD_INVALID", message: expect.stringMatching(message) });
    }
  });

  it("matchesAuditQuery: InvalidAuditQueryError for no chain named, a bad date or field, also for no query at all", () => {
    const record = sealAuditRecord(call(), undefined);
    const noChain = "query.tenant is required (or query.targetTenant, or query.allTenants: true to search every chain)";
    for (const [query, message] of [
      [undefined, noChain],
      [{}, noChain],
      [{ allTenants: "yes", reason: "cross_tenant" }, noChain],
      [{ tenant: "acme", since: new Date("nope") }, "query.since must be a valid Date"],
      [{ tenant: "acme", until: "2026-01-01" }, "query.until must be a valid Date"],
      [{ targetTenant: "" }, "query.targetTenant must be a non-empty string"],
      [{ tenant: "acme", subject: 7 }, "query.subject must be a non-empty string"],
      [{ allTenants: true, kind: "tool" }, "query.kind must be one of tool_call, decision, offboarding"],
    ] as const) {
      const error = thrown(() => matchesAuditQuery(record, query as never));
      expect(error).toBeInstanceOf(InvalidAuditQueryError);
      expect(error).toMatchObject({ code: "ERR_AUDIT_QUERY_INVALID", message });
    }
  });

  it("writeWhole: a file that stops taking bytes without an error of its own gives an AuditShortWriteError", async () => {
    let calls = 0;
    const handle = { write: async (_b: Uint8Array, _o: number, length: number) => ({ bytesWritten: calls++ === 0 ? Math.min(3, length) : 0 }) } as unknown as AuditFileHandle;
    await expect(writeWhole(handle, Buffer.from("0123456789"))).rejects.toMatchObject({
      name: "AuditShortWriteError", code: "ERR_AUDIT_SHORT_WRITE", message: "the file system accepted 3 of 10 bytes, then none",
    });
    await expect(writeWhole(handle, Buffer.from("x"))).rejects.toBeInstanceOf(AuditShortWriteError);
  });

  it("src/audit/ throws no plain Error or TypeError, except a factory's option checks at construction", () => {
    const dir = join(PROJECT_ROOT, "src/audit");
    const plain = readdirSync(dir)
      .filter((name) => name.endsWith(".ts"))
      .flatMap((name) => readFileSync(join(dir, name), "utf8").split("\n").map((line, i) => ({ where: `${name}:${i + 1}`, line })))
      .filter(({ line }) => /new (Error|TypeError|RangeError)\(/.test(line));
    expect(plain.length).toBeGreaterThan(0); // the scan sees the option checks, so it can see the rest
    expect(plain.filter(({ line }) => !/options\.\w+ must|must be a secret of at least 32 bytes/.test(line)).map((p) => `${p.where}: ${p.line.trim()}`)).toEqual([]);
  });
});
