/**
 * Tenants of every legal shape on one real `langgraph dev` server, through
 * `@langchain/langgraph-sdk`'s `Client`, with tokens from the local issuer.
 *
 * "acme.eu", "acme_eu" and "acme-eu" would collide under a naive label
 * encoding (`.` → `_` or `.` → `-`); "acme" is a prefix of them all. Each
 * uses threads, assistants, runs, the store (put, get, search,
 * list_namespaces, delete) under its namespace label, and a graph that goes
 * through this package's tenant store and tenant checkpointer wrappers.
 * Then every tenant tries to reach every other one's state and gets nothing.
 */
import type { Assistant, Client, Thread } from "@langchain/langgraph-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";
import { ALL_PERMISSIONS } from "../support/dev-settings.ts";
import { tenantNamespaceLabel } from "../../src/tenant/tenant-namespace-label.ts";
import { startLangGraphDev, type LangGraphDev } from "../support/langgraph-dev.ts";
import { httpRefusal, sdkClientFor } from "../support/sdk-client.ts";

const TENANTS = ["acme.eu", "acme_eu", "acme-eu", "acme"] as const;

interface Tenant {
  tenant: string;
  token: string;
  label: string;
  client: Client;
  thread: Thread;
  assistant: Assistant;
  reply: string;
  /** What the wrapper graph saw on its first (writing) run. */
  wrote: Seen;
}

interface Seen {
  item: { text: string } | null;
  search: string[];
  namespaces: string[][];
  checkpoint_text: string | null;
  checkpoint_thread: string | null;
  saved_threads: string[];
}

let issuer: LocalIssuer;
let server: LangGraphDev;
const tenants = new Map<string, Tenant>();

function clientFor(token: string): Client {
  return sdkClientFor(server.url, token);
}

/** The SDK's HTTP error, a refusal's decision id checked and taken off. */
const failure = httpRefusal;

const human = (text: string) => ({ messages: [{ role: "human", content: text }] });

async function lastText(client: Client, threadId: string, assistant: string, text: string): Promise<string> {
  const result = (await client.runs.wait(threadId, assistant, { input: human(text) })) as { messages: { content: string }[] };
  return String(result.messages.at(-1)?.content);
}

/** Run the wrapper graph for `tenant` on a fresh thread of its own. */
async function throughWrappers(t: Pick<Tenant, "client">, command: { key: string; text?: string }): Promise<Seen> {
  const thread = await t.client.threads.create();
  return JSON.parse(await lastText(t.client, thread.thread_id, "tenant_state", JSON.stringify(command))) as Seen;
}

async function setUp(tenant: string): Promise<Tenant> {
  const token = await issuer.sign({ sub: `user-of-${tenant}`, org_id: tenant, scope: ALL_PERMISSIONS });
  const client = clientFor(token);
  const label = tenantNamespaceLabel(tenant);
  const thread = await client.threads.create({ metadata: { topic: `${tenant} plans` } });
  const assistant = await client.assistants.create({ graphId: "echo", name: `${tenant}-echo` });
  const reply = await lastText(client, thread.thread_id, assistant.assistant_id, `hello from ${tenant}`);
  await client.store.putItem([label, "notes"], "k1", { text: `${tenant} secret` });
  await client.store.putItem([label, "notes", "deep"], "k2", { text: `${tenant} deeper` });
  await client.store.putItem([label, "notes"], "gone", { text: "to delete" });
  await client.store.deleteItem([label, "notes"], "gone");
  const wrote = await throughWrappers({ client }, { key: "shared-key", text: `${tenant} memory` });
  return { tenant, token, label, client, thread, assistant, reply, wrote };
}

beforeAll(async () => {
  issuer = await startLocalIssuer();
  server = await startLangGraphDev({
    env: issuer.env(),
    editConfig: (config) => {
      // Paths are relative to the server's private folder: reuse the echo graph's way back to the checkout.
      const graphs = config.graphs as Record<string, string>;
      graphs.tenant_state = graphs.echo!.replace("examples/graphs/echo.ts:graph", "test/support/tenant-state-graph.ts:graph");
    },
  });
  // One after another: the wrapper graph's saved_threads then grows by one tenant per set-up.
  for (const tenant of TENANTS) tenants.set(tenant, await setUp(tenant));
});

afterAll(async () => {
  await server?.stop();
  await issuer?.close();
});

const each = TENANTS.map((tenant) => [tenant] as const);
const pairs = TENANTS.flatMap((a) => TENANTS.filter((b) => b !== a).map((b) => [a, b] as const));
const get = (tenant: string) => tenants.get(tenant)!;

