/**
 * The platform's `auth` settings as the worker sees them.
 *
 * Platform fact: the image puts the JSON of `langgraph.json`'s `auth` section
 * in `LANGGRAPH_AUTH` (langgraph-cli docker.mjs), and the worker registers
 * the `Auth` from it; `auth.cache` in it makes the platform's API server
 * reuse one `authenticate` answer for later requests with the same values of
 * the `cache_keys` headers, whatever their path or method
 * (`CustomJsAuthBackend.authenticate`; docs/platform-contract.md#the-server-remotepy).
 */
import { ConfigError } from "../errors.ts";

/** The parts of `LANGGRAPH_AUTH` the package reads. */
export interface PlatformAuthSection {
  path?: string;
  disable_studio_auth?: boolean;
  cache?: unknown;
}

/**
 * Parse `LANGGRAPH_AUTH`. Unset means `{}`.
 *
 * @throws {ConfigError} it is set but not a JSON object.
 * @example
 * readPlatformAuthSection({ LANGGRAPH_AUTH: '{"path":"./src/auth.ts:auth"}' }); // { path: "./src/auth.ts:auth" }
 */
export function readPlatformAuthSection(env: Record<string, string | undefined>): PlatformAuthSection {
  const raw = env.LANGGRAPH_AUTH;
  if (raw === undefined || raw.trim() === "") return {};
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as PlatformAuthSection;
  } catch {
    // reported below
  }
  throw new ConfigError(["LANGGRAPH_AUTH must be the JSON object of langgraph.json's \"auth\" section"]);
}

/**
 * Refuse to start when `auth.cache` is set: the route decisions this package
 * makes in `authenticate` (routes missing from the platform table, operator
 * routes such as `/threads/prune`, `/mcp`, `/a2a/{id}`, `?delete_threads=true`)
 * would be skipped for every request whose headers match a cached answer. The
 * worker already caches verified tokens (`AUTH_TOKEN_CACHE`), so the cache adds
 * little; and a cached answer would outlive a token's `exp` by up to its TTL.
 *
 * @throws {ConfigError} `cache` is set.
 * @example
 * requireNoAuthCache(readPlatformAuthSection(process.env));
 */
export function requireNoAuthCache(section: PlatformAuthSection | undefined): void {
  if (section?.cache === undefined || section.cache === null) return;
  throw new ConfigError([
    'langgraph.json: remove "auth": { "cache": ... }. The platform would reuse one authenticate answer for any later request ' +
      "with the same headers, whatever its path, and skip the route decisions this package makes in authenticate " +
      "(routes it does not know, /threads/prune, /mcp, /a2a/{id}). Verified tokens are already cached in the worker (AUTH_TOKEN_CACHE).",
  ]);
}
