/**
 * The shapes shared by the probe table, the engine and the report writers of
 * `check-isolation`.
 */
import type { HttpAnswer, HttpMethod, HttpRequest, Send } from "../cli-kit/http-client.ts";

/** Who sends a request: the two tenants, tenant A's read-only second user, or a broken credential. */
export type Caller = "a" | "b" | "a2" | "none" | "malformed" | "expired" | "alg-none";

/** HTTP methods the probes use. */
export type ProbeMethod = HttpMethod;

/**
 * What tenant A built (and tenant B owns) for one run. Ids are the server's;
 * `marker` is the run marker stamped on every created resource.
 */
export interface World {
  /** The run marker: the value of `metadata.check_isolation_run` on everything this run created. */
  marker: string;
  /** The graph id runs use. */
  graph: string;
  a: {
    thread: string;
    run: string;
    assistant: string;
    checkpoint: string;
    /** A thread holding a run that has not finished (scheduled far ahead, so it stays pending). */
    liveThread: string;
    liveRun: string;
    /** A's cron, when the server has crons. */
    cron?: string;
    /** Store namespace and key of A's item. */
    namespace: string[];
    key: string;
    /** Client metadata only A's resources carry. */
    tag: Record<string, string>;
    /** A's user id (the token's `sub`), for `configurable.user_id` tricks. */
    identity: string;
    /** Metadata the server stamped on A's thread (tenant, owner...): what a filter "naming A" uses. */
    stamped: Record<string, string>;
  };
  b: {
    thread: string;
    /** A second thread of B's, for probes that smuggle A's ids into B's own state (B's main thread stays clean). */
    scratch: string;
    assistant: string;
    namespace: string[];
  };
  /**
   * The graph's system assistant (id `uuid5(graph)`) as the world saw it:
   * its current version, when B or A could read it (absent on a deployment
   * that hides system assistants). The `latest` probe re-selects this version,
   * so even a deployment that let B through changes nothing.
   */
  system?: { version: number };
  /** Strings only A's data holds: any of them in an answer to B is a leak. */
  secrets: string[];
  /** A new random UUID that the cleanup also deletes (probes that may create a resource under it). */
  fresh(): string;
}

/** A request a probe sends. */
export type ProbeRequest = HttpRequest;

/**
 * One probe: a request by a caller against tenant A's world, and what counts
 * as "the caller learned nothing".
 */
export interface Probe {
  /** Stable id (JUnit test name, JSON key). */
  id: string;
  /** Route group for the table: `threads`, `runs`, `store`... */
  group: string;
  /** Route label, e.g. `threads.get`. */
  route: string;
  method: ProbeMethod;
  /** Endpoint pattern with `:name` parameters, as the SDK client endpoints are read in tests (`test/support/sdk-client-endpoints.ts`). */
  pattern: string;
  /** What the caller tries, in words. */
  attempt: string;
  /** Default `b`. */
  as?: Caller;
  /** The concrete path (default: `pattern` with A's ids filled in). */
  path?: (w: World) => string;
  body?: (w: World) => unknown;
  raw?: (w: World) => string;
  /** A WebSocket upgrade handshake instead of a plain request. */
  ws?: boolean;
  /** Statuses that mean "refused, nothing learned" on any deployment. */
  refused: number[];
  /**
   * A 2xx is acceptable when this returns true for the parsed body (an empty
   * list, a zero count). Without it, any 2xx is a leak.
   */
  ok2xx?: (json: unknown, w: World, text: string) => boolean;
  /** This package's 2xx body on `langgraph dev`, stricter than `ok2xx` (the suite checks it). */
  suiteBody?: (json: unknown, w: World) => boolean;
  /** The exact status(es) this package's `Auth` answers on `langgraph dev` (the suite checks them). */
  expect: number[];
  /** The endpoint is optional: this control tells whether the server serves it at all. */
  servedBy?: ControlName;
  /** Only the test suite sends it: unsafe against a live deployment (wipes, SSRF, cascades). */
  suiteOnly?: true;
  /** Only the command sends it (needs world parts the suite does not build). */
  commandOnly?: true;
  /** After an accepted 2xx, ask whether A now sees what B did. */
  followUp?: FollowUp;
}

/** A check after an accepted 2xx: returns a leak description, or undefined when nothing leaked. */
export type FollowUp = (w: World, send: SendAs, json: unknown, request: ProbeRequest) => Promise<string | undefined>;

/** Names of the controls that tell whether an optional endpoint is served. */
export type ControlName = "crons" | "threads.stream" | "runs.cancel" | "threads.prune" | "protocol" | "ui" | "internal.truncate" | "assistants.schemas";

/** What one request answered. */
export type Answer = HttpAnswer;

/** Send a request as a caller (the engine's client). */
export type SendAs = Send<Caller>;

/** The verdict of one probe. */
export type Verdict = "pass" | "leak" | "error" | "not-served";

/** One probe's outcome, as reported. */
export interface ProbeResult {
  id: string;
  group: string;
  route: string;
  as: Caller;
  method: ProbeMethod;
  pattern: string;
  /** The request sent (path with ids; body shortened). */
  request: string;
  attempt: string;
  /** 0 when no answer came (timeout, network). */
  status: number;
  verdict: Verdict;
  /** Why: for a leak, what the caller saw. */
  detail?: string;
}
