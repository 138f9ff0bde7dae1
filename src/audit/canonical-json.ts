/**
 * Canonical JSON, in the spirit of RFC 8785 (JCS): object keys sorted by
 * UTF-16 code units (RFC 8785 §3.2.3), no whitespace, strings and numbers as
 * ECMAScript's `JSON.stringify` writes them (RFC 8785 §3.2.2 uses the same
 * rules). The same value always gives the same bytes, so its SHA-256 is a
 * stable digest whatever order a model or a database returned the keys in.
 *
 * Unlike `JSON.stringify` it refuses what has no faithful JSON form instead
 * of quietly changing it: non-finite numbers, `bigint`, functions, symbols
 * and cycles throw a `TypeError`. `undefined` object members are left out
 * (as `JSON.stringify` does); `undefined` in an array is refused. Values
 * with `toJSON` (a `Date`) are serialized through it.
 *
 * @example
 * canonicalJson({ b: 1, a: [true, null] }); // '{"a":[true,null],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  return write(value, new Set());
}

function write(value: unknown, seen: Set<object>): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
    case "boolean":
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) throw new TypeError("canonicalJson: non-finite numbers have no JSON form");
      return JSON.stringify(value);
    case "object":
      break;
    default:
      throw new TypeError(`canonicalJson: a ${typeof value} has no JSON form`);
  }
  const object = value as object;
  if (typeof (object as { toJSON?: unknown }).toJSON === "function") {
    return write((object as { toJSON(): unknown }).toJSON(), seen);
  }
  if (seen.has(object)) throw new TypeError("canonicalJson: cyclic value");
  seen.add(object);
  try {
    if (Array.isArray(object)) {
      return `[${object
        .map((item) => {
          if (item === undefined) throw new TypeError("canonicalJson: undefined in an array has no JSON form");
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
