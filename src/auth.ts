/**
 * The `Auth` instance `langgraph.json` points at, built from the `AUTH_*`
 * environment for the host it runs in (`langgraph dev`, LangGraph Platform's
 * worker, or your own `startServer`; see `createAuthFromEnv`). A bad variable
 * or a host that cannot be told stops the server at start with one message
 * naming every problem.
 */
import type { Auth } from "@langchain/langgraph-sdk/auth";
import { createAuthFromEnv } from "./langgraph/create-env-auth.ts";

export const auth: Auth = createAuthFromEnv(process.env);
