import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { requestTarget } from "../../src/request/request-target.ts";

/** What the guard read before: the WHATWG URL parser's answer. */
function parsed(url: string): { path: string; query: string } | undefined {
  try {
    const u = new URL(url);
    return { path: u.pathname, query: u.searchParams.toString() };
  } catch {
    return undefined;
  }
}

function read(url: string): { path: string; query: string } | undefined {
  const target = requestTarget(url);
  return target && { path: target.path, query: target.query.toString() };
}

describe("requestTarget", () => {
  it.each([
    "http://127.0.0.1:2024/threads/search",
    "http://127.0.0.1:2024/threads/0193/runs/wait?stream_mode=values&x=%20y#frag",
    "https://user:pa%2Fss@example.com/a?b#c?d",
    "http://x/a/../internal/truncate",
    "http://x/a/./b",
    "http://x/%2e%2e/internal/truncate",
    "http://x/threads/ab c",
    "http://x\\a/b",
    "http://x?/a",
    "http://x#/a",
    "HTTP://X/Threads",
    "http://x/thr\neads",
    " http://x/a",
    "http://x",
    "ftp://x/a",
    "not a url",
    "/threads",
    "http://127.0.0.1:2024/??",
    "http://127.0.0.1:2024/? ",
    "http://127.0.0.1:2024/x??b=1",
    "http://127.0.0.1:2024/x?b=1?",
    "http://a127.0.0.1:2024/x",
    "http://@/127.0.0.1:2024",
  ])("reads %j as the URL parser does", (url) => {
    expect(read(url)).toEqual(parsed(url));
    expect(read(url)).toEqual(parsed(url));
  });

  it("agrees with the URL parser on generated URLs (fast-check)", () => {
    const piece = fc.constantFrom("/", "a", "threads", ".", "..", "%2e", "%", "?", "#", "\\", " ", "\t", "\n", "@", ":", "=", "&", "é", "~", "+", "//", "/.", "/..");
    const url = fc.tuple(
      fc.constantFrom("http://", "https://", "HTTP://", "http:/", "ws://"),
      fc.array(piece, { maxLength: 4 }).map((p) => p.join("")),
      fc.constantFrom("127.0.0.1:2024", "example.com", "u:p@h"),
      fc.array(piece, { maxLength: 12 }).map((p) => p.join("")),
    ).map(([scheme, pre, host, rest]) => `${scheme}${pre}${host}${rest}`);
    fc.assert(
      fc.property(url, (u) => {
        // Twice: the second read may take the fast path for an authority the first one taught it.
        expect(read(u)).toEqual(parsed(u));
        expect(read(u)).toEqual(parsed(u));
      }),
      { numRuns: 5000 },
    );
  });

  it("reads URLs of origins it knows, in any order, as the URL parser does (the last origin is remembered)", () => {
    const origins = ["http://127.0.0.1:2024", "http://127.0.0.2:2024", "https://127.0.0.1:2024", "http://127.0.0.1:2025", "http://a:b@127.0.0.1:2024"];
    const url = fc.tuple(fc.constantFrom(...origins), fc.constantFrom("/threads/t", "/a/../b", "/x?y=1", "/%2e%2e/z", "/s#f", ""));
    fc.assert(
      fc.property(fc.array(url, { minLength: 1, maxLength: 20 }), (urls) => {
        for (const [origin, rest] of urls) expect(read(`${origin}${rest}`)).toEqual(parsed(`${origin}${rest}`));
      }),
      { numRuns: 500 },
    );
  });

  it("parses the query only when it is read, and gives the same answer every time", () => {
    read("http://127.0.0.1:2024/x");
    const target = requestTarget("http://127.0.0.1:2024/assistants/a?delete_threads=true&x=%20")!;
    expect(target.query.get("delete_threads")).toBe("true");
    expect(target.query.get("x")).toBe(" ");
    expect(target.query).toBe(target.query);
  });
});

/**
 * The fast path's own promise: a URL of an authority the parser has accepted
 * is read without `new URL`. Counted by wrapping the real parser (every
 * construction, a throwing one included, is counted); each test loads a
 * fresh copy of the module, so what it has learnt starts empty.
 */
