/**
 * The decision log: modes, events, observers, sinks, and the flood bound
 * (a clock and a timer injected: no sleeps). The flood test sends 100,000
 * bad tokens through the real `Auth` (the server's own `authenticate`, keys
 * from a local issuer) and shows the output bounded and the counts exact.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { authenticate, registerAuth } from "@langchain/langgraph-api/auth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuditLog } from "../../src/audit/audit-log.ts";
import { verifyAuditLogFile } from "../../src/audit/audit-log-parser.ts";
import { createJsonLinesSink } from "../../src/audit/json-lines-sink.ts";
import { createAuthenticator } from "../../src/authenticate/create-authenticator.ts";
import { readConfig } from "../../src/config/read-config.ts";
import { createAuditDecisionSink } from "../../src/decision/audit-decision-sink.ts";
import type { DecisionAggregate, DecisionEvent, DecisionInput, DecisionRecord } from "../../src/decision/decision-event.ts";
import { createDecisionLog, type DecisionLogOptions, type SetTimer } from "../../src/decision/decision-log.ts";
import { exposeHeaders } from "../../src/decision/expose-headers.ts";
import { formatDecision } from "../../src/decision/format-decision.ts";
import { capDecisionLine } from "../../src/decision/line-cap.ts";
import { decisionLogFromEnv } from "../../src/decision/shared-decision-log.ts";
import { createStderrDecisionSink } from "../../src/decision/stderr-decision-sink.ts";
import { ConfigError, DECISION_ID_HEADER, InvalidTokenError, TenantForbiddenError } from "../../src/errors.ts";
import { createTenantAuth } from "../../src/langgraph/create-tenant-auth.ts";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";

const refusal = (fields: Partial<DecisionInput> = {}): DecisionInput => ({
  host: "dev",
  source: "authenticate",
  outcome: "refused",
  status: 401,
  reason: "invalid_token",
  route: "threads.search",
  ...fields,
});
const allowed = (fields: Partial<DecisionInput> = {}): DecisionInput => ({
  host: "dev",
  source: "handler",
  outcome: "allowed",
  status: null,
  reason: null,
  event: "threads:read",
  caller: { tenant_id: "acme", subject: "alice" },
  ...fields,
});

/** A log writing to memory, on a clock the test moves, with timers the test runs. */
function memoryLog(options: Omit<DecisionLogOptions, "sink" | "now" | "setTimer"> = {}) {
  const written: DecisionRecord[] = [];
  const clock = { now: Date.parse("2026-12-06T09:00:00.000Z") };
  const timers: { run: () => void; at: number; cancelled: boolean }[] = [];
  const setTimer: SetTimer = (run, ms) => {
    const timer = { run, at: clock.now + ms, cancelled: false };
    timers.push(timer);
    return { cancel: () => void (timer.cancelled = true) };
  };
  let n = 0;
  const log = createDecisionLog({
    ...options,
    sink: { write: (record) => void written.push(record) },
    now: () => clock.now,
    newId: () => `id-${++n}`,
    setTimer,
  });
  /** Move the clock and run the timers that are due. */
  const advance = (ms: number) => {
    clock.now += ms;
    for (const timer of timers.splice(0)) {
      if (timer.cancelled) continue;
      if (timer.at <= clock.now) timer.run();
      else timers.push(timer);
    }
  };
  return { log, written, clock, advance, timers };
}

const events = (written: DecisionRecord[]) => written.filter((r): r is DecisionEvent => r.type === "auth.decision");
const aggregates = (written: DecisionRecord[]) => written.filter((r): r is DecisionAggregate => r.type === "auth.decision.aggregate");
/** Refusals on the record: one per written event, `count` per aggregate. */
const total = (written: DecisionRecord[]) => events(written).length + aggregates(written).reduce((sum, a) => sum + a.count, 0);

