/**
 * `npm run test:unit` must need no server: every test file that starts
 * `langgraph dev`, Postgres, an OpenID provider or the platform worker, runs
 * the benchmarks, or packs the package, is in SERVER_TESTS (vitest.unit.config.ts), and every
 * entry there still names such a file.
 */
import { describe, expect, it } from "vitest";
import { readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { SERVER_TESTS } from "../../vitest.unit.config.ts";
import { PROJECT_ROOT } from "../support/langgraph-dev.ts";

// runBench: test/bench/bench-smoke.test.ts runs each bench, which starts servers.
const STARTS_A_SERVER = /\b(startLangGraphDev|startPostgres|startOidcProvider|startPlatformWorker|runBench)\(|\["pack"/;

// Entries are a file or a folder followed by "/**": nothing else to interpret.
const matches = (file: string, pattern: string) => (pattern.endsWith("/**") ? file.startsWith(pattern.slice(0, -2)) : file === pattern);

const testFiles = readdirSync(join(PROJECT_ROOT, "test"), { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile() && e.name.endsWith(".test.ts"))
  .map((e) => relative(PROJECT_ROOT, join(e.parentPath, e.name)).split("\\").join("/"))
  // This file names the helpers in its pattern; it starts nothing.
  .filter((f) => f !== "test/architecture/unit-tests.test.ts");

describe("npm run test:unit", () => {
  it("leaves out every test that starts a server", () => {
    for (const pattern of SERVER_TESTS) expect(pattern, pattern).toMatch(/^test\/[\w./-]+(\/\*\*)?$/);
    const serverTests = testFiles.filter((f) => STARTS_A_SERVER.test(readFileSync(join(PROJECT_ROOT, f), "utf8")));
    expect(serverTests.length).toBeGreaterThan(10);
    expect(serverTests.filter((f) => !SERVER_TESTS.some((p) => matches(f, p)))).toEqual([]);
  });

  it("leaves out nothing that needs no server", () => {
    for (const pattern of SERVER_TESTS) {
      const covered = testFiles.filter((f) => matches(f, pattern));
      expect(covered.length, pattern).toBeGreaterThan(0);
      expect(covered.some((f) => STARTS_A_SERVER.test(readFileSync(join(PROJECT_ROOT, f), "utf8"))), pattern).toBe(true);
    }
  });
});
