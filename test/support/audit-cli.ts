/** Run the audit command line from a test, as `npm run audit` does (the bin's `audit` command, from the sources). */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { PROJECT_ROOT } from "./langgraph-dev.ts";

const run = promisify(execFile);

/**
 * Run `npm run audit -- ...args` (the same command line, `src/cli.ts audit`,
 * without npm's banner) with `env` added to this process's environment. A non-zero exit
 * is returned as `code`, not thrown, so a test can assert on it.
 *
 * @example
 * const { code, stdout } = await auditCli({}, "verify", file);
 */
export async function auditCli(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ["--import", "tsx", "src/cli.ts", "audit", ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
