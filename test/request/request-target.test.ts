import fc from "fast-check";
import { describe, expect, it } from "vitest";
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
