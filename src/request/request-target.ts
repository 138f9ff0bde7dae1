/** Characters a serialized URL path keeps as they are; a dot segment is checked apart. */
const SERIALIZED_PATH = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/]*$/;
const DOT_SEGMENT = /\/\.\.?(?:\/|$)/;
/** A serialized query: printable ASCII, no space (the parser encodes the rest). */
const SERIALIZED_QUERY = /^[\x21-\x7e]*$/;
/**
 * A serialized authority in its plain form: optional userinfo, a host of
 * lowercase letters, digits, dots and hyphens (or an IPv6 literal), an
 * optional port. Anything else (no host, `?`, `#`, `\`, white space) takes
 * the parser.
 */
const SERIALIZED_AUTHORITY = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=%]+(?::[A-Za-z0-9\-._~!$&'()*+,;=%]*)?@)?(?:[a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?$/;

/** Authorities the URL parser accepted (bounded: `Host` is chosen by the client). */
const knownAuthorities = new Set<string>();
const MAX_KNOWN_AUTHORITIES = 64;
/** `scheme://authority` of the last URL read with a known authority ("" before the first). */
let lastOrigin = "";

/**
 * A target read without the parser. Its query is parsed when first read:
 * most routes never read it, and a `URLSearchParams` costs more than the
 * rest of the reading.
 */
class Target {
  readonly path: string;
  readonly #raw: string;
  #query: URLSearchParams | undefined;

  constructor(path: string, raw: string) {
    this.path = path;
    this.#raw = raw;
  }

  get query(): URLSearchParams {
    // The constructor drops one leading "?" of its argument; the parser keeps a second one.
    return (this.#query ??= new URLSearchParams(this.#raw.startsWith("?") ? `?${this.#raw}` : this.#raw));
  }
}

/**
 * Path and query of a request's URL, exactly as `new URL(url)` gives them.
 * A Fetch `Request`'s `url` is a serialized URL (its constructor parses and
 * serializes it; Hono's Node adapter builds it with `new URL(...).href`).
 * The path of a serialized http(s) URL runs from the first `/` after the
 * authority to `?` or `#`: that is `pathname`. So once the parser has
 * accepted an authority (host and port) and agreed with this reading, later
 * URLs with that authority and a path of plain characters without dot
 * segments are read without it; everything else goes through `new URL`.
 * The fast path only skips the parser (a few microseconds on every request).
 *
 * @returns `undefined` when `url` is not a URL at all.
 * @example
 * requestTarget("http://127.0.0.1:2024/threads/search?limit=1"); // { path: "/threads/search", query: URLSearchParams { limit: "1" } }
 */
export function requestTarget(url: string): { path: string; query: URLSearchParams } | undefined {
  let fast: { path: string; authority: string } | undefined;
  const from = url.startsWith("http://") ? 7 : url.startsWith("https://") ? 8 : -1;
  if (from !== -1) {
    const start = url.indexOf("/", from);
    if (start !== -1) {
      const hash = url.indexOf("#", start);
      const stop = hash === -1 ? url.length : hash;
      const question = url.indexOf("?", start);
      const end = question === -1 || question > stop ? stop : question;
      const path = url.slice(start, end);
      const query = end === stop ? "" : url.slice(end + 1, stop);
      // A dot segment needs "/." (a plain substring search first); most queries are empty.
      if (SERIALIZED_PATH.test(path) && !(path.includes("/.") && DOT_SEGMENT.test(path)) && (query === "" || SERIALIZED_QUERY.test(query))) {
        // The origin of the previous URL with a known authority: most requests share it.
        if (start === lastOrigin.length && url.startsWith(lastOrigin)) return new Target(path, query);
        const authority = url.slice(from, start);
        // A known authority passed SERIALIZED_AUTHORITY when it was learnt.
        const known = knownAuthorities.has(authority);
        if (known || SERIALIZED_AUTHORITY.test(authority)) {
          if (known) {
            lastOrigin = url.slice(0, start);
            return new Target(path, query);
          }
          fast = { path, authority };
        }
      }
    }
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (fast !== undefined && parsed.pathname === fast.path) {
    if (knownAuthorities.size >= MAX_KNOWN_AUTHORITIES) {
      knownAuthorities.clear();
      lastOrigin = "";
    }
    knownAuthorities.add(fast.authority);
  }
  return { path: parsed.pathname, query: parsed.searchParams };
}
