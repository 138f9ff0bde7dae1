import { Hono } from "hono";
import { contextStorage } from "hono/context-storage";
import { HTTPException } from "hono/http-exception";
import { describe, expect, it } from "vitest";
import { importServerContextStorage, readServerStorage } from "../../src/langgraph/server-storage.ts";

/** The server's ops, reduced to what the adapter calls; records what it was called with. */
function fakeOps(calls: unknown[][]) {
  return {
    assistants: {
      get: async (id: string, auth: unknown) => {
        calls.push(["assistants.get", id, auth]);
        if (id === "boom") throw new Error("storage down");
        if (id !== "a1") throw new HTTPException(404, { message: "Assistant not found" });
        return { assistant_id: "a1", graph_id: "echo", metadata: { tenant_id: "t" } };
      },
    },
    threads: {
      get: async (id: string, auth: unknown) => {
        calls.push(["threads.get", id, auth]);
        throw new HTTPException(404, { message: "Thread not found" });
      },
    },
    runs: {
      get: async (id: string, threadId: unknown, auth: unknown) => {
        calls.push(["runs.get", id, threadId, auth]);
        return null;
      },
    },
  };
}

describe("readServerStorage", () => {
  it("reads the request's LANGGRAPH_OPS unfiltered (auth undefined), a 404 being 'not there'", async () => {
    const calls: unknown[][] = [];
    const app = new Hono();
    app.use(contextStorage());
    app.use(async (c, next) => {
      c.set("LANGGRAPH_OPS" as never, fakeOps(calls) as never);
      await next();
    });
    app.get("/", async (c) => {
      const storage = await readServerStorage();
      if (!storage) return c.json({ storage: false });
      const assistant = await storage.getAssistant("a1");
      const missing = await storage.getAssistant("nope");
      const thread = await storage.getThread("t1");
      const run = await storage.getRun("r1");
      const failure = await storage.getAssistant("boom").then(() => "resolved", (e: Error) => e.message);
      return c.json({ assistant, missing: missing ?? null, thread: thread ?? null, run: run ?? null, failure });
    });
    const body = await (await app.request("/")).json();
    expect(body).toEqual({
      assistant: { assistant_id: "a1", graph_id: "echo", metadata: { tenant_id: "t" } },
      missing: null,
      thread: null,
      run: null,
      failure: "storage down",
    });
    expect(calls.every((call) => call.at(-1) === undefined)).toBe(true);
  });

  it("is undefined outside a request, or when the context holds no ops", async () => {
    expect(await readServerStorage()).toBeUndefined();
    const app = new Hono();
    app.use(contextStorage());
    app.get("/", async (c) => c.json({ storage: (await readServerStorage()) !== undefined }));
    expect(await (await app.request("/")).json()).toEqual({ storage: false });
  });

  it("finds the server's own hono from the langgraph dev entry point, and nothing from anywhere else", async () => {
    const { createRequire } = await import("node:module");
    const entry = createRequire(import.meta.url).resolve("@langchain/langgraph-api/package.json").replace(/package\.json$/, "dist/cli/entrypoint.mjs");
    const found = await importServerContextStorage(entry);
    expect(typeof found).toBe("function");
    const app = new Hono();
    app.use(contextStorage());
    app.get("/", (c) => c.json({ same: found!() === c }));
    // Here both resolve to one hono, so the server's copy sees this request's context.
    expect(await (await app.request("/")).json()).toEqual({ same: true });
    expect(await importServerContextStorage(undefined)).toBeUndefined();
    expect(await importServerContextStorage("/usr/lib/node_modules/some-tool/cli.js")).toBeUndefined();
  });
});
