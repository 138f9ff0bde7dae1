/**
 * The published shape of the package: `npm pack` (which builds `dist/`
 * through `prepack`), installed into a fresh LangGraph app outside this
 * checkout, whose own `langgraph.json` points its auth at the package; that
 * app then serves two tenants apart under the real `langgraph dev`, run from
 * the app's own `@langchain/langgraph-cli`.
 *
 * The app pins its own `@langchain/core`, another version than this
 * package's dev pin but inside its peer range: the package's LangChain,
 * `hono` and `pg` are peer dependencies, so the app keeps exactly one copy.
 *
 * Dependencies come from the local npm cache (`--prefer-offline`): the
 * registry is only asked for what the cache lacks (in CI, the npm registry
 * is the one outside host this test needs).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";
import { PROJECT_ROOT, startLangGraphDev, type LangGraphDev } from "../support/langgraph-dev.ts";

const run = promisify(execFile);
const NPM = process.platform === "win32" ? "npm.cmd" : "npm";

interface Manifest {
  main: string;
  types: string;
  bin: Record<string, string>;
  exports: Record<string, string | { types: string; default: string }>;
  devDependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}
const OURS = JSON.parse(await readFile(join(PROJECT_ROOT, "package.json"), "utf8")) as Manifest;
/**
 * The app's own `@langchain/core`: compatible with the package's peer range
 * and `@langchain/langgraph`'s, and not the version this package's tests run.
 */
const APP_CORE = "1.3.5";
/** Everything `npm pack` put in the tarball (paths relative to the package). */
let packedFiles: string[];

let work: string;
let appDir: string;
let issuer: LocalIssuer;
let server: LangGraphDev;

const APP_FILES: Record<string, string> = {
  // What a LangGraph app already has: its LangChain (core pinned at another
  // version than our dev pin) and the CLI it runs `langgraph dev` with.
  "package.json": JSON.stringify(
    {
      name: "fresh-langgraph-app",
      private: true,
      type: "module",
      dependencies: { "@langchain/core": APP_CORE, "@langchain/langgraph": OURS.devDependencies["@langchain/langgraph"] },
      devDependencies: { "@langchain/langgraph-cli": OURS.devDependencies["@langchain/langgraph-cli"] },
    },
    null,
    2,
  ),
  "langgraph.json": JSON.stringify(
    {
      node_version: "20",
      graphs: { echo: "./graph.mjs:graph" },
      auth: { path: "./auth.mjs:auth", disable_studio_auth: true },
      env: {},
    },
    null,
    2,
  ),
  "auth.mjs": 'export { auth } from "langgraph-tenant-auth/auth";\n',
  "graph.mjs": [
    'import { Annotation, StateGraph } from "@langchain/langgraph";',
    "const State = Annotation.Root({ text: Annotation() });",
    "export const graph = new StateGraph(State)",
    '  .addNode("echo", (state) => ({ text: state.text }))',
    '  .addEdge("__start__", "echo")',
    "  .compile();",
    "",
  ].join("\n"),
};

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "lg-tenant-pack-"));
  const packed = await run(NPM, ["pack", "--json", "--pack-destination", work], { cwd: PROJECT_ROOT, maxBuffer: 16 * 1024 * 1024 });
  const [result] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf("["))) as Array<{ filename: string; files: Array<{ path: string }> }>;
  if (!result) throw new Error(`npm pack printed no result:\n${packed.stdout}`);
  const { filename } = result;
  packedFiles = result.files.map((file) => file.path);

  appDir = join(work, "app");
  await run("mkdir", ["-p", appDir]);
  for (const [name, text] of Object.entries(APP_FILES)) await writeFile(join(appDir, name), text);
  await run(
    NPM,
    ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", "--no-package-lock", join(work, filename)],
    { cwd: appDir, maxBuffer: 16 * 1024 * 1024 },
  );

  issuer = await startLocalIssuer();
  const cli = createRequire(join(appDir, "package.json")).resolve("@langchain/langgraph-cli/dist/cli/cli.mjs");
  server = await startLangGraphDev({ projectRoot: appDir, cli, env: issuer.env() });
}, 420_000);

