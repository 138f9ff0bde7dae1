import { NoJsonFormError } from "./audit-errors.ts";

/**
 * Canonical JSON, in the spirit of RFC 8785 (JCS): object keys sorted by
 * UTF-16 code units (RFC 8785 §3.2.3), no whitespace, strings and numbers as
 * ECMAScript's `JSON.stringify` writes them (RFC 8785 §3.2.2 uses the same
 * rules). The same value always gives the same bytes, so its SHA-256 is a
 * stable digest whatever order a model or a database returned the keys in.
 *
 * Unlike `JSON.stringify` it refuses what has no faithful JSON form instead
 * of quietly changing it: non-finite numbers, `bigint`, functions, symbols,
 * cycles and nesting too deep to walk throw a {@link NoJsonFormError}.
 * `undefined` object members are left out
 * (as `JSON.stringify` does); `undefined` in an array is refused. Values
 * with `toJSON` (a `Date`) are serialized through it.
 *
 * @example
 * canonicalJson({ b: 1, a: [true, null] }); // '{"a":[true,null],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  try {
    return write(value, new Set());
  } catch (error) {
    // The walk is recursive: a value nested deeper than the stack allows
    // (an attacker's tool arguments, a crafted log line) is refused with a
    // code, never a crash of whoever hashes it.
    if (error instanceof RangeError) throw new NoJsonFormError("canonicalJson: the value is nested too deeply", { cause: error });
    throw error;
  }
}

function write(value: unknown, seen: Set<object>): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
    case "boolean":
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) throw new NoJsonFormError("canonicalJson: non-finite numbers have no JSON form");
      return JSON.stringify(value);
    case "object":
      break;
    default:
      throw new NoJsonFormError(`canonicalJson: a ${typeof value} has no JSON form`);
  }
  const object = value as object;
  if (typeof (object as { toJSON?: unknown }).toJSON === "function") {
    return write((object as { toJSON(): unknown }).toJSON(), seen);
  }
  if (seen.has(object)) throw new NoJsonFormError("canonicalJson: cyclic value");
  seen.add(object);
  try {
    if (Array.isArray(object)) {
      return `[${object
        .map((item) => {
          if (item === undefined) throw new NoJsonFormError("canonicalJson: undefined in an array has no JSON form");
          return write(item, seen);
        })
        .join(",")}]`;
    }
    const members = Object.keys(object)
      .filter((key) => (object as Record<string, unknown>)[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${write((object as Record<string, unknown>)[key], seen)}`);
    return `{${members.join(",")}}`;
  } finally {
    seen.delete(object);
  }
}
