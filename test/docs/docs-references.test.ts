/**
 * The docs cannot rot, without a server: every name the README and `docs/`
 * mention must exist (npm scripts, variables, entry points and their exports,
 * repository paths, links and anchors), every shell block is either run by
 * `docs-commands.test.ts` or says why not, and the README stays a front door.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, posix } from "node:path";
import { describe, expect, it } from "vitest";
import { CONFIG_VARIABLES } from "../../src/config/read-config.ts";
import { PROJECT_ROOT } from "../support/langgraph-dev.ts";
import { codeBlocks, headingAnchors, prose, readDocs, relativeLinks, SHELL_LANGS } from "../support/markdown-docs.ts";

const docs = readDocs(PROJECT_ROOT);
const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")) as {
  name: string;
  scripts: Record<string, string>;
  exports: Record<string, string | { default: string }>;
};

/** Variables read outside `src/config/` (samples, scripts, benches, the commands): found in their source. */
const OTHER_VARIABLE = /\b(?:AUDIT|BENCH|CHECK_ISOLATION|OFFBOARD|SUPPORT_AGENT|DEV_ISSUER)_[A-Z0-9_]*[A-Z0-9]\b/g;
const SOURCE_FILES = ["src", "scripts", "bench", "examples"].flatMap((dir) => sourceFiles(join(PROJECT_ROOT, dir)));

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((name) => /\.(ts|mts|js|mjs)$/.test(name))
    .map((name) => join(dir, name));
}

const where = (file: string, text: string, index: number) => `${file}:${text.slice(0, index).split("\n").length}`;

describe("README", () => {
  const readme = docs.find((doc) => doc.path === "README.md")!;

  it("is a front door of at most 8 KiB", () => {
    expect(Buffer.byteLength(readme.text), "move the detail to a page of docs/").toBeLessThanOrEqual(8 * 1024);
  });

  it("has exactly the two set-up commands and links every page of docs/", () => {
    expect(readme.text).toContain("npm ci && npm run dev");
    expect(readme.text).toContain("npm ci && npm test");
    const linked = new Set(relativeLinks(readme).map((link) => link.target.split("#")[0]));
    for (const doc of docs.filter((d) => d.path !== "README.md")) expect(linked, `README links ${doc.path}`).toContain(doc.path);
  });
});

