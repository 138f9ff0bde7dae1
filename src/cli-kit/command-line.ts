/**
 * What the commands read the same way from their command lines: a usage
 * error that names every problem at once, seconds, a deployment URL, and a
 * token from a flag, a file or the environment (so CI can keep it out of
 * the command line, where other local users see it).
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

/**
 * The command line is wrong: the message names every problem. Exit code 2.
 *
 * @example
 * if (problems.length) throw new UsageError(problems.join("\n"));
 */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * Parse a command's flags with `node:util` `parseArgs` (strict, no
 * positional arguments): each flag takes a string or is a boolean.
 *
 * @throws {UsageError} an unknown flag, a missing value, a positional argument.
 * @example
 * const values = parseFlags(args, { url: "string", yes: "boolean" });
 */
export function parseFlags(args: string[], flags: Readonly<Record<string, "string" | "boolean">>): Record<string, string | boolean | undefined> {
  try {
    return parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: Object.fromEntries(Object.entries(flags).map(([name, type]) => [name, { type }])),
    }).values as Record<string, string | boolean | undefined>;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/**
 * Read a positive number of seconds given as `--<option>`, in milliseconds.
 *
 * @param problems where a bad value is described (the fallback is returned then).
 * @example
 * const timeoutMs = readSeconds("request-timeout", values["request-timeout"], 30, problems); // 30000 when not given
 */
export function readSeconds(option: string, value: string | undefined, fallback: number, problems: string[]): number {
  if (value === undefined) return fallback * 1000;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) {
    problems.push(`--${option} must be a positive number of seconds`);
    return fallback * 1000;
  }
  return Math.round(n * 1000);
}

/**
 * Check a deployment's base URL: http(s), no credentials in it.
 *
 * @param missing what to say when no URL was given (which flag or variable sets it).
 * @example
 * requireDeploymentUrl(values.url ?? env.OFFBOARD_URL, problems, "--url is missing (or set OFFBOARD_URL)");
 */
export function requireDeploymentUrl(url: string | undefined, problems: string[], missing: string): void {
  if (!url) {
    problems.push(missing);
    return;
  }
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") problems.push("--url must be an http(s) URL");
    if (parsed.username || parsed.password) problems.push("--url must not carry credentials");
  } catch {
    problems.push("--url is not a URL");
  }
}

/** Where one token may come from, first given wins only when it is the only one. */
export interface TokenSources {
  /** The flag holding the token itself (visible in the process list: a warning). */
  flag: string;
  flagValue: string | undefined;
  /** The flag naming a file that holds the token. */
  fileFlag: string;
  fileValue: string | undefined;
  /** The variable holding the token; `<envName>_FILE` names a file. Used only when no flag is given. */
  envName: string;
  /** Whose token it is, for the messages ("tenant A's token"). */
  whose: string;
}

/**
 * Read a token from its flag, its file flag, `<envName>` or `<envName>_FILE`:
 * exactly one of the two flags, else the variable, else the file variable.
 * A leading `Bearer ` is dropped; an empty token or one with whitespace is refused.
 *
 * @returns the token, or `undefined` with the reason pushed to `problems`.
 * @example
 * const token = readToken({ flag: "--token", flagValue, fileFlag: "--token-file", fileValue, envName: "OFFBOARD_TOKEN", whose: "the tenant's token" }, env, true, problems, warnings);
 */
export function readToken(sources: TokenSources, env: NodeJS.ProcessEnv, required: boolean, problems: string[], warnings: string[]): string | undefined {
  const { flag, flagValue, fileFlag, fileValue, envName, whose } = sources;
  const given: Array<[string, () => string]> = [];
  if (flagValue !== undefined) given.push([flag, () => flagValue]);
  if (fileValue !== undefined) given.push([fileFlag, () => readFileSync(fileValue, "utf8")]);
  if (given.length === 0 && env[envName]) given.push([envName, () => env[envName]!]);
  if (given.length === 0 && env[`${envName}_FILE`]) given.push([`${envName}_FILE`, () => readFileSync(env[`${envName}_FILE`]!, "utf8")]);
  if (given.length > 1) {
    problems.push(`give ${whose} once: ${given.map((s) => s[0]).join(" and ")} both set`);
    return undefined;
  }
  const [source, read] = given[0] ?? [];
  if (!source || !read) {
    if (required) problems.push(`${whose} is missing: set ${fileFlag}, ${envName} or ${flag}`);
    return undefined;
  }
  let value: string;
  try {
    value = read().trim().replace(/^Bearer\s+/i, "");
  } catch (error) {
    problems.push(`${source}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    return undefined;
  }
  if (value === "" || /\s/.test(value)) {
    problems.push(`${source}: the token is empty or contains whitespace`);
    return undefined;
  }
  if (source === flag) warnings.push(`${flag} is visible to other local users in the process list; prefer ${envName} or ${fileFlag}`);
  return value;
}
