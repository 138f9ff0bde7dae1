/**
 * The offboarding on the record: one format-3 event (`kind: "offboarding"`)
 * appended to the tenant's own hash chain after everything was erased and
 * both searches came back empty, so it is the last record of that chain and
 * `audit verify` checks it with the rest.
 */
import type { AuditLog } from "../audit/audit-log.ts";
import type { AuditRecord } from "../audit/audit-record.ts";
import { toolVersion } from "../cli-kit/tool-version.ts";
import type { Kind } from "./inventory.ts";

/** What the record says. */
export interface OffboardingFacts {
  tenant: string;
  /** The token's subject (the deployment accepted the token; the command read the claim). */
  subject: string | null;
  /** The deployment's base URL (never with credentials: the command line refuses them). */
  url: string;
  startedAt: string;
  deleted: Record<Kind, number>;
  alreadyGone: Record<Kind, number>;
  /** The export's `manifest.json` sha256; `null` when nothing was exported. */
  manifestSha256: string | null;
  settleSeconds: number;
}

/**
 * Append the offboarding record to the tenant's chain.
 *
 * @throws {AuditWriteError} it was not stored.
 * @example
 * const record = await recordOffboarding(log, { tenant: "acme", subject: "alice", url, startedAt, deleted, alreadyGone, manifestSha256, settleSeconds: 10 });
 * record.seq; // its position in acme's chain
 */
export function recordOffboarding(log: AuditLog, facts: OffboardingFacts): Promise<AuditRecord> {
  return log.recordEvent({
    kind: "offboarding",
    time: new Date().toISOString(),
    tenant_id: facts.tenant,
    user_id: facts.subject,
    data: {
      tool: "langgraph-tenant-auth offboard",
      tool_version: toolVersion(),
      deployment: facts.url,
      started_at: facts.startedAt,
      deleted: { ...facts.deleted },
      already_gone: { ...facts.alreadyGone },
      export_manifest_sha256: facts.manifestSha256,
      verified_empty: { searches: 2, settle_seconds: facts.settleSeconds },
    },
  });
}
