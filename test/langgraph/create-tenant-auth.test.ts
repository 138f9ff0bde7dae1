/**
 * Every handler event, run through the LangGraph server's own dispatch
 * (`authorize`, `authenticate`, `isAuthMatching` from `@langchain/langgraph-api/auth`)
 * with principals from real tokens (local issuer over loopback).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { authenticate, authorize, isAuthMatching, registerAuth, type AuthContext } from "@langchain/langgraph-api/auth";
import { createAuthenticator } from "../../src/authenticate/create-authenticator.ts";
import { readConfig } from "../../src/config/read-config.ts";
import { createTenantAuth } from "../../src/langgraph/create-tenant-auth.ts";
import { AUTH_EVENTS, PERMISSIONS, requiredPermission } from "../../src/policy/event-permission.ts";
import { createRouteGuard } from "../../src/langgraph/create-route-guard.ts";
import { createRoutePolicy } from "../../src/policy/route-policy.ts";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";
import { createDecisionLog } from "../../src/decision/decision-log.ts";
import type { DecisionEvent, DecisionRecord } from "../../src/decision/decision-event.ts";

const ALL = PERMISSIONS.join(" ");
let issuer: LocalIssuer;
let dir: string;
let visibility: "tenant" | "owner" = "tenant";
/** What the Auth's decision log wrote, and every decision it made (its observer sees each one, flood bound or not). */
const written: DecisionRecord[] = [];
const decided: DecisionEvent[] = [];
const decisions = createDecisionLog({ sink: { write: (record) => void written.push(record) } });
decisions.onDecision((event) => void decided.push(event));

/** Swap the `Auth` the server dispatches to (the registered module reads it from a global on each call). */
function useAuth(which: "tenant" | "owner"): void {
  visibility = which;
}

beforeAll(async () => {
  issuer = await startLocalIssuer();
  const authenticator = createAuthenticator({ config: readConfig(issuer.env()) });
  const auths = {
    tenant: createTenantAuth({ authenticator, host: "dev", log: () => undefined, decisions }),
    owner: createTenantAuth({ authenticator, visibility: "owner", host: "dev", log: () => undefined, decisions }),
  };
  // The server loads the auth module by path; this one hands it whichever Auth the test selected.
  (globalThis as Record<string, unknown>).__tenantAuths = auths;
  (globalThis as Record<string, unknown>).__tenantAuthVisibility = () => visibility;
  dir = await mkdtemp(join(tmpdir(), "tenant-auth-"));
  await writeFile(
    join(dir, "auth.mjs"),
    `const pick = () => globalThis.__tenantAuths[globalThis.__tenantAuthVisibility()];
export const auth = { get "~handlerCache"() { return pick()["~handlerCache"]; } };\n`,
  );
  await registerAuth({ path: "./auth.mjs:auth" }, { cwd: dir });
});

