import type { Auth } from "@langchain/langgraph-sdk/auth";
import { createAuthenticator } from "../authenticate/create-authenticator.ts";
import { readConfig } from "../config/read-config.ts";
import { ConfigError } from "../errors.ts";
import { createRoutePolicy, type RoutePolicy } from "../policy/route-policy.ts";
import { createPlatformRouteGuard } from "./create-platform-route-guard.ts";
import { createRouteGuard } from "./create-route-guard.ts";
import { createRunCheck } from "./create-run-check.ts";
import { createTenantAuth } from "./create-tenant-auth.ts";
import { resolveHost } from "./detect-host.ts";
import { sharedDecisionLog } from "../decision/shared-decision-log.ts";

/** Options of {@link createAuthFromEnv}. */
export interface EnvAuthOptions {
  /** The command line host detection reads. Default `process.argv`. */
  argv?: readonly string[];
  /** Where the start-up line goes. Default `console.info`. */
  log?: (line: string) => void;
}

/**
 * The `Auth` of `src/auth.ts`, built from `AUTH_*` variables for the host it
 * runs in: `AUTH_SERVER`, else detected (see `detect-host.ts`).
 *
 * - `dev` / `js`: the route guard reads a bounded body and the server's
 *   storage; the run check reads the stored assistant and thread.
 * - `platform`: the route guard decides on method, path and query (the
 *   platform's table); the run check reads `value.kwargs` only and leaves
 *   the assistant and thread to the platform's own filters.
 *
 * The app's own routes (`http.app`) named in `AUTH_CUSTOM_ROUTES` are let
 * through by exact method and path on every host; the app's Hono tenant
 * middleware must guard them. None are let through by default.
 *
 * @throws {ConfigError} a bad variable, or a host that cannot be told.
 * @example
 * export const auth = createAuthFromEnv(process.env);
 */
export function createAuthFromEnv(env: Record<string, string | undefined> = process.env, options: EnvAuthOptions = {}): Auth {
  const config = readConfig(env);
  const resolution = resolveHost(config.server, { argv: options.argv ?? process.argv, env });
  const { host } = resolution;
  let policy: RoutePolicy;
  try {
    policy = createRoutePolicy({ operatorPermissions: config.routePermissions, extraRoutes: config.customRoutes ?? [], host });
  } catch (error) {
    // The only option not already checked by readConfig: a custom route that overlaps the server's table.
    if (error instanceof TypeError && config.customRoutes) throw new ConfigError([`AUTH_CUSTOM_ROUTES: ${error.message}`]);
    throw error;
  }
  const guard =
    host === "platform" ? createPlatformRouteGuard({ policy }) : createRouteGuard({ policy, visibility: config.visibility });
  return createTenantAuth({
    authenticator: createAuthenticator({ config }),
    visibility: config.visibility,
    guard,
    checkRun: createRunCheck({ policy, visibility: config.visibility, host }),
    host: resolution,
    policy,
    studioAccess: config.studioAccess,
    systemAssistants: config.systemAssistants,
    log: options.log,
    env,
    decisions: sharedDecisionLog(config.decisionLog ?? { mode: "refusals", sink: "stderr" }, env),
  });
}