describe("each tenant works normally on its own", () => {
  it.each(each)("%s: threads, assistants and runs", async (tenant) => {
    const t = get(tenant);
    expect(t.thread.metadata).toMatchObject({ tenant_id: tenant });
    expect(t.assistant.metadata).toMatchObject({ tenant_id: tenant });
    expect(t.reply).toBe(`[${tenant}/user-of-${tenant}] hello from ${tenant}`);
    expect((await t.client.threads.get(t.thread.thread_id)).thread_id).toBe(t.thread.thread_id);
    const found = await t.client.threads.search({ limit: 100 });
    expect(found.map((x) => x.thread_id)).toContain(t.thread.thread_id);
    expect(new Set(found.map((x) => x.metadata?.tenant_id))).toEqual(new Set([tenant]));
  });

  it.each(each)("%s: store put, get, search, list_namespaces and delete under its label", async (tenant) => {
    const t = get(tenant);
    expect((await t.client.store.getItem([t.label, "notes"], "k1"))?.value).toEqual({ text: `${tenant} secret` });
    const { items } = await t.client.store.searchItems([t.label]);
    expect(items.map((i) => i.value.text).sort()).toEqual([`${tenant} deeper`, `${tenant} memory`, `${tenant} secret`]);
    const { namespaces } = await t.client.store.listNamespaces({ prefix: [t.label] });
    expect(namespaces.sort()).toEqual([[t.label, "memories"], [t.label, "notes"], [t.label, "notes", "deep"]].sort());
    expect(await t.client.store.getItem([t.label, "notes"], "gone")).toBeNull();
  });

  it.each(each)("%s: the tenant store and tenant checkpointer wrappers, inside a run", async (tenant) => {
    const t = get(tenant);
    expect(t.wrote).toMatchObject({
      item: { text: `${tenant} memory` },
      search: [`${tenant} memory`],
      checkpoint_text: `${tenant} memory`,
      checkpoint_thread: "shared-key",
    });
    // The tenant's whole part of the server's store, with the label taken off.
    expect(t.wrote.namespaces.sort()).toEqual([["memories"], ["notes"], ["notes", "deep"]].sort());
    expect(t.wrote.saved_threads).toContain(`${tenant}::shared-key`);
    // The wrapper's item is in the server's store under the tenant's label.
    expect((await t.client.store.getItem([t.label, "memories"], "shared-key"))?.value).toEqual({ text: `${tenant} memory` });
  });
});

describe("no tenant reaches another's state", () => {
  it.each(pairs)("%s cannot read %s's thread or assistant (404)", async (a, b) => {
    expect(await failure(get(a).client.threads.get(get(b).thread.thread_id))).toMatchObject({ status: 404 });
    expect(await failure(get(a).client.assistants.get(get(b).assistant.assistant_id))).toMatchObject({ status: 404 });
    expect(await failure(get(a).client.runs.list(get(b).thread.thread_id))).toMatchObject({ status: 404 });
  });

  it.each(pairs)("%s cannot get, put, search or list %s's store items (403)", async (a, b) => {
    const { client } = get(a);
    const theirs = get(b).label;
    const status403 = { status: 403 };
    expect(await failure(client.store.getItem([theirs, "notes"], "k1"))).toMatchObject(status403);
    expect(await failure(client.store.putItem([theirs, "notes"], "k1", { text: "overwritten" }))).toMatchObject(status403);
    expect(await failure(client.store.deleteItem([theirs, "notes"], "k1"))).toMatchObject(status403);
    expect(await failure(client.store.searchItems([theirs]))).toMatchObject(status403);
    expect(await failure(client.store.listNamespaces({ prefix: [theirs] }))).toMatchObject(status403);
    expect((await get(b).client.store.getItem([theirs, "notes"], "k1"))?.value).toEqual({ text: `${b} secret` });
  });

  it("the refusal names the label the caller must use", async () => {
    const { client } = get("acme.eu");
    expect(await failure(client.store.getItem(["acme", "notes"], "k1"))).toEqual({
      status: 403,
      text: 'forbidden: store namespaces must start with your tenant\'s label ("acme~2Eeu" for tenant "acme.eu")',
    });
  });

  it("the raw dotted tenant id is no namespace label: the server refuses it, or it names no tenant", async () => {
    const { token } = get("acme.eu");
    // The server refuses "." in labels before any handler runs (the SDK refuses it even before sending).
    const put = await fetch(`${server.url}/store/items`, {
      method: "PUT",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ namespace: ["acme.eu", "notes"], key: "k", value: { text: "x" } }),
    });
    expect(put.status).toBe(422);
    // On GET the dev server splits on ".": ["acme", "eu", "notes"] is tenant "acme"'s namespace.
    const got = await fetch(`${server.url}/store/items?namespace=acme.eu.notes&key=k1`, { headers: { authorization: `Bearer ${token}` } });
    expect(got.status).toBe(403);
    expect(await got.text()).toContain("acme~2Eeu");
  });

  it("a token whose tenant looks like a label (acme~2Eeu) is refused: \"~\" is outside the tenant rule", async () => {
    const token = await issuer.sign({ sub: "mallory", org_id: "acme~2Eeu", scope: ALL_PERMISSIONS });
    expect(await failure(clientFor(token).store.getItem(["acme~2Eeu", "notes"], "k1"))).toMatchObject({ status: 401 });
  });

  it.each(each)("%s: the wrappers show a later run only its own memory and checkpoint, under a shared thread id", async (tenant) => {
    const seen = await throughWrappers(get(tenant), { key: "shared-key" });
    expect(seen).toMatchObject({
      item: { text: `${tenant} memory` },
      search: [`${tenant} memory`],
      checkpoint_text: `${tenant} memory`,
      checkpoint_thread: "shared-key",
    });
    expect(seen.namespaces.sort()).toEqual([["memories"], ["notes"], ["notes", "deep"]].sort());
    // One saver holds all four tenants' "shared-key" threads, each under its own tenant.
    expect(seen.saved_threads).toEqual(TENANTS.map((t) => `${t}::shared-key`).sort());
  });
});