afterAll(async () => {
  await issuer?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function as(sub: string, tenant: string, scope = ALL): Promise<AuthContext> {
  const token = await issuer.sign({ sub, org_id: tenant, scope });
  const context = await authenticate(new Request("http://127.0.0.1/threads", { headers: { authorization: `Bearer ${token}` } }));
  if (!context) throw new Error("no auth registered");
  return context as AuthContext;
}

async function run(event: string, value: unknown, context: AuthContext | null) {
  const [resource, action] = event.split(":") as [string, string];
  return authorize({ resource, action, value, context });
}

/**
 * What the server answers when a handler throws: status, headers and body of
 * the response it builds. The refusal is on the record: its decision id is in
 * the `X-Decision-Id` header and at the end of the body, and is the id of the
 * event the handler's wrapper recorded for this event (returned as `decision`,
 * the body without that suffix as `body`).
 */
async function refused(event: string, value: unknown, context: AuthContext | null) {
  const before = decided.length;
  try {
    await run(event, value, context);
  } catch (error) {
    const res = (error as { getResponse(): Response }).getResponse();
    const text = await res.text();
    const id = res.headers.get("x-decision-id");
    expect(decided.length).toBe(before + 1);
    const decision = decided.at(-1)!;
    expect(decision).toMatchObject({ source: "handler", outcome: "refused", status: res.status, event, host: "dev" });
    expect(id).toBe(decision.decision_id);
    const suffix = ` (decision_id: ${id})`;
    expect(text.endsWith(suffix), text).toBe(true);
    lastDecision = decision;
    return { status: res.status, challenge: res.headers.get("www-authenticate"), body: text.slice(0, -suffix.length) };
  }
  throw new Error(`${event} was allowed`);
}
let lastDecision: DecisionEvent | undefined;

const THREAD_EVENTS = ["threads", "assistants", "crons"] as const;

describe("authenticate, through the server", () => {
  it("returns the principal as the server's user", async () => {
    const context = await as("alice", "acme", "threads:read");
    expect(context.user).toMatchObject({ identity: "alice", tenant_id: "acme", permissions: ["threads:read"], display_name: "alice" });
    expect(context.scopes).toEqual(["threads:read"]);
  });

  it.each([
    ["no token", {}, 'Bearer realm="langgraph"'],
    ["a bad token", { authorization: "Bearer abc.def.ghi" }, /^Bearer realm="langgraph", error="invalid_token", error_description="/],
    ["Studio's header and no token", { "x-auth-scheme": "langsmith" }, 'Bearer realm="langgraph"'],
  ])("answers %s with 401 and the RFC 6750 challenge", async (_, headers, challenge) => {
    const error = await authenticate(new Request("http://127.0.0.1/threads", { headers })).catch((e: unknown) => e);
    const res = (error as { getResponse(): Response }).getResponse();
    expect(res.status).toBe(401);
    if (typeof challenge === "string") expect(res.headers.get("www-authenticate")).toBe(challenge);
    else expect(res.headers.get("www-authenticate")).toMatch(challenge);
  });
});

describe("create: stamp tenant and owner over whatever the client sent", () => {
  it.each(["threads:create", "assistants:create", "crons:create", "threads:create_run"])("%s", async (event) => {
    const alice = await as("alice", "acme");
    const value = { metadata: { tenant_id: "globex", owner: "mallory", topic: "q3" } };
    const { filters, value: out } = await run(event, value, alice);
    expect(out).toBe(value);
    expect(value.metadata).toEqual({ topic: "q3", tenant_id: "acme", owner: "alice" });
    expect(filters).toEqual({ tenant_id: "acme" });
  });

  it.each([undefined, null, "acme", ["globex"], 42])("stamps when the client sent metadata %j", async (metadata) => {
    const value: Record<string, unknown> = { thread_id: "t1", metadata };
    await run("threads:create", value, await as("alice", "acme"));
    expect(value.metadata).toEqual({ tenant_id: "acme", owner: "alice" });
  });

  it("changes the metadata object in place (thread copy stores the object it handed over)", async () => {
    const metadata = { tenant_id: "acme", owner: "alice", thread_id: "copy" };
    await run("threads:create", { thread_id: "copy", metadata }, await as("bob", "acme"));
    expect(metadata).toEqual({ tenant_id: "acme", owner: "bob", thread_id: "copy" });
  });
});

describe("update: tenant pinned, owner kept", () => {
  it.each(["threads:update", "assistants:update", "crons:update"])("%s overwrites a client tenant_id and drops owner", async (event) => {
    const value = { metadata: { tenant_id: "globex", owner: "mallory", label: "x" } };
    const { filters } = await run(event, value, await as("alice", "acme"));
    expect(value.metadata).toEqual({ label: "x", tenant_id: "acme" });
    expect(filters).toEqual({ tenant_id: "acme" });
  });

  it("pins a null tenant_id (which would otherwise orphan the resource)", async () => {
    const value = { metadata: { tenant_id: null } };
    await run("threads:update", value, await as("alice", "acme"));
    expect(value.metadata).toEqual({ tenant_id: "acme" });
  });

  it("leaves an update without metadata alone and still filters", async () => {
    const value = { thread_id: "t1" };
    const { filters } = await run("threads:update", value, await as("alice", "acme"));
    expect(value).toEqual({ thread_id: "t1" });
    expect(filters).toEqual({ tenant_id: "acme" });
  });

  it("replaces non-object metadata with the tenant", async () => {
    const value: Record<string, unknown> = { metadata: "globex" };
    await run("assistants:update", value, await as("alice", "acme"));
    expect(value.metadata).toEqual({ tenant_id: "acme" });
  });
});

describe("read, search, delete and run creation: a filter that matches only the caller's tenant", () => {
  const events = THREAD_EVENTS.flatMap((r) => ["read", "search", "delete", "update", "create"].map((a) => `${r}:${a}`)).concat(
    "threads:create_run",
  );

  it.each(events)("%s", async (event) => {
    const { filters } = await run(event, { metadata: {} }, await as("alice", "acme"));
    expect(filters).toEqual({ tenant_id: "acme" });
    // Judged by the server's own matcher:
    expect(isAuthMatching({ tenant_id: "acme", owner: "bob" }, filters)).toBe(true);
    expect(isAuthMatching({ tenant_id: "globex" }, filters)).toBe(false);
    expect(isAuthMatching({ tenant_id: "acme-2" }, filters)).toBe(false);
    expect(isAuthMatching({}, filters)).toBe(false);
    expect(isAuthMatching({ created_by: "system" }, filters)).toBe(false);
    expect(isAuthMatching(undefined, filters)).toBe(false);
  });

  it("owner visibility: only what the caller created, inside its tenant", async () => {
    useAuth("owner");
    try {
      const alice = await as("alice", "acme");
      for (const event of events) {
        const { filters } = await run(event, { metadata: {} }, alice);
        expect(filters).toEqual({ tenant_id: "acme", owner: "alice" });
        expect(isAuthMatching({ tenant_id: "acme", owner: "alice" }, filters)).toBe(true);
        expect(isAuthMatching({ tenant_id: "acme", owner: "bob" }, filters)).toBe(false);
        expect(isAuthMatching({ tenant_id: "acme" }, filters)).toBe(false);
        expect(isAuthMatching({ tenant_id: "globex", owner: "alice" }, filters)).toBe(false);
      }
      // Update cannot hand the resource to another owner.
      const value = { metadata: { owner: "bob" } };
      await run("threads:update", value, alice);
      expect(value.metadata).toEqual({ tenant_id: "acme" });
    } finally {
      useAuth("tenant");
    }
  });
});

describe("store: the first namespace segment is the tenant", () => {
  const STORE = ["store:put", "store:get", "store:delete", "store:search", "store:list_namespaces"];

  it.each(STORE)("%s inside the tenant is allowed", async (event) => {
    const alice = await as("alice", "acme");
    for (const namespace of [["acme"], ["acme", "memories"], ["acme", "globex", "x"]]) {
      const { filters } = await run(event, { namespace, key: "k", value: { tenant_id: "globex" } }, alice);
      expect(filters).toBeUndefined();
    }
  });

  it.each(STORE)("%s outside the tenant is refused with 403", async (event) => {
    const alice = await as("alice", "acme");
    for (const namespace of [["globex"], ["globex", "acme"], ["ACME"], ["acme-2"], [], undefined, null, "acme", [["acme"]], [""]]) {
      const answer = await refused(event, { namespace, key: "k" }, alice);
      expect(answer.status).toBe(403);
      expect(answer.challenge).toBeNull();
      expect(answer.body).toBe('forbidden: store namespaces must start with your tenant ("acme")');
      // Another tenant's label is a cross-tenant attempt; no label at all is a malformed namespace.
      const names = Array.isArray(namespace) && typeof namespace[0] === "string" && /^[a-z]/i.test(namespace[0]);
      expect(lastDecision!.reason).toBe(names ? "cross_tenant" : "store_namespace_refused");
    }
  });

  it("owner visibility: [tenant, user, ...]", async () => {
    useAuth("owner");
    try {
      const alice = await as("alice", "acme");
      for (const event of STORE) {
        expect((await run(event, { namespace: ["acme", "alice", "notes"], key: "k" }, alice)).filters).toBeUndefined();
        const answer = await refused(event, { namespace: ["acme", "bob"], key: "k" }, alice);
        expect(answer).toEqual({ status: 403, challenge: null, body: "forbidden: store namespaces must be [tenant, user, ...] with owner visibility" });
        expect(lastDecision).toMatchObject({ reason: "cross_owner", tenant_id: "acme", subject: "alice", resources: { namespace: ["acme", "bob"] } });
        expect((await refused(event, { namespace: ["acme"], key: "k" }, alice)).status).toBe(403);
      }
    } finally {
      useAuth("tenant");
    }
  });
});

describe("permissions: 403 insufficient_scope naming the one needed", () => {
  it.each(AUTH_EVENTS.map((e) => [e, requiredPermission(e)!] as const))("%s needs %s", async (event, needed) => {
    const others = PERMISSIONS.filter((p) => p !== needed).join(" ");
    const caller = await as("alice", "acme", others);
    const value = { namespace: ["acme"], key: "k", metadata: {} };
    const answer = await refused(event, value, caller);
    expect(answer.status).toBe(403);
    expect(answer.challenge).toBe(
      `Bearer realm="langgraph", error="insufficient_scope", error_description="the \\"${needed}\\" permission is required", scope="${needed}"`,
    );
    expect(answer.body).toBe(`insufficient_scope: the "${needed}" permission is required`);
    expect(lastDecision).toMatchObject({ reason: "insufficient_scope", tenant_id: "acme", subject: "alice" });
    // With the permission, the same call passes.
    const allowed = await as("alice", "acme", needed);
    await expect(run(event, { namespace: ["acme"], key: "k", metadata: {} }, allowed)).resolves.toBeTypeOf("object");
  });

  it("a token with no permissions is refused everything", async () => {
    const nobody = await as("alice", "acme", "");
    for (const event of AUTH_EVENTS) expect((await refused(event, { namespace: ["acme"] }, nobody)).status).toBe(403);
  });
});

describe("fails closed", () => {
  it("covers every event the SDK defines", async () => {
    const { Auth } = await import("@langchain/langgraph-sdk/auth");
    const registered = Object.keys(
      (createTenantAuth({ authenticator: createAuthenticator({ config: readConfig(issuer.env()) }), host: "dev", log: () => undefined }) as unknown as InstanceType<typeof Auth>)[
        "~handlerCache"
      ].callbacks ?? {},
    );
    expect(registered.sort()).toEqual([...AUTH_EVENTS, "*"].sort());
    expect(AUTH_EVENTS).toHaveLength(21);
  });

  it.each(["threads:stream", "runs:create", "assistants:create_run", "store:list", "crons:run", "webhooks:send"])(
    "an event the SDK may add later (%s) is refused by the * handler",
    async (event) => {
      const answer = await refused(event, { metadata: {} }, await as("alice", "acme"));
      expect(answer).toEqual({ status: 403, challenge: null, body: `forbidden: "${event}" is not an event this deployment allows` });
      expect(lastDecision).toMatchObject({ reason: "event_not_allowed", event });
    },
  );

  it("LangGraph Studio's unauthenticated user gets no access to any event", async () => {
    const studio: AuthContext = {
      user: { kind: "StudioUser", display_name: "langgraph-studio-user", identity: "langgraph-studio-user", permissions: [], is_authenticated: true },
      scopes: [],
    };
    for (const event of AUTH_EVENTS) {
      const answer = await refused(event, { namespace: ["acme"], metadata: {} }, studio);
      expect(answer).toEqual({ status: 403, challenge: null, body: "forbidden: this caller has no tenant" });
      // Studio's user is no verified principal: no tenant, no subject on the record.
      expect(lastDecision).toMatchObject({ reason: "no_tenant", tenant_id: null, subject: null });
    }
  });

  it.each([
    ["a user with a bad tenant id", { identity: "x", tenant_id: "a::b", permissions: PERMISSIONS.slice(), display_name: "x", is_authenticated: true }],
    ["a user with no identity", { identity: "", tenant_id: "acme", permissions: PERMISSIONS.slice(), display_name: "", is_authenticated: true }],
    ["a user without a permissions array", { identity: "x", tenant_id: "acme", permissions: "threads:read", display_name: "x", is_authenticated: true }],
  ])("%s is refused", async (_, user) => {
    const context = { user, scopes: [] } as unknown as AuthContext;
    expect((await refused("threads:read", {}, context)).status).toBe(403);
  });

  it("a create with no body to stamp is refused, not a 500", async () => {
    const answer = await refused("threads:create", null, await as("alice", "acme"));
    expect(answer).toEqual({ status: 403, challenge: null, body: "forbidden: the request has no body to check" });
    expect(lastDecision!.reason).toBe("invalid_value");
  });
});

describe("authenticate on a cache hit", () => {
  it("answers an allowed request at once and still refuses with a rejected promise, as on a miss", async () => {
    const auth = createTenantAuth({
      authenticator: createAuthenticator({ config: readConfig(issuer.env()) }),
      host: "dev",
      guard: createRouteGuard({ policy: createRoutePolicy() }),
      log: () => undefined,
    }) as unknown as { "~handlerCache": { authenticate: (request: Request) => unknown } };
    const handle = auth["~handlerCache"].authenticate;
    const token = await issuer.sign({ sub: "alice", org_id: "acme", scope: ALL });
    const request = (path: string) => new Request(`http://127.0.0.1${path}`, { headers: { authorization: `Bearer ${token}` } });
    const miss = handle(request("/threads/t"));
    expect(miss).toBeInstanceOf(Promise);
    expect(await miss).toMatchObject({ identity: "alice", tenant_id: "acme" });
    // The token is cached now: an allowed request is the principal itself, no promise.
    expect(handle(request("/threads/t"))).toMatchObject({ identity: "alice", tenant_id: "acme" });
    // A refused one is a rejection, never a synchronous throw.
    for (const path of ["/internal/truncate", "/no/such/route"]) {
      let answer: unknown;
      expect(() => (answer = handle(new Request(`http://127.0.0.1${path}`, { method: "POST", headers: { authorization: `Bearer ${token}` } })))).not.toThrow();
      expect(answer).toBeInstanceOf(Promise);
      await expect(answer).rejects.toMatchObject({ status: 404, code: "ERR_ROUTE_REFUSED" });
    }
  });
});
