/**
 * Read a claim by name or dotted path.
 *
 * An exact top-level key wins (so `https://example.com/org` or `custom:tenant_id`
 * work as names); otherwise `a.b.c` walks nested plain objects. Only own
 * properties are read, so `__proto__`, `constructor` and friends never resolve.
 *
 * @example
 * readClaim({ app_metadata: { tenant_id: "acme" } }, "app_metadata.tenant_id"); // "acme"
 */
export function readClaim(claims: Record<string, unknown>, path: string): unknown {
  if (Object.hasOwn(claims, path)) return claims[path];
  if (!path.includes(".")) return undefined;
  let current: unknown = claims;
  for (const segment of path.split(".")) {
    if (current === null || typeof current !== "object" || Array.isArray(current)) return undefined;
    if (!Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}
