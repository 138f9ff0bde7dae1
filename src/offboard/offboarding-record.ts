/**
 * The offboarding on the record: format-3 events (`kind: "offboarding"`)
 * appended to the tenant's own hash chain, so `audit verify` checks them with
 * the rest. One when the erasure starts (after the export, before the first
 * deletion: `phase: "started"`, with what was found and the export
 * manifest's sha256), so a run killed half way leaves evidence; and one at
 * the end: `phase: "finished"` after everything was erased and both searches
 * came back empty (the last record of the chain), or `phase: "incomplete"`
 * when something was left, failed or the run was stopped.
 */
import type { AuditLog } from "../audit/audit-log.ts";
import type { AuditRecord } from "../audit/audit-record.ts";
import { toolVersion } from "../cli-kit/tool-version.ts";
import type { InventoryCounts, Kind } from "./inventory.ts";

/** What every offboarding record says. */
interface CommonFacts {
  tenant: string;
  /** The token's subject (the deployment accepted the token; the command read the claim). */
  subject: string | null;
  /** The deployment's base URL (never with credentials: the command line refuses them). */
  url: string;
  startedAt: string;
  /** The export's `manifest.json` sha256; `null` when nothing was exported. */
  manifestSha256: string | null;
}

/** What the record says, by phase. */
export type OffboardingFacts =
  | (CommonFacts & { phase: "started"; found: InventoryCounts })
  | (CommonFacts & { phase: "finished"; deleted: Record<Kind, number>; alreadyGone: Record<Kind, number>; settleSeconds: number })
  | (CommonFacts & {
      phase: "incomplete";
      deleted: Record<Kind, number>;
      alreadyGone: Record<Kind, number>;
      /** Failed deletions, runs not stopped, what the searches still found, and whether the run was stopped (Ctrl-C). */
      failures: number;
      runsNotStopped: number;
      left: number;
      interrupted: boolean;
    });

/**
 * Append an offboarding record to the tenant's chain.
 *
 * @throws {AuditWriteError} it was not stored.
 * @example
 * const started = await recordOffboarding(log, { phase: "started", tenant: "acme", subject: "alice", url, startedAt, manifestSha256, found });
 * started.seq; // its position in acme's chain
 */
export function recordOffboarding(log: AuditLog, facts: OffboardingFacts): Promise<AuditRecord> {
  const common = {
    phase: facts.phase,
    tool: "langgraph-tenant-auth offboard",
    tool_version: toolVersion(),
    deployment: facts.url,
    started_at: facts.startedAt,
    export_manifest_sha256: facts.manifestSha256,
  };
  const data =
    facts.phase === "started"
      ? { ...common, found: { ...facts.found } }
      : facts.phase === "finished"
        ? { ...common, deleted: { ...facts.deleted }, already_gone: { ...facts.alreadyGone }, verified_empty: { searches: 2, settle_seconds: facts.settleSeconds } }
        : {
            ...common,
            deleted: { ...facts.deleted },
            already_gone: { ...facts.alreadyGone },
            failures: facts.failures,
            runs_not_stopped: facts.runsNotStopped,
            left: facts.left,
            interrupted: facts.interrupted,
          };
  return log.recordEvent({ kind: "offboarding", time: new Date().toISOString(), tenant_id: facts.tenant, user_id: facts.subject, data });
}
