import { describe, expect, it } from "vitest";
import { createRouteGuard, type RouteGuardOptions } from "../../src/langgraph/create-route-guard.ts";
import type { ServerStorage } from "../../src/langgraph/server-storage.ts";
import { readServerStorage } from "../../src/langgraph/server-storage.ts";
import { createRoutePolicy } from "../../src/policy/route-policy.ts";
import { systemAssistantId } from "../../src/policy/run-assistant.ts";
import { makePrincipal } from "../support/principal.ts";

const bob = makePrincipal();

const T_A = "0192b8d2-6c4a-7a57-9a8e-5b7f3d9b0aa1";
const T_B = "0192b8d2-6c4a-7a57-9a8e-5b7f3d9b0bb1";
const R_A = "0192b8d2-6c4a-7a57-9a8e-5b7f3d9b0aa2";
const R_B = "0192b8d2-6c4a-7a57-9a8e-5b7f3d9b0bb2";

/** An in-memory stand-in for the server's storage, holding one thread and run per tenant. */
const storage: ServerStorage = {
  async getAssistant(id) {
    const all = {
      "asst-a": { assistant_id: "asst-a", graph_id: "echo", metadata: { tenant_id: "tenant-a" } },
      "asst-b": { assistant_id: "asst-b", graph_id: "echo", metadata: { tenant_id: "tenant-b" } },
      [systemAssistantId("echo")]: { assistant_id: systemAssistantId("echo"), graph_id: "echo", metadata: { created_by: "system" } },
    } as Record<string, { assistant_id: string; graph_id: string; metadata: Record<string, unknown> }>;
    return all[id];
  },
  async getThread(id) {
    if (id === T_A) return { thread_id: T_A, metadata: { tenant_id: "tenant-a" } };
    if (id === T_B) return { thread_id: T_B, metadata: { tenant_id: "tenant-b" } };
    return undefined;
  },
  async getRun(id) {
    if (id === R_A) return { run_id: R_A, thread_id: T_A };
    if (id === R_B) return { run_id: R_B, thread_id: T_B };
    return undefined;
  },
};

const policy = createRoutePolicy();
/**
 * The guard decides synchronously when it can (a refusal is then thrown);
 * these tests take every outcome as a promise, as `createTenantAuth` does.
 */
const settled = (options: RouteGuardOptions) => {
  const check = createRouteGuard(options);
  return async (request: Request, principal: typeof bob) => check(request, principal);
};
const guard = settled({ policy, storage: () => storage });
const url = (path: string) => `http://127.0.0.1:1${path}`;

