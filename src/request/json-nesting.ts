/**
 * A streaming check of how deeply a JSON text nests arrays and objects,
 * without parsing it.
 *
 * Why it exists: the LangGraph dev server stores what clients send (thread and
 * assistant metadata, run input, store values) and serialises it recursively
 * (`JSON.stringify`, superjson) both to answer and to persist its state. A
 * value nested a few thousand levels deep (about 10 KiB of `[`) overflows the
 * stack there: the request gets a 500, and because the value stays in memory
 * every later flush of `.langgraphjs_ops.json` fails too, so no tenant's
 * threads, runs or assistants are persisted any more. V8's `JSON.parse`
 * accepts such a text, so the limit has to be enforced before the server
 * reads the body.
 */

/** Default deepest nesting of arrays and objects accepted in a request body: 100. */
export const DEFAULT_MAX_JSON_DEPTH = 100;

/** A scanner fed one chunk at a time. */
export interface JsonNestingScanner {
  /** Feed the next bytes; returns `true` once the nesting has gone past the limit (and stays `true`). */
  push(chunk: Uint8Array): boolean;
  /** The deepest nesting seen so far. */
  readonly deepest: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;

/**
 * Create a scanner that counts `[`/`{` nesting outside strings (RFC 8259 §7:
 * inside a string only `\"` and `\\` matter; UTF-8 continuation bytes are
 * never ASCII, so a byte-wise scan is exact). Malformed JSON is not detected:
 * the server's own parser refuses it.
 *
 * @param maxDepth deepest nesting allowed. Default {@link DEFAULT_MAX_JSON_DEPTH}.
 * @throws {TypeError} `maxDepth` is not a whole number from 1 to 10000.
 * @example
 * const scanner = createJsonNestingScanner(100);
 * scanner.push(new TextEncoder().encode('{"a":[[1]]}')); // false (depth 3)
 */
export function createJsonNestingScanner(maxDepth: number = DEFAULT_MAX_JSON_DEPTH): JsonNestingScanner {
  if (!Number.isInteger(maxDepth) || maxDepth < 1 || maxDepth > 10_000) {
    throw new TypeError("maxJsonDepth must be a whole number from 1 to 10000");
  }
  let depth = 0;
  let deepest = 0;
  let inString = false;
  let escaped = false;
  let exceeded = false;
  return {
    get deepest() {
      return deepest;
    },
    push(chunk) {
      if (exceeded) return true;
      for (let i = 0; i < chunk.length; i += 1) {
        const byte = chunk[i]!;
        if (inString) {
          if (escaped) escaped = false;
          else if (byte === BACKSLASH) escaped = true;
          else if (byte === QUOTE) inString = false;
        } else if (byte === QUOTE) {
          inString = true;
        } else if (byte === OPEN_ARRAY || byte === OPEN_OBJECT) {
          depth += 1;
          if (depth > deepest) deepest = depth;
          if (depth > maxDepth) {
            exceeded = true;
            return true;
          }
        } else if ((byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) && depth > 0) {
          depth -= 1;
        }
      }
      return false;
    },
  };
}
