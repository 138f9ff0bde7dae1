/**
 * Two tenants on one real `langgraph dev` server (this package's own
 * langgraph.json), through `@langchain/langgraph-sdk`'s `Client`, with tokens
 * from the local issuer over loopback.
 *
 * Tenant A (acme/alice) and tenant B (globex/bob) each create threads,
 * assistants, store items and runs. Then B tries everything against A's
 * resources and gets nothing; and at the end each still sees all of its own,
 * unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Assistant, Client, Thread } from "@langchain/langgraph-sdk";
import { SignJWT, base64url } from "jose";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";
import { ALL_PERMISSIONS } from "../support/dev-settings.ts";
import { startLangGraphDev, type LangGraphDev } from "../support/langgraph-dev.ts";
import { httpRefusal, sdkClientFor } from "../support/sdk-client.ts";

interface Tenant {
  tenant: string;
  user: string;
  token: string;
  client: Client;
  thread: Thread;
  assistant: Assistant;
  runId: string;
  reply: string;
}

let issuer: LocalIssuer;
let server: LangGraphDev;
let A: Tenant;
let B: Tenant;

function clientFor(token: string): Client {
  return sdkClientFor(server.url, token);
}

/** The SDK's HTTP error, a refusal's decision id checked and taken off. */
const failure = httpRefusal;

const input = (text: string) => ({ messages: [{ role: "human", content: text }] });

async function setUp(tenant: string, user: string): Promise<Tenant> {
  const token = await issuer.sign({ sub: user, org_id: tenant, scope: ALL_PERMISSIONS });
  const client = clientFor(token);
  const thread = await client.threads.create({ metadata: { topic: `${tenant}-plans` } });
  const assistant = await client.assistants.create({ graphId: "echo", name: `${tenant}-echo`, metadata: { team: `${tenant}-team` } });
  await client.store.putItem([tenant, "notes"], "k1", { text: `${tenant} secret` });
  await client.store.putItem([tenant, "notes", "deep"], "k2", { text: `${tenant} deeper` });
  const result = (await client.runs.wait(thread.thread_id, assistant.assistant_id, { input: input(`hello from ${tenant}`) })) as {
    messages: { content: string }[];
  };
  const runs = await client.runs.list(thread.thread_id);
  return {
    tenant,
    user,
    token,
    client,
    thread,
    assistant,
    runId: runs[0]!.run_id,
    reply: String(result.messages.at(-1)?.content),
  };
}

beforeAll(async () => {
  issuer = await startLocalIssuer();
  server = await startLangGraphDev({ env: issuer.env() });
  A = await setUp("acme", "alice");
  B = await setUp("globex", "bob");
});

afterAll(async () => {
  await server?.stop();
  await issuer?.close();
});

describe("each tenant works normally on its own", () => {
  it("stamps tenant and owner on what it creates", () => {
    expect(A.thread.metadata).toMatchObject({ topic: "acme-plans", tenant_id: "acme", owner: "alice" });
    expect(B.thread.metadata).toMatchObject({ topic: "globex-plans", tenant_id: "globex", owner: "bob" });
    expect(A.assistant.metadata).toEqual({ team: "acme-team", tenant_id: "acme", owner: "alice" });
    expect(B.assistant.metadata).toEqual({ team: "globex-team", tenant_id: "globex", owner: "bob" });
  });

  it("runs the echo graph as the caller", () => {
    expect(A.reply).toBe("[acme/alice] hello from acme");
    expect(B.reply).toBe("[globex/bob] hello from globex");
  });

  it("reads its own store items", async () => {
    expect((await A.client.store.getItem(["acme", "notes"], "k1"))?.value).toEqual({ text: "acme secret" });
    expect((await B.client.store.getItem(["globex", "notes"], "k1"))?.value).toEqual({ text: "globex secret" });
  });
});

