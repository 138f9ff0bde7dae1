import type { PlatformAuthSection } from "./platform-auth-section.ts";
import type { ServerHost } from "./detect-host.ts";

/** What {@link hostLogLine} reports. */
export interface HostLogInput {
  host: ServerHost;
  /** Where the host came from: `AUTH_SERVER`, detection, or the `host` option. */
  source: "AUTH_SERVER" | "detected" | "option";
  /** What detection found, when `AUTH_SERVER` overrode it (shown when they differ). */
  detected?: ServerHost;
  /** `AUTH_SYSTEM_ASSISTANTS`. Default `visible`. */
  systemAssistants?: "visible" | "hidden";
  guard: boolean;
  checkRun: boolean;
  studioAccess: "none" | "operator";
  platformAuth?: PlatformAuthSection;
}

/**
 * The one line logged at start: the host, the checks the package makes, the
 * checks it leaves to the server. Look for `langgraph-tenant-auth: host=` in
 * the deployment's logs.
 *
 * @example
 * hostLogLine({ host: "dev", source: "detected", guard: true, checkRun: true, studioAccess: "none" });
 */
export function hostLogLine(input: HostLogInput): string {
  const own = ["token", "permissions", "tenant filters and stamps on every event", `system assistants ${input.systemAssistants ?? "visible"}`];
  let left: string[];
  if (input.host === "platform") {
    if (input.guard) own.push("route table (method, path, query)");
    if (input.checkRun) own.push("run options in kwargs (webhook, LangSmith, user_id, credential headers refused)");
    own.push("creates without a metadata object refused", "crons tied to a thread");
    left = [
      "the run's assistant (assistants:search filter)",
      "joins and streams (threads:read filter)",
      "applying filters and metadata stamps",
      input.platformAuth?.disable_studio_auth === true ? "nothing for Studio (Studio auth disabled)" : `Studio users verified by LangSmith (access: ${input.studioAccess})`,
    ];
  } else {
    if (input.guard) own.push("route policy with body and storage checks");
    if (input.checkRun) own.push("run checks (assistant, thread, run options)");
    left = ["applying filters and metadata stamps"];
  }
  // resolveHost refuses an override that contradicts detection, except `js` on the dev CLI's
  // command line (the same server code): that one is said out loud.
  const source = input.source === "AUTH_SERVER" && input.detected !== undefined && input.detected !== input.host
    ? `AUTH_SERVER; detected ${input.detected}`
    : input.source;
  return `langgraph-tenant-auth: host=${input.host} (${source}); package checks: ${own.join(", ")}; left to the server: ${left.join(", ")}`;
}
