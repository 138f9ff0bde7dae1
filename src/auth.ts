/**
 * The `Auth` instance `langgraph.json` points at, built from the `AUTH_*`
 * environment. A bad variable stops the server at start with one message
 * naming every problem.
 */
import { readConfig } from "./config/read-config.ts";
import { createAuthenticator } from "./authenticate/create-authenticator.ts";
import { createTenantAuth } from "./langgraph/create-tenant-auth.ts";
import { createRoutePolicy } from "./policy/route-policy.ts";
import { createRouteGuard } from "./langgraph/create-route-guard.ts";
import { createRunCheck } from "./langgraph/create-run-check.ts";

const config = readConfig(process.env);
const routePolicy = createRoutePolicy({ operatorPermissions: config.routePermissions });

export const auth = createTenantAuth({
  authenticator: createAuthenticator({ config }),
  visibility: config.visibility,
  guard: createRouteGuard({ policy: routePolicy, visibility: config.visibility }),
  checkRun: createRunCheck({ policy: routePolicy, visibility: config.visibility }),
});
