/**
 * `offboard`, step by step: check the token and the tenant with the
 * deployment, list what the tenant owns, export it, prove the audit
 * destination can write, delete in order, search again twice, and record the
 * offboarding as the tenant's last audit record. A dry run stops after the
 * listing (and the export, when asked for): it deletes nothing.
 */
import type { OpenAuditLog } from "../cli-kit/audit-destination.ts";
import { openAuditLog } from "../cli-kit/audit-destination.ts";
import { createSender, describeError } from "../cli-kit/http-client.ts";
import { pause } from "../cli-kit/pause.ts";
import { toolVersion } from "../cli-kit/tool-version.ts";
import { eraseInventory, type EraseProgress, type EraseResult } from "./erase.ts";
import { createExportWriter, requireExportFolder, type ExportManifest } from "./export-folder.ts";
import { countInventory, idOf, takeInventory, type Inventory, type InventoryCounts, type Kind } from "./inventory.ts";
import { recordOffboarding } from "./offboarding-record.ts";
import { checkPreflight, OffboardRefusedError, type Preflight } from "./preflight.ts";
import { createTenantApi, TenantApiError, type TenantApi } from "./tenant-api.ts";
import type { OffboardOptions } from "./offboard-options.ts";
import { findLeft } from "./verify-empty.ts";

/** Options of {@link offboard}: the command line's, and how the run is stopped and watched. */
export type OffboardRunOptions = Omit<OffboardOptions, "json" | "warnings"> & {
  /** Stops the run before the next deletion (Ctrl-C). */
  signal?: AbortSignal;
  /** A step in words, and each deletion. */
  onProgress?: (event: OffboardProgress) => void;
};

/** What the run is doing. */
export type OffboardProgress = { phase: "step"; message: string } | ({ phase: "erase" } & EraseProgress);

/** The ids of what was found, by kind (store items as `namespace/key`). */
export type FoundIds = Record<"crons" | "runs" | "threads" | "assistants" | "store", string[]>;

/** The outcome of a run: the JSON report, and what the text report says. */
export interface OffboardReport {
  tool: "langgraph-tenant-auth offboard";
  tool_version: string;
  url: string;
  mode: "dry-run" | "erase";
  started_at: string;
  finished_at: string;
  tenant?: string;
  /** The tenant's store namespace label. */
  label?: string;
  /** Whether the tenant was named with --tenant or found from the deployment. */
  tenant_from?: Preflight["tenantFrom"];
  subject?: string | null;
  crons_served?: boolean;
  found?: InventoryCounts;
  found_ids?: FoundIds;
  /** What the deployment showed the tenant with another tenant's stamp (never touched). */
  foreign?: string[];
  export?: { dir: string; manifest_sha256: string; counts: ExportManifest["counts"]; files: ExportManifest["files"] };
  erased?: { deleted: EraseResult["deleted"]; already_gone: EraseResult["gone"]; failures: string[]; runs_not_stopped: string[] };
  left?: { at_once: string[]; after_settle: string[] | null; settle_seconds: number };
  /**
   * The offboarding's audit records: `started` before the first deletion; then the closing one
   * (`recorded`, its `phase`: `finished` when clean, `incomplete` otherwise, `seq`, `hash`).
   */
  audit?: { recorded: boolean; waived: boolean; where?: string; phase?: "finished" | "incomplete"; seq?: number; hash?: string; started?: { seq: number; hash: string }; error?: string };
  /** Refused before anything was deleted (exit 3). */
  refused?: string;
  /** A failure that stopped the run. */
  failure?: string;
  /** Stopped by Ctrl-C. */
  interrupted?: boolean;
  /** The command's exit code (130/143 for Ctrl-C are the command line's). */
  exit_code: number;
}

const MAX_ANSWER = 256 * 1024 * 1024;

function foundIds(inventory: Inventory): FoundIds {
  return {
    crons: inventory.crons.map((c) => idOf(c, "cron_id")),
    runs: inventory.runsInFlight.map((r) => r.run_id),
    threads: inventory.threads.map((t) => idOf(t, "thread_id")),
    assistants: inventory.assistants.map((a) => idOf(a, "assistant_id")),
    store: inventory.store.map((i) => `${i.namespace.join(".")}/${i.key}`),
  };
}

