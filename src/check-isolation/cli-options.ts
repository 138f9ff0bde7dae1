/**
 * The command line of `check-isolation`, read with `node:util` `parseArgs`
 * (`parseFlags`).
 * Tokens come from a flag, a file or an environment variable, so CI can keep
 * them out of the command line (where other local users see them).
 */
import { parseFlags, readSeconds, readToken, requireDeploymentUrl, UsageError } from "../cli-kit/command-line.ts";

export { UsageError };

/** The command's settings. */
export interface CliOptions {
  url: string;
  tokens: { a: string; b: string; a2?: string };
  graph?: string;
  json?: string;
  junit?: string;
  namespaceA?: string[];
  namespaceB?: string[];
  requestTimeoutMs: number;
  timeLimitMs: number;
  /** Notes for stderr (a token passed as a flag, for example). */
  warnings: string[];
}

/** The help text. */
export const USAGE = `Usage: langgraph-tenant-auth check-isolation --url <deployment> [options]

Proves a live LangGraph deployment keeps two tenants apart: tenant A builds a
small world, tenant B tries every endpoint against it, A re-reads it, and
everything created (marked with a run marker) is deleted at the end.

Tokens (each from a flag, a file, or the environment; prefer files or env):
  --token-a <jwt>        --token-a-file <path>    CHECK_ISOLATION_TOKEN_A[_FILE]
  --token-b <jwt>        --token-b-file <path>    CHECK_ISOLATION_TOKEN_B[_FILE]
  --token-a2 <jwt>       --token-a2-file <path>   CHECK_ISOLATION_TOKEN_A2[_FILE]
                         (optional: another, read-only user of tenant A; enables owner/permission probes)
Options:
  --url <url>                 deployment base URL (or CHECK_ISOLATION_URL)
  --graph <id>                graph for runs (default: the first system assistant's graph, else A's own assistant's)
  --json <file>               write the report as JSON
  --junit <file>              write the report as JUnit XML
  --namespace-a <a.b>         store namespace prefix of tenant A (default: found from its metadata and claims)
  --namespace-b <a.b>         the same for tenant B
  --request-timeout <seconds> per request (default 30)
  --time-limit <seconds>      for the whole check, cleanup excluded (default 600)
  -h, --help

Exit code: 0 nothing leaked and nothing errored; 1 a leak, an error or a failed cleanup;
2 a usage error; 130/143 interrupted (everything created was still deleted).
`;

/**
 * Read the options of `check-isolation` from its arguments and environment.
 *
 * @throws {UsageError} naming every problem at once.
 * @example
 * const options = readCliOptions(["--url", "https://preview.example.com", "--token-a-file", "a.jwt", "--token-b-file", "b.jwt"], process.env);
 */
export function readCliOptions(args: string[], env: NodeJS.ProcessEnv): CliOptions {
  const values = parseFlags(args, {
    url: "string",
    "token-a": "string",
    "token-a-file": "string",
    "token-b": "string",
    "token-b-file": "string",
    "token-a2": "string",
    "token-a2-file": "string",
    graph: "string",
    json: "string",
    junit: "string",
    "namespace-a": "string",
    "namespace-b": "string",
    "request-timeout": "string",
    "time-limit": "string",
  });
  const problems: string[] = [];
  const warnings: string[] = [];
  const str = (name: string) => values[name] as string | undefined;

  const token = (who: "a" | "b" | "a2", required: boolean): string | undefined =>
    readToken(
      {
        flag: `--token-${who}`,
        flagValue: str(`token-${who}`),
        fileFlag: `--token-${who}-file`,
        fileValue: str(`token-${who}-file`),
        envName: `CHECK_ISOLATION_TOKEN_${who.toUpperCase()}`,
        whose: `tenant ${who.toUpperCase()}'s token`,
      },
      env,
      required,
      problems,
      warnings,
    );

  const url = str("url") ?? env.CHECK_ISOLATION_URL;
  requireDeploymentUrl(url, problems, "--url is missing (or set CHECK_ISOLATION_URL)");
  const a = token("a", true);
  const b = token("b", true);
  const a2 = token("a2", false);
  if (a && b && a === b) problems.push("tenant A's and tenant B's tokens are the same token");
  const namespace = (name: string) => {
    const value = str(name);
    if (value === undefined) return undefined;
    const labels = value.split(".");
    if (labels.some((l) => l === "")) problems.push(`--${name} must be dot-separated non-empty labels`);
    return labels;
  };
  const namespaceA = namespace("namespace-a");
  const namespaceB = namespace("namespace-b");
  const requestTimeoutMs = readSeconds("request-timeout", str("request-timeout"), 30, problems);
  const timeLimitMs = readSeconds("time-limit", str("time-limit"), 600, problems);
  if (problems.length) throw new UsageError(problems.join("\n"));
  return {
    url: url!,
    tokens: { a: a!, b: b!, ...(a2 ? { a2 } : {}) },
    ...(str("graph") ? { graph: str("graph") } : {}),
    ...(str("json") ? { json: str("json") } : {}),
    ...(str("junit") ? { junit: str("junit") } : {}),
    ...(namespaceA ? { namespaceA } : {}),
    ...(namespaceB ? { namespaceB } : {}),
    requestTimeoutMs,
    timeLimitMs,
    warnings,
  };
}
