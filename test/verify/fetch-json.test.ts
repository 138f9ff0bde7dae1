/**
 * `fetchJson`, `resolveJwksUrl` and `toKeySet` on their own, against a real
 * HTTP server on loopback: each refusal in its own words (the key store
 * tests see them only through a 503 or a log line).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, generateSecret, type JWK } from "jose";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DEFAULT_MAX_DOCUMENT_BYTES, fetchJson } from "../../src/verify/fetch-json.ts";
import { choiceKey, rememberChoice, toKeySet } from "../../src/verify/key-set.ts";
import { discoveryUrl, resolveJwksUrl } from "../../src/verify/resolve-jwks-url.ts";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const routes = new Map<string, Handler>();
const seen: IncomingMessage[] = [];
let server: Server;
let origin: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req);
    const handler = routes.get(req.url ?? "");
    if (handler) handler(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** Serve `body` at `path` with `status` and `headers`; returns the URL. */
function serve(path: string, status: number, body: string | Uint8Array, headers: Record<string, string> = { "content-type": "application/json" }): string {
  routes.set(path, (_req, res) => res.writeHead(status, headers).end(body));
  return `${origin}${path}`;
}

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("did not fail");
}

describe("fetchJson", () => {
  it("reads a JSON document, asking for JSON and not following redirects", async () => {
    const url = serve("/doc", 200, '{"a":[1,"é"]}');
    expect(await fetchJson(url)).toEqual({ a: [1, "é"] });
    expect(seen.at(-1)?.headers.accept).toBe("application/json");
  });

  it("names the status of any answer but 200, and says a redirect is not followed", async () => {
    for (const [status, suffix] of [[404, ""], [500, ""], [201, ""], [204, ""], [299, ""], [400, ""], [300, " (redirects are not followed)"], [302, " (redirects are not followed)"], [399, " (redirects are not followed)"]] as const) {
      const url = serve(`/status-${status}`, status, status === 204 ? "" : "{}", status >= 300 && status < 400 ? { location: "/doc" } : {});
      expect(await failure(fetchJson(url)), String(status)).toBe(`GET ${url} answered HTTP ${status}${suffix}`);
    }
  });

  it("refuses a document over the cap, declared or streamed; takes one of exactly the cap", async () => {
    const exact = `"${"x".repeat(98)}"`; // 100 bytes
    expect(await fetchJson(serve("/exact", 200, exact), { maxBytes: 100 })).toBe("x".repeat(98));
    const declared = serve("/declared", 200, `"${"x".repeat(99)}"`);
    expect(await failure(fetchJson(declared, { maxBytes: 100 }))).toBe(`GET ${declared}: the document is larger than 100 bytes`);
    routes.set("/streamed", (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write(`"${"x".repeat(60)}`);
      res.end(`${"x".repeat(60)}"`);
    });
    expect(await failure(fetchJson(`${origin}/streamed`, { maxBytes: 100 }))).toBe(`GET ${origin}/streamed: the document is larger than 100 bytes`);
    // The default cap: 256 KiB.
    expect(DEFAULT_MAX_DOCUMENT_BYTES).toBe(262_144);
    const big = serve("/big", 200, `"${"x".repeat(DEFAULT_MAX_DOCUMENT_BYTES - 1)}"`);
    expect(await failure(fetchJson(big))).toBe(`GET ${big}: the document is larger than 262144 bytes`);
    const fits = serve("/fits", 200, `"${"x".repeat(DEFAULT_MAX_DOCUMENT_BYTES - 2)}"`);
    expect(await fetchJson(fits)).toHaveLength(DEFAULT_MAX_DOCUMENT_BYTES - 2);
  });

  it("refuses a declared size over the cap at once, without waiting for the body, and cancels the body", async () => {
    routes.set("/declared-stalled", (_req, res) => {
      // Declares 1000 bytes, sends 10 and then nothing: only the declared length can refuse it before the timeout.
      res.writeHead(200, { "content-type": "application/json", "content-length": "1000" });
      res.write(`"${"x".repeat(9)}`);
    });
    // The real fetch, with the response kept for the test to read.
    const responses: Response[] = [];
    const keepResponse = async (input: string | URL, init?: RequestInit) => {
      const response = await fetch(input, init);
      responses.push(response);
      return response;
    };
    const url = `${origin}/declared-stalled`;
    expect(await failure(fetchJson(url, { fetch: keepResponse, maxBytes: 100, timeoutMs: 5000 }))).toBe(`GET ${url}: the document is larger than 100 bytes`);
    // Cancelled (a cancelled body counts as used), not left open for the garbage collector to close.
    expect(responses).toHaveLength(1);
    expect(responses[0]!.bodyUsed).toBe(true);
  });

  it("reads a document sent in chunks without a Content-Length, under the cap", async () => {
    routes.set("/chunked", (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"a":');
      res.end('"chunked"}');
    });
    expect(await fetchJson(`${origin}/chunked`, { maxBytes: 100 })).toEqual({ a: "chunked" });
    expect(seen.at(-1)?.url).toBe("/chunked");
  });

  it("reads a document whose declared Content-Length is under the cap or exactly the cap", async () => {
    // (`serve` answers chunked: Node sends no Content-Length after an explicit writeHead without one.)
    for (const size of [10, 100]) {
      const body = `"${"x".repeat(size - 2)}"`;
      const url = serve(`/declared-${size}`, 200, body, { "content-type": "application/json", "content-length": String(size) });
      expect(await fetchJson(url, { maxBytes: 100 }), String(size)).toBe("x".repeat(size - 2));
    }
  });

  it("reads a 200 without a body (an injected fetch may answer one) as an empty answer: not JSON, or too large when it declares so", async () => {
    const bodyless = async () => new Response(null, { status: 200 });
    expect(await failure(fetchJson("https://idp.example.com/jwks", { fetch: bodyless }))).toBe("GET https://idp.example.com/jwks: the answer is not UTF-8 JSON");
    // One that declares a length over the cap is refused for it, with nothing to cancel.
    const declaresBig = async () => new Response(null, { status: 200, headers: { "content-length": "1000" } });
    expect(await failure(fetchJson("https://idp.example.com/jwks", { fetch: declaresBig, maxBytes: 100 }))).toBe(
      "GET https://idp.example.com/jwks: the document is larger than 100 bytes",
    );
  });

  it("refuses an answer that is not UTF-8 JSON, an empty one included", async () => {
    for (const [path, body] of [["/html", "<html>"], ["/empty", ""], ["/latin1", new Uint8Array([0x22, 0xe9, 0x22])]] as const) {
      const url = serve(path, 200, body);
      expect(await failure(fetchJson(url)), path).toBe(`GET ${url}: the answer is not UTF-8 JSON`);
    }
  });

  it("gives up after timeoutMs on a server that never answers", async () => {
    routes.set("/never", () => undefined);
    expect(await failure(fetchJson(`${origin}/never`, { timeoutMs: 100 }))).toBe(`GET ${origin}/never timed out after 100 ms`);
  });

  it("leaves no timer behind: a request that was answered is never aborted afterwards", async () => {
    const url = serve("/answered", 200, '{"ok":true}');
    const signals: AbortSignal[] = [];
    // The real fetch, with the signal it was handed kept for the test to read.
    const keepSignal = (input: string | URL, init?: RequestInit) => {
      signals.push(init!.signal!);
      return fetch(input, init);
    };
    // Only the timers are faked (the test's clock), so the time past the timeout is moved by hand, not waited for.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      expect(await fetchJson(url, { fetch: keepSignal, timeoutMs: 1000 })).toEqual({ ok: true });
      expect(vi.getTimerCount()).toBe(0);
      vi.advanceTimersByTime(1001);
    } finally {
      vi.useRealTimers();
    }
    expect(signals).toHaveLength(1);
    expect(signals[0]!.aborted).toBe(false);
  });
});

