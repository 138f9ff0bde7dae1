/**
 * The recording side of the `Auth` (`createAuthDecisions`): what a refusal's
 * event names when the decision record looked the refused resource up in the
 * server's storage. Run inside a Hono request with the context storage the
 * LangGraph server uses, and a real decision log whose flood bound keys on
 * the looked-up owner tenant.
 */
import { Hono } from "hono";
import { contextStorage } from "hono/context-storage";
import { HTTPException } from "hono/http-exception";
import { describe, expect, it } from "vitest";
import type { DecisionEvent, DecisionRecord } from "../../src/decision/decision-event.ts";
import { createDecisionLog } from "../../src/decision/decision-log.ts";
import { AuthError, RouteRefusedError } from "../../src/errors.ts";
import { createAuthDecisions } from "../../src/langgraph/auth-decisions.ts";
import { createRoutePolicy } from "../../src/policy/route-policy.ts";
import type { Principal } from "../../src/tenant/principal.ts";

const mallory: Principal = {
  identity: "mallory",
  tenant_id: "globex",
  permissions: [],
  roles: [],
  display_name: "mallory",
  issuer: "https://idp.example.com/",
  is_authenticated: true,
};

/** The server's ops, reduced to what the record reads: one thread of acme, one of initech. */
const OWNERS: Record<string, string> = { "th-acme": "acme", "th-initech": "initech", "th-own": "globex" };
const ops = {
  assistants: { get: async () => Promise.reject(new HTTPException(404)) },
  threads: {
    get: async (id: string) => {
      const tenant = OWNERS[id];
      if (tenant === undefined) throw new HTTPException(404, { message: "Thread not found" });
      return { thread_id: id, metadata: { tenant_id: tenant } };
    },
  },
  runs: { get: async () => null },
};

/** Refuse `paths` one by one as `authenticate` does (an operator-only route), in one server request each. */
async function refuseAll(paths: string[]): Promise<DecisionRecord[]> {
  const written: DecisionRecord[] = [];
  // A burst of one: a second refusal of one flood key is counted, not written.
  const decisions = createDecisionLog({ mode: "refusals", sink: { write: (record) => void written.push(record) }, flood: { burst: 1 } });
  const record = createAuthDecisions({ decisions, host: "dev", visibility: "tenant", policy: createRoutePolicy() });
  const app = new Hono();
  app.use(contextStorage());
  app.use(async (c, next) => {
    c.set("LANGGRAPH_OPS" as never, ops as never);
    await next();
  });
  app.all("*", async (c) => {
    const thrown = await record.refusedRequest(new RouteRefusedError(404, "no such route", "operator_only"), c.req.raw, mallory);
    return c.json({ status: thrown.status, reason: thrown instanceof AuthError ? thrown.reason : null });
  });
  for (const path of paths) {
    expect(await (await app.request(path, { method: "POST" })).json()).toEqual({ status: 404, reason: "operator_only" });
  }
  decisions.flush();
  return written;
}

const events = (records: DecisionRecord[]) => records.filter((r): r is DecisionEvent => r.type === "auth.decision");

describe("createAuthDecisions: a route refusal that names another tenant's resource", () => {
  it("names the owner looked up in storage, and the flood bound keys on it: probes of two tenants are two keys", async () => {
    const written = await refuseAll(["/threads/th-acme/history", "/threads/th-initech/history"]);
    // Both written one by one (each its own key), each naming the tenant whose thread it probed.
    expect(events(written).map((e) => [e.resources.thread_id, e.target_tenant_id])).toEqual([
      ["th-acme", "acme"],
      ["th-initech", "initech"],
    ]);
    expect(written.filter((r) => r.type === "auth.decision.aggregate")).toEqual([]);
  });

  it("a second probe of the same tenant shares its key (counted), and the caller's own thread or one that exists nowhere names no target", async () => {
    const written = await refuseAll(["/threads/th-acme/history", "/threads/th-acme/history", "/threads/th-own/history", "/threads/th-none/history"]);
    expect(events(written).map((e) => [e.resources.thread_id, e.target_tenant_id])).toEqual([
      ["th-acme", "acme"],
      ["th-own", null],
    ]);
    // The repeat of acme, and the no-target refusal after th-own (same key: no target), are counted.
    const aggregates = written.filter((r) => r.type === "auth.decision.aggregate");
    expect(aggregates.map((a) => [a.target_tenant_id, a.count, a.resource_counts])).toEqual([
      ["acme", 1, { "thread:th-acme": 1 }],
      [null, 1, { "thread:th-none": 1 }],
    ]);
  });
});