/** Write the export: each thread with its current state, full history and runs; each assistant with its versions. */
async function writeExport(api: TenantApi, inventory: Inventory, preflight: Preflight, options: OffboardRunOptions, say: (text: string) => void): Promise<NonNullable<OffboardReport["export"]>> {
  const dir = options.exportDir!;
  const writer = await createExportWriter(dir);
  let checkpoints = 0;
  let versions = 0;
  let runs = 0;
  try {
    for (const [index, thread] of inventory.threads.entries()) {
      const id = idOf(thread, "thread_id");
      const state = await api.json(`reading the state of thread ${id}`, { method: "GET", path: `/threads/${id}/state` });
      const history = await api.history(id);
      const threadRuns = inventory.runsByThread.get(id) ?? [];
      checkpoints += history.length;
      runs += threadRuns.length;
      await writer.write("threads", { thread, state, history, runs: threadRuns });
      if ((index + 1) % 50 === 0) say(`exported ${index + 1}/${inventory.threads.length} threads`);
    }
    for (const assistant of inventory.assistants) {
      const id = idOf(assistant, "assistant_id");
      const list = await api.versions(id);
      versions += list.length;
      await writer.write("assistants", { assistant, versions: list });
    }
    for (const cron of inventory.crons) await writer.write("crons", cron);
    for (const item of inventory.store) await writer.write("store", item);
  } catch (error) {
    await writer.abort();
    throw error;
  }
  const counts = { ...countInventory(inventory), checkpoints, thread_runs: runs, assistant_versions: versions };
  const { manifest, sha256 } = await writer.finish({
    tool_version: toolVersion(),
    tenant: preflight.tenant,
    deployment: options.url,
    exported_at: new Date().toISOString(),
    crons_served: preflight.cronsServed,
    counts,
  });
  return { dir, manifest_sha256: sha256, counts: manifest.counts, files: manifest.files };
}

/**
 * Offboard one tenant (or, without `yes`, show what would be offboarded).
 * Never throws for what the deployment answers: the report says it.
 *
 * @example
 * const report = await offboard({ url, token, tenant: "acme", yes: true, exportDir: "./acme", settleMs: 10_000, requestTimeoutMs: 30_000, runStopMs: 60_000, noAuditRecord: false, audit });
 * report.exit_code; // 0 when everything is gone
 */
