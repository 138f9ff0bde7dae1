/**
 * The layers of docs/architecture.md, enforced: every import specifier of
 * every file under src/ is mapped to the layer it points at, and an import
 * that points the wrong way (to a higher layer, to a sibling adapter, out of
 * src/, or to an adapter's library from the core) fails. The same for the
 * helper folders: tests, benches and scripts share helpers through
 * test/support/ (and bench/lib/ for benches only), never through scripts/.
 */
import { describe, expect, it } from "vitest";
import { readFileSync, readdirSync } from "node:fs";
import { join, posix, relative } from "node:path";
import ts from "typescript";
import { PROJECT_ROOT } from "../support/langgraph-dev.ts";

/** Layers from the bottom; a file imports only its own layer and those below. Adapters (rank 10) never import each other. */
const LAYERS: ReadonlyArray<{ name: string; rank: number; libraries?: RegExp }> = [
  { name: "src/errors.ts", rank: 0 },
  { name: "src/lib", rank: 0 },
  { name: "src/config", rank: 1 },
  { name: "src/bearer", rank: 2 },
  { name: "src/verify", rank: 3 },
  { name: "src/tenant", rank: 4 },
  { name: "src/request", rank: 5 },
  { name: "src/policy", rank: 6 },
  { name: "src/audit", rank: 7 },
  { name: "src/authenticate", rank: 8 },
  // The decision log: events, ids, flood bound, sinks. Only the adapters (the wrappers at the edge) record.
  { name: "src/decision", rank: 9 },
  // The LangGraph server is built on Hono: its storage context comes from hono/context-storage.
  { name: "src/langgraph", rank: 10, libraries: /^(@langchain\/|hono(\/|$))/ },
  { name: "src/runtime", rank: 10, libraries: /^@langchain\// },
  { name: "src/pg", rank: 10, libraries: /^pg$/ },
  { name: "src/hono", rank: 10, libraries: /^hono(\/|$)/ },
  { name: "src/check-isolation", rank: 11 },
  { name: "src/index.ts", rank: 12 },
  { name: "src/auth.ts", rank: 12, libraries: /^@langchain\/langgraph-sdk\/auth$/ },
  { name: "src/cli.ts", rank: 12 },
];
const ADAPTER = 10;
/** Libraries only an adapter may load: importing the core must not pull them in. */
const ADAPTER_LIBRARIES = /^(@langchain\/|hono(\/|$)|pg$)/;

const layerOf = (file: string) => LAYERS.find((l) => file === l.name || file.startsWith(`${l.name}/`));

/** The project-relative path an import points at, or the bare specifier of a package. */
function target(from: string, specifier: string): { file: string } | { library: string } {
  if (!specifier.startsWith(".")) return { library: specifier };
  return { file: posix.normalize(posix.join(posix.dirname(from), specifier)) };
}

/** Every import, export-from and literal dynamic import of a file's text. */
function specifiersOf(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
}

/** What is wrong with one import of a src file, or `undefined`. */
function srcImportProblem(from: string, specifier: string): string | undefined {
  const own = layerOf(from);
  if (!own) return `${from} is in no layer of docs/architecture.md`;
  const to = target(from, specifier);
  if ("library" in to) {
    if (to.library.startsWith("node:")) return undefined;
    if (ADAPTER_LIBRARIES.test(to.library) && !own.libraries?.test(to.library)) {
      return `${from} imports ${to.library}: only its adapter folder may load it`;
    }
    return undefined;
  }
  if (!to.file.startsWith("src/")) return `${from} imports ${to.file}: src/ never imports outside src/`;
  const theirs = layerOf(to.file);
  if (!theirs) return `${from} imports ${to.file}, which is in no layer`;
  if (theirs === own) return undefined;
  if (theirs.rank > own.rank) return `${from} (${own.name}) imports ${to.file} (${theirs.name}), a higher layer`;
  if (theirs.rank === own.rank && own.rank === ADAPTER) return `${from} imports ${to.file}: adapters do not import each other`;
  return undefined;
}

/** What is wrong with one import of a test, bench or script file, or `undefined`. */
function helperImportProblem(from: string, specifier: string): string | undefined {
  const to = target(from, specifier);
  if ("library" in to) return undefined;
  const top = (path: string) => path.split("/")[0];
  if (to.file.startsWith("scripts/") && top(from) !== "scripts") return `${from} imports ${to.file}: share helpers through test/support/, not scripts/`;
  if (to.file.startsWith("bench/") && top(from) !== "bench") return `${from} imports ${to.file}: bench/ is imported by benches only`;
  if (from.startsWith("test/support/") && !to.file.startsWith("test/support/") && !to.file.startsWith("src/")) {
    return `${from} imports ${to.file}: test/support/ depends on src/ and itself only`;
  }
  return undefined;
}

function filesUnder(dir: string): string[] {
  return readdirSync(join(PROJECT_ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.(ts|mts)$/.test(e.name) && !e.name.endsWith(".d.ts"))
    .map((e) => relative(PROJECT_ROOT, join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)).split("\\").join("/"));
}

function problems(dirs: string[], check: (from: string, specifier: string) => string | undefined): string[] {
  return dirs.flatMap(filesUnder).flatMap((file) =>
    specifiersOf(readFileSync(join(PROJECT_ROOT, file), "utf8")).flatMap((s) => check(file, s) ?? []),
  );
}

describe("layers (docs/architecture.md)", () => {
  it("every import in src/ points down, never across adapters, never out of src/", () => {
    expect(filesUnder("src").length).toBeGreaterThan(50);
    expect(problems(["src"], srcImportProblem)).toEqual([]);
  });

  it("tests, benches and scripts share helpers through test/support/ and bench/lib/ only", () => {
    expect(problems(["test", "bench", "scripts", "examples"], helperImportProblem)).toEqual([]);
  });

  it("names the wrong-way imports it exists to catch", () => {
    expect(srcImportProblem("src/policy/route-policy.ts", "../langgraph/create-tenant-auth.ts")).toMatch(/a higher layer/);
    expect(srcImportProblem("src/config/read-config.ts", "../tenant/tenant-id.ts")).toMatch(/a higher layer/);
    expect(srcImportProblem("src/runtime/tenant-store.ts", "../langgraph/detect-host.ts")).toMatch(/adapters do not import each other/);
    expect(srcImportProblem("src/policy/tool-policy.ts", "@langchain/core/tools")).toMatch(/only its adapter folder/);
    expect(srcImportProblem("src/verify/fetch-json.ts", "hono")).toMatch(/only its adapter folder/);
    expect(srcImportProblem("src/audit/audit-log.ts", "pg")).toMatch(/only its adapter folder/);
    expect(srcImportProblem("src/hono/tenant-middleware.ts", "pg")).toMatch(/only its adapter folder/);
    expect(srcImportProblem("src/langgraph/create-env-auth.ts", "../../examples/http/custom-routes.ts")).toMatch(/outside src/);
    expect(srcImportProblem("src/langgraph/create-env-auth.ts", "../policy/route-policy.ts")).toBeUndefined();
    expect(srcImportProblem("src/pg/with-tenant.ts", "pg")).toBeUndefined();
    expect(srcImportProblem("src/decision/decision-log.ts", "../langgraph/auth-decisions.ts")).toMatch(/a higher layer/);
    expect(srcImportProblem("src/decision/decision-log.ts", "hono")).toMatch(/only its adapter folder/);
    expect(srcImportProblem("src/audit/audit-log.ts", "../decision/decision-log.ts")).toMatch(/a higher layer/);
    expect(srcImportProblem("src/hono/tenant-middleware.ts", "../decision/decision-log.ts")).toBeUndefined();
    expect(helperImportProblem("bench/server.ts", "../scripts/lib/x.ts")).toMatch(/not scripts/);
    expect(helperImportProblem("test/verify/x.test.ts", "../../bench/lib/markdown-table.ts")).toMatch(/benches only/);
    expect(helperImportProblem("test/support/postgres.ts", "../../scripts/dev.ts")).toMatch(/not scripts/);
    expect(helperImportProblem("scripts/dev.ts", "../test/support/local-issuer.ts")).toBeUndefined();
  });
});
