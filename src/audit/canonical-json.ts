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
  return guarded(() => write(value, new Set()));
}

/**
 * The canonical JSON of an object's members (`"key":value`, sorted by key,
 * `undefined` members left out, joined by commas) without `slot`, split
 * where a member named `slot` would sort: `before` and `after`. A record is
 * hashed over `{before,after}`, and its line is the same text with the
 * `hash` member put between them, so a record is serialized once.
 *
 * @throws {NoJsonFormError} as {@link canonicalJson}.
 * @example
 * canonicalSplit({ a: 1, z: 2 }, "hash"); // { before: '"a":1', after: '"z":2' }
 */
export function canonicalSplit(object: Readonly<Record<string, unknown>>, slot: string): { before: string; after: string } {
  return guarded(() => {
    const seen = new Set<object>([object]);
    let before = "";
    let after = "";
    for (const key of Object.keys(object).sort()) {
      const item = object[key];
      if (item === undefined || key === slot) continue;
      const member = `${JSON.stringify(key)}:${write(item, seen)}`;
      if (key < slot) before = before === "" ? member : `${before},${member}`;
      else after = after === "" ? member : `${after},${member}`;
    }
    return { before, after };
  });
}

/**
 * Join runs of members into one object's JSON, with a comma only between
 * runs that have members (see {@link canonicalSplit}).
 *
 * @example
 * joinMembers('"a":1', "", '"z":2'); // '{"a":1,"z":2}'
 */
export function joinMembers(...parts: string[]): string {
  let out = "";
  for (const part of parts) if (part !== "") out = out === "" ? part : `${out},${part}`;
  return `{${out}}`;
}

function guarded<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    // The walk is recursive: a value nested deeper than the stack allows
    // (an attacker's tool arguments, a crafted log line) is refused with a
    // code, never a crash of whoever hashes it.
    if (error instanceof RangeError) throw new NoJsonFormError("canonicalJson: the value is nested too deeply", { cause: error });
    throw error;
  }
}

// Plain loops and string concatenation: this runs twice per audit record
// (the record and its arguments), so it avoids the intermediate arrays of
// filter/sort/map/join where it can.
function write(value: unknown, seen: Set<object>): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
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
  let out: string;
  if (Array.isArray(object)) {
    out = "[";
    for (let i = 0; i < object.length; i++) {
      const item: unknown = object[i];
      if (item === undefined) throw new NoJsonFormError("canonicalJson: undefined in an array has no JSON form");
      out += i === 0 ? write(item, seen) : `,${write(item, seen)}`;
    }
    out += "]";
  } else {
    out = "{";
    let first = true;
    for (const key of Object.keys(object).sort()) {
      const item = (object as Record<string, unknown>)[key];
      if (item === undefined) continue;
      out += `${first ? "" : ","}${JSON.stringify(key)}:${write(item, seen)}`;
      first = false;
    }
    out += "}";
  }
  seen.delete(object);
  return out;
}