describe("modes", () => {
  it("refusals (default): every refusal is written with its id, no allowed decision", () => {
    const { log, written } = memoryLog();
    expect(log.mode).toBe("refusals");
    expect(log.recordsAllowed).toBe(false);
    expect(log.record(allowed())).toBeUndefined();
    const id = log.record(refusal({ caller: { tenant_id: "acme", subject: "alice" }, resources: { thread_id: "t-1", tenant_id: "globex" } }));
    expect(id).toBe("id-1");
    expect(written).toEqual([
      {
        type: "auth.decision",
        time: "2026-12-06T09:00:00.000Z",
        decision_id: "id-1",
        host: "dev",
        source: "authenticate",
        outcome: "refused",
        status: 401,
        reason: "invalid_token",
        route: "threads.search",
        event: null,
        resources: { thread_id: "t-1" },
        tenant_id: "acme",
        subject: "alice",
        target_tenant_id: "globex",
      },
    ]);
  });

  it("all: allowed decisions are written too, with no id sent back", () => {
    const { log, written } = memoryLog({ mode: "all" });
    expect(log.recordsAllowed).toBe(true);
    expect(log.record(allowed())).toBeUndefined();
    expect(log.record(refusal())).toBe("id-2");
    expect(written.map((r) => [r.outcome, r.decision_id])).toEqual([["allowed", "id-1"], ["refused", "id-2"]]);
  });

  it("off: nothing written and no id sent back, but observers (metrics) still see every decision", () => {
    const { log, written } = memoryLog({ mode: "off" });
    expect(log.record(refusal())).toBeUndefined();
    expect(written).toEqual([]);
    const seen: string[] = [];
    const stop = log.onDecision((event) => void seen.push(`${event.outcome}:${event.reason}`));
    expect(log.recordsAllowed).toBe(true);
    log.record(refusal());
    log.record(allowed());
    stop();
    log.record(refusal());
    expect(seen).toEqual(["refused:invalid_token", "allowed:null"]);
    expect(written).toEqual([]);
  });

  it("an observer or a sink that throws changes no decision", () => {
    const log = createDecisionLog({ sink: { write: () => { throw new Error("disk full"); } } });
    log.onDecision(() => { throw new Error("metrics down"); });
    expect(log.record(refusal())).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("refuses a mode it does not know, and an observer that is not a function", () => {
    expect(() => createDecisionLog({ mode: "some" as never })).toThrow(/mode must be/);
    expect(() => createDecisionLog().onDecision(undefined as never)).toThrow(TypeError);
  });
});

describe("events", () => {
  it("keep ids printable and bounded, and never a claim but tenant and subject", () => {
    const { log, written } = memoryLog();
    log.record(refusal({
      resources: { thread_id: "a\nb", run_id: "x".repeat(129), assistant_id: "echo", namespace: Array.from({ length: 12 }, (_, i) => `l${i}`) },
      caller: { tenant_id: "acme", subject: "alice", display_name: "Alice", email: "a@example.com" } as never,
    }));
    expect(written[0]).toMatchObject({
      resources: { thread_id: "<invalid>", run_id: "<invalid>", assistant_id: "echo", namespace: Array.from({ length: 10 }, (_, i) => `l${i}`) },
      tenant_id: "acme",
      subject: "alice",
    });
    expect(JSON.stringify(written[0])).not.toMatch(/Alice|a@example\.com/);
  });

  it("read as one line in a terminal: reason, route, caller, never more", () => {
    const { log, written } = memoryLog();
    log.record(refusal({ source: "server_filter", status: 404, reason: "cross_tenant", route: "threads.get", event: "threads:read", caller: { tenant_id: "globex", subject: "bob" }, resources: { thread_id: "0193f0a1-0000-7000-8000-0000000000a1", tenant_id: "acme" } }));
    expect(formatDecision(written[0]!)).toBe(
      "auth refused 404 cross_tenant  threads.get (threads:read)  caller globex/bob  resource of acme  thread 0193f0a1…  decision id-1",
    );
  });

  it("a readable line cannot be forged: newlines, ANSI escapes, C0 and C1 controls in a subject, tenant, route or target are shown escaped", () => {
    const { log, written } = memoryLog({ flood: { burst: 1 } });
    const forged = "bob\nauth refused 401 missing_token  -  caller acme/admin  decision x";
    const caller = { tenant_id: "globex\r\u2028", subject: `${forged}\u001b[31mred\u001b[0m\u009b2J\u0000\u202e` };
    const input = refusal({ source: "middleware", route: "GET /custom/\n\u001b]0;title\u0007", caller, resources: { tenant_id: "acme\u0085x", tenant_looked_up: true } });
    log.record(input);
    log.record(input);
    log.flush();
    expect(written.map((r) => r.type)).toEqual(["auth.decision", "auth.decision.aggregate"]);
    for (const record of written) {
      const line = formatDecision(record);
      // One line, no control character of any kind, no bidi override: what was sent is shown escaped.
      expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/);
      expect(line.split("\n")).toHaveLength(1);
      expect(line).toContain("caller globex\\u000d\\u2028/bob\\u000aauth refused 401 missing_token");
      expect(line).toContain("\\u001b[31mred\\u001b[0m\\u009b2J\\u0000\\u202e");
    }
    expect(formatDecision(written[0]!)).toContain("GET /custom/\\u000a\\u001b]0;title\\u0007");
    // A target that is not printable ASCII is not written as sent at all.
    expect(formatDecision(written[0]!)).toContain("resource of <invalid>");
  });

  it("no line over 4 KiB: a huge namespace, id, subject or route is cut deterministically and marked truncated", () => {
    const lines: string[] = [];
    const log = createDecisionLog({ sink: createStderrDecisionSink({ write: (line) => void lines.push(line) }), flood: { burst: 1 } });
    const huge = refusal({
      source: "middleware",
      route: `GET /custom/${"r".repeat(100_000)}`,
      caller: { tenant_id: "acme", subject: "\u0001".repeat(256) },
      resources: { thread_id: "t".repeat(1_000_000), namespace: Array.from({ length: 10_000 }, (_, i) => `${i}`.padEnd(128, "n")) },
    });
    log.record(huge);
    log.record(refusal({ caller: { tenant_id: "acme", subject: "small" } }));
    // An aggregate whose 16 routes and 16 resources are all long.
    for (let i = 0; i < 40; i++) {
      log.record(refusal({ source: "middleware", route: `GET /${i}/${"p".repeat(300)}`, caller: { tenant_id: "acme", subject: "carol" }, resources: { thread_id: `${i}`.padEnd(128, "x") } }));
    }
    log.flush();
    const records = lines.map((line) => JSON.parse(line) as DecisionRecord);
    for (const line of lines) expect(Buffer.byteLength(line, "utf8")).toBeLessThanOrEqual(4096);
    const first = records[0] as DecisionEvent;
    expect(first.truncated).toBe(true);
    expect(first.route).toBe(`GET /custom/${"r".repeat(52)}…`);
    expect(first.subject).toBe("\u0001".repeat(64) + "…");
    expect(first.resources.thread_id).toBe("<invalid>");
    expect(first.resources.namespace).toEqual(Array.from({ length: 4 }, (_, i) => `${`${i}`.padEnd(64, "n")}…`));
    // Deterministic: the same refusal is cut the same way.
    const again: string[] = [];
    createDecisionLog({ sink: createStderrDecisionSink({ write: (line) => void again.push(line) }) }).record(huge);
    expect(JSON.parse(again[0]!)).toEqual({ ...first, decision_id: expect.any(String), time: expect.any(String) });
    // A line within the cap is left alone.
    expect(records[1]).not.toHaveProperty("truncated");
    const aggregate = records.find((r): r is DecisionAggregate => r.type === "auth.decision.aggregate")!;
    expect(aggregate.truncated).toBe(true);
    expect(aggregate.count).toBe(39);
    expect(Object.values(aggregate.routes).reduce((a, b) => a + b, 0)).toBe(39);
    expect(Object.values(aggregate.resource_counts).reduce((a, b) => a + b, 0)).toBe(39);
  });

  it("internal_error names the thrown error's class and code, never its message", async () => {
    const lines: string[] = [];
    const decisions = createDecisionLog({ sink: createStderrDecisionSink({ write: (line) => void lines.push(line) }) });
    class PoolTimeoutError extends Error {
      code = "ETIMEDOUT";
    }
    const secret = "postgres://app:hunter2@db/secret-message";
    const auth = createTenantAuth({
      authenticator: { authenticateRequest: async () => { throw new PoolTimeoutError(secret); } } as never,
      host: "dev",
      log: () => undefined,
      decisions,
      env: {},
    });
    const handler = (auth as unknown as { "~handlerCache": { authenticate?: (request: Request) => Promise<unknown> } })["~handlerCache"].authenticate!;
    await expect(handler(new Request("http://127.0.0.1:2024/threads/search", { method: "POST" }))).rejects.toMatchObject({ status: 500 });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ outcome: "error", reason: "internal_error", status: 500, error_class: "PoolTimeoutError", error_code: "ETIMEDOUT" });
    expect(lines[0]).not.toContain("hunter2");
    expect(lines[0]).not.toContain("secret-message");
    expect(formatDecision(JSON.parse(lines[0]!) as DecisionRecord)).toContain("error PoolTimeoutError ETIMEDOUT");
    // A refusal carries neither field; a thrown string or an odd code is named no further.
    const { log, written } = memoryLog();
    log.record(refusal());
    log.record(refusal({ outcome: "error", status: 500, reason: "internal_error", error: { error_class: "a b", error_code: "x\ny" } }));
    expect(written[0]).not.toHaveProperty("error_class");
    expect(written[1]).not.toHaveProperty("error_class");
    expect(written[1]).not.toHaveProperty("error_code");
  });

  it("docs/observability.md lists exactly the fields events and aggregates have", async () => {
    const doc = await readFile(join(import.meta.dirname, "..", "..", "docs", "observability.md"), "utf8");
    const section = doc.slice(doc.indexOf("## One event"), doc.indexOf("## Reason codes"));
    const table = section.slice(0, section.indexOf("An aggregate carries"));
    const documentedEvent = new Set([...table.matchAll(/^\| (`[a-z_]+`(?:, `[a-z_]+`)*) \|/gm)].flatMap((m) => m[1]!.split(", ").map((f) => f.slice(1, -1))));
    const aggregateText = section.slice(section.indexOf("An aggregate carries"));
    const documentedAggregate = new Set([...aggregateText.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!));
    // Every field the code can write: a truncated internal error, and a truncated aggregate.
    const { log, written } = memoryLog({ flood: { burst: 1 } });
    log.record(refusal({ outcome: "error", status: 500, reason: "internal_error", route: `GET /${"x".repeat(5000)}`, error: { error_class: "TypeError", error_code: "E1" } }));
    log.record(refusal({ outcome: "error", status: 500, reason: "internal_error", route: `GET /${"x".repeat(5000)}`, error: { error_class: "TypeError", error_code: "E1" } }));
    log.flush();
    const capped = written.map((r) => capDecisionLine(r));
    const eventFields = new Set(capped.filter((r) => r.type === "auth.decision").flatMap((r) => Object.keys(r)));
    const aggregateFields = Object.keys(capped.find((r) => r.type === "auth.decision.aggregate")!);
    expect([...documentedEvent].sort()).toEqual([...eventFields].sort());
    for (const field of aggregateFields) expect(documentedAggregate.has(field), `aggregate field ${field} documented`).toBe(true);
  });

  it("one JSON line each on standard error", () => {
    const lines: string[] = [];
    const log = createDecisionLog({ sink: createStderrDecisionSink({ write: (line) => void lines.push(line) }) });
    const id = log.record(refusal());
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith("\n")).toBe(true);
    expect(JSON.parse(lines[0]!)).toMatchObject({ type: "auth.decision", decision_id: id, reason: "invalid_token" });
  });
});