describe("README and docs/", () => {
  it("carry no issue markers", () => {
    for (const doc of docs) expect(doc.text, doc.path).not.toMatch(/<!--\s*issue\s+\d+/i);
  });

  it("run every shell block or say why not", () => {
    const problems: string[] = [];
    for (const block of docs.flatMap(codeBlocks)) {
      const at = `${block.file}:${block.line}`;
      const runnable = block.flags.includes("runnable");
      if (runnable && !["sh", "ts"].includes(block.lang)) problems.push(`${at}: only sh and ts blocks can be runnable`);
      if (runnable && block.notRunnable !== undefined) problems.push(`${at}: both runnable and "not runnable"`);
      if (block.notRunnable !== undefined && block.notRunnable.length < 10) problems.push(`${at}: "not runnable" needs a reason`);
      if (SHELL_LANGS.has(block.lang) && (block.lang !== "sh" || !runnable) && block.notRunnable === undefined) {
        problems.push(`${at}: a shell block must be \`\`\`sh runnable or follow <!-- not runnable: why -->`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("show JSON that parses", () => {
    for (const block of docs.flatMap(codeBlocks).filter((b) => b.lang === "json")) {
      expect(() => JSON.parse(block.body), `${block.file}:${block.line}`).not.toThrow();
    }
  });

  it("name only npm scripts that exist", () => {
    const missing: string[] = [];
    for (const doc of docs) {
      for (const match of doc.text.matchAll(/\bnpm run(?:\s+-s)?\s+([a-z][\w:.-]*[\w])/g)) {
        if (!(match[1]! in pkg.scripts)) missing.push(`${where(doc.path, doc.text, match.index)}: npm run ${match[1]}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("name only AUTH_* variables that src/config reads", () => {
    const known = new Set<string>(CONFIG_VARIABLES);
    const unknown: string[] = [];
    for (const doc of docs) {
      for (const match of doc.text.matchAll(/\bAUTH_[A-Z0-9_]+/g)) {
        const name = match[0];
        // `AUTH_JWKS_*` names a family: at least one variable must start with it.
        const ok = name.endsWith("_") ? CONFIG_VARIABLES.some((v) => v.startsWith(name)) : known.has(name);
        if (!ok) unknown.push(`${where(doc.path, doc.text, match.index)}: ${name}`);
      }
    }
    expect(unknown).toEqual([]);
  });

  it("name only other variables that some source file reads", () => {
    const source = SOURCE_FILES.map((file) => readFileSync(file, "utf8")).join("\n");
    const unknown: string[] = [];
    for (const doc of docs) {
      for (const match of doc.text.matchAll(OTHER_VARIABLE)) {
        if (!source.includes(match[0])) unknown.push(`${where(doc.path, doc.text, match.index)}: ${match[0]}`);
      }
    }
    expect(unknown).toEqual([]);
  });

  it("import only entry points the package has, and names they export", async () => {
    const problems: string[] = [];
    for (const block of docs.flatMap(codeBlocks).filter((b) => b.lang === "ts")) {
      for (const match of block.body.matchAll(/import\s*\{([^}]*)\}\s*from\s*"(langgraph-tenant-auth(?:\/[\w-]+)?)"/g)) {
        const entry = `.${match[2]!.slice(pkg.name.length)}`;
        const target = pkg.exports[entry];
        if (!target) {
          problems.push(`${block.file}:${block.line}: no entry point ${match[2]}`);
          continue;
        }
        const dist = typeof target === "string" ? target : target.default;
        const module = (await import(join(PROJECT_ROOT, dist.replace(/^\.\/dist\//, "src/").replace(/\.js$/, ".ts")))) as Record<string, unknown>;
        const names = match[1]!.split(",").map((name) => name.trim()).filter((name) => name && !name.startsWith("type "));
        for (const name of names) if (!(name in module)) problems.push(`${block.file}:${block.line}: ${match[2]} has no export ${name}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("name repository paths that exist", () => {
    const missing: string[] = [];
    for (const doc of docs) {
      const text = prose(doc);
      for (const match of text.matchAll(/`((?:src|test|scripts|bench|examples|docs)\/[^`\s]*)`/g)) {
        const path = match[1]!;
        if (/[*{}<>…]/.test(path)) continue;
        if (!existsSync(join(PROJECT_ROOT, path))) missing.push(`${where(doc.path, text, match.index)}: ${path}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("link to files and anchors that exist", () => {
    const anchors = new Map(docs.map((doc) => [doc.path, headingAnchors(doc)]));
    const broken: string[] = [];
    for (const doc of docs) {
      for (const { target, line } of relativeLinks(doc)) {
        const [path = "", anchor] = target.split("#");
        const file = path === "" ? doc.path : posix.normalize(posix.join(posix.dirname(doc.path), path));
        if (!existsSync(join(PROJECT_ROOT, file))) broken.push(`${doc.path}:${line}: ${target} (no file ${file})`);
        else if (anchor && file.endsWith(".md") && !anchors.get(file)?.has(anchor)) broken.push(`${doc.path}:${line}: ${target} (no heading #${anchor})`);
      }
    }
    expect(broken).toEqual([]);
  });
});

describe("docs/configuration.md", () => {
  it("has a row for every variable src/config reads", () => {
    const config = docs.find((doc) => doc.path === "docs/configuration.md")!;
    const missing = CONFIG_VARIABLES.filter((name) => !config.text.includes(`| \`${name}\` |`));
    expect(missing).toEqual([]);
  });
});