describe("createRouteGuard", () => {
  it("decides a plain request without a promise: allowed returns nothing, refused throws", () => {
    const check = createRouteGuard({ policy, storage: () => storage });
    expect(check(new Request(url(`/threads/${T_B}`)), bob)).toBeUndefined();
    expect(() => check(new Request(url("/internal/truncate"), { method: "POST", body: "{}" }), bob)).toThrow(
      expect.objectContaining({ status: 404, code: "ERR_ROUTE_REFUSED", reason: "operator_only" }),
    );
    // A route the table does not have is refused at once, body or not.
    expect(() => check(new Request(url("/no/such/route"), { method: "POST", body: "{}" }), bob)).toThrow(
      expect.objectContaining({ status: 404, code: "ERR_ROUTE_REFUSED", reason: "unknown_route" }),
    );
    // A run joined by id needs storage: that answer is a promise.
    expect(check(new Request(url(`/threads/${T_B}/runs/${R_B}/join`)), bob)).toBeInstanceOf(Promise);
  });

  it("refuses a refused route with the policy's status and an AuthError", async () => {
    await expect(guard(new Request(url("/internal/truncate"), { method: "POST", body: "{}" }), bob)).rejects.toMatchObject({ status: 404, code: "ERR_ROUTE_REFUSED" });
  });

  it("reads a clone of the body and leaves the original unread", async () => {
    const request = new Request(url("/runs"), { method: "POST", body: JSON.stringify({ assistant_id: "echo", webhook: "http://x" }) });
    await expect(guard(request, bob)).rejects.toMatchObject({ status: 403, reason: "run_option_refused" });
    const ok = new Request(url("/runs"), { method: "POST", body: JSON.stringify({ assistant_id: "echo" }) });
    await guard(ok, bob);
    expect(ok.bodyUsed).toBe(false);
    expect(await ok.json()).toEqual({ assistant_id: "echo" });
  });

  it("passes malformed JSON on to the server's validator and refuses bodies over the limit", async () => {
    await expect(guard(new Request(url("/runs"), { method: "POST", body: "{not json" }), bob)).resolves.toBeUndefined();
    const big = JSON.stringify({ assistant_id: "echo", pad: "x".repeat(2048) });
    const small = settled({ policy, storage: () => storage, maxBodyBytes: 1024 });
    await expect(small(new Request(url("/runs"), { method: "POST", body: big }), bob)).rejects.toMatchObject({ status: 403, reason: "body_too_large" });
    // Without a content-length (a stream), the read stops at the limit.
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    await expect(small(new Request(url("/runs"), { method: "POST", body: stream, duplex: "half" } as RequestInit), bob)).rejects.toMatchObject({ status: 403 });
    expect(() => createRouteGuard({ policy, maxBodyBytes: 10 })).toThrow(/maxBodyBytes/);
  });

  it("refuses JSON nested too deep on every route with a body, whatever the content type (400)", async () => {
    const deep = `{"metadata":{"x":${"[".repeat(200)}${"]".repeat(200)}}}`;
    for (const [path, method] of [["/threads", "POST"], ["/runs", "POST"], [`/threads/${T_B}`, "PATCH"], ["/store/items", "PUT"]] as const) {
      for (const type of ["application/json", "text/plain"]) {
        const request = new Request(url(path), { method, body: deep, headers: { "content-type": type } });
        await expect(guard(request, bob), `${method} ${path} ${type}`).rejects.toMatchObject({ status: 400, code: "ERR_ROUTE_REFUSED", reason: "body_too_deep" });
      }
    }
    // The limit is an option; bodies within it pass and stay unread.
    const shallow = settled({ policy, storage: () => storage, maxJsonDepth: 300 });
    const ok = new Request(url("/threads"), { method: "POST", body: deep });
    await shallow(ok, bob);
    expect(ok.bodyUsed).toBe(false);
    expect(() => createRouteGuard({ policy, maxJsonDepth: 0 })).toThrow(/maxJsonDepth/);
  });

  it("judges a body by its declared length only when that length is too short to nest past the limit", async () => {
    const tight = settled({ policy, storage: () => storage, maxJsonDepth: 4 });
    const send = (body: string) =>
      new Request(url("/threads/search"), { method: "POST", body, headers: { "content-length": String(Buffer.byteLength(body)) } });
    // 5 levels in 11 bytes: longer than the limit of 4, so it is scanned and refused.
    await expect(tight(send("[[[[[1]]]]]"), bob)).rejects.toMatchObject({ status: 400, code: "ERR_ROUTE_REFUSED" });
    // 4 bytes cannot open 5 levels: allowed without a read (the server reads it intact).
    const short = send("[[]]");
    await tight(short, bob);
    expect(short.bodyUsed).toBe(false);
    expect(await short.text()).toBe("[[]]");
    // A length that is not plain decimal is not trusted: the body is scanned.
    const odd = new Request(url("/threads/search"), { method: "POST", body: "[[[[[1]]]]]", headers: { "content-length": "+4" } });
    await expect(tight(odd, bob)).rejects.toMatchObject({ status: 400 });
  });

  it("lets a join through only for a run of the path's thread in the caller's tenant", async () => {
    await guard(new Request(url(`/threads/${T_B}/runs/${R_B}/join`)), bob);
    await guard(new Request(url(`/runs/${R_B}/stream`)), bob);
    // The same answer for another tenant's run and one that exists nowhere; the reason tells them apart.
    for (const [path, reason] of [
      [`/threads/${T_B}/runs/${R_A}/join`, "cross_tenant"],
      [`/threads/${T_B}/runs/${R_A}/stream`, "cross_tenant"],
      [`/threads/${T_A}/runs/${R_A}/stream`, "cross_tenant"],
      [`/runs/${R_A}/stream`, "cross_tenant"],
      [`/runs/not-a-run/stream`, "not_found"],
      [`/threads/${T_A}/runs/${R_B}/join`, "not_found"],
    ] as const) {
      await expect(guard(new Request(url(path)), bob), path).rejects.toMatchObject({ status: 404, message: "not found", reason });
    }
  });

  it("fails closed when the server's storage is not there", async () => {
    const blind = settled({ policy, storage: () => undefined });
    await expect(blind(new Request(url(`/runs/${R_B}/stream`)), bob)).rejects.toMatchObject({ status: 403, reason: "check_unavailable" });
    expect(await readServerStorage()).toBeUndefined();
  });
});
