/**
 * Each entry point keeps to one job: importing the core (`.`) loads no
 * `@langchain/*`, `hono` or `pg`, so an app that only verifies tokens does not
 * pay for (or need) the adapters' libraries. A child process imports the entry
 * under a module resolve hook (`module.register`) that records every module
 * the import resolves, transitively; the adapters' entries are the controls
 * that show the recorder sees those libraries when they are loaded.
 */
import { describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { PROJECT_ROOT } from "../support/langgraph-dev.ts";

const run = promisify(execFile);

// Runs in the loader thread: appends each resolved URL to the file named in `data`.
const HOOK = `
import { appendFileSync } from "node:fs";
let log;
export function initialize(data) { log = data.log; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(log, result.url + "\\n");
  return result;
}
`;

/** Every module URL that importing `entry` (a path under the project) resolves. */
async function modulesLoadedBy(entry: string): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), "core-imports-"));
  try {
    const hook = join(dir, "hook.mjs");
    const log = join(dir, "resolved.txt");
    await writeFile(hook, HOOK);
    await writeFile(log, "");
    const script = [
      'import { register } from "node:module";',
      `register(${JSON.stringify(pathToFileURL(hook).href)}, { data: { log: ${JSON.stringify(log)} } });`,
      `await import(${JSON.stringify(pathToFileURL(join(PROJECT_ROOT, entry)).href)});`,
    ].join("\n");
    await run(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: PROJECT_ROOT });
    return (await readFile(log, "utf8")).split("\n").filter(Boolean);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const ADAPTER_LIBRARIES = /\/node_modules\/(@langchain\/[^/]+|hono|pg|pg-[^/]+)\//;
const adapterLibraries = (urls: string[]) => [...new Set(urls.flatMap((u) => u.match(ADAPTER_LIBRARIES)?.[1] ?? []))].sort();

describe("entry points", () => {
  it("the core (.) loads neither @langchain/*, hono nor pg", async () => {
    const urls = await modulesLoadedBy("src/index.ts");
    // The recorder saw the core's own modules and its libraries (jose, zod).
    expect(urls.some((u) => u.endsWith("/src/authenticate/create-authenticator.ts"))).toBe(true);
    expect(urls.some((u) => u.includes("/node_modules/jose/"))).toBe(true);
    expect(adapterLibraries(urls)).toEqual([]);
    // The metrics' library is an optional peer, loaded with require only when a part asks for the registered meter.
    expect(urls.filter((u) => u.includes("/node_modules/@opentelemetry/"))).toEqual([]);
    expect(urls.some((u) => u.endsWith("/src/metrics/registered-meter.ts"))).toBe(true);
  }, 60_000);

  it("./langgraph and ./runtime load the LangGraph libraries (the recorder would see them)", async () => {
    expect(adapterLibraries(await modulesLoadedBy("src/langgraph/index.ts"))).toContain("@langchain/langgraph-sdk");
    expect(adapterLibraries(await modulesLoadedBy("src/runtime/index.ts"))).toContain("@langchain/core");
  }, 60_000);

  it("the bin's commands load neither @langchain/*, hono nor pg (pg only when a database is asked for)", async () => {
    for (const command of ["src/check-isolation/run-cli.ts", "src/offboard/run-offboard-cli.ts", "src/audit-cli/run-audit-cli.ts", "src/dev/run-dev-cli.ts", "src/dev/run-token-cli.ts"]) {
      const urls = await modulesLoadedBy(command);
      expect(urls.some((u) => u.endsWith(`/${command}`)), command).toBe(true);
      expect(adapterLibraries(urls), command).toEqual([]);
    }
  }, 120_000);
});