describe("B against A's threads", () => {
  it("cannot read one (404), nor its state, history or runs", async () => {
    expect(await failure(B.client.threads.get(A.thread.thread_id))).toMatchObject({ status: 404 });
    expect(await failure(B.client.threads.getState(A.thread.thread_id))).toMatchObject({ status: 404 });
    expect(await failure(B.client.runs.get(A.thread.thread_id, A.runId))).toMatchObject({ status: 404 });
    expect(await failure(B.client.runs.list(A.thread.thread_id))).toMatchObject({ status: 404 });
    expect(await failure(B.client.threads.getHistory(A.thread.thread_id))).toMatchObject({ status: 404 });
  });

  it("cannot find one by search, even asking for A's tenant in metadata", async () => {
    const ids = (await B.client.threads.search({ limit: 100 })).map((t) => t.thread_id);
    expect(ids).toContain(B.thread.thread_id);
    expect(ids).not.toContain(A.thread.thread_id);
    expect(await B.client.threads.search({ metadata: { tenant_id: "acme" } })).toEqual([]);
    expect(await B.client.threads.search({ metadata: { topic: "acme-plans" } })).toEqual([]);
    expect(await B.client.threads.count({ metadata: { tenant_id: "acme" } })).toBe(0);
  });

  it("cannot update one (404), nor change its state", async () => {
    expect(await failure(B.client.threads.update(A.thread.thread_id, { metadata: { topic: "owned" } }))).toMatchObject({
      status: 404,
    });
    expect(await failure(B.client.threads.updateState(A.thread.thread_id, { values: input("injected") }))).toMatchObject({
      status: 404,
    });
  });

  it("cannot delete one (404)", async () => {
    expect(await failure(B.client.threads.delete(A.thread.thread_id))).toMatchObject({ status: 404 });
  });

  it("cannot copy one (409: the server's answer for a thread it cannot see)", async () => {
    expect(await failure(B.client.threads.copy(A.thread.thread_id))).toMatchObject({ status: 409 });
  });

  it("cannot run on one (404), with its own assistant or the graph name", async () => {
    expect(await failure(B.client.runs.wait(A.thread.thread_id, B.assistant.assistant_id, { input: input("hijack") }))).toMatchObject({
      status: 404,
    });
    expect(await failure(B.client.runs.create(A.thread.thread_id, "echo", { input: input("hijack") }))).toMatchObject({ status: 404 });
  });

  it("cannot take over a thread id A already uses (create with if_exists: do_nothing)", async () => {
    const answer = await failure(B.client.threads.create({ threadId: A.thread.thread_id, ifExists: "do_nothing" }));
    expect(answer.status).toBe(409);
  });
});

describe("B against A's assistants", () => {
  it("cannot read one (404), nor its graph, schemas or versions", async () => {
    expect(await failure(B.client.assistants.get(A.assistant.assistant_id))).toMatchObject({ status: 404 });
    expect(await failure(B.client.assistants.getGraph(A.assistant.assistant_id))).toMatchObject({ status: 404 });
    expect(await failure(B.client.assistants.getSchemas(A.assistant.assistant_id))).toMatchObject({ status: 404 });
    expect(await failure(B.client.assistants.getVersions(A.assistant.assistant_id))).toMatchObject({ status: 404 });
  });

  it("cannot find one by search, even asking for A's tenant in metadata", async () => {
    const ids = (await B.client.assistants.search({ limit: 100 })).map((a) => a.assistant_id);
    expect(ids).toEqual([B.assistant.assistant_id]);
    expect(await B.client.assistants.search({ metadata: { tenant_id: "acme" } })).toEqual([]);
    expect(await B.client.assistants.search({ graphId: "echo", metadata: { team: "acme-team" } })).toEqual([]);
  });

  it("cannot update one (404), nor move its latest version", async () => {
    expect(await failure(B.client.assistants.update(A.assistant.assistant_id, { name: "owned", metadata: { x: 1 } }))).toMatchObject({
      status: 404,
    });
    expect(await failure(B.client.assistants.setLatest(A.assistant.assistant_id, 1))).toMatchObject({ status: 404 });
  });

  it("cannot delete one (404)", async () => {
    expect(await failure(B.client.assistants.delete(A.assistant.assistant_id))).toMatchObject({ status: 404 });
  });
});

describe("B against A's store items (403)", () => {
  const forbidden = { status: 403, text: 'forbidden: store namespaces must start with your tenant ("globex")' };

  it("cannot get, put or delete one", async () => {
    expect(await failure(B.client.store.getItem(["acme", "notes"], "k1"))).toEqual(forbidden);
    expect(await failure(B.client.store.putItem(["acme", "notes"], "k1", { text: "overwritten" }))).toEqual(forbidden);
    expect(await failure(B.client.store.putItem(["acme", "notes"], "new", { text: "planted" }))).toEqual(forbidden);
    expect(await failure(B.client.store.deleteItem(["acme", "notes"], "k1"))).toEqual(forbidden);
  });

  it("cannot search or list A's namespaces, nor search or list with no prefix", async () => {
    expect(await failure(B.client.store.searchItems(["acme"]))).toEqual(forbidden);
    expect(await failure(B.client.store.searchItems(["acme", "notes"], { query: "secret" }))).toEqual(forbidden);
    expect(await failure(B.client.store.searchItems([]))).toEqual(forbidden);
    expect(await failure(B.client.store.listNamespaces({ prefix: ["acme"] }))).toEqual(forbidden);
    expect(await failure(B.client.store.listNamespaces())).toEqual(forbidden);
  });

  it("sees only its own namespaces and items", async () => {
    const { namespaces } = await B.client.store.listNamespaces({ prefix: ["globex"] });
    expect(namespaces.sort()).toEqual([["globex", "notes"], ["globex", "notes", "deep"]].sort());
    const { items } = await B.client.store.searchItems(["globex"]);
    expect(items.map((i) => i.value).sort((x, y) => String(x.text).localeCompare(String(y.text)))).toEqual([
      { text: "globex deeper" },
      { text: "globex secret" },
    ]);
  });

  it("a namespace that merely contains A's tenant is B's own, and A never sees it", async () => {
    await B.client.store.putItem(["globex", "acme"], "k", { text: "B's, named after A" });
    expect(await failure(A.client.store.getItem(["globex", "acme"], "k"))).toEqual({
      status: 403,
      text: 'forbidden: store namespaces must start with your tenant ("acme")',
    });
    const { namespaces } = await A.client.store.listNamespaces({ prefix: ["acme"] });
    expect(namespaces.sort()).toEqual([["acme", "notes"], ["acme", "notes", "deep"]].sort());
    await B.client.store.deleteItem(["globex", "acme"], "k");
  });
});