describe("errors carry the decision id", () => {
  it("withDecisionId: a copy with the id in the header and at the end of the message; the original unchanged", () => {
    const original = new InvalidTokenError("the token has expired", { reason: "expired_token", cause: new Error("jose") });
    const named = original.withDecisionId("d-1");
    expect(named).toBeInstanceOf(InvalidTokenError);
    expect(named).toMatchObject({ status: 401, code: "ERR_TOKEN_INVALID", reason: "expired_token", decisionId: "d-1" });
    expect(named.message).toBe("invalid_token: the token has expired (decision_id: d-1)");
    expect(named.headers[DECISION_ID_HEADER]).toBe("d-1");
    expect(named.headers["WWW-Authenticate"]).toBe(original.headers["WWW-Authenticate"]);
    expect(named.cause).toBe(original.cause);
    expect(original.message).toBe("invalid_token: the token has expired");
    expect(original.headers[DECISION_ID_HEADER]).toBeUndefined();
  });

  it("an unknown reason is refused at construction", () => {
    expect(() => new TenantForbiddenError("x", "forbidden" as never)).toThrow(/not one of REFUSAL_REASONS/);
  });

  it("CORS: the refusal's headers are added to those the server already exposes", () => {
    expect(exposeHeaders("content-location,x-pagination-total")).toBe("content-location,x-pagination-total,WWW-Authenticate,X-Decision-Id,Retry-After");
    expect(exposeHeaders("x-decision-id, www-authenticate")).toBe("x-decision-id,www-authenticate,Retry-After");
    expect(exposeHeaders(null)).toBe("WWW-Authenticate,X-Decision-Id,Retry-After");
  });
});

