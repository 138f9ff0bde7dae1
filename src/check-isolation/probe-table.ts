/**
 * The one table of isolation probes. The `check-isolation` command sends
 * every probe not marked `suiteOnly`; the isolation matrix test sends every
 * probe not marked `commandOnly` and checks each one's exact `expect` status.
 */
import { ASSISTANT_PROBES, THREAD_PROBES } from "./probes-threads.ts";
import { SYSTEM_ASSISTANT_PROBES } from "./probes-system.ts";
import { RUN_ACCESS_PROBES, RUN_CREATE_PROBES } from "./probes-runs.ts";
import { CREDENTIAL_PROBES, CRON_PROBES, OWNER_PROBES, PROTOCOL_PROBES, SERVER_PROBES, STORE_PROBES } from "./probes-other.ts";
import type { Probe } from "./types.ts";

/**
 * Every probe, in the order they are sent: reads and tricks first, then the
 * destructive attempts on A's runs, so a leaking delete cannot hide a leaking read.
 *
 * @example
 * PROBES.filter((p) => !p.suiteOnly).length; // what the command sends
 */
export const PROBES: readonly Probe[] = [
  ...SERVER_PROBES,
  ...CREDENTIAL_PROBES,
  ...ASSISTANT_PROBES,
  ...SYSTEM_ASSISTANT_PROBES,
  ...THREAD_PROBES,
  ...CRON_PROBES,
  ...RUN_CREATE_PROBES,
  ...RUN_ACCESS_PROBES,
  ...STORE_PROBES,
  ...PROTOCOL_PROBES,
  ...OWNER_PROBES,
];

/**
 * SDK client endpoints no probe sends, each with the reason. A test checks
 * that every endpoint of the installed SDK client is probed or listed here.
 */
export const NOT_PROBED: Readonly<Record<string, string>> = {};
