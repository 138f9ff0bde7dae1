import { AsyncLocalStorage } from "node:async_hooks";
import { InvalidOptionError, InvalidTenantIdError } from "../errors.ts";
import { isTenantId } from "./tenant-id.ts";

const storage = new AsyncLocalStorage<string>();

/**
 * Run `fn` with `tenantId` as the ambient tenant of everything it awaits.
 *
 * Adapters that cannot take a tenant argument read it back with
 * {@link currentTenantId}: the tenant checkpointer runs the wrapped saver
 * inside this, so a Postgres pool built with `createTenantScopedPool` knows
 * which tenant to set on the connection the saver checks out.
 *
 * @throws {InvalidTenantIdError} `tenantId` breaks the tenant id rule (400).
 * @throws {InvalidOptionError} `fn` is not a function (500).
 * @example
 * await withTenantContext("acme", () => saver.getTuple(config));
 */
export function withTenantContext<T>(tenantId: string, fn: () => T): T {
  if (!isTenantId(tenantId)) throw new InvalidTenantIdError();
  if (typeof fn !== "function") throw new InvalidOptionError("fn", "withTenantContext runs a function");
  return storage.run(tenantId, fn);
}

/**
 * The ambient tenant set by {@link withTenantContext}, or `undefined`.
 *
 * @example
 * withTenantContext("acme", () => currentTenantId()); // "acme"
 */
export function currentTenantId(): string | undefined {
  return storage.getStore();
}