export async function offboard(options: OffboardRunOptions): Promise<OffboardReport> {
  const say = (message: string) => options.onProgress?.({ phase: "step", message });
  const report: OffboardReport = {
    tool: "langgraph-tenant-auth offboard",
    tool_version: toolVersion(),
    url: options.url,
    mode: options.yes ? "erase" : "dry-run",
    started_at: new Date().toISOString(),
    finished_at: "",
    exit_code: 0,
  };
  const done = (code: number): OffboardReport => Object.assign(report, { finished_at: new Date().toISOString(), exit_code: code });
  const send = createSender<"tenant">({
    url: options.url,
    authorization: { tenant: `Bearer ${options.token}` },
    requestTimeoutMs: options.requestTimeoutMs,
    maxBodyBytes: MAX_ANSWER,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const api = createTenantApi(send, options.signal ? { signal: options.signal } : {});
  let audit: OpenAuditLog | undefined;
  /** Set once the first deletion may have happened: what was deleted and found gone, by kind. */
  let tally: { deleted: Record<Kind, number>; gone: Record<Kind, number> } | undefined;
  /**
   * The end of an erasure that started: the closing record (`finished` when
   * `clean`, else `incomplete`) in the tenant's chain, and the exit code
   * (0 only when clean and on the record, or the record waived).
   */
  const closeRecord = async (clean: boolean): Promise<OffboardReport> => {
    if (!audit || !report.tenant) return done(clean ? 0 : 1);
    const deleted = report.erased?.deleted ?? tally!.deleted;
    const alreadyGone = report.erased?.already_gone ?? tally!.gone;
    const facts = { tenant: report.tenant, subject: report.subject ?? null, url: options.url, startedAt: report.started_at, manifestSha256: report.export?.manifest_sha256 ?? null, deleted, alreadyGone };
    try {
      const record = clean
        ? await recordOffboarding(audit.log, { ...facts, phase: "finished", settleSeconds: options.settleMs / 1000 })
        : await recordOffboarding(audit.log, {
            ...facts,
            phase: "incomplete",
            failures: report.erased?.failures.length ?? 0,
            runsNotStopped: report.erased?.runs_not_stopped.length ?? 0,
            left: new Set([...(report.left?.at_once ?? []), ...(report.left?.after_settle ?? [])]).size,
            interrupted: report.interrupted === true || report.failure !== undefined,
          });
      Object.assign(report.audit!, { recorded: true, phase: clean ? "finished" : "incomplete", seq: record.seq, hash: record.hash });
      return done(clean ? 0 : 1);
    } catch (error) {
      Object.assign(report.audit!, { recorded: false, error: describeError((error as Error).cause ?? error) });
      return done(1);
    }
  };
  try {
    if (options.exportDir !== undefined) await requireExportFolder(options.exportDir);
    say("checking the token and the tenant with the deployment");
    const preflight = await checkPreflight(api, options.token, options.tenant);
    Object.assign(report, { tenant: preflight.tenant, label: preflight.label, tenant_from: preflight.tenantFrom, subject: preflight.subject, crons_served: preflight.cronsServed });

    say(`listing what tenant "${preflight.tenant}" owns`);
    const inventory = await takeInventory(api, preflight);
    Object.assign(report, { found: countInventory(inventory), found_ids: foundIds(inventory), foreign: inventory.foreign });
    if (options.yes && inventory.foreign.length > 0) {
      throw new OffboardRefusedError(
        `the deployment shows this token ${inventory.foreign.length} item(s) that are not tenant "${preflight.tenant}"'s (each listed above as a WARNING): ` +
          "its tenant filter is not in force for them, so nothing was deleted, not even the tenant's own. Fix the deployment's auth (check-isolation shows where), then run the command again.",
      );
    }

    if (options.yes && options.audit) {
      say(`checking the audit destination ${options.audit.describe}`);
      try {
        audit = await openAuditLog(options.audit);
        await audit.log.ready();
      } catch (error) {
        throw new OffboardRefusedError(`the audit destination ${options.audit.describe} cannot be written, so nothing was deleted: ${describeError((error as Error).cause ?? error)}`);
      }
    }
    if (options.exportDir !== undefined) {
      say(`exporting to ${options.exportDir}`);
      report.export = await writeExport(api, inventory, preflight, options, say);
    }
    if (!options.yes) return done(inventory.foreign.length > 0 ? 1 : 0);

    // On the record before the first deletion, so a run killed half way leaves evidence of what it set out to erase.
    const facts = { tenant: preflight.tenant, subject: preflight.subject, url: options.url, startedAt: report.started_at, manifestSha256: report.export?.manifest_sha256 ?? null };
    if (audit) {
      try {
        const started = await recordOffboarding(audit.log, { ...facts, phase: "started", found: countInventory(inventory) });
        report.audit = { recorded: false, waived: false, where: options.audit!.describe, started: { seq: started.seq, hash: started.hash } };
      } catch (error) {
        throw new OffboardRefusedError(`the start of the offboarding cannot be recorded in ${options.audit!.describe}, so nothing was deleted: ${describeError((error as Error).cause ?? error)}`);
      }
    } else report.audit = { recorded: false, waived: true };

    // What was done so far, kept as it happens: a failure half way still reports (and records) it.
    const zero = (): Record<Kind, number> => ({ crons: 0, runs: 0, threads: 0, assistants: 0, store: 0 });
    tally = { deleted: zero(), gone: zero() };
    const counted = tally;
    say("erasing: crons, runs in flight, threads, assistants, store items");
    const erased = await eraseInventory(api, inventory, {
      runStopMs: options.runStopMs,
      ...(options.signal ? { signal: options.signal } : {}),
      onProgress: (event) => {
        if (event.outcome === "deleted") counted.deleted[event.kind] += 1;
        if (event.outcome === "gone") counted.gone[event.kind] += 1;
        options.onProgress?.({ phase: "erase", ...event });
      },
    });
    report.erased = { deleted: erased.deleted, already_gone: erased.gone, failures: erased.failures, runs_not_stopped: erased.runsNotStopped };
    if (erased.interrupted || options.signal?.aborted) {
      report.interrupted = true;
      return await closeRecord(false);
    }
    say("searching every kind again");
    const atOnce = await findLeft(api, preflight);
    report.left = { at_once: atOnce, after_settle: null, settle_seconds: options.settleMs / 1000 };
    say(`waiting ${options.settleMs / 1000} s for late writes, then searching once more`);
    await pause(options.settleMs, options.signal);
    if (options.signal?.aborted) {
      report.interrupted = true;
      return await closeRecord(false);
    }
    report.left.after_settle = await findLeft(api, preflight);
    // A run that could not be stopped may still write: the job is not done, even when both searches are empty.
    const clean = erased.failures.length === 0 && erased.runsNotStopped.length === 0 && atOnce.length === 0 && report.left.after_settle.length === 0;
    return await closeRecord(clean);
  } catch (error) {
    if (error instanceof OffboardRefusedError) {
      report.refused = error.message;
      return done(3);
    }
    if (options.signal?.aborted) report.interrupted = true;
    else report.failure = error instanceof TenantApiError ? error.message : describeError(error);
    if (tally && !report.erased) report.erased = { deleted: tally.deleted, already_gone: tally.gone, failures: [], runs_not_stopped: [] };
    return tally ? await closeRecord(false) : done(1);
  } finally {
    await audit?.close().catch(() => undefined);
  }
}
