/**
 * The tests `npm run test:mutation` (Stryker, `stryker.config.mjs`) runs
 * against each mutant of `src/bearer/`, `src/verify/`, `src/tenant/`,
 * `src/policy/` and `src/request/`: the fast unit tests of those folders and
 * of the layers right above them that call them. No server but the loopback
 * key sets of `test/support/local-issuer.ts`; nothing that measures wall-clock
 * time (`test/entry-points/every-parser-returns.test.ts` times each call, so a
 * slower instrumented build under load would look like a killed mutant).
 */
import { defineConfig } from "vitest/config";

export const MUTATION_TESTS = [
  "test/bearer/**/*.test.ts",
  "test/verify/**/*.test.ts",
  "test/tenant/**/*.test.ts",
  "test/policy/**/*.test.ts",
  "test/request/**/*.test.ts",
  "test/authenticate/**/*.test.ts",
  "test/config/route-permissions.test.ts",
  "test/langgraph/create-route-guard.test.ts",
];

export default defineConfig({
  test: {
    // Not merged with vitest.config.ts: a merge would add these to its `include`.
    include: MUTATION_TESTS,
    // A loaded machine and an instrumented build: generous, as for the servers.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The key-store cases against a slow provider wait out real request
    // timeouts (1.5 s each, several per case) on every mutant they cover:
    // 500 ms here still times out a provider that never answers, and the
    // product's default (`timeoutMs`, 5 s) is untouched.
    env: { KEY_STORE_SLOW_TIMEOUT_MS: "500" },
  },
});
