/**
 * For `npm run bench:server` only: the least work any `Auth` that checks a
 * bearer token against a cache of verified tokens does on every request. It
 * reads the Authorization header, takes its SHA-256 and looks it up in a map
 * (the first request of a header stores a fixed user), and one catch-all
 * handler returns a constant tenant filter, so the server filters every read
 * as it does for this package. It verifies nothing and checks no route, so
 * the table can show what such an `Auth` costs on this server at the least.
 * Never deploy it.
 */
import { Auth } from "@langchain/langgraph-sdk/auth";
import { hash } from "node:crypto";

const users = new Map<string, { identity: string; permissions: string[] }>();
const FILTER = { tenant_id: "acme" };

export const auth = new Auth()
  .authenticate(async (request: Request) => {
    const key = hash("sha256", request.headers.get("authorization") ?? "", "base64");
    let user = users.get(key);
    if (user === undefined) users.set(key, (user = { identity: "bench-user", permissions: [] }));
    return { ...user, permissions: user.permissions.slice() };
  })
  .on("*", () => FILTER);