describe("resolveJwksUrl", () => {
  const issuer = () => `${origin}/realm`;
  const discovery = (doc: unknown) => serve("/realm/.well-known/openid-configuration", 200, JSON.stringify(doc));

  it("builds the discovery URL without the issuer's trailing slashes", () => {
    expect(discoveryUrl("https://id.example.com/realm//")).toBe("https://id.example.com/realm/.well-known/openid-configuration");
    expect(discoveryUrl("https://id.example.com")).toBe("https://id.example.com/.well-known/openid-configuration");
  });

  it("returns the key set URL of a discovery document naming this issuer, https or loopback", async () => {
    for (const jwks of ["https://keys.example.com/jwks", `${origin}/jwks`]) {
      discovery({ issuer: issuer(), jwks_uri: jwks });
      expect(await resolveJwksUrl({ issuer: issuer() })).toBe(jwks);
    }
  });

  it("refuses a document that is not an object, names another issuer, or has no usable jwks_uri", async () => {
    const url = `${origin}/realm/.well-known/openid-configuration`;
    for (const doc of [null, [], "doc", 7]) {
      discovery(doc);
      expect(await failure(resolveJwksUrl({ issuer: issuer() })), JSON.stringify(doc)).toBe(`GET ${url}: the discovery document is not a JSON object`);
    }
    for (const other of [`${issuer()}/`, "https://id.example.com/realm", undefined]) {
      discovery({ issuer: other, jwks_uri: "https://keys.example.com/jwks" });
      expect(await failure(resolveJwksUrl({ issuer: issuer() })), String(other)).toBe(`GET ${url}: the discovery document's "issuer" does not equal the configured issuer`);
    }
    // A list holding one https URL reads as that URL when made a string: still not a URL string.
    for (const jwks of [undefined, 7, "not a url", "http://keys.example.com/jwks", "ftp://127.0.0.1/jwks", ["https://keys.example.com/jwks"]]) {
      discovery({ issuer: issuer(), jwks_uri: jwks });
      expect(await failure(resolveJwksUrl({ issuer: issuer() })), String(jwks)).toBe(`GET ${url}: the discovery document's "jwks_uri" is missing or not https`);
    }
  });

  it("passes its fetch options on (the cap)", async () => {
    discovery({ issuer: issuer(), jwks_uri: "https://keys.example.com/jwks", padding: "x".repeat(200) });
    expect(await failure(resolveJwksUrl({ issuer: issuer(), maxBytes: 100 }))).toMatch(/the document is larger than 100 bytes$/);
  });
});