describe("the flood bound", () => {
  it("writes the first refusals of a reason and source, counts the rest into one aggregate at the window's end", () => {
    const { log, written, advance } = memoryLog({ flood: { windowMs: 60_000, burst: 3 } });
    const ids = Array.from({ length: 10 }, () => log.record(refusal()));
    expect(events(written)).toHaveLength(3);
    // The counted ones still get an id the client can quote: the aggregate's, numbered.
    expect(ids.slice(3)).toEqual(Array.from({ length: 7 }, (_, i) => `id-4:${i + 1}`));
    advance(59_999);
    expect(aggregates(written)).toEqual([]);
    advance(1);
    expect(aggregates(written)).toEqual([
      {
        type: "auth.decision.aggregate",
        time: "2026-12-06T09:01:00.000Z",
        decision_id: "id-4",
        host: "dev",
        source: "authenticate",
        outcome: "refused",
        status: 401,
        reason: "invalid_token",
        tenant_id: null,
        subject: null,
        target_tenant_id: null,
        bound: "key",
        count: 7,
        first: "2026-12-06T09:00:00.000Z",
        last: "2026-12-06T09:00:00.000Z",
        routes: { "threads.search": 7 },
        resource_counts: {},
        target_counts: {},
      },
    ]);
    // A new window: the burst starts again.
    log.record(refusal());
    expect(events(written)).toHaveLength(4);
  });

  it("keys by reason and source: another reason or another caller has its own burst", () => {
    const { log, written } = memoryLog({ flood: { burst: 1 } });
    log.record(refusal());
    log.record(refusal({ reason: "missing_token" }));
    log.record(refusal({ caller: { tenant_id: "acme", subject: "alice" }, reason: "insufficient_scope", status: 403 }));
    log.record(refusal({ caller: { tenant_id: "acme", subject: "bob" }, reason: "insufficient_scope", status: 403 }));
    log.record(refusal());
    expect(events(written)).toHaveLength(4);
  });

  it("keeps the target of cross-tenant attempts in their aggregates (who was probed, not only who probed)", () => {
    const { log, written } = memoryLog({ flood: { burst: 0 } });
    for (const target of ["acme", "acme", "initech"]) {
      log.record(
        refusal({ reason: "cross_tenant", status: 404, caller: { tenant_id: "globex", subject: "bob" }, resources: { tenant_id: target, tenant_looked_up: true } }),
      );
    }
    log.flush();
    expect(aggregates(written).map((a) => [a.tenant_id, a.subject, a.target_tenant_id, a.count])).toEqual([
      ["globex", "bob", "acme", 2],
      ["globex", "bob", "initech", 1],
    ]);
  });

  it("keys by a target only when it was looked up: a tenant the client wrote (a namespace's first label) makes no key", () => {
    const { log, written } = memoryLog({ flood: { burst: 1 } });
    const caller = { tenant_id: "globex", subject: "bob" };
    // As the store handlers name it: the namespace and the tenant of its first label, not looked up.
    for (let i = 0; i < 500; i++) log.record(refusal({ reason: "cross_tenant", status: 403, caller, resources: { namespace: [`t${i}`, "notes"], tenant_id: `t${i}` } }));
    log.flush();
    // One key: one line written, the rest in its aggregate, which names no target (its refusals named several).
    expect(events(written)).toHaveLength(1);
    expect(events(written)[0]!.target_tenant_id).toBe("t0");
    expect(aggregates(written)).toEqual([expect.objectContaining({ bound: "key", tenant_id: "globex", subject: "bob", target_tenant_id: null, count: 499 })]);
    expect(Object.keys(aggregates(written)[0]!.resource_counts)).toHaveLength(17);
    // Still counted per target tenant: the first 16 exactly, the other 483 under *.
    const targets = aggregates(written)[0]!.target_counts;
    expect(Object.keys(targets)).toHaveLength(17);
    expect(targets.t1).toBe(1);
    expect(targets["*"]).toBe(499 - 16);
    // Probes of one tenant's namespaces: the aggregate still names that tenant (every refusal it counts named it).
    const one = memoryLog({ flood: { burst: 1 } });
    for (let i = 0; i < 30; i++) one.log.record(refusal({ reason: "cross_tenant", status: 403, caller, resources: { namespace: ["acme", `n${i % 2}`], tenant_id: "acme" } }));
    one.log.flush();
    expect(aggregates(one.written)).toEqual([
      expect.objectContaining({ target_tenant_id: "acme", count: 29, resource_counts: { "namespace:acme.n1": 15, "namespace:acme.n0": 14 } }),
    ]);
  });

  it("bounds the keys too: callers past the bound share one overflow aggregate per reason, outcome, host and wrapper", () => {
    const { log, written } = memoryLog({ flood: { burst: 1, maxKeys: 5 } });
    for (let i = 0; i < 1000; i++) log.record(refusal({ reason: "cross_tenant", status: 404, caller: { tenant_id: "t", subject: `user-${i}` } }));
    log.record(refusal({ reason: "cross_tenant", status: 404, source: "handler", caller: { tenant_id: "t", subject: "late" } }));
    log.flush();
    expect(events(written)).toHaveLength(5);
    expect(aggregates(written)).toEqual([
      expect.objectContaining({ bound: "all", reason: "cross_tenant", source: "authenticate", subject: "*", tenant_id: null, target_tenant_id: null, count: 995 }),
      expect.objectContaining({ bound: "all", reason: "cross_tenant", source: "handler", subject: "*", tenant_id: null, count: 1 }),
    ]);
    expect(total(written)).toBe(1001);
  });

  it("one caller varying looked-up targets cannot fill the table: another caller's refusals are still written, counts exact", () => {
    const { log, written } = memoryLog({ flood: { burst: 2 } });
    const mallory = { tenant_id: "globex", subject: "mallory" };
    const alice = { tenant_id: "initech", subject: "alice" };
    let malloryRefusals = 0;
    // 5,000 refusals of mallory against 1,000 tenants, as the run check looks them up in storage.
    for (let round = 0; round < 5; round++) {
      for (let t = 0; t < 1000; t++) {
        log.record(refusal({ reason: "cross_tenant", status: 404, caller: mallory, resources: { thread_id: `th-${t}`, tenant_id: `tenant-${t}`, tenant_looked_up: true } }));
        malloryRefusals++;
      }
    }
    // Then another caller's refusals, and an unauthenticated one's: both written one by one.
    const aliceIds = [0, 1].map(() => log.record(refusal({ reason: "cross_tenant", status: 404, caller: alice, resources: { thread_id: "th-x", tenant_id: "acme", tenant_looked_up: true } })));
    log.record(refusal({ reason: "missing_token", status: 401 }));
    log.flush();

    const aliceEvents = events(written).filter((e) => e.subject === "alice");
    expect(aliceEvents.map((e) => e.decision_id)).toEqual(aliceIds);
    expect(aliceEvents.map((e) => e.target_tenant_id)).toEqual(["acme", "acme"]);
    expect(events(written).filter((e) => e.reason === "missing_token")).toHaveLength(1);
    // Mallory: 10 keys (the per-caller bound of targets) × burst 2 written, the rest counted exactly, tenant and subject kept.
    const mallorys = written.filter((r) => r.subject === "mallory");
    expect(events(mallorys)).toHaveLength(10 * 2);
    const overflow = aggregates(mallorys).filter((a) => a.bound === "caller");
    expect(overflow).toEqual([expect.objectContaining({ tenant_id: "globex", subject: "mallory", target_tenant_id: null, reason: "cross_tenant" })]);
    expect(total(mallorys)).toBe(malloryRefusals);
    expect(overflow[0]!.count).toBe(malloryRefusals - 10 * 5);
    // No aggregate of everyone's overflow: the table never filled.
    expect(aggregates(written).filter((a) => a.bound === "all")).toEqual([]);
    expect(total(written)).toBe(malloryRefusals + 3);
  });

  it("a caller's keys are bounded too, whatever varies: past 50 (of 100), its own overflow per reason, so others keep their keys", () => {
    const { log, written } = memoryLog({ flood: { burst: 1 } });
    const mallory = { tenant_id: "globex", subject: "mallory" };
    // 60 kinds of refusal from one caller (6 reasons × 5 wrappers × 2 hosts), 3 refusals each.
    const reasons = ["cross_tenant", "insufficient_scope", "run_option_refused", "store_namespace_refused", "invalid_value", "operator_only"] as const;
    const sources = ["authenticate", "handler", "server_filter", "middleware", "tool_guard"] as const;
    const hosts = ["dev", "app"] as const;
    let n = 0;
    for (const reason of reasons) for (const source of sources) for (const host of hosts) for (let i = 0; i < 3; i++) (log.record(refusal({ reason, source, host, status: 403, caller: mallory })), n++);
    // 60 keys for one caller: 50 tracked, 10 into its own overflow; others still have the other 50 of the table.
    for (let i = 0; i < 50; i++) log.record(refusal({ reason: "cross_tenant", status: 404, caller: { tenant_id: "initech", subject: `u${i}` } }));
    log.flush();
    expect(events(written).filter((e) => e.subject === "mallory")).toHaveLength(50);
    expect(events(written).filter((e) => e.tenant_id === "initech")).toHaveLength(50);
    const overflow = aggregates(written).filter((a) => a.bound === "caller");
    expect(overflow).toHaveLength(10);
    for (const a of overflow) expect(a).toMatchObject({ tenant_id: "globex", subject: "mallory", count: 3 });
    expect(total(written.filter((r) => r.subject === "mallory"))).toBe(n);
    expect(aggregates(written).filter((a) => a.bound === "all")).toEqual([]);
  });

  it("counts the resources each aggregate's refusals named: 16 ids exactly, the rest under *", () => {
    const { log, written } = memoryLog({ flood: { burst: 0 } });
    const caller = { tenant_id: "globex", subject: "bob" };
    for (let i = 0; i < 40; i++) {
      log.record(refusal({ reason: "cross_tenant", status: 404, caller, resources: { thread_id: `th-${i % 20}`, tenant_id: "acme", tenant_looked_up: true } }));
    }
    log.record(refusal({ reason: "cross_tenant", status: 404, caller, resources: { thread_id: "th-0", assistant_id: "as-1", tenant_id: "acme", tenant_looked_up: true } }));
    log.flush();
    const [aggregate] = aggregates(written);
    expect(aggregate!.count).toBe(41);
    const expected: Record<string, number> = {};
    for (let i = 0; i < 16; i++) expected[`thread:th-${i}`] = 2;
    expected["thread:th-0"] = 3;
    // th-16…th-19 (twice each) and the assistant came past the 16 ids: counted under *.
    expected["*"] = 8 + 1;
    expect(aggregate!.resource_counts).toEqual(expected);
    expect(Object.keys(aggregate!.resource_counts)).toHaveLength(17);
  });

  it("keeps at most 16 routes per aggregate, the rest under *", () => {
    const { log, written } = memoryLog({ flood: { burst: 0 } });
    for (let i = 0; i < 40; i++) log.record(refusal({ route: `r${i}` }));
    log.flush();
    const [aggregate] = aggregates(written);
    expect(Object.keys(aggregate!.routes)).toHaveLength(17);
    expect(aggregate!.routes["*"]).toBe(24);
  });

  it("refuses options out of range", () => {
    expect(() => createDecisionLog({ flood: { windowMs: 0 } })).toThrow(/windowMs/);
    expect(() => createDecisionLog({ flood: { burst: -1 } })).toThrow(/burst/);
    expect(() => createDecisionLog({ flood: { maxKeys: 1.5 } })).toThrow(/maxKeys/);
  });
});

