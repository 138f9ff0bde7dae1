/**
 * `npm run test:unit`: every test that needs no server, in well under a
 * minute. The files below start `langgraph dev`, Postgres, an OpenID provider
 * or the platform worker, run the benchmarks, or pack the package; `npm test`
 * runs them too.
 * test/architecture/unit-tests.test.ts fails when a test that starts a server
 * is missing from this list.
 */
import { configDefaults, defineConfig, mergeConfig } from "vitest/config";
import base from "./vitest.config.ts";

export const SERVER_TESTS = [
  "test/integration/**",
  "test/isolation/**",
  "test/platform/check-failures.test.ts",
  "test/platform/decision-log.test.ts",
  "test/platform/platform-checks.test.ts",
  "test/platform/platform-conformance.test.ts",
  "test/platform/system-assistants.test.ts",
  "test/platform/offboard-platform.test.ts",
  "test/platform/worker-mapping.test.ts",
  "test/platform/client-view.test.ts",
  "test/platform/metrics.test.ts",
  "test/check-isolation/hidden-system-assistants.test.ts",
  "test/check-isolation/naive-auth.test.ts",
  "test/check-isolation/own-auth.test.ts",
  "test/docs/docs-commands.test.ts",
  "test/pg/audit-sink.test.ts",
  "test/audit-cli/audit-cli-postgres.test.ts",
  "test/pg/audit-write-ahead.test.ts",
  "test/audit/event-records-postgres.test.ts",
  "test/bench/bench-smoke.test.ts",
];

export default mergeConfig(base, defineConfig({ test: { exclude: [...configDefaults.exclude, ...SERVER_TESTS] } }));
