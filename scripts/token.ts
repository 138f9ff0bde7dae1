/**
 * `npm run token -- --tenant acme --sub alice [--scope "threads:read ..."] [--roles admin] [--expires-in 3600]`:
 * the bin's `token` command (`npx langgraph-tenant-auth token` in an app)
 * run from the sources, signing with the key `npm run dev` keeps in `.dev-issuer/`.
 */
import { runTokenCli } from "../src/dev/run-token-cli.ts";
import { DEV_KEY_DIR } from "../test/support/dev-settings.ts";

process.exitCode = await runTokenCli(["--key-dir", DEV_KEY_DIR, ...process.argv.slice(2)], process.env);