describe("100,000 bad tokens through the Auth", () => {
  let issuer: LocalIssuer;
  let dir: string;
  const written: DecisionRecord[] = [];
  const clock = { now: Date.parse("2026-12-06T09:00:00.000Z") };
  const decided: DecisionEvent[] = [];
  let decisions: ReturnType<typeof createDecisionLog>;

  beforeAll(async () => {
    issuer = await startLocalIssuer();
    dir = await mkdtemp(join(tmpdir(), "flood-"));
    // The clock moves only when the test moves it; the window-end timer is never needed (windows end on the next refusal or a flush).
    decisions = createDecisionLog({
      sink: { write: (record) => void written.push(record) },
      now: () => clock.now,
      setTimer: () => ({ cancel: () => undefined }),
    });
    decisions.onDecision((event) => void decided.push(event));
    (globalThis as Record<string, unknown>).__floodAuth = createTenantAuth({
      authenticator: createAuthenticator({ config: readConfig(issuer.env()) }),
      host: "dev",
      log: () => undefined,
      decisions,
      env: {},
    });
    await writeFile(join(dir, "auth.mjs"), "export const auth = globalThis.__floodAuth;\n");
    await registerAuth({ path: "./auth.mjs:auth" }, { cwd: dir });
  });
  afterAll(async () => {
    await issuer?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("writes at most burst + 1 lines per reason and window, and counts every refusal exactly once", async () => {
    const N = 100_000;
    const statuses: Record<number, number> = {};
    for (let i = 0; i < N; i++) {
      // Four windows of 25,000 (the clock moves a minute); three kinds of bad credential, in turn.
      if (i > 0 && i % 25_000 === 0) clock.now += 60_000;
      const headers: Record<string, string> =
        i % 3 === 0 ? {} : i % 3 === 1 ? { authorization: `Bearer bad.token.${i}` } : { authorization: `Basic ${i}` };
      const error = await authenticate(new Request("http://127.0.0.1:2024/threads/search", { method: "POST", headers })).then(
        () => undefined,
        (e: unknown) => e as { getResponse(): Response },
      );
      const status = error!.getResponse().status;
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
    // What the process's exit does: write the last window's aggregates.
    decisions.flush();

    const reasons: Record<string, number> = {};
    for (const record of written) reasons[record.reason!] = (reasons[record.reason!] ?? 0) + (record.type === "auth.decision" ? 1 : record.count);
    // Bounded: per window, 20 lines and one aggregate per reason: 4 windows × 3 reasons × (20 + 1).
    expect(events(written)).toHaveLength(4 * 3 * 20);
    expect(aggregates(written)).toHaveLength(4 * 3);
    // Each aggregate counts its window's refusals of its reason past the 20 written.
    const expected: number[] = [];
    for (let window = 0; window < 4; window++) {
      for (let kind = 0; kind < 3; kind++) {
        let n = 0;
        for (let i = window * 25_000; i < (window + 1) * 25_000; i++) if (i % 3 === kind) n++;
        expected.push(n - 20);
      }
    }
    expect(aggregates(written).map((a) => a.count).sort()).toEqual(expected.sort());
    // Exact: every refusal is a line of its own or counted in exactly one aggregate.
    expect(total(written)).toBe(N);
    expect(reasons).toEqual({ missing_token: 33_334, invalid_token: 33_333, invalid_request: 33_333 });
    expect(statuses).toEqual({ 401: 66_667, 400: 33_333 });
    // The observer (metrics) saw every one, each with its own id: written ones a UUID, counted ones <aggregate>:<n>.
    expect(decided).toHaveLength(N);
    expect(new Set(decided.map((e) => e.decision_id)).size).toBe(N);
    for (const aggregate of aggregates(written)) {
      expect(decided.filter((e) => e.decision_id.startsWith(`${aggregate.decision_id}:`))).toHaveLength(aggregate.count);
    }
  }, 600_000);
});

describe("the audit sink", () => {
  it("appends each decision as an event record on the caller's tenant chain, an unauthenticated one on _unauthenticated, and the file verifies", async () => {
    const dir = await mkdtemp(join(tmpdir(), "decision-audit-"));
    try {
      const file = join(dir, "audit.jsonl");
      const audit = createAuditLog({ sink: createJsonLinesSink({ file }) });
      const log = createDecisionLog({ sink: createAuditDecisionSink({ audit, ownsAudit: true }), flood: { burst: 1 } });
      log.record(refusal());
      log.record(refusal({ reason: "cross_tenant", status: 404, caller: { tenant_id: "globex", subject: "bob" }, resources: { thread_id: "t-1", tenant_id: "acme" } }));
      log.record(refusal());
      log.record(refusal({ source: "tool_guard", reason: "tool_not_allowed", status: null }));
      await log.close();
      const lines = (await readFile(file, "utf8")).trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
      // Two events and one aggregate; the tool guard's refusal is in its own record, not appended again.
      expect(lines).toHaveLength(3);
      expect(lines.map((l) => [l.v, l.kind, l.tenant_id, l.user_id])).toEqual([
        [3, "decision", "_unauthenticated", null],
        [3, "decision", "globex", "bob"],
        [3, "decision", "_unauthenticated", null],
      ]);
      expect(lines[1]!.data).toMatchObject({ reason: "cross_tenant", target_tenant_id: "acme", resources: { thread_id: "t-1" } });
      expect(lines[2]!.data).toMatchObject({ type: "auth.decision.aggregate", count: 1 });
      const report = await verifyAuditLogFile(file);
      expect(report.ok, JSON.stringify(report)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("from the environment: AUTH_DECISION_LOG_SINK=audit needs AUDIT_LOG_FILE", () => {
    expect(() => decisionLogFromEnv({ AUTH_DECISION_LOG_SINK: "audit" })).toThrow(ConfigError);
    expect(() => decisionLogFromEnv({ AUTH_DECISION_LOG_SINK: "audit" })).toThrow(/AUDIT_LOG_FILE/);
    expect(() => decisionLogFromEnv({ AUTH_DECISION_LOG: "verbose" })).toThrow(/AUTH_DECISION_LOG must be/);
    // One log per setting in a process: the Auth and the middleware share it.
    expect(decisionLogFromEnv({})).toBe(decisionLogFromEnv({ AUTH_DECISION_LOG: "refusals" }));
  });
});
