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

function hasQueryToken(url: string): boolean {
  const query = url.indexOf("?");
  if (query === -1) return false;
  try {
    return new URL(url).searchParams.has("access_token");
  } catch {
    return false;
  }
}
