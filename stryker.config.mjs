// @ts-check
/**
 * `npm run test:mutation`: mutation testing of the decision layers (see
 * docs/development.md, "Mutation testing"). Not part of `npm test`.
 * @type {import("@stryker-mutator/api/core").PartialStrykerOptions}
 */
export default {
  testRunner: "vitest",
  // `related` (the default): a mutant runs only the test files that import its file.
  vitest: { configFile: "vitest.mutation.config.ts" },
  mutate: [
    "src/bearer/**/*.ts",
    "src/verify/**/*.ts",
    "src/tenant/**/*.ts",
    "src/policy/**/*.ts",
    "src/request/**/*.ts",
  ],
  coverageAnalysis: "perTest",
  // A static mutant (a module-level regular expression, table or constant)
  // cannot be tied to tests: each one reruns every related test file, about
  // 30 s here, so 60 % of the mutants took 98 % of the time. They are left out
  // (reported as "Ignored"); `npm run test:mutation -- --ignoreStatic false`
  // runs them too.
  ignoreStatic: true,
  // Two cores shared with other work: one test process unless asked for more
  // (`npm run test:mutation -- --concurrency 2`).
  concurrency: 1,
  // Generous for a loaded machine: a mutant is a timeout only when it runs
  // three times as long as the unmutated tests plus a minute.
  timeoutMS: 60_000,
  timeoutFactor: 3,
  dryRunTimeoutMinutes: 30,
  // Reuse the last run's results for unchanged code and tests
  // (reports/stryker-incremental.json, not committed: see docs/development.md).
  incremental: true,
  incrementalFile: "reports/stryker-incremental.json",
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: "reports/mutation/mutation.html" },
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  thresholds: { high: 90, low: 80, break: null },
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
};
