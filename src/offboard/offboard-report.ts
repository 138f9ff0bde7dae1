/**
 * The report of `offboard` for a person (stdout) and for machines (`--json`).
 * The command passes both through `redact`, so no token is ever written.
 */
import type { OffboardReport } from "./offboard.ts";

const PLURAL: Record<string, string> = { crons: "crons", runs: "runs cancelled", threads: "threads", assistants: "assistants", store: "store items" };

/**
 * The person's view: what was found, exported, erased and left, and the audit record.
 *
 * @example
 * process.stdout.write(formatOffboardReport(report));
 */
export function formatOffboardReport(report: OffboardReport): string {
  const lines: string[] = [];
  const tenant = report.tenant === undefined ? "" : ` tenant "${report.tenant}" (store label "${report.label}")`;
  lines.push(`offboard ${report.url}${tenant}: ${report.mode === "dry-run" ? "dry run, nothing is deleted (--yes deletes)" : "erase"}`);
  if (report.found) {
    const f = report.found;
    lines.push(
      "found:",
      `  crons            ${String(f.crons).padStart(6)}${report.crons_served ? "" : "  (this deployment does not serve crons)"}`,
      `  runs in flight   ${String(f.runs).padStart(6)}`,
      `  threads          ${String(f.threads).padStart(6)}  (their runs and checkpoints go with them)`,
      `  assistants       ${String(f.assistants).padStart(6)}  (the tenant's own; system assistants are never touched)`,
      `  store items      ${String(f.store).padStart(6)}  in ${f.store_namespaces} namespace(s) under "${report.label}"`,
    );
  }
  for (const item of report.foreign ?? []) lines.push(`WARNING: the deployment shows this tenant ${item}: another tenant's or unstamped, never touched (an isolation problem to investigate)`);
  if (report.export) lines.push(`export: ${report.export.dir} (manifest.json sha256 ${report.export.manifest_sha256})`);
  if (report.erased) {
    const e = report.erased;
    const kinds = Object.keys(e.deleted) as Array<keyof typeof e.deleted>;
    lines.push(`erased: ${kinds.map((k) => `${PLURAL[k]} ${e.deleted[k]}`).join(", ")}`);
    const gone = kinds.filter((k) => e.already_gone[k] > 0);
    if (gone.length) lines.push(`already gone: ${gone.map((k) => `${PLURAL[k]} ${e.already_gone[k]}`).join(", ")} (deleted meanwhile, or by an earlier run)`);
    for (const failure of e.failures) lines.push(`FAILED: ${failure}`);
    for (const run of e.runs_not_stopped) lines.push(`FAILED: ${run} could not be stopped within --run-stop-timeout (it was still pending or running when its thread was deleted, and may still write)`);
  }
  if (report.left) {
    const { at_once: atOnce, after_settle: afterSettle, settle_seconds: settle } = report.left;
    lines.push(atOnce.length === 0 ? "search after erasing: nothing left" : `search after erasing: LEFT ${atOnce.length}: ${atOnce.join(", ")}`);
    if (afterSettle) lines.push(afterSettle.length === 0 ? `search after ${settle} s: nothing left` : `search after ${settle} s: LEFT ${afterSettle.length}: ${afterSettle.join(", ")}`);
  }
  if (report.audit) {
    const a = report.audit;
    if (a.started) lines.push(`audit: the start of the offboarding is recorded in ${a.where} (tenant "${report.tenant}", seq ${a.started.seq}, hash ${a.started.hash})`);
    if (a.recorded && a.phase === "finished") lines.push(`audit: the offboarding is recorded in ${a.where} (tenant "${report.tenant}", seq ${a.seq}, hash ${a.hash})`);
    else if (a.recorded) lines.push(`audit: the offboarding is recorded as incomplete in ${a.where} (tenant "${report.tenant}", seq ${a.seq}, hash ${a.hash}): run the command again to finish`);
    else if (a.waived) lines.push("audit: no record written (--no-audit-record)");
    else if (a.error) lines.push(`FAILED: the offboarding's end is NOT on the record: ${a.where}: ${a.error}`);
  }
  if (report.refused) lines.push(`REFUSED: ${report.refused}`);
  if (report.failure) lines.push(`FAILED: ${report.failure}`);
  if (report.interrupted) lines.push("INTERRUPTED: run the same command again to finish (an export then goes to a new folder)");
  if (report.mode === "erase" && report.exit_code === 0) lines.push(`DONE: tenant "${report.tenant}" holds nothing the deployment shows it.`);
  return `${lines.join("\n")}\n`;
}

/**
 * The machine's view: the whole report as JSON.
 *
 * @example
 * await writeFile("offboard.json", formatOffboardJson(report));
 */
export function formatOffboardJson(report: OffboardReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
