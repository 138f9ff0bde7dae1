/**
 * Conformance on LangGraph Platform: `src/auth.ts`, loaded by path in a worker
 * process with the platform's variables (`LANGGRAPH_AUTH`, `LANGSERVE_GRAPHS`,
 * no `AUTH_SERVER`: the host is detected), driven exactly as the platform's
 * worker drives it (see test/support/platform-worker.ts and platform-host.ts,
 * and docs/platform-contract.md): body-less `Request`s for `authenticate`, a
 * JSON round trip of the context for `authorize`, the real error mapping
 * (authenticate keeps status and message and loses the headers; every
 * handler refusal reaches the client as a 403 with its message), and the
 * platform's metadata-only merge of returned values. Filters are applied with
 * the server's own matcher (`isAuthMatching` from `@langchain/langgraph-api/auth`).
 *
 * Statuses asserted are what the platform's client gets (`status`); the
 * worker's own status (`worker.status`) shows that the package threw one of
 * its coded errors (a raw error would make the worker answer 500).
 *
 * Every refusing row is also held to the record (issue 20 §7,
 * recorded-refusals.ts): the decision event its refusal wrote on the
 * worker's standard error, with its reason code and route id (for a handler:
 * its event, since the platform calls a handler without the request), its
 * caller and target tenant, and the client's message is the exact message
 * followed by ` (decision_id: <that event's id>)`. At the end, the worker
 * wrote exactly one event per refusal checked and nothing else.
 *
 * Every endpoint of the installed SDK client, plus `/mcp` and `/a2a/{id}`, as
 * two tenants, a viewer, a caller with no token and one with a bad token.
 * The rows go to reports/platform-conformance.json.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdir, writeFile } from "node:fs/promises";
import { isAuthMatching } from "@langchain/langgraph-api/auth";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";
import { listSdkClientEndpoints } from "../support/sdk-client-endpoints.ts";
import { PLATFORM_ROUTES, type PlatformRoute } from "../../src/policy/platform-routes.ts";
import { applyPlatformValue, startPlatformWorker, type PlatformHost } from "../support/platform-host.ts";
import { decisionRecordsIn } from "../support/decision-events.ts";
import { neededPermission, sampleValue, STAMPED_EVENTS, type Ids } from "./platform-events.ts";
import { refusalChecker, type RefusalChecker } from "./recorded-refusals.ts";

const ALL = "threads:read threads:write assistants:read assistants:write crons:read crons:write store:read store:write";
const READ = "threads:read assistants:read crons:read store:read";

interface Caller {
  name: string;
  ids: Ids;
  scope: string;
}

const ids = (tenant: string, identity: string, n: number): Ids => ({
  tenant,
  identity,
  thread: `0192f000-0000-7000-8000-00000000000${n}`,
  run: `0192f000-0000-7000-8000-00000000010${n}`,
  assistant: `0192f000-0000-7000-8000-00000000020${n}`,
  cron: `0192f000-0000-7000-8000-00000000030${n}`,
});

const ALICE: Caller = { name: "tenant A (acme, all permissions)", ids: ids("acme", "alice", 1), scope: ALL };
const BOB: Caller = { name: "tenant B (globex, all permissions)", ids: ids("globex", "bob", 2), scope: ALL };
const VIOLA: Caller = { name: "viewer (acme, read permissions)", ids: ids("acme", "viola", 3), scope: READ };
const CALLERS = [ALICE, BOB, VIOLA];

/** Stored metadata of each tenant's resources, as stamps leave it. */
const stored = (c: Caller) => ({ tenant_id: c.ids.tenant, owner: c.ids.identity });
const SYSTEM_ASSISTANT = { created_by: "system" };

