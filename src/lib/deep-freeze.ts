/**
 * Freeze a value and everything reachable from it through own properties,
 * so that a caller can read a rule of this package but never rewrite it
 * (STYLE item 17, jose's habit).
 *
 * Only plain objects, arrays and primitives can be made immutable this way:
 * `Object.freeze` does not stop a `Map`'s `set`, a `Date`'s setters or a
 * typed array's elements, and a frozen `RegExp` is still recompiled by
 * `RegExp.prototype.compile` (V8 replaces the pattern and only then throws
 * on the frozen `lastIndex`). Such a value is refused with a `TypeError`, so
 * exported data holding one fails when its module loads, not when an
 * attacker finds it. Functions are left as they are: a frozen property
 * cannot be re-pointed at another function, and the function object itself
 * decides nothing. A loop over a stack, not recursion: it also freezes the
 * token headers `inspectToken` hands out, however deep they nest.
 *
 * @example
 * export const PERMISSIONS = deepFreeze(["threads:read", "threads:write"]);
 */
export function deepFreeze<T>(value: T): T {
  const seen = new WeakSet<object>();
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (item === null || typeof item !== "object" || seen.has(item)) continue;
    seen.add(item);
    const prototype = Object.getPrototypeOf(item);
    if (!Array.isArray(item) && prototype !== Object.prototype && prototype !== null) {
      throw new TypeError(`deepFreeze: a ${prototype?.constructor?.name ?? "non-plain"} object cannot be frozen safely; export plain data`);
    }
    for (const key of Reflect.ownKeys(item)) {
      const descriptor = Object.getOwnPropertyDescriptor(item, key)!;
      if ("value" in descriptor) pending.push(descriptor.value);
    }
    Object.freeze(item);
  }
  return value;
}
