/**
 * The three outputs of a run: a table per route group for a person, JSON for
 * machines and JUnit XML so CI systems show each probe as a test. The
 * command passes every output through `redact` (`src/cli-kit/redact.ts`) so
 * no token is ever written.
 */
import type { IsolationReport } from "./check-isolation.ts";
import type { ProbeResult } from "./types.ts";

const MARK: Record<ProbeResult["verdict"], string> = { pass: "ok", leak: "LEAK", error: "ERROR", "not-served": "n/s" };

/**
 * The person's view: one block per route group, then every leak and error in full.
 *
 * @example
 * process.stdout.write(formatTable(report));
 */
export function formatTable(report: IsolationReport): string {
  const lines: string[] = [`check-isolation ${report.url} (graph ${report.graph ?? "?"}, run marker ${report.marker})`, ""];
  const groups = [...new Set(report.results.map((r) => r.group))];
  for (const group of groups) {
    const rows = report.results.filter((r) => r.group === group);
    lines.push(`${group} (${rows.filter((r) => r.verdict === "pass").length}/${rows.length} ok)`);
    for (const r of rows) lines.push(`  ${MARK[r.verdict].padEnd(5)} ${String(r.status || "-").padEnd(4)} ${`${r.method} ${r.pattern}`.padEnd(48)} ${r.as === "b" ? "" : `[as ${r.as}] `}${r.attempt}`);
    lines.push("");
  }
  const bad = report.results.filter((r) => r.verdict === "leak" || r.verdict === "error");
  for (const r of bad) {
    lines.push(`${MARK[r.verdict]}: ${r.route} — ${r.attempt}`, `  request (as ${r.as}): ${r.request}`, `  ${r.verdict === "leak" ? "saw" : "got"}: ${r.detail ?? r.status}`, "");
  }
  const s = report.summary;
  lines.push(`${s.probes} probes: ${s.pass} ok, ${s.leak} leaks, ${s.error} errors, ${s.notServed} not served${report.ownerProbes ? "" : " (no third token: owner and permission probes skipped)"}`);
  if (report.interrupted) lines.push(`stopped early: ${report.interrupted}`);
  if (report.failure) lines.push(`failed: ${report.failure}`);
  const c = report.cleanup;
  lines.push(`cleanup: ${c.deleted} deleted${c.failed.length ? `, ${c.failed.length} failed (${c.failed.join("; ")})` : ""}${c.leftovers.length ? `, LEFT BEHIND: ${c.leftovers.join(", ")}` : ""}`);
  return `${lines.join("\n")}\n`;
}

/**
 * The machine's view: the whole report as JSON.
 *
 * @example
 * await writeFile("isolation.json", formatJson(report));
 */
export function formatJson(report: IsolationReport): string {
  return `${JSON.stringify({ tool: "langgraph-tenant-auth check-isolation", ...report }, null, 2)}\n`;
}

function xml(text: string): string {
  // XML 1.0 cannot carry most control characters at all: drop them.
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, "").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/**
 * The CI's view: JUnit XML, one `<testsuite>` per route group and one
 * `<testcase>` per probe; a leak is a `<failure>`, an error an `<error>`,
 * an endpoint the server does not serve is `<skipped>`.
 *
 * @example
 * await writeFile("isolation.xml", formatJunit(report));
 */
export function formatJunit(report: IsolationReport): string {
  const groups = [...new Set(report.results.map((r) => r.group))];
  const suites = groups.map((group) => {
    const rows = report.results.filter((r) => r.group === group);
    const count = (v: ProbeResult["verdict"]) => rows.filter((r) => r.verdict === v).length;
    const cases = rows.map((r) => {
      const name = xml(`${r.method} ${r.pattern}: ${r.attempt}${r.as === "b" ? "" : ` (as ${r.as})`}`);
      const open = `    <testcase classname="check-isolation.${xml(group)}" name="${name}">`;
      const body = `request: ${r.request}\nstatus: ${r.status}\n${r.detail ?? ""}`;
      if (r.verdict === "leak") return `${open}\n      <failure message="${xml(`leak: ${r.detail ?? ""}`.slice(0, 300))}" type="leak">${xml(body)}</failure>\n    </testcase>`;
      if (r.verdict === "error") return `${open}\n      <error message="${xml((r.detail ?? String(r.status)).slice(0, 300))}" type="error">${xml(body)}</error>\n    </testcase>`;
      if (r.verdict === "not-served") return `${open}\n      <skipped message="not served: ${xml((r.detail ?? "").slice(0, 200))}"/>\n    </testcase>`;
      return `${open}</testcase>`;
    });
    return `  <testsuite name="check-isolation.${xml(group)}" tests="${rows.length}" failures="${count("leak")}" errors="${count("error")}" skipped="${count("not-served")}">\n${cases.join("\n")}\n  </testsuite>`;
  });
  const extra: string[] = [];
  const problems = [
    ...(report.interrupted ? [`stopped early: ${report.interrupted}`] : []),
    ...(report.failure ? [`failed: ${report.failure}`] : []),
    ...report.cleanup.failed.map((f) => `cleanup failed: ${f}`),
    ...report.cleanup.leftovers.map((l) => `left behind: ${l}`),
  ];
  if (problems.length) {
    extra.push(`  <testsuite name="check-isolation.run" tests="1" failures="0" errors="1" skipped="0">\n    <testcase classname="check-isolation.run" name="the check ran to its end and cleaned up">\n      <error message="${xml(problems[0]!)}">${xml(problems.join("\n"))}</error>\n    </testcase>\n  </testsuite>`);
  }
  const s = report.summary;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="check-isolation" tests="${s.probes + extra.length}" failures="${s.leak}" errors="${s.error + extra.length}">\n${[...suites, ...extra].join("\n")}\n</testsuites>\n`;
}