/** The route's path with the caller's ids in it. */
function urlOf(route: Pick<PlatformRoute, "path" | "method" | "id">, c: Caller): string {
  const path = route.path
    .replace(":thread_id", c.ids.thread)
    .replace(":run_id", c.ids.run)
    .replace(":assistant_id", c.ids.assistant)
    .replace(":cron_id", c.ids.cron)
    .replace(":checkpoint_id", "1ef00000-0000-6000-8000-000000000000")
    .replace(":namespace", "child");
  const query = route.path === "/store/items" && route.method !== "PUT" ? `?namespace=${c.ids.tenant}.notes&key=k` : "";
  return `https://agent.example.langgraph.app${path}${query}`;
}

/** `/threads/:thread_id` and `/threads/:id` are one endpoint. */
const shape = (method: string, path: string) => `${method} ${path.replace(/:[a-z_]+/g, ":")}`;

/** Endpoints of `wanted` that no route of `table` serves. */
function missingFrom(table: readonly { method: string; path: string }[], wanted: readonly { method: string; path: string }[]): string[] {
  const have = new Set(table.map((r) => shape(r.method, r.path)));
  return wanted.map((e) => shape(e.method, e.path)).filter((key) => !have.has(key));
}

/** Operator routes refused with a 403 that says why (the rest answer 404): the reason, as the handler words it too. */
const SAYS_WHY: Record<string, string> = {
  "crons.create": "forbidden: a cron without a thread cannot be tied to your tenant; create it on a thread (POST /threads/{thread_id}/runs/crons)",
};

/** The caller a decision event names. */
const callerOf = (c: Caller) => ({ tenant_id: c.ids.tenant, subject: c.ids.identity });

const NOT_SDK = [
  { method: "POST", path: "/mcp" },
  { method: "POST", path: "/a2a/:assistant_id" },
];

describe("the platform route table", () => {
  it("serves every endpoint of the installed SDK client, /mcp and /a2a/{id}", () => {
    const endpoints = listSdkClientEndpoints();
    expect(endpoints.length).toBeGreaterThanOrEqual(57);
    expect(missingFrom(PLATFORM_ROUTES, [...endpoints, ...NOT_SDK])).toEqual([]);
  });

  it("the coverage check fails when a route is missing from the table", () => {
    const endpoints = [...listSdkClientEndpoints(), ...NOT_SDK];
    for (const dropped of ["POST /runs/cancel", "GET /threads/:/stream", "POST /mcp", "POST /a2a/:"]) {
      const table = PLATFORM_ROUTES.filter((r) => shape(r.method, r.path) !== dropped);
      expect(missingFrom(table, endpoints)).toEqual([dropped]);
    }
  });

  it("has unique routes, events named as the SDK names them, and a reason on every refused one", () => {
    expect(new Set(PLATFORM_ROUTES.map((r) => shape(r.method, r.path))).size).toBe(PLATFORM_ROUTES.length);
    for (const route of PLATFORM_ROUTES) {
      for (const event of route.events) expect(event).toMatch(/^(threads|assistants|crons|store):[a-z_]+$/);
      if (route.operator) expect(route.packageChecks).toContain(`operator: ${route.operator}`);
      expect(route.body).toBeUndefined();
      expect(route.checks).toBeUndefined();
    }
  });
});

let issuer: LocalIssuer;
let worker: PlatformHost;
let check: RefusalChecker;
const tokens = new Map<Caller, string>();
const report: Record<string, unknown>[] = [];

beforeAll(async () => {
  issuer = await startLocalIssuer();
  worker = await startPlatformWorker({
    ...issuer.env(),
    LANGGRAPH_AUTH: JSON.stringify({ path: "./src/auth.ts:auth", disable_studio_auth: false }),
    LANGSERVE_GRAPHS: JSON.stringify({ echo: "./examples/graphs/echo.ts:graph" }),
    // Every refusal written on its own: the suite sends far more of one reason than the flood bound's default burst of 20.
    AUTH_DECISION_LOG_BURST: "1000",
  });
  check = refusalChecker(worker);
  for (const c of CALLERS) tokens.set(c, await issuer.sign({ sub: c.ids.identity, org_id: c.ids.tenant, scope: c.scope }));
});

