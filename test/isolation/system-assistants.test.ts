/**
 * System assistants (the server's default assistant per graph) behind the
 * package in the real `langgraph dev` (AUTH_SYSTEM_ASSISTANTS unset: visible).
 * Every tenant can find and read them the way LangGraph clients do
 * (`assistants.search({ graphId, metadata: { created_by: "system" } })`,
 * `GET /assistants/<uuid5(graph)>`), cannot change them, and never sees
 * another tenant's assistants in the same requests. Rows go to
 * reports/isolation-system-assistants.json, next to the isolation matrix.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdir, writeFile } from "node:fs/promises";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";
import { systemAssistantId } from "../../src/policy/run-assistant.ts";
import { startLangGraphDev, type LangGraphDev } from "../support/langgraph-dev.ts";

const SCOPE = "assistants:read assistants:write threads:read threads:write";
const ECHO = systemAssistantId("echo");
const SUPPORT = systemAssistantId("support");

let issuer: LocalIssuer;
let server: LangGraphDev;
let tokenA: string;
let tokenB: string;
let assistantA = "";
let assistantB = "";
const rows: Record<string, unknown>[] = [];

async function call(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: kept as text
  }
  return { status: response.status, json };
}

/** Call as tenant B and record the row. */
async function asB(attempt: string, method: string, path: string, body: unknown, expected: number) {
  const answer = await call(tokenB, method, path, body);
  rows.push({ caller: "tenant B (globex)", attempt, method, path, body: body ?? null, expect: expected, got: answer.status });
  expect(answer.status, `${attempt}: ${JSON.stringify(answer.json)}`).toBe(expected);
  return answer.json;
}

const ids = (list: unknown) => (list as { assistant_id: string }[]).map((a) => a.assistant_id).sort();

beforeAll(async () => {
  issuer = await startLocalIssuer();
  server = await startLangGraphDev({ env: issuer.env() });
  tokenA = await issuer.sign({ sub: "alice", org_id: "acme", scope: SCOPE });
  tokenB = await issuer.sign({ sub: "bob", org_id: "globex", scope: SCOPE });
  const a = await call(tokenA, "POST", "/assistants", { graph_id: "echo", name: "acme's echo" });
  const b = await call(tokenB, "POST", "/assistants", { graph_id: "echo", name: "globex's echo" });
  expect([a.status, b.status]).toEqual([200, 200]);
  assistantA = (a.json as { assistant_id: string }).assistant_id;
  assistantB = (b.json as { assistant_id: string }).assistant_id;
});

afterAll(async () => {
  await server?.stop();
  await issuer?.close();
  await mkdir("reports", { recursive: true });
  await writeFile("reports/isolation-system-assistants.json", `${JSON.stringify({ host: "langgraph dev", rows }, null, 2)}\n`);
});

describe("system assistants on langgraph dev (AUTH_SYSTEM_ASSISTANTS=visible, the default)", () => {
  it("search and count with metadata.created_by=system return the system assistants and no tenant's", async () => {
    const echo = await asB("search system assistants of a graph", "POST", "/assistants/search", { graph_id: "echo", metadata: { created_by: "system" } }, 200);
    expect(ids(echo)).toEqual([ECHO]);
    const all = await asB("search all system assistants", "POST", "/assistants/search", { metadata: { created_by: "system" }, limit: 100 }, 200);
    expect(ids(all)).toEqual([ECHO, SUPPORT].sort());
    expect(await asB("count system assistants", "POST", "/assistants/count", { metadata: { created_by: "system" } }, 200)).toBe(2);
    // Asking for system assistants of another tenant finds nothing.
    expect(await asB("search system assistants with A's tenant", "POST", "/assistants/search", { metadata: { created_by: "system", tenant_id: "acme" } }, 200)).toEqual([]);
  });

  it("without that metadata, search and count return the tenant's own assistants only", async () => {
    expect(ids(await asB("search own assistants", "POST", "/assistants/search", { graph_id: "echo" }, 200))).toEqual([assistantB]);
    expect(await asB("count own assistants", "POST", "/assistants/count", {}, 200)).toBe(1);
    expect(ids(await asB("search A's tenant by metadata", "POST", "/assistants/search", { metadata: { tenant_id: "acme" } }, 200))).toEqual([]);
    expect(ids(await asB("search with another created_by", "POST", "/assistants/search", { metadata: { created_by: "System" } }, 200))).toEqual([]);
  });

  it("reads a system assistant and its graph, schemas, subgraphs and versions", async () => {
    expect(await asB("read the system assistant", "GET", `/assistants/${ECHO}`, undefined, 200)).toMatchObject({ assistant_id: ECHO, graph_id: "echo" });
    await asB("read its graph", "GET", `/assistants/${ECHO}/graph`, undefined, 200);
    await asB("read its schemas", "GET", `/assistants/${ECHO}/schemas`, undefined, 200);
    await asB("read its subgraphs", "GET", `/assistants/${ECHO}/subgraphs`, undefined, 200);
    const versions = await asB("list its versions", "POST", `/assistants/${ECHO}/versions`, {}, 200);
    expect((versions as unknown[]).length).toBeGreaterThan(0);
  });

  it("cannot change a system assistant (404, as if it did not exist)", async () => {
    await asB("update the system assistant", "PATCH", `/assistants/${ECHO}`, { name: "mine now" }, 404);
    await asB("set its latest version", "POST", `/assistants/${ECHO}/latest`, { version: 1 }, 404);
    await asB("delete the system assistant", "DELETE", `/assistants/${ECHO}`, undefined, 404);
    expect(await asB("the system assistant is unchanged", "GET", `/assistants/${ECHO}`, undefined, 200)).toMatchObject({ name: expect.not.stringMatching(/mine now/) });
  });

  it("another tenant's assistant stays invisible in the same requests", async () => {
    await asB("read A's assistant", "GET", `/assistants/${assistantA}`, undefined, 404);
    await asB("read A's assistant graph", "GET", `/assistants/${assistantA}/graph`, undefined, 404);
    await asB("list A's assistant versions", "POST", `/assistants/${assistantA}/versions`, {}, 404);
    for (const body of [{ graph_id: "echo", metadata: { created_by: "system" } }, { graph_id: "echo" }, {}]) {
      const found = ids(await asB(`search ${JSON.stringify(body)}`, "POST", "/assistants/search", body, 200));
      expect(found).not.toContain(assistantA);
    }
  });

  it("a tenant cannot make its own assistant pose as a system one", async () => {
    await asB("create with created_by=system", "POST", "/assistants", { graph_id: "echo", metadata: { created_by: "system" } }, 403);
    await asB("update to created_by=system", "PATCH", `/assistants/${assistantB}`, { metadata: { created_by: "system" } }, 403);
    await asB("create with a UUIDv5 id", "POST", "/assistants", { assistant_id: systemAssistantId("future"), graph_id: "echo" }, 403);
    expect(ids(await asB("system search after the attempts", "POST", "/assistants/search", { metadata: { created_by: "system" }, limit: 100 }, 200))).toEqual([ECHO, SUPPORT].sort());
  });
});
