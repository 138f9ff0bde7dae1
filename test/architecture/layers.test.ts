/**
 * The layers of docs/architecture.md, enforced: every import specifier of
 * every file under src/ is mapped to the layer it points at, and an import
 * that points the wrong way (to a higher layer, to a sibling adapter, out of
 * src/, or to an adapter's library from the core) fails, and so does any
 * import cycle inside src/. The same for the helper folders: tests, benches and scripts share helpers through
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
  // The metrics: the only folder that loads @opentelemetry/api (with require, when a meter is first asked for; checked below).
  { name: "src/metrics", rank: 10, libraries: /^@opentelemetry\/api$/ },
  // The LangGraph server is built on Hono: its storage context comes from hono/context-storage.
  { name: "src/langgraph", rank: 11, libraries: /^(@langchain\/|hono(\/|$))/ },
  { name: "src/runtime", rank: 11, libraries: /^@langchain\// },
  { name: "src/pg", rank: 11, libraries: /^pg$/ },
  { name: "src/hono", rank: 11, libraries: /^hono(\/|$)/ },
  // What the commands share; it loads pg only with a dynamic import, when a command is asked to use a database (checked below).
  { name: "src/cli-kit", rank: 12, libraries: /^pg$/ },
  // The commands of the bin (tools): each reaches the core, the adapters' library-free parts and cli-kit, never another tool.
  { name: "src/check-isolation", rank: 13 },
  { name: "src/offboard", rank: 13 },
  { name: "src/audit-cli", rank: 13 },
  { name: "src/dev", rank: 13 },
  { name: "src/index.ts", rank: 14 },
  { name: "src/auth.ts", rank: 14, libraries: /^@langchain\/langgraph-sdk\/auth$/ },
  { name: "src/cli.ts", rank: 14 },
];
const ADAPTER = 11;
const TOOL = 13;
/** Libraries only their own folder may load: importing the core must not pull in an adapter's, and only src/metrics loads OpenTelemetry. */
const ADAPTER_LIBRARIES = /^(@langchain\/|hono(\/|$)|pg$|@opentelemetry\/)/;

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
  if (theirs.rank === own.rank && own.rank === TOOL) return `${from} imports ${to.file}: commands do not import each other (share through src/cli-kit/)`;
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

/**
 * Every import cycle in a graph (file → the files it imports), each as its
 * files in one strongly connected component (Tarjan), sorted; a file that
 * imports itself is a cycle too. Type-only imports count: a cycle of types
 * is still two files that cannot be read one after the other.
 */
function importCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (file: string) => {
    index.set(file, index.size);
    low.set(file, index.get(file)!);
    stack.push(file);
    onStack.add(file);
    for (const next of graph.get(file) ?? []) {
      if (!graph.has(next)) continue;
      if (!index.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(file, Math.min(low.get(file)!, index.get(next)!));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    for (let member = stack.pop()!; ; member = stack.pop()!) {
      onStack.delete(member);
      component.push(member);
      if (member === file) break;
    }
    if (component.length > 1 || graph.get(file)!.includes(file)) cycles.push(component.sort());
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return cycles;
}

/** The import graph of src/: each file and the src files its relative imports name. */
function srcImportGraph(): Map<string, string[]> {
  const files = filesUnder("src");
  const known = new Set(files);
  return new Map(files.map((file) => [
    file,
    specifiersOf(readFileSync(join(PROJECT_ROOT, file), "utf8"))
      .map((specifier) => target(file, specifier))
      .flatMap((to) => ("file" in to && known.has(to.file) ? [to.file] : [])),
  ]));
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

  it("src/cli-kit loads pg only with a dynamic import, so the bin runs without the optional peer", () => {
    const files = filesUnder("src/cli-kit");
    const text = files.map((file) => readFileSync(join(PROJECT_ROOT, file), "utf8")).join("\n");
    expect(text).toMatch(/await import\("pg"\)/);
    expect(text).not.toMatch(/^import(?!\s+type\b)[^;]*from\s+"pg"/m);
  });

  it("src/metrics loads @opentelemetry/api only with require, never with an import (an optional peer: importing the core never loads it)", () => {
    const files = filesUnder("src/metrics");
    const texts = files.map((file) => readFileSync(join(PROJECT_ROOT, file), "utf8"));
    // The layer check above sees the require, so no other folder could do the same.
    expect(texts.flatMap((text) => specifiersOf(text))).toContain("@opentelemetry/api");
    expect(texts.join("\n")).toMatch(/require\("@opentelemetry\/api"\)/);
    for (const text of texts) expect(text).not.toMatch(/^\s*(import|export)(?!\s+type\b)[^;]*from\s+"@opentelemetry\//m);
    expect(texts.join("\n")).not.toMatch(/import\(\s*"@opentelemetry\//);
  });

  it("no import cycle inside src/, not even within one folder (STYLE 18: a parser below, the verifier above it)", () => {
    const graph = srcImportGraph();
    // The graph is really read: every relative import of src/ resolves to a file of it.
    expect([...graph.values()].flat().length).toBeGreaterThan(200);
    expect(graph.get("src/audit/audit-log-parser.ts")).toContain("src/audit/audit-chain-verifier.ts");
    expect(importCycles(graph)).toEqual([]);
  });

  it("finds a cycle planted in the real import graph, however long, and a file importing itself", () => {
    const graph = srcImportGraph();
    const planted = (from: string, to: string) => new Map([...graph].map(([file, imports]) => [file, file === from ? [...imports, to] : imports]));
    // The cycle this test was written for: the log parser and the verifier importing each other.
    expect(importCycles(planted("src/audit/audit-chain-verifier.ts", "src/audit/audit-log-parser.ts"))).toEqual([
      ["src/audit/audit-chain-verifier.ts", "src/audit/audit-log-parser.ts"],
    ]);
    // A long one, across layers: errors.ts → index.ts → … → errors.ts.
    const long = importCycles(planted("src/errors.ts", "src/index.ts"));
    expect(long).toHaveLength(1);
    expect(long[0]).toEqual(expect.arrayContaining(["src/errors.ts", "src/index.ts"]));
    expect(long[0]!.length).toBeGreaterThan(2);
    expect(importCycles(planted("src/audit/canonical-json.ts", "src/audit/canonical-json.ts"))).toEqual([["src/audit/canonical-json.ts"]]);
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
    expect(srcImportProblem("src/offboard/preflight.ts", "../check-isolation/world.ts")).toMatch(/commands do not import each other/);
    expect(srcImportProblem("src/offboard/tenant-api.ts", "../cli-kit/http-client.ts")).toBeUndefined();
    expect(srcImportProblem("src/cli-kit/http-client.ts", "../offboard/tenant-api.ts")).toMatch(/a higher layer/);
    expect(srcImportProblem("src/offboard/offboard.ts", "pg")).toMatch(/only its adapter folder/);
    expect(srcImportProblem("src/decision/decision-log.ts", "../langgraph/auth-decisions.ts")).toMatch(/a higher layer/);
    expect(srcImportProblem("src/decision/decision-log.ts", "hono")).toMatch(/only its adapter folder/);
    expect(srcImportProblem("src/audit/audit-log.ts", "../decision/decision-log.ts")).toMatch(/a higher layer/);
    expect(srcImportProblem("src/hono/tenant-middleware.ts", "../decision/decision-log.ts")).toBeUndefined();
    expect(srcImportProblem("src/decision/decision-log.ts", "@opentelemetry/api")).toMatch(/only its adapter folder/);
    expect(srcImportProblem("src/langgraph/create-tenant-auth.ts", "@opentelemetry/api")).toMatch(/only its adapter folder/);
    expect(srcImportProblem("src/metrics/registered-meter.ts", "@opentelemetry/api")).toBeUndefined();
    expect(srcImportProblem("src/metrics/create-auth-metrics.ts", "../langgraph/create-tenant-auth.ts")).toMatch(/a higher layer/);
    expect(srcImportProblem("src/decision/decision-log.ts", "../metrics/create-auth-metrics.ts")).toMatch(/a higher layer/);
    expect(srcImportProblem("src/langgraph/create-tenant-auth.ts", "../metrics/metrics-from-env.ts")).toBeUndefined();
    expect(helperImportProblem("bench/server.ts", "../scripts/lib/x.ts")).toMatch(/not scripts/);
    expect(helperImportProblem("test/verify/x.test.ts", "../../bench/lib/markdown-table.ts")).toMatch(/benches only/);
    expect(helperImportProblem("test/support/postgres.ts", "../../scripts/dev.ts")).toMatch(/not scripts/);
    expect(helperImportProblem("scripts/dev.ts", "../test/support/local-issuer.ts")).toBeUndefined();
  });
});
