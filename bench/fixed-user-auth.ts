/**
 * For `npm run bench:server` only: a LangGraph `Auth` that accepts every
 * request as one fixed user and registers no handler. It measures what the
 * server's own auth plumbing costs, so the table can tell it apart from the
 * cost of this package's token check and tenant handlers. Never deploy it.
 */
import { Auth } from "@langchain/langgraph-sdk/auth";

export const auth = new Auth().authenticate(async () => ({ identity: "bench-user", permissions: [] }));
