/**
 * Where the `dev` command's local issuer listens and keeps its key, and what
 * the `token` command signs for: the two commands must agree on all of it.
 */
import { PERMISSIONS } from "../policy/event-permission.ts";

/**
 * `aud` of the local issuer's tokens (and `AUTH_AUDIENCE` of the server `dev` starts).
 *
 * @example
 * startLocalIssuer({ audience: DEV_AUDIENCE });
 */
export const DEV_AUDIENCE = "langgraph-dev";

/**
 * The local issuer's port unless `DEV_ISSUER_PORT` says otherwise.
 *
 * @example
 * devIssuerPort({}) === DEFAULT_DEV_ISSUER_PORT; // 9400
 */
export const DEFAULT_DEV_ISSUER_PORT = 9400;

/**
 * Where the local issuer keeps its private key, relative to the app's folder
 * unless `--key-dir` says otherwise: a cache folder npm and git already
 * leave alone, so the key is never committed, and kept between runs so
 * minted tokens stay valid across restarts.
 *
 * @example
 * resolve(appDir, DEFAULT_DEV_KEY_DIR); // "<app>/node_modules/.cache/langgraph-tenant-auth/dev-issuer"
 */
export const DEFAULT_DEV_KEY_DIR = "node_modules/.cache/langgraph-tenant-auth/dev-issuer";

/**
 * Every permission of the default table: what a minted token carries unless `--scope` says otherwise.
 *
 * @example
 * ALL_PERMISSIONS.split(" ").length; // 8
 */
export const ALL_PERMISSIONS = PERMISSIONS.join(" ");

/**
 * The local issuer's port: `DEV_ISSUER_PORT`, else {@link DEFAULT_DEV_ISSUER_PORT}.
 *
 * @throws {TypeError} `DEV_ISSUER_PORT` is not a port number.
 * @example
 * devIssuerPort({ DEV_ISSUER_PORT: "9500" }); // 9500
 */
export function devIssuerPort(env: NodeJS.ProcessEnv): number {
  const value = env.DEV_ISSUER_PORT;
  if (value === undefined || value === "") return DEFAULT_DEV_ISSUER_PORT;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new TypeError("DEV_ISSUER_PORT must be a port number (1 to 65535)");
  return port;
}

/**
 * `iss` of the local issuer on `port` (loopback only).
 *
 * @example
 * devIssuerUrl(9400); // "http://127.0.0.1:9400"
 */
export function devIssuerUrl(port: number): string {
  return `http://127.0.0.1:${port}`;
}
