import { RouteRefusedError, TenantForbiddenError } from "../errors.ts";
import type { RouteDecision, RoutePolicy, RouteRequest } from "../policy/route-policy.ts";
import { requestTarget } from "../request/request-target.ts";
import { isInTenant, lookedUpTenant, outsideReason, type Visibility } from "../policy/tenant-filter.ts";
import { createJsonNestingScanner, DEFAULT_MAX_JSON_DEPTH, type JsonNestingScanner } from "../request/json-nesting.ts";
import type { Principal } from "../tenant/principal.ts";
import { readServerStorage, type ServerStorageSource } from "./server-storage.ts";
import { readBoundedBody, type BoundedBody } from "../lib/read-bounded-body.ts";

/**
 * A check run after authentication on every request, with the request and the
 * caller: the place for route policy. Throw an `AuthError` to refuse.
 * `createTenantAuth` takes one as `guard`; this module and
 * `create-platform-route-guard.ts` build the two this package ships.
 *
 * @example
 * const guard: RequestGuard = (request) => {
 *   if (new URL(request.url).pathname === "/internal/truncate") throw new RouteRefusedError(404, "no such route");
 * };
 */
export type RequestGuard = (request: Request, principal: Principal) => void | Promise<void>;

/** Options of {@link createRouteGuard}. */
export interface RouteGuardOptions {
  policy: RoutePolicy;
  /** Same visibility as the handlers. Default `tenant`. */
  visibility?: Visibility;
  /** Largest body read to check a route's body fields. Default 1 MiB (1048576). */
  maxBodyBytes?: number;
  /**
   * Deepest nesting of arrays and objects allowed in any request body
   * (see `src/request/json-nesting.ts`: deeper values crash the dev server's
   * persistence for every tenant). Default 100.
   */
  maxJsonDepth?: number;
  /** The server's storage. Default: the current request's ({@link readServerStorage}). */
  storage?: ServerStorageSource;
}

type RouteMatch = ReturnType<RoutePolicy["match"]>;
type AllowedDecision = Extract<RouteDecision, { allow: true }>;

/**
 * What the policy decides on: the request's method, its target's path, and
 * its query only when a route reads it (the target parses it on first read).
 * A class, so no function is made per request.
 */
class GuardInput implements RouteRequest {
  readonly method: string;
  readonly path: string;
  readonly #target: { query: URLSearchParams };
  body?: unknown;

  constructor(method: string, target: { path: string; query: URLSearchParams }) {
    this.method = method;
    this.path = target.path;
    this.#target = target;
  }

  get query(): URLSearchParams {
    return this.#target.query;
  }
}

type BodyRead = { kind: "json"; value: unknown } | { kind: "none" } | { kind: "too-large" } | { kind: "too-deep" };

/**
 * Scan a clone of the whole body for nesting deeper than the scanner allows,
 * stopping at the first byte past the limit. No size limit: nothing is kept
 * but a few counters (the server buffers the body anyway).
 */
async function isNestedTooDeep(request: Request, scanner: JsonNestingScanner): Promise<boolean> {
  const reader = request.clone().body!.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return false;
      if (scanner.push(value)) {
        reader.cancel().catch(() => undefined);
        return true;
      }
    }
  } catch {
    // A body that cannot be read cannot be acted on by the server either.
    return false;
  }
}

/** GET and HEAD requests have no body (the Fetch standard's Request constructor refuses one). */
const cannotHaveBody = (request: Request): boolean => request.method === "GET" || request.method === "HEAD";

/**
 * True when the body declares a length (`Content-Length`) of at most
 * `maxDepth` bytes: nesting deeper than `maxDepth` takes more than
 * `maxDepth` opening brackets, so such a body cannot be too deep and the
 * clone (a stream tee, about 50 µs a request) is skipped. The declared length
 * is the real one: the server's requests come from Node's HTTP parser through
 * `@hono/node-server`, which delivers exactly Content-Length bytes and refuses
 * a request that also carries Transfer-Encoding (RFC 9112 §6.3). Without a
 * plain decimal length (chunked bodies) the body is scanned.
 */
function isTooShortToNest(request: Request, maxDepth: number): boolean {
  const declared = request.headers.get("content-length");
  if (declared === null || declared.length === 0 || declared.length > 6) return false;
  for (let i = 0; i < declared.length; i++) {
    const code = declared.charCodeAt(i);
    if (code < 0x30 || code > 0x39) return false;
  }
  return Number(declared) <= maxDepth;
}

/**
 * Read at most `limit` bytes of a clone of the request's body and parse it as
 * JSON. The original is never touched (the server reads it afterwards); a
 * body that is not JSON is reported as `none`, since the server's own
 * validator then refuses it (400) before acting on it.
 */
async function readBoundedJson(request: Request, limit: number, scanner: JsonNestingScanner): Promise<BodyRead> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (Number.isFinite(declared) && declared > limit) return { kind: "too-large" };
  if (!request.body) return { kind: "none" };
  let read: BoundedBody;
  try {
    read = await readBoundedBody(request.clone().body!, limit, (chunk) => scanner.push(chunk));
  } catch {
    return { kind: "none" };
  }
  if (read.kind === "too-large") return { kind: "too-large" };
  if (read.kind === "stopped") return { kind: "too-deep" };
  try {
    // TextDecoder strips a UTF-8 BOM like Request.text(), which Hono parses: both see the same JSON.
    return { kind: "json", value: JSON.parse(new TextDecoder().decode(read.bytes)) };
  } catch {
    return { kind: "none" };
  }
}