describe("metadata claiming A's tenant gives B nothing of A", () => {
  it("on create: the thread and assistant are stamped as B's", async () => {
    const thread = await B.client.threads.create({ metadata: { tenant_id: "acme", owner: "alice", topic: "decoy" } });
    expect(thread.metadata).toEqual({ tenant_id: "globex", owner: "bob", topic: "decoy" });
    const assistant = await B.client.assistants.create({ graphId: "echo", metadata: { tenant_id: "acme", owner: "alice" } });
    expect(assistant.metadata).toEqual({ tenant_id: "globex", owner: "bob" });
    // A does not see them.
    expect(await failure(A.client.threads.get(thread.thread_id))).toMatchObject({ status: 404 });
    expect(await failure(A.client.assistants.get(assistant.assistant_id))).toMatchObject({ status: 404 });
    await B.client.threads.delete(thread.thread_id);
    await B.client.assistants.delete(assistant.assistant_id);
  });

  it("on update: B's own thread and assistant stay B's", async () => {
    const thread = await B.client.threads.create({ metadata: { topic: "mine" } });
    const updated = await B.client.threads.update(thread.thread_id, { metadata: { tenant_id: "acme", owner: "alice" } });
    expect(updated.metadata).toEqual({ topic: "mine", tenant_id: "globex", owner: "bob" });
    const assistant = await B.client.assistants.create({ graphId: "echo" });
    const moved = await B.client.assistants.update(assistant.assistant_id, { metadata: { tenant_id: "acme" } });
    expect(moved.metadata).toEqual({ tenant_id: "globex", owner: "bob" });
    expect(await failure(A.client.threads.get(thread.thread_id))).toMatchObject({ status: 404 });
    expect(await failure(A.client.assistants.get(assistant.assistant_id))).toMatchObject({ status: 404 });
    expect((await A.client.threads.search({ metadata: { owner: "bob" } })).length).toBe(0);
    await B.client.threads.delete(thread.thread_id);
    await B.client.assistants.delete(assistant.assistant_id);
  });

  it("on a run: a new thread created by the run is B's", async () => {
    const threadId = "0190f5d0-0000-7000-8000-00000000b0b0";
    await B.client.runs.wait(threadId, B.assistant.assistant_id, {
      input: input("new thread"),
      ifNotExists: "create",
      metadata: { tenant_id: "acme", owner: "alice" },
    });
    expect((await B.client.threads.get(threadId)).metadata).toMatchObject({ tenant_id: "globex", owner: "bob" });
    expect(await failure(A.client.threads.get(threadId))).toMatchObject({ status: 404 });
    await B.client.threads.delete(threadId);
  });
});

