/**
 * Which server runs this `Auth`: the checks the package can make depend on it.
 *
 * - `dev`: the `@langchain/langgraph-api` server that `langgraph dev` starts.
 *   Its request context (Hono `contextStorage`, `LANGGRAPH_OPS`) and storage
 *   are reachable from `authenticate` and the handlers; the request has a body.
 * - `js`: the same server code started by a program of your own with
 *   `startServer(options, { ops })` from `@langchain/langgraph-api/server`
 *   (custom storage, same request context). Checked like `dev`.
 * - `platform`: LangGraph Platform (managed or self-hosted images). The HTTP
 *   API, storage and queue belong to the platform's own API server; this code
 *   runs in its Node worker, reached over loopback with a body-less `Request`
 *   and JSON `{ resource, action, value, context }` (see docs/deploying.md,
 *   "Deploying to LangGraph Platform").
 */
import { ConfigError } from "../errors.ts";

/** The three hosts the package knows. */
export type ServerHost = "dev" | "platform" | "js";

/** Where a host was read from (for the start-up log line). */
export interface HostResolution {
  host: ServerHost;
  /** `AUTH_SERVER` when it was set, else `detected`. */
  source: "AUTH_SERVER" | "detected";
  /** What detection alone found (`undefined`: nothing it knows). */
  detected: ServerHost | undefined;
}

/**
 * True when this process is the `@langchain/langgraph-api` server started by
 * its CLI: version 1.5.1 passes `<ppid> <options as JSON>` as the last two
 * arguments (cli/entrypoint.mjs), and the options always carry `graphs`.
 *
 * @example
 * isLangGraphCliServer(["node", "entrypoint.mjs", "42", '{"graphs":{}}']); // true
 */
export function isLangGraphCliServer(argv: readonly string[]): boolean {
  const last = argv.at(-1);
  if (typeof last !== "string" || !last.startsWith("{") || !/^\d+$/.test(argv.at(-2) ?? "")) return false;
  try {
    const options = JSON.parse(last) as { graphs?: unknown } | null;
    return options !== null && typeof options === "object" && options.graphs !== null && typeof options.graphs === "object";
  } catch {
    return false;
  }
}

/**
 * What the process shows about its host, without `AUTH_SERVER`:
 * `dev` for the CLI server's command line; `platform` when the platform's
 * variables are set (its image sets `LANGSERVE_GRAPHS` and, with an `auth`
 * section, `LANGGRAPH_AUTH`: langgraph-cli's docker.mjs; the worker reads
 * both); `undefined` otherwise. A `startServer` program shows nothing that
 * tells it apart from any other Node process, so `js` is never detected.
 *
 * @example
 * detectHost({ argv: process.argv, env: process.env });
 */
export function detectHost(input: { argv: readonly string[]; env: Record<string, string | undefined> }): ServerHost | undefined {
  if (isLangGraphCliServer(input.argv)) return "dev";
  const set = (name: string) => (input.env[name] ?? "").trim() !== "";
  if (set("LANGGRAPH_AUTH") || set("LANGSERVE_GRAPHS")) return "platform";
  return undefined;
}

/**
 * The host to build the checks for: `AUTH_SERVER` (already validated by
 * `readConfig`) when set, else what {@link detectHost} finds.
 *
 * Fails closed at start: a host that cannot be told is a `ConfigError`, never
 * a refusal request by request.
 *
 * @param override `config.server` (`AUTH_SERVER`), or `undefined`.
 * @throws {ConfigError} no `AUTH_SERVER` and nothing detected, or `AUTH_SERVER`
 * names another host than the one detected (`js` on the dev server's command line is allowed).
 * @example
 * const { host } = resolveHost(config.server);
 */
export function resolveHost(
  override: ServerHost | undefined,
  input: { argv: readonly string[]; env: Record<string, string | undefined> } = { argv: process.argv, env: process.env },
): HostResolution {
  const detected = detectHost(input);
  if (override !== undefined) {
    // An override that contradicts what the process plainly is would build the
    // wrong checks: the platform's table on the dev server relies on assistant
    // checks that server does not make (a tenant could run another tenant's
    // assistant); the dev checks in the platform worker find no storage and
    // would refuse every run, request by request. `js` on the dev CLI's
    // command line is the same server code, checked the same way.
    const contradicts = detected !== undefined && detected !== override && !(override === "js" && detected === "dev");
    if (contradicts) {
      throw new ConfigError([
        `AUTH_SERVER: set to "${override}", but this process is ${detected === "dev" ? "the langgraph dev server (its command line)" : "the LangGraph Platform worker (LANGGRAPH_AUTH or LANGSERVE_GRAPHS is set)"}; ` +
          `set AUTH_SERVER=${detected} or leave it unset`,
      ]);
    }
    return { host: override, source: "AUTH_SERVER", detected };
  }
  if (detected !== undefined) return { host: detected, source: "detected", detected };
  throw new ConfigError([
    "AUTH_SERVER: cannot tell which server runs this Auth. Set AUTH_SERVER=dev (langgraph dev), " +
      "AUTH_SERVER=platform (LangGraph Platform worker) or AUTH_SERVER=js (your own startServer(options, { ops }))",
  ]);
}
