#!/usr/bin/env node
/**
 * The package's command line (`npx langgraph-tenant-auth <command>`).
 * Commands: `check-isolation` (see `--help`).
 */
import { runCheckIsolationCli } from "./check-isolation/run-cli.ts";

const [command, ...args] = process.argv.slice(2);

if (command === "check-isolation") {
  runCheckIsolationCli(args, process.env).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`check-isolation: ${(error as Error).message}\n`);
      process.exitCode = 1;
    },
  );
} else {
  process.stderr.write(`Usage: langgraph-tenant-auth check-isolation --url <deployment> [options]   (--help for more)\n`);
  process.exitCode = command === undefined || command === "--help" || command === "-h" ? 0 : 2;
}