describe("callers the server must not let in", () => {
  it("no token: 401 with the bare RFC 6750 challenge", async () => {
    const res = await fetch(`${server.url}/threads/search`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="langgraph"');
  });

  it("LangGraph Studio's header without a token gets no access", async () => {
    for (const [method, path, body] of [
      ["POST", "/threads/search", "{}"],
      ["GET", `/threads/${A.thread.thread_id}`, undefined],
      ["POST", "/store/items/search", JSON.stringify({ namespace_prefix: ["acme"] })],
      ["POST", "/assistants/search", "{}"],
    ] as const) {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: { "content-type": "application/json", "x-auth-scheme": "langsmith" },
        ...(body ? { body } : {}),
      });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe('Bearer realm="langgraph"');
    }
  });

  it("a token from another issuer: 401 invalid_token, the token not echoed", async () => {
    const other = await startLocalIssuer();
    try {
      const token = await other.sign({ sub: "mallory", org_id: "acme", scope: ALL_PERMISSIONS });
      const res = await fetch(`${server.url}/threads/${A.thread.thread_id}`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(401);
      const challenge = res.headers.get("www-authenticate") ?? "";
      // Its "iss" names no configured issuer: refused before any key lookup.
      expect(challenge).toBe('Bearer realm="langgraph", error="invalid_token", error_description="unexpected \\"iss\\" claim value"');
      const body = await res.text();
      for (const part of token.split(".")) expect(body + challenge).not.toContain(part);
    } finally {
      await other.close();
    }
  });

  it("expired, other-audience, unsigned and HMAC-of-the-public-key tokens: 401 invalid_token", async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: issuer.issuer, aud: issuer.audience, sub: "mallory", org_id: "acme", scope: ALL_PERMISSIONS, exp: now + 600 };
    const unsigned = `${base64url.encode(JSON.stringify({ alg: "none" }))}.${base64url.encode(JSON.stringify(claims))}.`;
    const hmac = await new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256", kid: issuer.keys[0]!.kid })
      .sign(new TextEncoder().encode(JSON.stringify(issuer.keys[0]!.publicJwk)));
    const cases: [string, string][] = [
      [await issuer.sign({ ...claims, exp: now - 600 }), "the token has expired"],
      [await issuer.sign({ ...claims, aud: "another-api" }), 'unexpected \\"aud\\" claim value'],
      [unsigned, "the token's signing algorithm is not allowed"],
      [hmac, "the token's signing algorithm is not allowed"],
    ];
    for (const [token, description] of cases) {
      const res = await fetch(`${server.url}/threads/${A.thread.thread_id}`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(401);
      const challenge = res.headers.get("www-authenticate") ?? "";
      expect(challenge).toBe(`Bearer realm="langgraph", error="invalid_token", error_description="${description}"`);
      const body = await res.text();
      for (const part of token.split(".").filter(Boolean)) expect(body + challenge).not.toContain(part);
    }
  });

  it("a token without the permission: 403 insufficient_scope naming it", async () => {
    const readOnly = clientFor(await issuer.sign({ sub: "carol", org_id: "acme", scope: "threads:read" }));
    expect((await readOnly.threads.get(A.thread.thread_id)).thread_id).toBe(A.thread.thread_id);
    const answer = await failure(readOnly.threads.create({ metadata: {} }));
    expect(answer).toEqual({ status: 403, text: 'insufficient_scope: the "threads:write" permission is required' });
    const res = await fetch(`${server.url}/threads`, {
      method: "POST",
      headers: { authorization: `Bearer ${await issuer.sign({ sub: "carol", org_id: "acme", scope: "threads:read" })}`, "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(403);
    expect(res.headers.get("www-authenticate")).toBe(
      'Bearer realm="langgraph", error="insufficient_scope", error_description="the \\"threads:write\\" permission is required", scope="threads:write"',
    );
  });
});

describe("afterwards, each tenant still sees all of its own, unchanged", () => {
  for (const which of ["A", "B"] as const) {
    it(`tenant ${which}`, async () => {
      const t = which === "A" ? A : B;
      const threads = await t.client.threads.search({ limit: 100 });
      expect(threads.map((x) => x.thread_id)).toEqual([t.thread.thread_id]);
      expect(threads[0]!.metadata).toEqual({
        ...t.thread.metadata,
        graph_id: "echo",
        assistant_id: t.assistant.assistant_id,
      });
      const state = await t.client.threads.getState<{ messages: { content: string }[] }>(t.thread.thread_id);
      expect(state.values.messages.map((m) => m.content)).toEqual([`hello from ${t.tenant}`, `[${t.tenant}/${t.user}] hello from ${t.tenant}`]);
      expect((await t.client.runs.list(t.thread.thread_id)).map((r) => r.run_id)).toEqual([t.runId]);

      const assistants = await t.client.assistants.search({ limit: 100 });
      expect(assistants.map((a) => a.assistant_id)).toEqual([t.assistant.assistant_id]);
      expect(assistants[0]).toMatchObject({ name: `${t.tenant}-echo`, metadata: t.assistant.metadata, version: 1 });

      expect((await t.client.store.getItem([t.tenant, "notes"], "k1"))?.value).toEqual({ text: `${t.tenant} secret` });
      expect((await t.client.store.getItem([t.tenant, "notes", "deep"], "k2"))?.value).toEqual({ text: `${t.tenant} deeper` });
      const { items } = await t.client.store.searchItems([t.tenant]);
      expect(items).toHaveLength(2);
    });
  }
});