afterAll(async () => {
  await server?.stop();
  await issuer?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("the packed tarball in a fresh LangGraph app", () => {
  it("packs the built entry points, README and package.json, and nothing of the sources, tests or tooling", () => {
    const entryPoints = [
      OURS.main,
      OURS.types,
      ...Object.values(OURS.bin),
      ...Object.values(OURS.exports).flatMap((t) => (typeof t === "string" ? [t] : [t.types, t.default])),
    ].map((target) => target.replace(/^\.\//, ""));
    expect(entryPoints.filter((target) => target.startsWith("dist/")).length).toBeGreaterThan(8);
    for (const target of entryPoints) expect(packedFiles, target).toContain(target);
    expect(packedFiles).toContain("README.md");
    expect(packedFiles).toContain("package.json");
    const licenses = readdirSync(PROJECT_ROOT).filter((name) => /^(LICEN[CS]E|COPYING)/i.test(name));
    for (const license of licenses) expect(packedFiles, license).toContain(license);
    const forbidden = packedFiles.filter((path) =>
      /^(test|bench|scripts|examples|\.ci|src|node_modules|\.tmp|\.github)\//.test(path) ||
      /(^|\/)[^/]*\.test\.[cm]?[jt]s$/.test(path) ||
      /(^|\/)\.env/.test(path),
    );
    expect(forbidden).toEqual([]);
    // Compiled output only: no TypeScript source beside it.
    expect(packedFiles.filter((path) => /\.[cm]?ts$/.test(path) && !/\.d\.[cm]?ts$/.test(path))).toEqual([]);
  });

  it("declares what the app already has as peers, and keeps a single @langchain/core at the app's own version", async () => {
    // The app's LangChain, hono and pg are peers; only jose and zod are ours.
    expect(Object.keys(OURS.peerDependencies).sort()).toEqual(
      ["@langchain/core", "@langchain/langgraph", "@langchain/langgraph-checkpoint", "@langchain/langgraph-sdk", "hono", "pg"],
    );
    expect(OURS.peerDependenciesMeta).toEqual({ hono: { optional: true }, pg: { optional: true } });
    expect(OURS.devDependencies["@langchain/core"]).not.toBe(APP_CORE);

    // `npm ls` exits non-zero on a missing or out-of-range peer anywhere in the tree.
    const tree = await run(NPM, ["ls", "--all", "--json"], { cwd: appDir, maxBuffer: 64 * 1024 * 1024 });
    const versions = new Set<string>();
    const walk = (node: { dependencies?: Record<string, { version?: string; dependencies?: never }> }) => {
      for (const [name, child] of Object.entries(node.dependencies ?? {})) {
        if (name === "@langchain/core" && child.version) versions.add(child.version);
        walk(child);
      }
    };
    walk(JSON.parse(tree.stdout) as Parameters<typeof walk>[0]);
    expect([...versions]).toEqual([APP_CORE]);
    // And on disk: one @langchain/core folder, the app's, and none inside the package.
    const copies = (await run("find", [".", "-type", "d", "-path", "*/node_modules/@langchain/core"], { cwd: appDir })).stdout
      .split("\n")
      .filter(Boolean);
    expect(copies).toEqual(["./node_modules/@langchain/core"]);
    const installed = JSON.parse(await readFile(join(appDir, "node_modules", "@langchain", "core", "package.json"), "utf8")) as { version: string };
    expect(installed.version).toBe(APP_CORE);
    for (const peer of Object.keys(OURS.peerDependencies)) {
      expect(existsSync(join(appDir, "node_modules", "langgraph-tenant-auth", "node_modules", peer)), peer).toBe(false);
    }
  });

  it("resolves from the app's own node_modules, with every exports target present", async () => {
    const require = createRequire(join(appDir, "package.json"));
    const installed = join(appDir, "node_modules", "langgraph-tenant-auth");
    const pkg = JSON.parse(await readFile(join(installed, "package.json"), "utf8")) as {
      exports: Record<string, string | { types: string; default: string }>;
    };
    const targets = Object.values(pkg.exports).flatMap((t) => (typeof t === "string" ? [t] : [t.types, t.default]));
    expect(targets.length).toBeGreaterThan(4);
    for (const target of targets) expect(existsSync(join(installed, target)), target).toBe(true);
    expect(existsSync(join(installed, "src"))).toBe(false);
    expect(require.resolve("jose").startsWith(join(appDir, "node_modules"))).toBe(true);
  });

  it("imports as ESM with its subpaths", async () => {
    const script = [
      'const root = await import("langgraph-tenant-auth");',
      'const hono = await import("langgraph-tenant-auth/hono");',
      'const pg = await import("langgraph-tenant-auth/pg");',
      "console.log(JSON.stringify([typeof root.createAuthenticator, typeof root.readConfig, typeof hono.createTenantMiddleware, typeof pg.withTenant, typeof pg.migrate]));",
    ].join("\n");
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], { cwd: appDir });
    expect(JSON.parse(stdout)).toEqual(["function", "function", "function", "function", "function"]);
  });

  it("keeps two tenants apart behind the app's own langgraph.json", async () => {
    const acme = await issuer.sign({ sub: "alice", org_id: "acme", scope: "threads:read threads:write" });
    const globex = await issuer.sign({ sub: "gus", org_id: "globex", scope: "threads:read threads:write" });
    const call = (token: string | undefined, method: string, path: string, body?: unknown) =>
      fetch(`${server.url}${path}`, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });

    expect((await call(undefined, "POST", "/threads/search", {})).status).toBe(401);
    const created = await call(acme, "POST", "/threads", {});
    expect(created.status).toBe(200);
    const { thread_id: threadId, metadata } = (await created.json()) as { thread_id: string; metadata: Record<string, unknown> };
    expect(metadata.tenant_id).toBe("acme");
    expect((await call(acme, "GET", `/threads/${threadId}`)).status).toBe(200);
    expect((await call(globex, "GET", `/threads/${threadId}`)).status).toBe(404);
    const seen = (await (await call(globex, "POST", "/threads/search", { limit: 100 })).json()) as Array<{ thread_id: string }>;
    expect(seen.map((t) => t.thread_id)).not.toContain(threadId);
  });

  it("installs the check-isolation command as the package's bin, and it finds no leak in the app", async () => {
    const scope = "threads:read threads:write assistants:read assistants:write store:read store:write";
    const bin = join(appDir, "node_modules", ".bin", "langgraph-tenant-auth");
    const env = {
      ...process.env,
      CHECK_ISOLATION_TOKEN_A: await issuer.sign({ sub: "alice", org_id: "acme", scope }),
      CHECK_ISOLATION_TOKEN_B: await issuer.sign({ sub: "gus", org_id: "globex", scope }),
    };
    // execFile rejects on a non-zero exit; keep the code and the output either way.
    const checked = await run(bin, ["check-isolation", "--url", server.url, "--graph", "echo"], { cwd: appDir, env, maxBuffer: 16 * 1024 * 1024 }).then(
      (done) => ({ code: 0, ...done }),
      (failed: { code: number; stdout: string; stderr: string }) => failed,
    );
    expect(checked.stdout, checked.stderr).toMatch(/\d+ probes: \d+ ok, 0 leaks, 0 errors/);
    expect(checked.code).toBe(0);
  });

  // The run check reads the server's own storage through Hono's request
  // context: this shows it finds it from an installed copy of the package
  // (a second copy of hono would make every run fail closed).
  it("runs a tenant's own assistant and refuses another tenant's, from the installed package", async () => {
    const scope = "threads:read threads:write assistants:read assistants:write";
    const acme = await issuer.sign({ sub: "alice", org_id: "acme", scope });
    const globex = await issuer.sign({ sub: "gus", org_id: "globex", scope });
    const call = (token: string, method: string, path: string, body?: unknown) =>
      fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const assistant = (await (await call(acme, "POST", "/assistants", { graph_id: "echo" })).json()) as { assistant_id: string };
    const acmeThread = (await (await call(acme, "POST", "/threads", {})).json()) as { thread_id: string };
    const globexThread = (await (await call(globex, "POST", "/threads", {})).json()) as { thread_id: string };

    const own = await call(acme, "POST", `/threads/${acmeThread.thread_id}/runs/wait`, {
      assistant_id: assistant.assistant_id,
      input: { text: "mine" },
    });
    expect([own.status, own.status === 200 ? "" : await own.clone().text()]).toEqual([200, ""]);
    expect(await own.json()).toEqual({ text: "mine" });

    const foreign = await call(globex, "POST", `/threads/${globexThread.thread_id}/runs/wait`, {
      assistant_id: assistant.assistant_id,
      input: { text: "theirs" },
    });
    expect(foreign.status).toBe(404);
  });
});
