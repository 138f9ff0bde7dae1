/**
 * A rule that refuses without a reason code is a failure, found two ways:
 *
 * - dynamically: every refusal path of the package (refusal-paths.ts, through
 *   the real wrappers) is driven, and each refusal must carry its reason
 *   code, from the closed list, on the decision event its wrapper recorded
 *   (or on the error, for the runtime checks that fail a run); and every
 *   code of REFUSAL_REASONS must be produced by some path, so a code nobody
 *   produces (or a new one without a path) fails here;
 * - statically: every `new` of an error class that serves several reasons
 *   (`TenantForbiddenError`, `RouteRefusedError`, `AuthError`) in `src/`
 *   names its reason, and no rule file writes a log line.
 *
 * Why one file and not a collector across the suite: the set of files a run
 * includes changes (`npm run test:unit`, one file, a filter), and a check
 * that depends on which other files ran would pass or fail by accident. This
 * file needs no server and produces every code itself, so it means the same
 * in every run; the server-level tests (isolation matrix, decision-log
 * integration) then hold the real server's refusals to the same codes.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDecisionLog } from "../../src/decision/decision-log.ts";
import type { DecisionRecord } from "../../src/decision/decision-event.ts";
import { isRefusalReason, REFUSAL_REASONS, type RefusalReason } from "../../src/errors.ts";
import { PROJECT_ROOT } from "../support/langgraph-dev.ts";
import { createRefusalWorld, refusalPaths, type RefusalWorld } from "./refusal-paths.ts";

const written: DecisionRecord[] = [];
const decisions = createDecisionLog({ sink: { write: (record) => void written.push(record) } });
const paths = refusalPaths(decisions);
let world: RefusalWorld;

beforeAll(async () => {
  world = await createRefusalWorld({ canary: "CanaryRefusalPaths", decisions });
});
afterAll(async () => {
  await world?.close();
});

describe("every refusal carries a reason code from the closed list", () => {
  it("each path's refusal names the reason it must, and every code of the list is produced", async () => {
    const produced = new Set<RefusalReason>();
    const wrong: string[] = [];
    for (const path of paths) {
      const observed = await path.drive(world);
      const reason = observed.kind === "event" ? observed.event.reason : observed.error.reason;
      if (!isRefusalReason(reason)) wrong.push(`${path.name}: ${String(reason)} is not in REFUSAL_REASONS`);
      else if (reason !== path.reason) wrong.push(`${path.name}: ${reason}, expected ${path.reason}`);
      else produced.add(reason);
      if (observed.kind === "event") {
        // One decision event per refusal, with everything §1 lists.
        const event = observed.event;
        expect(Object.keys(event)).toEqual([
          "type", "time", "decision_id", "host", "source", "outcome", "status", "reason", "route", "event", "resources", "tenant_id", "subject", "target_tenant_id",
          // An internal error also names what was thrown (its class: the broken guard's TypeError), never its message.
          ...(reason === "internal_error" ? ["error_class"] : []),
        ]);
        if (reason === "internal_error") expect(event.error_class, path.name).toBe("TypeError");
        expect(event.outcome, path.name).toBe(reason === "internal_error" ? "error" : "refused");
        expect(event.decision_id, path.name).toMatch(/^[0-9a-f-]{36}(:\d+)?$/);
        // A route of the table or an event; only a request on no route has neither.
        if (reason !== "unknown_route") expect(event.route ?? event.event, `${path.name}: a route or an event`).not.toBeNull();
      }
    }
    expect(wrong).toEqual([]);
    expect(REFUSAL_REASONS.filter((code) => !produced.has(code)), "codes no path produces").toEqual([]);
    // Every refusal was written too (none past the flood bound here), and no allowed decision (mode refusals).
    expect(written.filter((r) => r.type === "auth.decision")).toHaveLength(world.decided.filter((e) => e.outcome !== "allowed").length);
    expect(written.some((r) => r.outcome === "allowed")).toBe(false);
  }, 120_000);

  it("the list is frozen and has no duplicates", () => {
    expect(Object.isFrozen(REFUSAL_REASONS)).toBe(true);
    expect(new Set(REFUSAL_REASONS).size).toBe(REFUSAL_REASONS.length);
    for (const code of REFUSAL_REASONS) expect(code).toMatch(/^[a-z][a-z_]*[a-z]$/);
  });
});

/** Every .ts file under a folder of the project. */
function sourceFiles(dir: string): string[] {
  return readdirSync(join(PROJECT_ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".d.ts"))
    .map((e) => relative(PROJECT_ROOT, join(e.parentPath, e.name)).split("\\").join("/"));
}

