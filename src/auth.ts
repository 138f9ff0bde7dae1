/**
 * The `Auth` instance `langgraph.json` points at, built from the `AUTH_*`
 * environment. A bad variable stops the server at start with one message
 * naming every problem.
 */
import type { Auth } from "@langchain/langgraph-sdk/auth";
import { readConfig } from "./config/read-config.ts";
import { createAuthenticator } from "./authenticate/create-authenticator.ts";
import { createTenantAuth } from "./langgraph/create-tenant-auth.ts";
import { createRoutePolicy } from "./policy/route-policy.ts";
import { createRouteGuard } from "./langgraph/create-route-guard.ts";
import { createRunCheck } from "./langgraph/create-run-check.ts";
import { CUSTOM_ROUTES } from "./policy/custom-route-prefixes.ts";

const config = readConfig(process.env);
// The sample custom routes (`http.app` in langgraph.json) are let through by
// exact method and path; the Hono tenant middleware guards them.
const routePolicy = createRoutePolicy({ operatorPermissions: config.routePermissions, extraRoutes: CUSTOM_ROUTES });

export const auth: Auth = createTenantAuth({
  authenticator: createAuthenticator({ config }),
  visibility: config.visibility,
  guard: createRouteGuard({ policy: routePolicy, visibility: config.visibility }),
  checkRun: createRunCheck({ policy: routePolicy, visibility: config.visibility }),
});
