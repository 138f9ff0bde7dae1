/**
 * The `Auth` instance `langgraph.json` points at, built from the `AUTH_*`
 * environment. A bad variable stops the server at start with one message
 * naming every problem.
 */
import type { Auth } from "@langchain/langgraph-sdk/auth";
import { readConfig } from "./config/read-config.ts";
import { createAuthenticator } from "./authenticate/create-authenticator.ts";
import { createTenantAuth } from "./langgraph/create-tenant-auth.ts";

const config = readConfig(process.env);

export const auth: Auth = createTenantAuth({
  authenticator: createAuthenticator({ config }),
  visibility: config.visibility,
});