/**
 * The route guard `createTenantAuth` runs in `authenticate`: it applies the
 * route policy, reading a bounded clone of the body only for routes whose
 * body matters, then runs the storage checks the policy asks for (a run
 * joined by id must be in the caller's tenant and, under a thread path, in
 * that thread). Every refusal is a `RouteRefusedError` (403 or 404); storage
 * that cannot be read refuses too. The guard returns nothing (or throws) when
 * it decided synchronously, and a promise when it had to read the body or
 * storage; `createTenantAuth` handles both.
 *
 * @example
 * createTenantAuth({ authenticator, guard: createRouteGuard({ policy: createRoutePolicy() }) });
 */
export function createRouteGuard(options: RouteGuardOptions): RequestGuard {
  const visibility = options.visibility ?? "tenant";
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1024) {
    throw new TypeError("maxBodyBytes must be a whole number of bytes, at least 1024");
  }
  const maxJsonDepth = options.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH;
  createJsonNestingScanner(maxJsonDepth); // checks the option now, not on the first request
  const storage = options.storage ?? readServerStorage;
  const tooDeep = () => new RouteRefusedError(400, `JSON in the request body is nested deeper than ${maxJsonDepth} levels`, "body_too_deep");

  /** The storage checks the policy asked for: a run joined by id must be in the caller's tenant (and thread). */
  const checkStorage = async (decision: AllowedDecision, principal: Principal): Promise<void> => {
    const store = await storage();
    if (!store) throw new TenantForbiddenError("this request cannot be checked outside the LangGraph server", "check_unavailable");
    const runId = decision.params.run_id ?? "";
    const run = await store.getRun(runId);
    const pathThread = decision.params.thread_id;
    const thread = run ? await store.getThread(run.thread_id) : undefined;
    // The same answer whatever the reason; the decision log tells them apart:
    // a run of another tenant (or owner) is a cross-tenant attempt, one that exists nowhere is not.
    const outside = thread !== undefined && !isInTenant(thread.metadata, principal, visibility);
    const noSuchRun = () =>
      new RouteRefusedError(404, "no such run", outside ? outsideReason(thread.metadata, principal) : "not_found", {
        resources: { run_id: runId, ...(run ? { thread_id: run.thread_id } : {}), ...(outside ? lookedUpTenant(thread.metadata) : {}) },
      });
    for (const check of decision.checks) {
      if (check === "run-in-thread" && run?.thread_id !== pathThread) throw noSuchRun();
    }
    if (!thread || !isInTenant(thread.metadata, principal, visibility)) throw noSuchRun();
  };

  /** The storage checks, when the decision asked for any. */
  const checkRest = (decision: AllowedDecision, principal: Principal): void | Promise<void> =>
    decision.checks.length === 0 ? undefined : checkStorage(decision, principal);

  /** After the policy allowed: scan a body that may be stored, then the storage checks. */
  const finish = (request: Request, principal: Principal, decision: AllowedDecision, scanned: boolean): void | Promise<void> => {
    // Every body the server may store is checked, whatever its route or content type.
    // `request.body` is read last: on the server's lightweight requests
    // (@hono/node-server) touching it builds a whole second Request.
    // No named closure is made per request here: run from TypeScript by
    // tsx/esbuild (keepNames), each one costs an Object.defineProperty.
    if (!scanned && !cannotHaveBody(request) && !isTooShortToNest(request, maxJsonDepth) && request.body) {
      return isNestedTooDeep(request, createJsonNestingScanner(maxJsonDepth)).then((deep) => {
        if (deep) throw tooDeep();
        return checkRest(decision, principal);
      });
    }
    return checkRest(decision, principal);
  };

  const decideOrThrow = (input: RouteRequest, principal: Principal, found: RouteMatch): AllowedDecision => {
    const decision = options.policy.decide(input, principal, found);
    if (!decision.allow) throw new RouteRefusedError(decision.status, decision.reason, decision.reasonCode, decision.resources && { resources: decision.resources });
    return decision;
  };

  /** A route whose body the policy reads: read a bounded clone first. */
  const withBody = async (request: Request, principal: Principal, input: RouteRequest, found: RouteMatch): Promise<void> => {
    const body = await readBoundedJson(request, maxBodyBytes, createJsonNestingScanner(maxJsonDepth));
    if (body.kind === "too-large") {
      throw new RouteRefusedError(403, `the request body is larger than ${maxBodyBytes} bytes`, "body_too_large");
    }
    if (body.kind === "too-deep") throw tooDeep();
    if (body.kind === "json") input.body = body.value;
    const decision = decideOrThrow(input, principal, found);
    await finish(request, principal, decision, body.kind !== "none" || !request.body);
  };

  // Synchronous when nothing needs waiting for (most requests: no body to
  // read, no run to look up), so a request pays no promise for it; a refusal
  // is then thrown, else a promise settles it.
  return (request: Request, principal: Principal) => {
    const target = requestTarget(request.url);
    if (target === undefined) throw new RouteRefusedError(404, "no such route", "unknown_route");
    const input = new GuardInput(request.method, target);
    const found = options.policy.match(request.method, target.path);
    // `decide` matches again when handed no match: answer an unknown route here, as it would.
    if (found === undefined) throw new RouteRefusedError(404, "no such route", "unknown_route");
    if (found.route.body) return withBody(request, principal, input, found);
    return finish(request, principal, decideOrThrow(input, principal, found), false);
  };
}
