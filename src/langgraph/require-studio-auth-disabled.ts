import { ConfigError } from "../errors.ts";

/** The `auth` section of the options the LangGraph JS server was started with. */
export interface ServerAuthOptions {
  path?: string;
  disable_studio_auth?: boolean;
}

/**
 * The `auth` options of the LangGraph JS server this process is, read from
 * its command line: `@langchain/langgraph-api` 1.5.1 starts its server
 * process with `<ppid> <options as JSON>` as the last two arguments
 * (cli/entrypoint.mjs). `undefined` when the process is not such a server.
 *
 * @example
 * readServerAuthOptions(["node", "entrypoint.mjs", "42", '{"auth":{"path":"./auth.ts:auth"}}']); // { path: "./auth.ts:auth" }
 */
export function readServerAuthOptions(argv: readonly string[]): ServerAuthOptions | undefined {
  const last = argv.at(-1);
  if (typeof last !== "string" || !last.startsWith("{")) return undefined;
  try {
    const options = JSON.parse(last) as { auth?: unknown; graphs?: unknown };
    if (options === null || typeof options !== "object" || typeof options.graphs !== "object") return undefined;
    const auth = options.auth;
    return auth !== null && typeof auth === "object" ? (auth as ServerAuthOptions) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Refuse to start a LangGraph JS server that honours Studio's
 * `x-auth-scheme: langsmith` header.
 *
 * Why: unless `langgraph.json` sets `auth.disable_studio_auth: true` (the
 * server's default is `false`), a request carrying that header skips
 * `authenticate`, and with it the route guard. No `.on` handler runs for
 * `POST /internal/truncate`, so one such request with no token at all wipes
 * every tenant's threads, runs, assistants and store. The handlers refuse
 * the Studio user on every event, but they cannot see that route.
 *
 * Does nothing when this process is not a LangGraph JS server started by its
 * CLI (the managed platform, tests).
 *
 * @throws {ConfigError} the server was started with Studio auth enabled.
 * @example
 * requireStudioAuthDisabled(); // at module load, next to createTenantAuth
 */
export function requireStudioAuthDisabled(argv: readonly string[] = process.argv): void {
  const auth = readServerAuthOptions(argv);
  if (auth && auth.disable_studio_auth !== true) {
    throw new ConfigError([
      'langgraph.json: set "auth": { ..., "disable_studio_auth": true }. Otherwise any request with the header ' +
        '"x-auth-scheme: langsmith" skips authentication and the route policy (POST /internal/truncate would wipe every tenant).',
    ]);
  }
}
