/**
 * Verifying audit logs, where callers have always found it: the line parser
 * (`parse-audit-line.ts`), the line-by-line chain verifier
 * (`audit-chain-verifier.ts`) and whole-log verification, which also judges
 * how the log ends (`audit-log-parser.ts`). Each sits above the one before,
 * and this module above them all, so none imports another in a circle.
 */
export { parseAuditLine } from "./parse-audit-line.ts";
export {
  type AuditChainProblem, type AuditChainReport, type AuditChainVerifier, type AuditChainVerifierOptions, type AuditTailDefect,
  type AuditUnfinishedCall, createAuditChainVerifier,
} from "./audit-chain-verifier.ts";
export { verifyAuditLog, verifyAuditLogFile } from "./audit-log-parser.ts";
