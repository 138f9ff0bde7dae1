import { isUtf8 } from "node:buffer";
import { InvalidTokenError } from "../errors.ts";
import { deepFreeze } from "../lib/deep-freeze.ts";

/** Options of {@link inspectToken}. */
export interface InspectTokenOptions {
  /** The JWS algorithm allowlist. */
  algorithms: readonly string[];
  /** Longest token accepted, in bytes. Default 8192. */
  maxTokenBytes?: number | undefined;
}

/** The decoded, NOT yet verified parts of a compact JWS. */
export interface InspectedToken {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
}

/** The value (0–63) of each base64url character (RFC 4648 §5), -1 for every other code unit below 128. */
const BASE64URL = new Int8Array(128).fill(-1);
for (const [i, c] of [..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"].entries()) BASE64URL[c.charCodeAt(0)] = i;

/**
 * Header parameters that carry key material or a place to fetch it from.
 * jose never uses them to pick a key (our key store does), but a token that
 * carries them was made by something that expects them honoured: RFC 8725
 * §3.10 and the jku/x5u/jwk advisories of node-jose and others. Refused.
 */
const KEY_BEARING_HEADERS = ["jwk", "jku", "x5u", "x5c"] as const;

/**
 * Structural checks of a compact JWS before any key is looked up, stricter
 * than jose where the standards let a parser choose:
 *
 * - at most `maxTokenBytes`; exactly three non-empty base64url segments with
 *   no padding or other characters (RFC 7515 §7.1, RFC 7515 §2 base64url);
 * - header and payload strict UTF-8 JSON objects with no duplicate member
 *   names at any depth (RFC 7515 §4 and RFC 7519 §4 let a parser reject
 *   them; accepting them is how parsers disagree about what was signed);
 * - `alg` a string on the allowlist (so `none` or `HS256` never reach a key
 *   lookup, RFC 8725 §3.1); no `jwk`/`jku`/`x5u`/`x5c`; `b64` absent
 *   (RFC 7797 payloads are not JWTs); `cty`, when present, a string and no
 *   nested JWT (`cty: JWT`, RFC 7519 §5.2, RFC 8725 §2.8); `crit` absent
 *   (we understand no extension);
 *   every segment canonical base64url (no alternative spellings of one signature);
 *   `kid`, when present, a printable string of at most 256 characters.
 *
 * Nothing here is trusted: the token is verified by jose afterwards.
 *
 * @throws {InvalidTokenError} naming the problem, never the token.
 * @example
 * const { payload } = inspectToken(token, { algorithms: ["RS256"] });
 */
export function inspectToken(token: string, options: InspectTokenOptions): InspectedToken {
  const maxTokenBytes = options.maxTokenBytes ?? 8192;
  if (typeof token !== "string" || token.length === 0) throw new InvalidTokenError("the token is empty");
  if (token.length > maxTokenBytes) throw new InvalidTokenError(`the token is longer than ${maxTokenBytes} bytes`);
  // Fast path: one regular expression pass proves three non-empty base64url
  // segments; every other shape takes the step-by-step path below, which
  // names the first problem in the same order as always.
  if (!COMPACT_JWS.test(token)) return inspectSlowly(token, options);
  const first = token.indexOf(".");
  const second = token.indexOf(".", first + 1);
  const headerPart = token.slice(0, first);
  const header = headerCache.get(headerPart);
  // A remembered header passed every check that does not depend on the
  // options, and was canonical; only the algorithm allowlist is left.
  if (header === undefined) return inspectSlowly(token, options);
  requireAllowedAlgorithm(header, options.algorithms);
  const payloadPart = token.slice(first + 1, second);
  if (!isCanonical(payloadPart) || !isCanonical(token.slice(second + 1))) {
    throw new InvalidTokenError("a token segment is not canonical base64url");
  }
  return { header, payload: decodeObject(payloadPart, "payload") };
}

/** Exactly three non-empty segments of base64url characters (RFC 4648 §5, no padding). */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * Headers that passed {@link checkHeader} and are canonical, by their exact
 * base64url text: an issuer signs every token with one of a few headers, so
 * decoding and checking each again is wasted work. Entries are deeply frozen
 * (they are handed to callers) and the map is capped, oldest out first, so
 * a flood of distinct headers costs bounded memory.
 */
const headerCache = new Map<string, Record<string, unknown>>();
const HEADER_CACHE_MAX = 256;

function rememberHeader(segment: string, header: Record<string, unknown>): void {
  if (headerCache.size >= HEADER_CACHE_MAX) headerCache.delete(headerCache.keys().next().value as string);
  headerCache.set(segment, deepFreeze(header));
}

/** Every check in the documented order: the path for a header seen for the first time, and for every malformed token. */
function inspectSlowly(token: string, options: InspectTokenOptions): InspectedToken {
  const segments = token.split(".");
  if (segments.length !== 3) {
    throw new InvalidTokenError(
      segments.length === 5
        ? "encrypted tokens (JWE) are not accepted"
        : "the token must be a compact JWS of three segments",
    );
  }
  // Header first, so a token is refused for what it claims to be (`alg: none`
  // with an empty signature is an algorithm problem) before its other parts.
  if (!isBase64url(segments[0]!)) throw new InvalidTokenError("the token header is empty or not unpadded base64url");
  const header = decodeObject(segments[0]!, "header");
  requireAllowedAlgorithm(header, options.algorithms);
  checkHeader(header);
  if (!isBase64url(segments[1]!)) throw new InvalidTokenError("the token payload is empty or not unpadded base64url");
  if (!isBase64url(segments[2]!)) throw new InvalidTokenError("the token signature is empty or not unpadded base64url");
  if (!isCanonical(segments[0]!) || !isCanonical(segments[1]!) || !isCanonical(segments[2]!)) {
    throw new InvalidTokenError("a token segment is not canonical base64url");
  }
  const payload = decodeObject(segments[1]!, "payload");
  rememberHeader(segments[0]!, header);
  return { header, payload };
}

function requireAllowedAlgorithm(header: Record<string, unknown>, algorithms: readonly string[]): void {
  const alg = header.alg;
  if (typeof alg !== "string" || !algorithms.includes(alg)) {
    throw new InvalidTokenError("the token's signing algorithm is not allowed");
  }
}

/** The header checks that do not depend on the options. */
function checkHeader(header: Record<string, unknown>): void {
  for (const name of KEY_BEARING_HEADERS) {
    if (name in header) throw new InvalidTokenError(`the "${name}" header is not accepted: keys come only from the issuer's key set`);
  }
  if ("b64" in header) throw new InvalidTokenError('the "b64" header is not accepted');
  if ("crit" in header) throw new InvalidTokenError('the "crit" header names extensions this verifier does not support');
  if ("cty" in header) {
    // RFC 7515 §4.1.10: a string. Another value (["JWT"]) is how parsers would disagree on a nested token.
    if (typeof header.cty !== "string") throw new InvalidTokenError('the "cty" header must be a string');
    if (/^(application\/)?jwt$/i.test(header.cty)) throw new InvalidTokenError("nested tokens are not accepted");
  }
  if ("kid" in header && (typeof header.kid !== "string" || !/^[\x20-\x7e]{1,256}$/.test(header.kid))) {
    throw new InvalidTokenError('the "kid" header must be a printable string of at most 256 characters');
  }
  if ("typ" in header && typeof header.typ !== "string") throw new InvalidTokenError('the "typ" header must be a string');
}

/** True for a non-empty string of base64url characters only (RFC 4648 §5; no padding). */
function isBase64url(segment: string): boolean {
  const length = segment.length;
  if (length === 0) return false;
  for (let i = 0; i < length; i++) {
    const code = segment.charCodeAt(i);
    if (code >= 128 || BASE64URL[code]! < 0) return false;
  }
  return true;
}

/**
 * True when a base64url string (see {@link isBase64url}) is the one canonical
 * spelling of its bytes. Decoders ignore the unused low bits of the last
 * character, so one signature has several spellings; accept only the
 * canonical one, or a "changed" token would still verify (token
 * malleability, RFC 7515 §2, RFC 4648 §3.5). Checked without re-encoding.
 */
function isCanonical(segment: string): boolean {
  const rest = segment.length % 4;
  // 1 character left over encodes no whole byte; 2 carry one byte (4 unused
  // bits), 3 carry two (2 unused bits), which must be zero.
  if (rest === 0) return true;
  if (rest === 1) return false;
  return (BASE64URL[segment.charCodeAt(segment.length - 1)]! & (rest === 2 ? 0b1111 : 0b11)) === 0;
}

function decodeObject(segment: string, part: "header" | "payload"): Record<string, unknown> {
  const bytes = Buffer.from(segment, "base64url");
  // Strict UTF-8 (RFC 7515 §5.2 / RFC 8259 §8.1): no lone surrogates or overlongs.
  if (!isUtf8(bytes)) throw new InvalidTokenError(`the token ${part} is not UTF-8`);
  const text = bytes.toString("utf8");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidTokenError(`the token ${part} is not JSON`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new InvalidTokenError(`the token ${part} must be a JSON object`);
  }
  // JSON.parse keeps one member per distinct name, so the parsed objects
  // hold fewer members than the text names exactly when a name repeats.
  if (countMembers(value) !== countMemberNames(text)) throw new InvalidTokenError(`the token ${part} has duplicate member names`);
  return value as Record<string, unknown>;
}

/**
 * Members of every object in a parsed JSON value (`__proto__` included:
 * JSON.parse makes it an own member). A loop over a stack, not recursion:
 * with a large `maxTokenBytes` a payload can nest deeper than the call stack.
 */
function countMembers(root: object): number {
  let count = 0;
  const pending: object[] = [root];
  while (pending.length > 0) {
    const value = pending.pop()!;
    if (Array.isArray(value)) {
      for (const item of value) if (item !== null && typeof item === "object") pending.push(item as object);
      continue;
    }
    for (const key in value) {
      count++;
      const item = (value as Record<string, unknown>)[key];
      if (item !== null && typeof item === "object") pending.push(item);
    }
  }
  return count;
}

/**
 * Member names in already-valid JSON text: the strings followed by `:`
 * (RFC 8259 §4; a string value is never followed by one).
 */
function countMemberNames(text: string): number {
  let count = 0;
  let i = text.indexOf('"');
  while (i !== -1) {
    let end = text.indexOf('"', i + 1);
    // Skip escaped quotes: a quote preceded by an odd run of backslashes.
    while (isEscaped(text, end)) end = text.indexOf('"', end + 1);
    let next = end + 1;
    let code = text.charCodeAt(next);
    while (code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d) code = text.charCodeAt(++next);
    if (code === 0x3a) count++;
    i = text.indexOf('"', next);
  }
  return count;
}

function isEscaped(text: string, quote: number): boolean {
  let backslashes = 0;
  for (let k = quote - 1; text.charCodeAt(k) === 0x5c; k--) backslashes++;
  return backslashes % 2 === 1;
}
