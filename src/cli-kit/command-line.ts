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

/** One option of {@link parseCommandLine}: a string (possibly repeated) or a boolean. */
export interface CommandLineOption {
  type: "string" | "boolean";
  multiple?: boolean;
}

/**
 * Parse a command line with `node:util` `parseArgs`, but with this
 * package's own messages: an unexpected argument is named by its position
 * (and an option by its name only when it is one of the command's), never
 * quoted, since a user may paste a token in the wrong place. Node's own
 * messages quote the argument.
 *
 * @param offset arguments before `args` on the command line after the command's name (1 for a subcommand's).
 * @throws {UsageError} every unknown option, stray positional argument, missing or unwanted value, at once.
 * @example
 * const { values, positionals } = parseCommandLine(args, { file: { type: "string" } }, true);
 */
export function parseCommandLine(
  args: string[],
  options: Readonly<Record<string, CommandLineOption>>,
  allowPositionals: boolean,
  offset = 0,
): { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] } {
  const own = (name: string) => (Object.hasOwn(options, name) ? options[name] : undefined);
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...options }, strict: false, allowPositionals: true, tokens: true });
  } catch {
    throw new UsageError("the command line cannot be read");
  }
  const problems: string[] = [];
  for (const token of parsed.tokens) {
    const where = `argument ${token.index + 1 + offset} after the command's name`;
    if (token.kind === "positional" && !allowPositionals) problems.push(`${where} is unexpected: this command takes no positional arguments (not shown, in case it is a secret)`);
    if (token.kind !== "option") continue;
    const option = own(token.name);
    if (!option) problems.push(`${where} is not an option of this command (not shown, in case it is a secret)`);
    else if (option.type === "string" && typeof token.value !== "string") problems.push(`--${token.name} needs a value`);
    else if (option.type === "boolean" && token.inlineValue) problems.push(`--${token.name} takes no value`);
  }
  if (problems.length) throw new UsageError(problems.join("\n"));
  return { values: parsed.values as Record<string, string | boolean | string[] | undefined>, positionals: parsed.positionals };
}

/**
 * Parse a command's flags (no positional arguments): each flag takes a
 * string or is a boolean. See {@link parseCommandLine}.
 *
 * @throws {UsageError} an unknown flag, a missing value, a positional argument: named by position, never quoted.
 * @example
 * const values = parseFlags(args, { url: "string", yes: "boolean" });
 */
export function parseFlags(args: string[], flags: Readonly<Record<string, "string" | "boolean">>): Record<string, string | boolean | undefined> {
  const options = Object.fromEntries(Object.entries(flags).map(([name, type]) => [name, { type }]));
  return parseCommandLine(args, options, false).values as Record<string, string | boolean | undefined>;
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
