#!/usr/bin/env node
/**
 * The package's command line (`npx langgraph-tenant-auth <command>`): one
 * small family of commands, each with its own `--help`. Every command module
 * is loaded only when its command runs.
 */

/** The commands and what each is for (the order of `--help`). */
const COMMANDS = {
  "check-isolation": "prove a live deployment keeps two tenants apart",
  offboard: "export everything a tenant owns, erase it, and prove nothing is left",
  audit: "verify, anchor, repair, query and export the audit trail (verify | head | repair | query | export)",
  dev: "run this app's langgraph dev with the package's auth on a local issuer",
  token: "mint a token for the local issuer of `dev`",
} as const;

type CommandName = keyof typeof COMMANDS;

const USAGE = `Usage: langgraph-tenant-auth <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, what]) => `  ${name.padEnd(17)}${what}`)
  .join("\n")}

Run \`langgraph-tenant-auth <command> --help\` for a command's options.
`;

async function run(command: CommandName, args: string[]): Promise<number> {
  switch (command) {
    case "check-isolation":
      return (await import("./check-isolation/run-cli.ts")).runCheckIsolationCli(args, process.env);
    case "offboard":
      return (await import("./offboard/run-offboard-cli.ts")).runOffboardCli(args, process.env);
    case "audit":
      return (await import("./audit-cli/run-audit-cli.ts")).runAuditCli(args, process.env);
    case "dev":
      return (await import("./dev/run-dev-cli.ts")).runDevCli(args, process.env);
    case "token":
      return (await import("./dev/run-token-cli.ts")).runTokenCli(args, process.env);
  }
}

const [command, ...args] = process.argv.slice(2);

if (command !== undefined && Object.hasOwn(COMMANDS, command)) {
  run(command as CommandName, args).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      // Commands redact their own output; an error that escapes carries no token either (none is ever put in a message).
      process.stderr.write(`${command}: ${(error as Error)?.message ?? String(error)}\n`);
      process.exitCode = 1;
    },
  );
} else {
  const help = command === undefined || command === "--help" || command === "-h";
  if (!help) process.stderr.write("langgraph-tenant-auth: the first argument is not a command (it is not shown, in case it is a secret)\n\n");
  (help ? process.stdout : process.stderr).write(USAGE);
  process.exitCode = help ? 0 : 2;
}
