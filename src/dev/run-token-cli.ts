/**
 * `token`: a token signed by the local issuer of the `dev` command (same key
 * folder, same port), printed on stdout, for trying the package before an
 * identity provider is wired.
 */
import { resolve } from "node:path";
import type { CommandIo } from "../cli-kit/command-io.ts";
import { parseFlags, UsageError } from "../cli-kit/command-line.ts";
import { isTenantId } from "../tenant/tenant-id.ts";
import { ALL_PERMISSIONS, DEFAULT_DEV_KEY_DIR, DEV_AUDIENCE, devIssuerPort, devIssuerUrl } from "./dev-issuer-settings.ts";
import { loadDevSigningKey, signToken } from "./local-issuer.ts";

/**
 * The help text of `token`.
 *
 * @example
 * process.stdout.write(TOKEN_USAGE);
 */
export const TOKEN_USAGE = `Usage: langgraph-tenant-auth token --tenant <tenant> --sub <user> [options]

Prints a token signed by the local issuer of \`langgraph-tenant-auth dev\` (the
same key folder and port). For trying the package only: real tokens come from
your identity provider.

Options:
  --tenant <id>            the tenant, in the tenant claim
  --sub <user>             the user (the "sub" claim)
  --scope "<perm> ..."     permissions (default: all eight, ${ALL_PERMISSIONS.split(" ")[0]} ... store:write)
  --roles "<role> ..."     the "roles" claim (default: none)
  --expires-in <seconds>   lifetime (default 3600)
  --tenant-claim <name>    claim holding the tenant; a dotted name nests (default: AUTH_TENANT_CLAIM, else org_id)
  --key-dir <dir>          the issuer's key folder (default ${DEFAULT_DEV_KEY_DIR})
  -h, --help

The issuer's port is DEV_ISSUER_PORT (default 9400), as for \`dev\`.
Exit code: 0 printed; 2 a usage error.
`;

interface TokenOptions {
  tenant: string;
  sub: string;
  scope: string;
  roles: string[] | undefined;
  expiresIn: number;
  tenantClaim: string;
  keyDir: string;
  port: number;
}

function readTokenOptions(args: string[], env: NodeJS.ProcessEnv, cwd: string): TokenOptions {
  const values = parseFlags(args, {
    tenant: "string",
    sub: "string",
    scope: "string",
    roles: "string",
    "expires-in": "string",
    "tenant-claim": "string",
    "key-dir": "string",
  }) as Record<string, string | undefined>;
  const problems: string[] = [];
  if (!values.tenant) problems.push("--tenant is missing");
  else if (!isTenantId(values.tenant)) problems.push(`--tenant must be 1 to 128 ASCII letters, digits, ".", "_" or "-", starting with a letter or digit (the server refuses any other tenant id)`);
  if (!values.sub) problems.push("--sub is missing");
  const expiresIn = Number(values["expires-in"] ?? "3600");
  if (!Number.isInteger(expiresIn) || expiresIn <= 0) problems.push("--expires-in must be a whole number of seconds above 0");
  let port = 0;
  try {
    port = devIssuerPort(env);
  } catch (error) {
    problems.push((error as Error).message);
  }
  const tenantClaim = values["tenant-claim"] ?? (env.AUTH_TENANT_CLAIM || "org_id");
  if (tenantClaim.split(".").some((part) => part === "")) problems.push("--tenant-claim must be a claim name or a dotted path of names");
  if (problems.length) throw new UsageError(problems.join("\n"));
  return {
    tenant: values.tenant!,
    sub: values.sub!,
    scope: values.scope ?? ALL_PERMISSIONS,
    roles: values.roles === undefined ? undefined : values.roles.split(/[ ,]+/).filter(Boolean),
    expiresIn,
    tenantClaim,
    keyDir: resolve(cwd, values["key-dir"] ?? DEFAULT_DEV_KEY_DIR),
    port,
  };
}

/** `{ a: { b: value } }` for the path `a.b`. */
function nested(path: string, value: string): Record<string, unknown> {
  return path.split(".").reduceRight<unknown>((inner, name) => ({ [name]: inner }), value) as Record<string, unknown>;
}

/**
 * Run `token` with these arguments (after the command name).
 *
 * @returns the exit code.
 * @example
 * process.exitCode = await runTokenCli(["--tenant", "acme", "--sub", "alice"], process.env);
 */
export async function runTokenCli(args: string[], env: NodeJS.ProcessEnv, io: CommandIo = { stdout: process.stdout, stderr: process.stderr }, cwd = process.cwd()): Promise<number> {
  if (args.includes("-h") || args.includes("--help")) {
    io.stdout.write(TOKEN_USAGE);
    return 0;
  }
  let options: TokenOptions;
  try {
    options = readTokenOptions(args, env, cwd);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`token: ${error.message}\n\n${TOKEN_USAGE}`);
    return 2;
  }
  const key = await loadDevSigningKey(options.keyDir);
  const token = await signToken(
    key,
    {
      iss: devIssuerUrl(options.port),
      aud: DEV_AUDIENCE,
      sub: options.sub,
      ...nested(options.tenantClaim, options.tenant),
      scope: options.scope,
      ...(options.roles ? { roles: options.roles } : {}),
    },
    { expiresIn: options.expiresIn },
  );
  io.stdout.write(`${token}\n`);
  return 0;
}
