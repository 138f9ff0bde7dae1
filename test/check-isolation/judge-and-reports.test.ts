/**
 * The verdict rules and the three outputs, on hand-made answers and reports:
 * a leak names the route, the request and what B saw; JUnit shows each probe
 * as a test; no output holds a token.
 */
import { describe, expect, it } from "vitest";
import type { IsolationReport } from "../../src/check-isolation/check-isolation.ts";
import { isClean } from "../../src/check-isolation/check-isolation.ts";
import { brokenCredentials } from "../../src/check-isolation/derived-tokens.ts";
import { decodeClaims } from "../../src/cli-kit/decode-claims.ts";
import { judge } from "../../src/check-isolation/judge.ts";
import { isEmptyList, noItemOfA, probe } from "../../src/check-isolation/probe-helpers.ts";
import { formatJson, formatJunit, formatTable } from "../../src/check-isolation/reports.ts";
import { redact } from "../../src/cli-kit/redact.ts";
import type { Answer, World } from "../../src/check-isolation/types.ts";

const world: World = {
  marker: "m",
  graph: "echo",
  a: { thread: "thread-of-a", run: "run-of-a", assistant: "assistant-of-a", checkpoint: "cp-of-a", liveThread: "lt", liveRun: "lr", namespace: ["tenant-a", "x"], key: "k", tag: {}, identity: "alice", stamped: { tenant_id: "tenant-a" } },
  b: { thread: "thread-of-b", scratch: "s", assistant: "assistant-of-b", namespace: ["tenant-b", "x"] },
  secrets: ["SECRET-CONFIG", "SECRET-MESSAGE", "SECRET-STORE"],
  fresh: () => "f",
};
const answer = (status: number, text = ""): Answer => {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status, text, json, contentType: null };
};
const read = probe("threads", "threads.get", "GET /threads/:thread_id", "read A's thread", { refused: [403, 404] });
const search = probe("threads", "threads.search", "POST /threads/search", "search", { refused: [403], ok2xx: isEmptyList });

describe("judge", () => {
  it("passes a refusal the contract names, and an empty 2xx where one is allowed", () => {
    expect(judge(read, answer(404, '{"detail":"thread-of-a not found"}'), world)).toEqual({ verdict: "pass" });
    expect(judge(search, answer(200, "[]"), world)).toEqual({ verdict: "pass" });
  });

  it("calls A's secret in any answer a leak, and A's ids or tenant in a 2xx", () => {
    expect(judge(read, answer(404, "nope SECRET-STORE"), world)).toMatchObject({ verdict: "leak", detail: expect.stringContaining("A's secret data") });
    expect(judge(search, answer(200, '[{"thread_id":"thread-of-a"}]'), world)).toMatchObject({ verdict: "leak", detail: expect.stringContaining("names A's thread id") });
    expect(judge(search, answer(200, '[{"metadata":{"tenant_id":"tenant-a"}}]'), world)).toMatchObject({ verdict: "leak", detail: expect.stringContaining("A's tenant_id") });
    expect(judge(search, answer(200, '[{"thread_id":"thread-of-b"}]'), world)).toMatchObject({ verdict: "leak", detail: expect.stringContaining("not empty") });
    expect(judge(read, answer(200, "{}"), world)).toMatchObject({ verdict: "leak", detail: expect.stringContaining("accepted (200) where it must be refused") });
    expect(judge(read, answer(101), world)).toMatchObject({ verdict: "leak" });
  });

  it("calls a 5xx or a status outside the contract an error, never a pass", () => {
    expect(judge(read, answer(500, "boom"), world)).toEqual({ verdict: "error", detail: "server error 500: boom" });
    expect(judge(read, answer(401, "who?"), world)).toEqual({ verdict: "error", detail: "unexpected status 401 (expected 403|404): who?" });
  });
});

describe("broken credentials derived from A's token", () => {
  const token = [{ alg: "RS256", kid: "k" }, { sub: "alice", org_id: "tenant-a", exp: 4102444800 }].map((p) => Buffer.from(JSON.stringify(p)).toString("base64url")).join(".") + ".c2ln";
  it("keeps A's claims, expires one copy and strips the algorithm of another", () => {
    const broken = brokenCredentials(token);
    const [expiredHeader, expiredPayload, expiredSignature] = broken.expired.replace("Bearer ", "").split(".");
    expect(JSON.parse(Buffer.from(expiredHeader!, "base64url").toString())).toEqual({ alg: "RS256", kid: "k" });
    const claims = JSON.parse(Buffer.from(expiredPayload!, "base64url").toString()) as Record<string, number | string>;
    expect(claims.sub).toBe("alice");
    expect(claims.exp as number).toBeLessThan(Date.now() / 1000);
    expect(expiredSignature).toBe("c2ln");
    const [noneHeader, nonePayload, noneSignature] = broken["alg-none"].replace("Bearer ", "").split(".");
    expect(JSON.parse(Buffer.from(noneHeader!, "base64url").toString())).toEqual({ alg: "none", typ: "JWT" });
    expect(JSON.parse(Buffer.from(nonePayload!, "base64url").toString())).toMatchObject({ sub: "alice", org_id: "tenant-a" });
    expect(noneSignature).toBe("");
    expect(decodeClaims("opaque-token")).toEqual({});
  });
});