describe("toKeySet", () => {
  let rsa: JWK;
  let ec: JWK;
  beforeAll(async () => {
    rsa = { ...(await exportJWK((await generateKeyPair("RS256")).publicKey)), kid: "rsa-1", alg: "RS256", use: "sig" };
    ec = { ...(await exportJWK((await generateKeyPair("ES256")).publicKey)), kid: "ec-1" };
  });
  const URL_ = "https://keys.example.com/jwks";

  it("keeps the usable signing keys, their string kids, and when it was fetched", async () => {
    const noKid = { ...rsa, kid: undefined };
    const set = await toKeySet({ keys: [rsa, ec, { ...ec, kid: "enc", use: "enc" }, { ...rsa, kid: "bad-alg", alg: "ES256" }, noKid] }, URL_, 10, 1234);
    expect([...set.kids]).toEqual(["rsa-1", "ec-1"]);
    expect(set.fetchedAt).toBe(1234);
    expect(set.chosen).toEqual(new Map());
    expect(typeof set.lookup).toBe("function");
  });

  it("refuses what is not a key set, too many keys, a member that is not an object, a non-string kid, and no usable key", async () => {
    for (const doc of [null, "keys", [], {}, { keys: {} }]) {
      expect(await failure(toKeySet(doc, URL_, 10, 0)), JSON.stringify(doc)).toBe(`GET ${URL_}: the answer is not a JSON Web Key Set`);
    }
    expect(await failure(toKeySet({ keys: [rsa, ec, rsa] }, URL_, 2, 0))).toBe(`GET ${URL_}: the key set has 3 keys, more than the cap of 2`);
    expect((await toKeySet({ keys: [rsa, ec] }, URL_, 2, 0)).kids.size).toBe(2);
    for (const member of [null, "k", [rsa], 7]) {
      expect(await failure(toKeySet({ keys: [rsa, member] }, URL_, 10, 0)), JSON.stringify(member)).toBe(`GET ${URL_}: a key set member is not an object`);
    }
    expect(await failure(toKeySet({ keys: [{ ...rsa, kid: 7 }] }, URL_, 10, 0))).toBe(`GET ${URL_}: a key has a non-string "kid"`);
    for (const keys of [[], [{ ...ec, use: "enc" }], [{ ...rsa, alg: "ES256" }]]) {
      expect(await failure(toKeySet({ keys }, URL_, 10, 0)), JSON.stringify(keys)).toBe(`GET ${URL_}: the key set has no usable signing key`);
    }
  });

  it("refuses the whole set when one key is private or symmetric", async () => {
    const privateRsa = { ...(await exportJWK((await generateKeyPair("RS256", { extractable: true })).privateKey)), kid: "p" };
    const secret = { ...(await exportJWK(await generateSecret("HS256", { extractable: true }))), kid: "s" };
    for (const leak of [privateRsa, secret, { ...rsa, kty: "oct" }, { ...ec, k: "AAAA" }, { ...ec, d: "AAAA" }]) {
      expect(await failure(toKeySet({ keys: [rsa, leak] }, URL_, 10, 0))).toBe(`GET ${URL_}: the key set contains private or symmetric key material`);
    }
  });

  it("remembers a choice by alg and kid only for a CryptoKey, only for a header alone, at most 256 per set", async () => {
    expect(choiceKey({ alg: "RS256" })).toBe("RS256\u0001");
    expect(choiceKey({ alg: "RS256", kid: "" })).toBe("RS256\u0000");
    expect(choiceKey({ alg: "RS256", kid: "k" })).toBe("RS256\u0000k");
    expect(choiceKey({ alg: "RS256", kid: 7 })).toBeUndefined();
    expect(choiceKey({ kid: "k" })).toBeUndefined();
    const set = await toKeySet({ keys: [rsa] }, URL_, 10, 0);
    const key = await set.lookup({ alg: "RS256", kid: "rsa-1" }, undefined as never);
    expect(key).toBeInstanceOf(CryptoKey);
    rememberChoice(set, { alg: "RS256", kid: "rsa-1" }, key, { header: { alg: "RS256" } });
    rememberChoice(set, { alg: "RS256", kid: 7 }, key, undefined);
    rememberChoice(set, { alg: "RS256", kid: "x" }, { not: "a key" }, undefined);
    expect(set.chosen.size).toBe(0);
    rememberChoice(set, { alg: "RS256", kid: "rsa-1" }, key, undefined);
    expect([...set.chosen]).toEqual([["RS256\u0000rsa-1", key]]);
    for (let i = 0; i < 300; i += 1) rememberChoice(set, { alg: "RS256", kid: `k${i}` }, key, {});
    expect(set.chosen.size).toBe(256);
  });
});