describe("requestTarget skips the URL parser for URLs of authorities it knows", () => {
  const requestTargetOf = (url: string) => requestTarget(url);
  async function freshRequestTarget(): Promise<{ parses: (url: string) => number }> {
    vi.resetModules();
    const { requestTarget: fresh } = await import("../../src/request/request-target.ts");
    return {
      parses(url: string): number {
        const Real = globalThis.URL;
        let count = 0;
        globalThis.URL = class extends Real {
          constructor(input: string | URL, base?: string | URL) {
            count += 1;
            super(input, base);
          }
        } as typeof URL;
        let target: ReturnType<typeof fresh>;
        try {
          target = fresh(url);
        } finally {
          globalThis.URL = Real;
        }
        // The answer stays the parser's, whichever way it was read.
        expect(target && { path: target.path, query: target.query.toString() }).toEqual(parsed(url));
        return count;
      },
    };
  }

  it("parses the first URL of an authority, then reads plain URLs of it without the parser, whatever their path and query", async () => {
    const { parses } = await freshRequestTarget();
    expect(parses("http://127.0.0.1:2024/threads")).toBe(1);
    expect(parses("http://127.0.0.1:2024/threads")).toBe(0);
    expect(parses("http://127.0.0.1:2024/threads/t1/runs/wait?stream_mode=values&x=%20y")).toBe(0);
    expect(parses("http://127.0.0.1:2024/a#frag")).toBe(0);
    expect(parses("http://127.0.0.1:2024/a?b#c?d")).toBe(0);
    expect(parses("http://127.0.0.1:2024/")).toBe(0);
  });

  it("knows each authority it learnt, not only the last one, over http and https", async () => {
    const { parses } = await freshRequestTarget();
    expect(parses("http://a.test/x")).toBe(1);
    expect(parses("http://b.test:8080/x")).toBe(1);
    expect(parses("https://user:pw@c.test/x")).toBe(1);
    expect(parses("http://a.test/y")).toBe(0);
    expect(parses("https://user:pw@c.test/y")).toBe(0);
    expect(parses("http://b.test:8080/y")).toBe(0);
    expect(parses("https://a.test/z")).toBe(0);
    expect(parses("https://a.test/z")).toBe(0);
    // Userinfo without a password, and an IPv6 literal, are plain authorities too.
    expect(parses("https://user@d.test/x")).toBe(1);
    expect(parses("https://user@d.test/y")).toBe(0);
    expect(parses("http://[::1]:2024/x")).toBe(1);
    expect(parses("http://[::1]:2024/y")).toBe(0);
  });

  it("always parses what the fast path does not read: dot segments, escapes, spaces, other schemes, unknown or odd authorities", async () => {
    const { parses } = await freshRequestTarget();
    expect(parses("http://x.test/a")).toBe(1);
    for (const url of ["http://x.test/a/../b", "http://x.test/a/./b", "http://x.test/.", "http://x.test/%2e%2e/b", "http://x.test/a b", "http://x.test/a?b c", "http://x.test/é",
      "HTTP://x.test/a", "ftp://x.test/a", "http://X.test/a", "http://x.tesT/a", "http://x.test./a/", "http://x.test", "http://x.test?/a", "http://x.test#/a", "not a url", "/a"]) {
      expect(parses(url), url).toBe(1);
      expect(parses(url), `${url}, again`).toBe(1);
    }
    // An authority is learnt only when its first URL was read plainly.
    expect(parses("http://y.test/a/../b")).toBe(1);
    expect(parses("http://y.test/b")).toBe(1);
    expect(parses("http://y.test/b")).toBe(0);
  });

  it("takes the remembered origin only as a whole authority, not as a prefix of a longer one", async () => {
    const { parses } = await freshRequestTarget();
    expect(parses("http://127.0.0.1:2024/a")).toBe(1);
    expect(parses("http://127.0.0.1:2024/b")).toBe(0);
    // Starts with the last origin, but the authority goes on: a port out of range, another host.
    expect(parses("http://127.0.0.1:2024999/a")).toBe(1);
    expect(requestTargetOf("http://127.0.0.1:2024999/a")).toBeUndefined();
    expect(parses("http://127.0.0.1:20245/a")).toBe(1);
    expect(parses("http://127.0.0.1:2024.evil/a")).toBe(1);
    // Another origin of the same length as the last one is not the last one, even when the URL ends with it.
    expect(parses("http://a.test/x")).toBe(1);
    expect(parses("http://a.test/y")).toBe(0);
    expect(parses("http://z.test/x")).toBe(1);
    expect(parses("http://a.test/y")).toBe(0);
    expect(parses("http://b.test/http://a.test")).toBe(1);
    // A URL of another scheme whose text after its first character looks like a known authority.
    expect(parses("http://b:12/y")).toBe(1);
    expect(parses("http://b:12/z")).toBe(0);
    expect(parses("ab:12/x")).toBe(1);
    expect(requestTargetOf("ab:12/x")?.path).toBe("12/x");
  });

  it("learns an authority only once the parser accepted it (a port out of range never is)", async () => {
    const { parses } = await freshRequestTarget();
    expect(parses("http://x.test:99999/a")).toBe(1);
    expect(parses("http://x.test:99999/a")).toBe(1);
    expect(requestTargetOf("http://x.test:99999/a")).toBeUndefined();
  });

  it("forgets every authority once it knows 64, the last origin too", async () => {
    const { parses } = await freshRequestTarget();
    for (let i = 0; i < 64; i += 1) expect(parses(`http://h${i}.test/x`)).toBe(1);
    // All 64 are known, the first one included; reading it makes it the last origin.
    expect(parses("http://h0.test/x")).toBe(0);
    expect(parses("http://h63.test/x")).toBe(0);
    expect(parses("http://h0.test/y")).toBe(0);
    // The 65th empties the set (and the last origin) before it is learnt.
    expect(parses("http://h64.test/x")).toBe(1);
    expect(parses("http://h64.test/y")).toBe(0);
    expect(parses("http://h0.test/x")).toBe(1);
    expect(parses("http://h1.test/x")).toBe(1);
    expect(parses("http://h0.test/z")).toBe(0);
  });
});

