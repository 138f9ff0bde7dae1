/**
 * Every HTTP endpoint the installed LangGraph SDK client
 * (`@langchain/langgraph-sdk`, `dist/client/`) can call, read from its
 * shipped code. Tests and `check-isolation` compare their route tables with
 * this list, so an SDK upgrade that adds an endpoint fails a test instead of
 * leaving a route nobody checked.
 */
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, sep } from "node:path";

/** One endpoint: method and a path whose parameters are written `:name`. */
export interface SdkClientEndpoint {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Hono-style pattern, e.g. `/threads/:thread_id/runs/:run_id/join`. */
  path: string;
  /** Where it was read, e.g. `runs/index.js:239`. */
  source: string;
}

/** `${encodePathSegment(threadId)}` and the like → `:thread_id`. */
const PARAMETER_NAMES: Record<string, string> = {
  assistantId: "assistant_id",
  threadId: "thread_id",
  runId: "run_id",
  cronId: "cron_id",
  checkpoint: "checkpoint_id",
  "options.namespace": "namespace",
  id: "thread_id",
};

const PATH_LITERAL = /(["`])(\/(?:assistants|threads|runs|store|ui)(?:[^"`\n])*)\1/g;
const METHOD = /method:\s*"(GET|POST|PUT|PATCH|DELETE)"/;

/**
 * Transport adapters build their URLs in getters and pick the method where
 * the getter is used: name those pairs here (`stateUrl` is the protocol's
 * state hydration, a GET). A getter missing from the file fails the read.
 */
const TRANSPORT_GETTERS: Record<string, Record<string, SdkClientEndpoint["method"]>> = {
  [join("stream", "transport", "http.js")]: { commandsUrl: "POST", streamUrl: "POST", stateUrl: "GET" },
  [join("stream", "transport", "websocket.js")]: { streamUrl: "GET" },
};

function toPattern(literal: string, source: string): string {
  return literal.replace(/\$\{encodePathSegment\(([^)]+)\)\}/g, (_, name: string) => {
    const parameter = PARAMETER_NAMES[name.trim()];
    if (!parameter) throw new Error(`${source}: unknown path parameter ${name}`);
    return `:${parameter}`;
  });
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(join(dir, entry.name)) : entry.name.endsWith(".js") ? [join(dir, entry.name)] : [],
  );
}

/** The installed SDK's `dist/client` folder. */
function sdkClientDir(): string {
  const require = createRequire(import.meta.url);
  const entry = require.resolve("@langchain/langgraph-sdk");
  let dir = dirname(entry);
  while (!dir.endsWith(`${sep}langgraph-sdk`) && dir !== dirname(dir)) dir = dirname(dir);
  return join(dir, "dist", "client");
}

/**
 * Read every endpoint the installed SDK client calls (unique by method and
 * path, sorted). A plain `this.fetch(path, { method })` call takes its method
 * from the same statement (GET when none is named); a path chosen by a
 * ternary yields both paths.
 *
 * @param clientDir Default: the installed SDK's `dist/client`.
 * @throws {Error} the SDK's code no longer has the shape this reader knows.
 * @example
 * const endpoints = listSdkClientEndpoints();
 * endpoints.some((e) => e.method === "POST" && e.path === "/threads/:thread_id/runs"); // true
 */
export function listSdkClientEndpoints(clientDir: string = sdkClientDir()): SdkClientEndpoint[] {
  const found = new Map<string, SdkClientEndpoint>();
  const add = (endpoint: SdkClientEndpoint) => {
    const key = `${endpoint.method} ${endpoint.path}`;
    if (!found.has(key)) found.set(key, endpoint);
  };
  for (const file of walk(clientDir)) {
    const name = relative(clientDir, file);
    const lines = readFileSync(file, "utf8").split("\n");
    const getters = TRANSPORT_GETTERS[name];
    lines.forEach((line, index) => {
      const source = `${name}:${index + 1}`;
      const literals = [...line.matchAll(PATH_LITERAL)].map((m) => m[2]!);
      if (literals.length === 0 || line.trimStart().startsWith("*")) return;
      let method: SdkClientEndpoint["method"] | undefined;
      if (getters) {
        const getter = /get\s+(\w+)\(\)/.exec(lines[index - 1] ?? "")?.[1];
        method = getter ? getters[getter] : undefined;
        if (!method) throw new Error(`${source}: a path outside the known getters`);
      } else {
        // The method is named in the same call, at most a few lines below,
        // before the next path literal starts another call.
        for (let j = index; j < Math.min(lines.length, index + 8); j += 1) {
          if (j > index && PATH_LITERAL.test(lines[j]!)) break;
          PATH_LITERAL.lastIndex = 0;
          const m = METHOD.exec(j === index ? line.slice(line.indexOf(literals.at(-1)!)) : lines[j]!);
          if (m) {
            method = m[1] as SdkClientEndpoint["method"];
            break;
          }
        }
        PATH_LITERAL.lastIndex = 0;
        method ??= "GET";
      }
      for (const literal of literals) add({ method, path: toPattern(literal, source), source });
    });
    if (getters) {
      for (const getter of Object.keys(getters)) {
        if (!lines.some((line) => line.includes(`get ${getter}()`))) throw new Error(`${name}: getter ${getter} not found`);
      }
    }
  }
  return [...found.values()].sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
}
