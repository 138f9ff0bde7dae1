/**
 * `npm run dev`: the bin's `dev` command (`npx langgraph-tenant-auth dev` in
 * an app) run from the sources on this repository's `langgraph.json`, with
 * the local issuer's key kept in `.dev-issuer/` (git-ignored), where the
 * tests and `npm run token` find it too.
 */
import { runDevCli } from "../src/dev/run-dev-cli.ts";
import { DEV_KEY_DIR } from "../test/support/dev-settings.ts";
import { PROJECT_ROOT } from "../test/support/langgraph-dev.ts";

process.exitCode = await runDevCli(["--key-dir", DEV_KEY_DIR, ...process.argv.slice(2)], process.env, undefined, {
  cwd: PROJECT_ROOT,
  tokenCommand: "npm run token --",
});
