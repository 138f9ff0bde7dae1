import { z } from "zod";
import { wholeNumberVariable } from "./whole-number-variable.ts";

/** Default cap on cached verified tokens: 10,000 entries. */
export const DEFAULT_TOKEN_CACHE_MAX_ENTRIES = 10_000;
/** Default longest life of a cache entry, in seconds: 300 (it never outlives the token's `exp` either). */
export const DEFAULT_TOKEN_CACHE_MAX_AGE_SECONDS = 300;

/** Settings of the verified-token cache (`AUTH_TOKEN_CACHE*`). */
export interface TokenCacheConfig {
  /** `AUTH_TOKEN_CACHE=on|off`. Default on. */
  enabled: boolean;
  /** `AUTH_TOKEN_CACHE_MAX_ENTRIES`: LRU cap, 1 to 1,000,000. Default 10000. */
  maxEntries: number;
  /** `AUTH_TOKEN_CACHE_MAX_AGE`: seconds an entry may live, 1 to 86400. Default 300. */
  maxAgeSeconds: number;
}

/**
 * The cache's variables, merged into the schema of `readConfig`. Kept apart so
 * the cache's settings live next to each other and not in the main schema.
 */
export const TokenCacheEnvSchema = z.object({
  AUTH_TOKEN_CACHE: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(["on", "off"], { error: 'AUTH_TOKEN_CACHE must be "on" or "off"' }))
    .default("on"),
  AUTH_TOKEN_CACHE_MAX_ENTRIES: wholeNumberVariable("AUTH_TOKEN_CACHE_MAX_ENTRIES", 1, 1_000_000).default(DEFAULT_TOKEN_CACHE_MAX_ENTRIES),
  AUTH_TOKEN_CACHE_MAX_AGE: wholeNumberVariable("AUTH_TOKEN_CACHE_MAX_AGE", 1, 86_400).default(DEFAULT_TOKEN_CACHE_MAX_AGE_SECONDS),
});

/**
 * Turn the parsed variables into {@link TokenCacheConfig}.
 *
 * @example
 * toTokenCacheConfig(TokenCacheEnvSchema.parse({ AUTH_TOKEN_CACHE: "off" })); // { enabled: false, ... }
 */
export function toTokenCacheConfig(parsed: z.output<typeof TokenCacheEnvSchema>): TokenCacheConfig {
  return {
    enabled: parsed.AUTH_TOKEN_CACHE === "on",
    maxEntries: parsed.AUTH_TOKEN_CACHE_MAX_ENTRIES,
    maxAgeSeconds: parsed.AUTH_TOKEN_CACHE_MAX_AGE,
  };
}
