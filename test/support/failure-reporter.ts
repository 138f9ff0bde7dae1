/**
 * A vitest reporter for CI (`.ci/run`): when tests fail, it writes, for each
 * failing test and each test file that failed outside a test (a hook, an
 * import), everything needed to understand it without re-running: the full
 * name, every error in full (message, diff, stack, causes) and everything
 * the test and its file printed (console output is captured per test).
 *
 * Output goes to the file named by `FAILURE_LOG` (default
 * `.ci/logs/failures.log`); nothing is written when everything passed.
 * Use it beside the default reporter:
 *
 * @example
 * FAILURE_LOG=.ci/logs/failures.log npx vitest run --reporter=default --reporter=./test/support/failure-reporter.ts
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Reporter, TestModule, TestRunEndReason } from "vitest/node";

type UserConsoleLog = Parameters<NonNullable<Reporter["onUserConsoleLog"]>>[0];
type SerializedError = Parameters<NonNullable<Reporter["onTestRunEnd"]>>[1][number];

function describeError(error: SerializedError): string {
  const head = `${error.name ?? "Error"}: ${error.message}`;
  const lines: string[] = [];
  // A stack starts with the message; print the message alone only when there is no stack.
  if (!error.stack?.includes(error.message)) lines.push(head);
  if (typeof error.diff === "string" && error.diff) lines.push(error.diff);
  lines.push(error.stack ?? "(no stack)");
  if (error.cause && typeof error.cause === "object") lines.push("Caused by:", describeError(error.cause as SerializedError));
  return lines.join("\n");
}

export default class FailureReporter implements Reporter {
  readonly #path = process.env.FAILURE_LOG ?? ".ci/logs/failures.log";
  readonly #output = new Map<string, string[]>();

  onInit(): void {
    rmSync(this.#path, { force: true }); // a log from an earlier run must not look like this one's
  }

  onUserConsoleLog(log: UserConsoleLog): void {
    const key = log.taskId ?? "";
    const list = this.#output.get(key) ?? [];
    list.push(`[${log.type}] ${log.content}`);
    this.#output.set(key, list);
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandled: ReadonlyArray<SerializedError>, reason: TestRunEndReason): void {
    if (reason === "passed") return;
    const out: string[] = [];
    const printed = (id: string) => (this.#output.get(id) ?? []).join("");
    for (const module of modules) {
      const moduleErrors = module.errors();
      const failed = [...module.children.allTests("failed")];
      if (moduleErrors.length === 0 && failed.length === 0) continue;
      out.push(`${"=".repeat(100)}\nFILE ${module.moduleId}`);
      for (const error of moduleErrors) out.push(`-- error outside any test (hook or import):\n${describeError(error)}`);
      const fileOutput = printed(module.id);
      if (fileOutput) out.push(`-- output of the file outside its tests:\n${fileOutput}`);
      for (const test of failed) {
        out.push(`${"-".repeat(100)}\nFAILED ${test.fullName}`);
        for (const error of test.result().errors ?? []) out.push(describeError(error));
        const testOutput = printed(test.id);
        out.push(testOutput ? `-- output of the test:\n${testOutput}` : "-- the test printed nothing");
      }
    }
    for (const error of unhandled) out.push(`${"=".repeat(100)}\nUNHANDLED ERROR\n${describeError(error)}`);
    if (out.length === 0) out.push(`the run ended with "${reason}" and no failing test was reported`);
    mkdirSync(dirname(this.#path), { recursive: true });
    writeFileSync(this.#path, `${out.join("\n")}\n`);
  }
}
