/**
 * `dev`: the current app's own `langgraph dev` (resolved from the app's
 * `node_modules`), with this package's auth on a local issuer when no
 * `AUTH_ISSUER` is set (a fresh app has no identity provider yet). Offline:
 * no browser, no analytics. Each decision event the server writes on
 * standard error is shown as one readable line.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { parseEnv } from "node:util";
import type { CommandIo } from "../cli-kit/command-io.ts";
import { SIGNAL_EXIT } from "../cli-kit/interrupts.ts";
import { readConfig } from "../config/read-config.ts";
import { formatDecision } from "../decision/format-decision.ts";
import type { DecisionRecord } from "../decision/decision-event.ts";
import { ConfigError } from "../errors.ts";
import { DEFAULT_DEV_KEY_DIR, DEV_AUDIENCE, devIssuerPort } from "./dev-issuer-settings.ts";
import { startLocalIssuer, type LocalIssuer } from "./local-issuer.ts";

/**
 * The help text of `dev`.
 *
 * @example
 * process.stdout.write(DEV_USAGE);
 */
export const DEV_USAGE = `Usage: langgraph-tenant-auth dev [--key-dir <dir>] [langgraph dev options]

Runs this app's own \`langgraph dev\` (from its node_modules/@langchain/langgraph-cli)
with --no-browser, on port 2024 or the next free one (PORT picks one). When no
AUTH_ISSUER is set (in the environment or langgraph.json's env), it first
starts a local OpenID issuer on 127.0.0.1:9400 (DEV_ISSUER_PORT moves it) and
points AUTH_ISSUER and AUTH_AUDIENCE at it; \`langgraph-tenant-auth token\`
mints tokens for it. The AUTH_* variables are checked before the server starts.

Options:
  --key-dir <dir>   the local issuer's key folder (default ${DEFAULT_DEV_KEY_DIR})
  -h, --help
langgraph dev's own options go to it (--port, --host, --config, --n-jobs-per-worker,
--studio-url, --no-browser, --no-reload, --tunnel); any other argument is a usage error
naming its position (never echoed: it could be a pasted token).

Exit code: the server's; 1 when it cannot start (a bad AUTH_* variable, no langgraph CLI); 2 a usage error.
`;

/** langgraph.json's `env`: an object, or a path to a dotenv file beside it. */
function configEnvironment(configFile: string): { env: Record<string, string>; auth: boolean } {
  const config = JSON.parse(readFileSync(configFile, "utf8")) as { env?: unknown; auth?: unknown };
  const auth = typeof config.auth === "object" && config.auth !== null;
  if (typeof config.env === "string") {
    return { env: parseEnv(readFileSync(resolve(dirname(configFile), config.env), "utf8")) as Record<string, string>, auth };
  }
  if (typeof config.env === "object" && config.env !== null) return { env: config.env as Record<string, string>, auth };
  return { env: {}, auth };
}