const report: IsolationReport = {
  url: "https://preview.example.com",
  graph: "agent",
  marker: "ci-1",
  startedAt: "2026-01-01T00:00:00.000Z",
  finishedAt: "2026-01-01T00:01:00.000Z",
  ownerProbes: false,
  results: [
    { id: "threads.get/read", group: "threads", route: "threads.get", as: "b", method: "GET", pattern: "/threads/:thread_id", request: "GET /threads/t-a", attempt: "read A's thread", status: 404, verdict: "pass" },
    { id: "runs.wait/x", group: "runs", route: "runs.wait", as: "b", method: "POST", pattern: "/runs/wait", request: 'POST /runs/wait {"assistant_id":"as-a"}', attempt: "stateless wait with A's assistant <&>", status: 200, verdict: "leak", detail: "a 200 answer holds A's secret data: SECRET" },
    { id: "crons.create/x", group: "crons", route: "crons.create", as: "b", method: "POST", pattern: "/runs/crons", request: "POST /runs/crons", attempt: "create a cron", status: 404, verdict: "not-served", detail: "A's own request is not served either" },
    { id: "credentials/x", group: "credentials", route: "threads.get", as: "expired", method: "GET", pattern: "/threads/:thread_id", request: "GET /threads/t-a", attempt: "read with an expired token", status: 500, verdict: "error", detail: "server error 500" },
  ],
  summary: { probes: 4, pass: 1, leak: 1, error: 1, notServed: 1 },
  cleanup: { deleted: 7, failed: [], leftovers: [] },
};

describe("reports", () => {
  it("shows a person a table per group and every leak with its route, request and what B saw", () => {
    const table = formatTable(report);
    expect(table).toContain("threads (1/1 ok)");
    expect(table).toContain("runs (0/1 ok)");
    expect(table).toMatch(/LEAK: runs\.wait — stateless wait with A's assistant <&>\n {2}request \(as b\): POST \/runs\/wait \{"assistant_id":"as-a"\}\n {2}saw: a 200 answer holds A's secret data: SECRET/);
    expect(table).toContain("4 probes: 1 ok, 1 leaks, 1 errors, 1 not served (no third token: owner and permission probes skipped)");
    expect(table).toContain("cleanup: 7 deleted");
  });

  it("writes JUnit with a suite per group: a leak is a failure, an error an error, not served is skipped", () => {
    const xml = formatJunit(report);
    expect(xml).toContain('<testsuites name="check-isolation" tests="4" failures="1" errors="1">');
    expect(xml).toContain('<testsuite name="check-isolation.runs" tests="1" failures="1" errors="0" skipped="0">');
    expect(xml).toContain(`name="POST /runs/wait: stateless wait with A's assistant &lt;&amp;&gt;"`);
    expect(xml).toMatch(/<failure message="leak: a 200 answer holds A's secret data: SECRET" type="leak">/);
    expect(xml).toMatch(/<testcase classname="check-isolation.credentials" name="GET \/threads\/:thread_id: read with an expired token \(as expired\)">\n\s+<error /);
    expect(xml).toMatch(/<skipped message="not served: A's own request is not served either"\/>/);
    const interrupted = formatJunit({ ...report, interrupted: "interrupted", cleanup: { deleted: 1, failed: [], leftovers: ["thread x"] } });
    expect(interrupted).toContain('errors="2"');
    expect(interrupted).toMatch(/<error message="stopped early: interrupted">stopped early: interrupted\nleft behind: thread x<\/error>/);
  });

  it("is clean only with no leak, no error, a full run and nothing left behind", () => {
    const clean = { ...report, results: [report.results[0]!], summary: { probes: 1, pass: 1, leak: 0, error: 0, notServed: 0 } };
    expect(isClean(clean)).toBe(true);
    expect(isClean({ ...clean, summary: { ...clean.summary, notServed: 3 } })).toBe(true);
    expect(isClean(report)).toBe(false);
    expect(isClean({ ...clean, interrupted: "interrupted" })).toBe(false);
    expect(isClean({ ...clean, failure: "no world" })).toBe(false);
    expect(isClean({ ...clean, cleanup: { deleted: 0, failed: ["thread x: 500"], leftovers: [] } })).toBe(false);
    expect(isClean({ ...clean, cleanup: { deleted: 0, failed: [], leftovers: ["thread x"] } })).toBe(false);
  });

  it("redacts every token from any output", () => {
    const token = "eyJhbGciOi.secret-payload.signature";
    const json = formatJson({ ...report, failure: `server echoed Bearer ${token}` });
    expect(redact(json, [token])).not.toContain(token);
    expect(redact(json, [token])).toContain("Bearer [redacted]");
  });
});

describe("the row predicates", () => {
  it("finds A's stamped items in a search answer, and has nothing to match when nothing was stamped", () => {
    const mine = [{ metadata: { tenant_id: "tenant-b" } }];
    expect(noItemOfA(mine, world)).toBe(true);
    expect(noItemOfA([...mine, { metadata: { tenant_id: "tenant-a", x: 1 } }], world)).toBe(false);
    expect(noItemOfA({ items: [] }, world)).toBe(false);
    expect(noItemOfA(mine, { ...world, a: { ...world.a, stamped: {} } })).toBe(true);
  });
});
