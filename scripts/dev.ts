/**
 * `npm run dev`: `langgraph dev` with this package's auth, on a local
 * development issuer when no `AUTH_ISSUER` is set (a fresh machine has no
 * identity provider). Offline: no browser, no analytics. Each decision event
 * the server writes on standard error (a JSON line) is shown as one readable
 * line instead: reason, route and caller, never a token.
 */
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { startLocalIssuer, type LocalIssuer } from "../test/support/local-issuer.ts";
import { DEV_AUDIENCE, DEV_ISSUER_PORT, DEV_KEY_DIR } from "../test/support/dev-settings.ts";
import { readConfig } from "../src/config/read-config.ts";
import { ConfigError } from "../src/errors.ts";
import { formatDecision } from "../src/decision/format-decision.ts";
import type { DecisionRecord } from "../src/decision/decision-event.ts";

const require = createRequire(import.meta.url);
const cli = require.resolve("@langchain/langgraph-cli/dist/cli/cli.mjs");

let issuer: LocalIssuer | undefined;
const env: NodeJS.ProcessEnv = { ...process.env, LANGGRAPH_CLI_NO_ANALYTICS: "1", BROWSER: "none" };
if (!process.env.AUTH_ISSUER) {
  issuer = await startLocalIssuer({ port: DEV_ISSUER_PORT, keyDir: DEV_KEY_DIR, audience: DEV_AUDIENCE });
  Object.assign(env, issuer.env());
  console.log(`local issuer: ${issuer.issuer} (key in .dev-issuer/)`);
  console.log(`get a token:  npm run token -- --tenant acme --sub alice`);
}

// Check the AUTH_* values before starting: langgraph dev would print the same
// message but then sit in watch mode without serving anything. The server
// adds langgraph.json's `env` (AUTH_CUSTOM_ROUTES for the sample app) under
// the shell's, so the check does too.
const configEnv = (JSON.parse(readFileSync(new URL("../langgraph.json", import.meta.url), "utf8")) as { env?: unknown }).env;
try {
  readConfig({ ...(typeof configEnv === "object" && configEnv !== null ? (configEnv as Record<string, string>) : {}), ...env });
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  await issuer?.close();
  process.exit(1);
}

const port = String(process.env.PORT ?? (await firstFreePort(2024)));
console.log(`API:          http://localhost:${port}`);
const child = spawn(process.execPath, [cli, "dev", "--no-browser", "--port", port, ...process.argv.slice(2)], {
  env,
  stdio: ["inherit", "inherit", "pipe"],
});
createInterface({ input: child.stderr! }).on("line", (line) => process.stderr.write(`${readable(line)}\n`));

/** A decision event's line as one readable line (see docs/observability.md); any other line as it is. */
function readable(line: string): string {
  if (!line.startsWith('{"type":"auth.decision')) return line;
  try {
    return formatDecision(JSON.parse(line) as DecisionRecord);
  } catch {
    return line;
  }
}
const stop = async () => {
  child.kill("SIGTERM");
  await issuer?.close();
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
child.on("exit", async (code) => {
  await issuer?.close();
  process.exit(code ?? 0);
});

/** LangGraph's usual port, or the next free one when something already holds it. */
async function firstFreePort(from: number): Promise<number> {
  for (let port = from; port < from + 20; port++) {
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer()
        .once("error", () => resolve(false))
        .listen(port, "localhost", () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port from ${from} to ${from + 19}; set PORT`);
}
