/**
 * Freeze exported data all the way down, so that a caller can read a rule
 * of this package but never rewrite it (STYLE item 17, jose's habit).
 *
 * Only plain objects, arrays and primitives can be made immutable this way:
 * `Object.freeze` does not stop a `Map`'s `set`, a `Date`'s setters or a
 * typed array's elements, and a frozen `RegExp` is still recompiled by
 * `RegExp.prototype.compile` (V8 replaces the pattern and only then throws
 * on the frozen `lastIndex`). Such a value in exported data is refused with
 * a `TypeError`, so it is found when the module loads, not by an attacker.
 * Functions are left as they are (a frozen property cannot be re-pointed at
 * another function; the function object itself decides nothing).
 *
 * @example
 * export const PERMISSIONS = deepFreeze(["threads:read", "threads:write"]);
 */
export function deepFreeze<T>(value: T): T {
  freezeAll(value, new WeakSet());
  return value;
}

function freezeAll(value: unknown, seen: WeakSet<object>): void {
  if (value === null || typeof value !== "object" || seen.has(value)) return;
  seen.add(value);
  const prototype = Object.getPrototypeOf(value);
  if (!Array.isArray(value) && prototype !== Object.prototype && prototype !== null) {
    throw new TypeError(`deepFreeze: a ${prototype?.constructor?.name ?? "non-plain"} object cannot be frozen safely; export plain data`);
  }
  for (const key of Reflect.ownKeys(value)) {
    const descriptor = Object.getOwnPropertyDescriptor(value, key)!;
    if ("value" in descriptor) freezeAll(descriptor.value, seen);
  }
  Object.freeze(value);
}