/** Classes that serve several reasons, and where their reason argument is. */
const MULTI_REASON: Record<string, (args: readonly ts.Expression[]) => ts.Expression | undefined> = {
  TenantForbiddenError: (args) => args[1],
  RouteRefusedError: (args) => args[2],
  AuthError: (args) => {
    const options = args[4];
    if (!options || !ts.isObjectLiteralExpression(options)) return undefined;
    const reason = options.properties.find((p) => p.name && ts.isIdentifier(p.name) && p.name.text === "reason");
    return reason && ts.isPropertyAssignment(reason) ? reason.initializer : undefined;
  },
};

/** `new X(...)` of a multi-reason class that names no reason, or names a string that is not a code. */
function unnamedReasons(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const problems: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text in MULTI_REASON) {
      const reason = MULTI_REASON[node.expression.text]!(node.arguments ?? []);
      const line = source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
      if (reason === undefined) problems.push(`${file}:${line}: new ${node.expression.text}(...) names no reason`);
      else if (ts.isStringLiteral(reason) && !isRefusalReason(reason.text)) problems.push(`${file}:${line}: "${reason.text}" is not a reason code`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return problems;
}

describe("statically", () => {
  it("every new TenantForbiddenError, RouteRefusedError or AuthError in src/ names its reason", () => {
    const files = sourceFiles("src");
    expect(files.length).toBeGreaterThan(50);
    const problems = files.flatMap((file) => unnamedReasons(file, readFileSync(join(PROJECT_ROOT, file), "utf8")));
    expect(problems).toEqual([]);
  });

  it("names the omissions it exists to catch", () => {
    expect(unnamedReasons("x.ts", 'throw new TenantForbiddenError("no");')).toHaveLength(1);
    expect(unnamedReasons("x.ts", 'throw new RouteRefusedError(404, "no");')).toHaveLength(1);
    expect(unnamedReasons("x.ts", 'throw new AuthError("ERR_TENANT_FORBIDDEN", 404, "no", {});')).toHaveLength(1);
    expect(unnamedReasons("x.ts", 'throw new TenantForbiddenError("no", "forbidden");')).toEqual(['x.ts:1: "forbidden" is not a reason code']);
    expect(unnamedReasons("x.ts", 'throw new TenantForbiddenError("no", "run_option_refused");')).toEqual([]);
    expect(unnamedReasons("x.ts", 'throw new AuthError("ERR_TENANT_FORBIDDEN", 404, "no", {}, { reason: "not_found" });')).toEqual([]);
  });

  it("rules never log: decisions are recorded by the wrappers only", () => {
    // The rules: pure policy, tenant and request parsing, and the checks that run inside the wrappers.
    const rules = [
      ...sourceFiles("src/policy"),
      ...sourceFiles("src/tenant"),
      ...sourceFiles("src/request"),
      ...sourceFiles("src/bearer"),
      "src/langgraph/create-route-guard.ts",
      "src/langgraph/create-platform-route-guard.ts",
      "src/langgraph/create-run-check.ts",
      "src/langgraph/tenant-handlers.ts",
      "src/langgraph/platform-value-rules.ts",
    ];
    const logging = /\bconsole\.|process\.(stderr|stdout)|\bdecisions\.record\(|createDecisionLog|from "\.\.\/decision\//;
    expect(rules.filter((file) => logging.test(readFileSync(join(PROJECT_ROOT, file), "utf8")))).toEqual([]);
    // Every place that records is a wrapper at the edge (and the decision log itself).
    const recorders = sourceFiles("src").filter(
      (file) => !file.startsWith("src/decision/") && /\bdecisions\.record\(|\brecord\.refused/.test(readFileSync(join(PROJECT_ROOT, file), "utf8")),
    );
    expect(recorders.sort()).toEqual([
      "src/hono/tenant-middleware.ts",
      "src/langgraph/auth-decisions.ts",
      "src/langgraph/create-tenant-auth.ts",
      "src/runtime/guard-tools.ts",
      // The one place the runtime helpers' refusals (checkpointer, store, requireRunTenant) are recorded.
      "src/runtime/in-graph-refusal.ts",
    ]);
  });
});
