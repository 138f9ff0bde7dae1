/**
 * "Your own `startServer`": a program that starts the LangGraph JS server
 * itself (`startServer` of `@langchain/langgraph-api/server`) with this
 * checkout's `Auth`, as docs/deploying.md describes; host `js`
 * (`AUTH_SERVER=js`: nothing detects it). Run as
 * `node --import tsx test/support/own-server.ts <dir>` where `<dir>` is a
 * folder inside the checkout (the server joins graph paths onto it); prints
 * `PORT <n>` once it listens, and stops on SIGTERM.
 */
import { relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startServer } from "@langchain/langgraph-api/server";

const root = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const cwd = resolve(process.argv[2] ?? ".");
const at = (file: string) => relative(cwd, resolve(root, file));
const { host, cleanup } = await startServer({
  // Any free port: the server says which.
  port: 0,
  nWorkers: 1,
  host: "127.0.0.1",
  cwd,
  graphs: { echo: `${at("examples/graphs/echo.ts")}:graph` },
  auth: { path: `${at("src/auth.ts")}:auth`, disable_studio_auth: true },
} as Parameters<typeof startServer>[0]);
console.log(`PORT ${host.split(":").pop()}`);
process.once("SIGTERM", () => void cleanup().finally(() => process.exit(0)));