/** LangGraph's usual port, or the next free one when something already holds it. */
async function firstFreePort(from: number): Promise<number> {
  for (let port = from; port < from + 20; port++) {
    const free = await new Promise<boolean>((done) => {
      const probe = createServer()
        .once("error", () => done(false))
        .listen(port, "localhost", () => probe.close(() => done(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port from ${from} to ${from + 19}; set PORT`);
}

/** `langgraph dev`'s own options (@langchain/langgraph-cli dist/cli/dev.mjs): true when it takes a value. */
const LANGGRAPH_DEV_OPTIONS: Readonly<Record<string, boolean>> = Object.freeze({
  "--port": true, "-p": true, "--host": true, "--n-jobs-per-worker": true, "-n": true, "--config": true, "-c": true, "--studio-url": true,
  "--no-browser": false, "--no-reload": false, "--tunnel": false,
});

/**
 * Take `--key-dir <dir>` (or `--key-dir=<dir>`) out of the arguments; the
 * rest is langgraph dev's, and only its known options pass: anything else is
 * named by position, never quoted (a user may paste a token by mistake, and
 * langgraph dev's own messages would quote it).
 */
function splitArguments(args: string[]): { keyDir: string | undefined; rest: string[]; problem?: string } {
  const rest: string[] = [];
  const problems: string[] = [];
  let keyDir: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--key-dir") {
      keyDir = args[++i];
      if (keyDir === undefined || keyDir.startsWith("-")) return { keyDir, rest, problem: "--key-dir needs a folder" };
      continue;
    }
    if (arg.startsWith("--key-dir=")) {
      keyDir = arg.slice("--key-dir=".length);
      continue;
    }
    const name = arg.startsWith("--") && arg.includes("=") ? arg.slice(0, arg.indexOf("=")) : arg;
    const takesValue = Object.hasOwn(LANGGRAPH_DEV_OPTIONS, name) ? LANGGRAPH_DEV_OPTIONS[name] : undefined;
    if (takesValue === undefined) {
      problems.push(`argument ${i + 1} after the command's name is neither an option of dev nor of langgraph dev (not shown, in case it is a secret)`);
      continue;
    }
    rest.push(arg);
    if (takesValue && name === arg) {
      const value = args[++i];
      if (value === undefined) problems.push(`${name} needs a value`);
      else rest.push(value);
    } else if (!takesValue && name !== arg) problems.push(`${name} takes no value`);
  }
  return problems.length ? { keyDir, rest, problem: problems.join("\n") } : { keyDir, rest };
}

/** Where `dev` runs and what it tells the reader. */
export interface DevCliPlace {
  /** The app's folder. Default: the current folder. */
  cwd?: string;
  /** The command that mints a token, as printed. Default `npx langgraph-tenant-auth token`. */
  tokenCommand?: string;
}

/**
 * Run `dev` with these arguments (after the command name). Resolves when the
 * server exits.
 *
 * @returns the exit code.
 * @example
 * process.exitCode = await runDevCli(process.argv.slice(3), process.env);
 */
export async function runDevCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  io: CommandIo = { stdout: process.stdout, stderr: process.stderr },
  place: DevCliPlace = {},
): Promise<number> {
  const cwd = place.cwd ?? process.cwd();
  if (args.includes("-h") || args.includes("--help")) {
    io.stdout.write(DEV_USAGE);
    return 0;
  }
  const { keyDir, rest, problem } = splitArguments(args);
  if (problem) {
    io.stderr.write(`dev: ${problem}\n\n${DEV_USAGE}`);
    return 2;
  }
  const configAt = rest.indexOf("--config");
  const configFile = resolve(cwd, configAt >= 0 && rest[configAt + 1] ? rest[configAt + 1]! : "langgraph.json");
  let config: ReturnType<typeof configEnvironment>;
  try {
    config = configEnvironment(configFile);
  } catch (error) {
    io.stderr.write(`dev: cannot read ${configFile} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): run it in your LangGraph app's folder\n`);
    return 1;
  }
  if (!config.auth) io.stderr.write(`dev: note: ${configFile} has no "auth" section, so the server runs without this package's auth (see the README)\n`);
  let cli: string;
  try {
    cli = createRequire(join(cwd, "package.json")).resolve("@langchain/langgraph-cli/dist/cli/cli.mjs");
  } catch {
    io.stderr.write("dev: this app has no @langchain/langgraph-cli: npm install --save-dev @langchain/langgraph-cli\n");
    return 1;
  }

  const childEnv: NodeJS.ProcessEnv = { ...env, LANGGRAPH_CLI_NO_ANALYTICS: "1", BROWSER: "none" };
  let issuer: LocalIssuer | undefined;
  if (!env.AUTH_ISSUER && !config.env.AUTH_ISSUER) {
    let port: number;
    try {
      port = devIssuerPort(env);
    } catch (error) {
      io.stderr.write(`dev: ${(error as Error).message}\n`);
      return 2;
    }
    issuer = await startLocalIssuer({ port, keyDir: resolve(cwd, keyDir ?? DEFAULT_DEV_KEY_DIR), audience: DEV_AUDIENCE });
    Object.assign(childEnv, issuer.env());
    io.stdout.write(`local issuer: ${issuer.issuer} (key in ${keyDir ?? DEFAULT_DEV_KEY_DIR})\n`);
    io.stdout.write(`get a token:  ${place.tokenCommand ?? "npx langgraph-tenant-auth token"} --tenant acme --sub alice\n`);
  }
  // Check the AUTH_* values before starting: langgraph dev would print the
  // same message but then sit in watch mode without serving anything. The
  // server puts langgraph.json's env under the process's, so the check does too.
  try {
    readConfig({ ...config.env, ...childEnv });
  } catch (error) {
    await issuer?.close();
    if (!(error instanceof ConfigError)) throw error;
    io.stderr.write(`${error.message}\n`);
    return 1;
  }

  const extra = rest.includes("--port") || rest.some((a) => a.startsWith("--port=")) ? [] : ["--port", String(env.PORT ?? (await firstFreePort(2024)))];
  if (extra.length) io.stdout.write(`API:          http://localhost:${extra[1]}\n`);
  const child = spawn(process.execPath, [cli, "dev", "--no-browser", ...extra, ...rest], { cwd, env: childEnv, stdio: ["inherit", "pipe", "pipe"] });
  child.stdout.pipe(io.stdout, { end: false });
  // Each decision event the server writes on standard error (a JSON line) is
  // shown as one readable line: reason, route and caller, never a token.
  createInterface({ input: child.stderr, crlfDelay: Infinity }).on("line", (line) => io.stderr.write(`${readableLine(line)}\n`));
  const signals = io.signals ?? process;
  const forward = (name: string) => () => child.kill(name as NodeJS.Signals);
  const handlers = Object.fromEntries(Object.keys(SIGNAL_EXIT).map((name) => [name, forward(name)]));
  for (const [name, handler] of Object.entries(handlers)) signals.on(name, handler);
  try {
    return await new Promise<number>((done, fail) => {
      child.once("error", fail);
      child.once("exit", (code, signal) => done(code ?? (signal ? (SIGNAL_EXIT[signal] ?? 1) : 0)));
    });
  } finally {
    for (const [name, handler] of Object.entries(handlers)) signals.off(name, handler);
    await issuer?.close();
  }
}

/** A decision event's JSON line as one readable line (see docs/observability.md); any other line as it is. */
function readableLine(line: string): string {
  if (!line.startsWith('{"type":"auth.decision')) return line;
  try {
    return formatDecision(JSON.parse(line) as DecisionRecord);
  } catch {
    return line;
  }
}