afterAll(async () => {
  await worker?.stop();
  await issuer?.close();
  await mkdir("reports", { recursive: true });
  await writeFile("reports/platform-conformance.json", `${JSON.stringify({ host: "platform (worker stand-in)", rows: report }, null, 2)}\n`);
});

describe("the worker detects the platform and says so", () => {
  it("logs one host line at start", () => {
    const lines = worker.output().split("\n").filter((line) => line.startsWith("langgraph-tenant-auth: host="));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^langgraph-tenant-auth: host=platform \(detected\); package checks: .*; left to the server: .*assistants:search.*threads:read/);
  });
});

describe.each(PLATFORM_ROUTES.map((route) => [`${route.method} ${route.path}`, route] as const))("%s", (_, route) => {
  it("refuses a caller with no token and one with a bad token (401, the RFC 6750 code in the message), each on the record", async () => {
    // The worker writes the challenge's Headers object as {}: WWW-Authenticate never reaches the client (checked by refused()).
    const none = await check.refused(() => worker.authenticate(urlOf(route, ALICE), route.method, {}), {
      status: 401,
      message: "authentication required: send Authorization: Bearer <token>",
      source: "authenticate",
      reason: "missing_token",
      route: route.id,
      caller: null,
    });
    expect(none.answer.worker.status).toBe(401);
    const forged = (await issuer.sign({ sub: "alice", org_id: "acme", scope: ALL })).slice(0, -4) + "AAAA";
    const bad = await check.refused(() => worker.authenticate(urlOf(route, ALICE), route.method, { authorization: `Bearer ${forged}` }), {
      status: 401,
      message: "invalid_token: signature verification failed",
      source: "authenticate",
      reason: "invalid_token",
      route: route.id,
      caller: null,
    });
    expect(bad.answer.worker.status).toBe(401);
    report.push({ route: route.id, method: route.method, path: route.path, caller: "no token", authenticate: 401 });
    report.push({ route: route.id, method: route.method, path: route.path, caller: "bad token", authenticate: 401 });
  });

  it.each(CALLERS.map((c) => [c.name, c] as const))("as %s", async (_, caller) => {
    const authenticate = () => worker.authenticate(urlOf(route, caller), route.method, { authorization: `Bearer ${tokens.get(caller)}` });
    const row: Record<string, unknown> = { route: route.id, method: route.method, path: route.path, caller: caller.name };
    report.push(row);
    if (route.operator) {
      // Refused for tenants in authenticate, whose status survives: hidden (404), or
      // a 403 that says what to do instead. The operator unlock is tested in platform-checks.
      const told = SAYS_WHY[route.id];
      const status = told ? 403 : 404;
      const { answer, event } = await check.refused(authenticate, {
        status,
        message: told ?? "not found",
        source: "authenticate",
        reason: "operator_only",
        route: route.id,
        caller: callerOf(caller),
      });
      expect(answer.worker.status).toBe(status);
      row.authenticate = status;
      row.decision = `${event.source} ${event.reason} ${event.route}`;
      return;
    }
    const authn = await authenticate();
    if (!authn.ok) throw new Error(`authenticate refused: ${authn.status} ${authn.message}`);
    row.authenticate = 200;
    // Nothing secret in the context the platform stores with every run.
    expect(JSON.stringify(authn.context)).not.toContain(tokens.get(caller)!.split(".")[2]!);
    expect(authn.context.user).toMatchObject({ identity: caller.ids.identity, tenant_id: caller.ids.tenant });
    const events: Record<string, unknown>[] = [];
    row.events = events;
    const other = caller === BOB ? ALICE : BOB;
    for (const event of route.events) {
      const value = sampleValue(route.id, event, caller.ids);
      const allowed = caller.scope.split(" ").includes(neededPermission(event));
      if (!allowed) {
        const refused = await check.refused(() => worker.authorize(event, value, authn.context), {
          status: 403,
          message: `insufficient_scope: the "${neededPermission(event)}" permission is required`,
          source: "handler",
          reason: "insufficient_scope",
          event,
          caller: callerOf(caller),
        });
        expect(refused.answer.worker.status).toBe(403);
        events.push({ event, outcome: 403, decision: `${refused.event.source} ${refused.event.reason} ${refused.event.event}` });
        continue;
      }
      const answer = await worker.authorize(event, value, authn.context);
      if (!answer.ok) throw new Error(`${event} refused: ${answer.status} ${answer.message}`);
      const entry: Record<string, unknown> = { event, outcome: "allowed", filters: answer.filters ?? null };
      events.push(entry);
      if (event.startsWith("store:")) {
        expect(answer.filters ?? undefined).toBeUndefined();
        // The namespace is the protection: another tenant's is refused.
        const namespace = [other.ids.tenant, "notes"];
        const theirs = await check.refused(() => worker.authorize(event, { ...value, namespace }, authn.context), {
          status: 403,
          message: `forbidden: store namespaces must start with your tenant ("${caller.ids.tenant}")`,
          source: "handler",
          reason: "cross_tenant",
          event,
          caller: callerOf(caller),
          target: other.ids.tenant,
        });
        expect(theirs.answer.worker.status).toBe(403);
        expect(theirs.event.resources).toEqual({ namespace });
        entry.otherTenantNamespace = 403;
        continue;
      }
      expect(answer.filters).toEqual({ tenant_id: caller.ids.tenant });
      expect(isAuthMatching(stored(caller), answer.filters as never)).toBe(true);
      expect(isAuthMatching(stored(other), answer.filters as never)).toBe(false);
      expect(isAuthMatching({}, answer.filters as never)).toBe(false);
      expect(isAuthMatching(SYSTEM_ASSISTANT, answer.filters as never)).toBe(false);
      if (STAMPED_EVENTS.has(event)) {
        const kept = applyPlatformValue(value, answer.value) as { metadata: Record<string, unknown> };
        expect(kept.metadata).toMatchObject({ tenant_id: caller.ids.tenant, owner: caller.ids.identity });
        entry.stamp = { tenant_id: kept.metadata.tenant_id, owner: kept.metadata.owner };
        // Without a metadata dict the platform would drop the stamp: refused, never unstamped.
        const bare = { ...value };
        delete bare.metadata;
        for (const without of [bare, { ...value, metadata: null }]) {
          const refused = await check.refused(
            () => worker.authorize(event, without, authn.context),
            {
              status: 403,
              message: `forbidden: ${event}: this deployment keeps the tenant stamp only inside a metadata object; send "metadata": {} with the request`,
              source: "handler",
              reason: "platform_value_refused",
              event,
              caller: callerOf(caller),
            },
            `${event} with metadata ${JSON.stringify(without.metadata)}`,
          );
          expect(refused.answer.worker.status).toBe(403);
        }
        entry.withoutMetadata = 403;
      }
    }
  });
});

/** The refusals the rows above hold to the record, counted from the table: no token and bad token per route, then per caller. */
function refusalsOfTheTable(): number {
  let n = 0;
  for (const route of PLATFORM_ROUTES) {
    n += 2;
    if (route.operator) {
      n += CALLERS.length;
      continue;
    }
    for (const c of CALLERS) {
      for (const event of route.events) {
        if (!c.scope.split(" ").includes(neededPermission(event))) n += 1;
        else if (event.startsWith("store:")) n += 1;
        else if (STAMPED_EVENTS.has(event)) n += 2;
      }
    }
  }
  return n;
}

describe("the record", () => {
  it("holds exactly one decision event per refusal above, and nothing else (no aggregate, no allowed decision)", () => {
    expect(check.recorded).toBe(refusalsOfTheTable());
    expect(decisionRecordsIn(worker.stderr())).toHaveLength(check.recorded);
  });
});
