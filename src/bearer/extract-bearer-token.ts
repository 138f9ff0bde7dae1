import { InvalidRequestError, InvalidTokenError, MissingTokenError } from "../errors.ts";

/** Default cap on a token's length, in bytes: 8 KiB. */
export const DEFAULT_MAX_TOKEN_BYTES = 8 * 1024;

/** Options of {@link extractBearerToken}. */
export interface ExtractBearerTokenOptions {
  /** Longest token accepted, in bytes. Default 8192. */
  maxTokenBytes?: number;
}

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Take the access token from `Authorization: Bearer <token>` (RFC 6750 §2.1).
 *
 * The scheme is case-insensitive. Ambiguous requests are refused rather than
 * guessed at: two Authorization headers (which `Headers` joins with a comma),
 * a token in the query or a form body as well as the header, or anything that
 * is not a single b64token.
 *
 * @throws {MissingTokenError} no credentials at all (401, bare challenge).
 * @throws {InvalidRequestError} malformed or ambiguous (400).
 * @throws {InvalidTokenError} longer than `maxTokenBytes` (401).
 * @example
 * const token = extractBearerToken(new Request(url, { headers: { authorization: "Bearer ey..." } }));
 */
export function extractBearerToken(request: Request, options: ExtractBearerTokenOptions = {}): string {
  const maxTokenBytes = options.maxTokenBytes ?? DEFAULT_MAX_TOKEN_BYTES;
  const header = request.headers.get("authorization");
  const inQuery = hasQueryToken(request.url);

  // An empty header carries no credentials: the bare challenge of RFC 6750 §3.
  if (header === null || header.trim() === "") {
    if (inQuery) {
      throw new InvalidRequestError("access tokens are accepted only in the Authorization header");
    }
    throw new MissingTokenError();
  }
  if (inQuery) {
    throw new InvalidRequestError("the access token was sent in more than one place");
  }
  const fast = plainBearerToken(header, maxTokenBytes);
  if (fast !== undefined) return fast;
  if (header.length > maxTokenBytes + 64) {
    throw new InvalidTokenError(`the token is longer than ${maxTokenBytes} bytes`);
  }

  const match = /^([A-Za-z]+) +(\S+)$/.exec(header.trim());
  if (!match) {
    if (/^bearer\s*$/i.test(header.trim())) throw new InvalidRequestError("the Bearer credentials are empty");
    if (header.includes(",")) throw new InvalidRequestError("more than one Authorization credential was sent");
    throw new InvalidRequestError('the Authorization header must be "Bearer <token>"');
  }
  const [, scheme, token] = match as unknown as [string, string, string];
  if (scheme.toLowerCase() !== "bearer") {
    throw new InvalidRequestError(`the "${scheme.slice(0, 20)}" scheme is not supported; use Bearer`);
  }
  if (token.includes(",")) throw new InvalidRequestError("more than one Authorization credential was sent");
  if (!B64TOKEN.test(token)) throw new InvalidRequestError("the bearer token has characters outside the token68 alphabet");
  if (Buffer.byteLength(token) > maxTokenBytes) {
    throw new InvalidTokenError(`the token is longer than ${maxTokenBytes} bytes`);
  }
  return token;
}

/**
 * A first look at a request for a cache of verified tokens: the text after
 * `Bearer ` (any case, one space) in the Authorization header, when no token
 * is in the query. It is NOT validated: use it only as a lookup key in a cache
 * that holds nothing but tokens {@link extractBearerToken} accepted (a hit
 * then proves it is one of them), and on a miss call `extractBearerToken`.
 * Skipping the alphabet scan on a hit is what makes a hit cheap.
 *
 * @example
 * const candidate = peekBearerToken(request);
 * const hit = candidate === undefined ? undefined : cache.get(cache.keyOf(candidate));
 */
export function peekBearerToken(request: Request): string | undefined {
  const header = request.headers.get("authorization");
  if (header === null || header.length < 8 || header.charCodeAt(6) !== SPACE || !startsWithBearer(header)) return undefined;
  return hasQueryToken(request.url) ? undefined : header.slice(7);
}

/**
 * Whether a string is a b64token (RFC 6750 §2.1) of at most `maxTokenBytes`
 * bytes: what {@link extractBearerToken} accepts as the token itself.
 *
 * @example
 * isBearerTokenSyntax("eyJhbGciOi..."); // true
 */
export function isBearerTokenSyntax(token: string, maxTokenBytes = DEFAULT_MAX_TOKEN_BYTES): boolean {
  return typeof token === "string" && token.length <= maxTokenBytes && B64TOKEN.test(token);
}

const SPACE = 32;

/** A b64token (RFC 6750 §2.1) from the current position to the end; sticky, so it starts after `Bearer `. */
const TOKEN_TO_END = /[A-Za-z0-9\-._~+/]+=*$/y;

/**
 * The common, well-formed case: `Bearer` in any case, one space, a
 * b64token. One sticky regular expression scans the token (V8 runs it about
 * three times faster than a loop over char codes). Returns `undefined` for
 * anything else, which the full rules then judge, so this accepts only what
 * they accept and returns the same token.
 */
function plainBearerToken(header: string, maxTokenBytes: number): string | undefined {
  const length = header.length;
  if (length < 8 || length - 7 > maxTokenBytes || header.charCodeAt(6) !== SPACE || !startsWithBearer(header)) {
    return undefined;
  }
  TOKEN_TO_END.lastIndex = 7;
  return TOKEN_TO_END.test(header) ? header.slice(7) : undefined;
}

/** `bearer` in any case at the start (`| 0x20` lowercases an ASCII letter). */
function startsWithBearer(header: string): boolean {
  return (
    (header.charCodeAt(0) | 0x20) === 0x62 && (header.charCodeAt(1) | 0x20) === 0x65 &&
    (header.charCodeAt(2) | 0x20) === 0x61 && (header.charCodeAt(3) | 0x20) === 0x72 &&
    (header.charCodeAt(4) | 0x20) === 0x65 && (header.charCodeAt(5) | 0x20) === 0x72
  );
}

function hasQueryToken(url: string): boolean {
  const query = url.indexOf("?");
  if (query === -1) return false;
  try {
    return new URL(url).searchParams.has("access_token");
  } catch {
    return false;
  }
}
