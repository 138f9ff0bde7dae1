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
import { execFile, spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";
import { freePort, groupGone, PROJECT_ROOT, startLangGraphDev, type LangGraphDev } from "../support/langgraph-dev.ts";
import { waitFor } from "../support/wait-for.ts";

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
    // The app's LangChain, hono, pg and OpenTelemetry API are peers; only jose and zod are ours.
    expect(Object.keys(OURS.peerDependencies).sort()).toEqual(
      ["@langchain/core", "@langchain/langgraph", "@langchain/langgraph-checkpoint", "@langchain/langgraph-sdk", "@opentelemetry/api", "hono", "pg"],
    );
    expect(OURS.peerDependenciesMeta).toEqual({ "@opentelemetry/api": { optional: true }, hono: { optional: true }, pg: { optional: true } });
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

  describe("the bin's command family, as a user of the package runs it", () => {
    const bin = () => join(appDir, "node_modules", ".bin", "langgraph-tenant-auth");
    /** Run the installed bin in the app; the exit code and output, whatever the code. */
    const npx = (args: string[], env: Record<string, string> = {}) =>
      run(bin(), args, { cwd: appDir, env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 }).then(
        (done) => ({ code: 0, stdout: done.stdout, stderr: done.stderr }),
        (failed: { code: number; stdout: string; stderr: string }) => ({ code: failed.code, stdout: failed.stdout, stderr: failed.stderr }),
      );
    const COMMANDS = ["check-isolation", "offboard", "audit", "dev", "token"];

    it("--help lists every command, and each command has its own --help", async () => {
      const help = await npx(["--help"]);
      expect(help.code).toBe(0);
      for (const command of COMMANDS) expect(help.stdout).toMatch(new RegExp(`^  ${command} `, "m"));
      for (const command of COMMANDS) {
        const own = await npx([command, "--help"]);
        expect([own.code, own.stdout.split("\n")[0]]).toEqual([0, expect.stringMatching(new RegExp(`^Usage: langgraph-tenant-auth ${command}\\b`))]);
      }
      expect((await npx(["wipe-everything"])).code).toBe(2);
    });

    it("offboard and audit: a tenant is listed, exported, erased and recorded, and the trail verifies; --database-env says pg is missing", async () => {
      const tenant = "pack-offboard";
      const token = await issuer.sign({ sub: "olivia", org_id: tenant, scope: "threads:read threads:write assistants:read assistants:write crons:read crons:write store:read store:write" });
      const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
      const created = (await (await fetch(`${server.url}/threads`, { method: "POST", headers, body: "{}" })).json()) as { thread_id: string };
      expect((await fetch(`${server.url}/store/items`, { method: "PUT", headers, body: JSON.stringify({ namespace: [tenant, "notes"], key: "k", value: { t: 1 } }) })).status).toBe(204);
      const tokenFile = join(work, "offboard.jwt");
      await writeFile(tokenFile, token);

      const dry = await npx(["offboard", "--url", server.url, "--token-file", tokenFile]);
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout).toMatch(/threads\s+1 /);
      expect(dry.stdout).toMatch(/store items\s+1 /);
      const exportDir = join(work, "export");
      await run("mkdir", ["-p", exportDir]);
      const audit = join(work, "audit.jsonl");
      const erased = await npx(["offboard", "--url", server.url, "--token-file", tokenFile, "--tenant", tenant, "--yes", "--export", exportDir, "--audit-file", audit, "--settle", "1"]);
      expect(erased.code, `${erased.stdout}\n${erased.stderr}`).toBe(0);
      expect(erased.stdout).toContain(`DONE: tenant "${tenant}"`);
      expect((await fetch(`${server.url}/threads/${created.thread_id}`, { headers })).status).toBe(404);
      for (const output of [dry.stdout, dry.stderr, erased.stdout, erased.stderr]) expect(output.includes(token)).toBe(false);

      // The start (before the first deletion) and the end of the offboarding, on the tenant's chain.
      expect(await npx(["audit", "verify", audit])).toMatchObject({ code: 0, stdout: expect.stringMatching(/OK: 2 record\(s\), 1 tenant chain/) });
      const trail = await npx(["audit", "export", "--tenant", tenant, "--file", audit]);
      expect(trail.code).toBe(0);
      const records = trail.stdout.trim().split("\n").map((line) => JSON.parse(line) as { hash: string });
      expect(records).toMatchObject([
        { v: 3, kind: "offboarding", tenant_id: tenant, user_id: "olivia", seq: 0, data: { phase: "started" } },
        { v: 3, kind: "offboarding", tenant_id: tenant, user_id: "olivia", seq: 1, data: { phase: "finished" } },
      ]);
      // head prints the chain's head, query finds the records, repair mends a torn last line.
      const head = await npx(["audit", "head", audit]);
      expect(head).toMatchObject({ code: 0, stdout: `${tenant} 1 ${records[1]!.hash}\n` });
      const query = await npx(["audit", "query", "--tenant", tenant, "--kind", "offboarding", "--file", audit]);
      expect(query.code, query.stderr).toBe(0);
      expect(query.stdout.trim().split("\n").map((line) => (JSON.parse(line) as { hash: string }).hash)).toEqual(records.map((r) => r.hash));
      const torn = join(work, "torn.jsonl");
      await writeFile(torn, `${await readFile(audit, "utf8")}{"v":3,"seq":2,"ten`);
      expect((await npx(["audit", "verify", torn])).code).toBe(1);
      expect(await npx(["audit", "repair", torn])).toMatchObject({ code: 0, stdout: expect.stringMatching(/cut \d+ byte\(s\) off the end/) });
      expect(await npx(["audit", "verify", torn])).toMatchObject({ code: 0, stdout: expect.stringMatching(/OK: 2 record\(s\)/) });
      // pg is an optional peer the fresh app does not have: the command says so, and nothing crashes.
      expect(existsSync(join(appDir, "node_modules", "pg"))).toBe(false);
      const pg = await npx(["audit", "verify", "--database-env", "AUDIT_DATABASE_URL", "--tenant", tenant], { AUDIT_DATABASE_URL: "postgres://app@127.0.0.1:1/none" });
      expect(pg).toMatchObject({ code: 2, stderr: expect.stringMatching(/needs the "pg" package: npm install pg/) });
    });

    it("dev runs the app's own langgraph dev on a local issuer, and token mints tokens it accepts", async () => {
      const env = { DEV_ISSUER_PORT: String(await freePort()), PORT: String(await freePort()), LANGGRAPH_CLI_NO_ANALYTICS: "1" };
      const dev = spawn(bin(), ["dev"], { cwd: appDir, env: { ...process.env, ...env }, detached: true, stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      dev.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
      dev.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise<void>((resolve) => dev.once("exit", () => resolve()));
      const url = `http://127.0.0.1:${env.PORT}`;
      try {
        await waitFor(
          async () => {
            if (dev.exitCode !== null) throw new Error(`dev exited:\n${output}`);
            return (await fetch(`${url}/info`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined))?.ok === true;
          },
          "the app's langgraph dev to answer",
          { timeoutMs: 240_000, intervalMs: 300 },
        );
        expect(output).toContain(`local issuer: http://127.0.0.1:${env.DEV_ISSUER_PORT}`);
        const minted = await npx(["token", "--tenant", "acme", "--sub", "alice"], env);
        expect(minted.code, minted.stderr).toBe(0);
        const token = minted.stdout.trim();
        const search = (authorization?: string) =>
          fetch(`${url}/threads/search`, { method: "POST", headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) }, body: "{}" });
        expect((await search(`Bearer ${token}`)).status).toBe(200);
        expect((await search()).status).toBe(401);
        // The key is kept in the app's cache folder, so tokens stay valid across restarts.
        expect(existsSync(join(appDir, "node_modules", ".cache", "langgraph-tenant-auth", "dev-issuer", "signing-key.json"))).toBe(true);
        expect((await npx(["token", "--tenant", "not a tenant", "--sub", "alice"], env)).code).toBe(2);
      } finally {
        try {
          process.kill(-dev.pid!, "SIGTERM");
        } catch {
          /* already gone */
        }
        await exited;
        await groupGone(dev.pid!); // the server writes its state after the CLI exits
      }
    }, 300_000);
  });
});
