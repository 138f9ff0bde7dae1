/**
 * Before anything is listed or deleted: whose token this is, as the
 * deployment judges it, and whether it can finish the job. Only harmless
 * requests are sent (searches, and deletions of random ids that exist
 * nowhere); the token's claims are read only to explain a refusal.
 */
import { randomUUID } from "node:crypto";
import { decodeClaims } from "../cli-kit/decode-claims.ts";
import { isTenantId } from "../tenant/tenant-id.ts";
import { tenantNamespaceLabel } from "../tenant/tenant-namespace-label.ts";
import { excerptOf, TenantApiError, type TenantApi } from "./tenant-api.ts";

/**
 * The job cannot be done with this token on this deployment (or with this
 * export folder or audit destination): nothing was deleted. Exit code 3.
 *
 * @example
 * if (error instanceof OffboardRefusedError) process.exitCode = 3;
 */
export class OffboardRefusedError extends Error {
  override name = "OffboardRefusedError";
}

/** What the deployment confirmed. */
export interface Preflight {
  tenant: string;
  /** The tenant's store namespace label (`acme.eu` → `acme~2Eeu`). */
  label: string;
  /** The token's subject, as it claims (the offboarding record names it). */
  subject: string | null;
  /** Whether the deployment serves crons at all (the JS dev server does not). */
  cronsServed: boolean;
  /** How the tenant was found: named with `--tenant`, or found from what the deployment stamps and confirmed. */
  tenantFrom: "option" | "deployment";
}

/** The claims that usually hold a tenant, tried in this order when `--tenant` is not given. */
const TENANT_CLAIMS = ["tenant_id", "org_id", "tid", "organization", "org", "tenant"];

/** Permissions of this package's default table that each probe stands for (for the explanation only). */
const PERMISSION_OF: Record<string, string> = {
  "POST /threads/search": "threads:read",
  "DELETE /threads/{id}": "threads:write",
  "POST /assistants/search": "assistants:read",
  "DELETE /assistants/{id}": "assistants:write",
  "POST /store/items/search": "store:read",
  "POST /runs/crons/search": "crons:read",
  "DELETE /runs/crons/{id}": "crons:write",
  "POST /threads/{id}/runs/{run_id}/cancel": "threads:write",
  "DELETE /store/items": "store:write",
};

const ok = (status: number) => status >= 200 && status < 300;

/**
 * Whether the deployment serves crons, decided only from evidence: `GET
 * /info` saying `flags.crons: false` (what `langgraph dev` says), or the
 * JS dev server's own answer to its cron routes (500 with the text "Not
 * implemented", @langchain/langgraph-api dist/api/runs.mjs). Any other
 * failure of the cron search is a failure, never "nothing to do".
 *
 * @returns the search's answer when crons are served (its status may be a refusal), `false` when they are not.
 * @throws {TenantApiError} the search failed otherwise (a 500, a 404 …).
 */
async function cronSearch(api: TenantApi): Promise<{ status: number; text: string } | false> {
  const info = await api.call("reading GET /info", { method: "GET", path: "/info" });
  const flags = ok(info.status) ? (info.json as { flags?: { crons?: unknown } } | null)?.flags : undefined;
  if (flags?.crons === false) return false;
  const crons = await api.call("searching crons", { method: "POST", path: "/runs/crons/search", body: { limit: 1 } });
  if (ok(crons.status) || crons.status === 401 || crons.status === 403) return { status: crons.status, text: excerptOf(crons) };
  if (crons.status === 500 && /^not implemented$/i.test(excerptOf(crons))) return false;
  throw new TenantApiError("searching crons (POST /runs/crons/search; GET /info does not say crons are off)", crons.status, excerptOf(crons));
}

/** The tenant ids the token's claims name, among the usual claims (read, never verified). */
function claimedTenants(claims: Record<string, unknown>): string[] {
  return [...new Set(TENANT_CLAIMS.map((name) => claims[name]).filter((value): value is string => typeof value === "string" && value !== ""))];
}

/**
 * The negative check: a store search under a random other tenant's label
 * must be refused, as this package's store rule promises (only the tenant's
 * own label is open to its tokens). A deployment that answers it with 2xx
 * does not enforce the tenant filter, so what the token sees there cannot be
 * trusted to be this tenant's alone.
 *
 * @throws {OffboardRefusedError} the search was accepted.
 */
async function requireOtherTenantsRefused(api: TenantApi, tenant: string): Promise<void> {
  const other = tenantNamespaceLabel(`offboard-check-${randomUUID().slice(0, 8)}`);
  const answer = await api.call("searching another tenant's store (the negative check)", { method: "POST", path: "/store/items/search", body: { namespace_prefix: [other], limit: 10 } });
  if (!ok(answer.status)) return;
  const items = (answer.json as { items?: unknown } | null)?.items;
  const shown = Array.isArray(items) ? items.length : 0;
  throw new OffboardRefusedError(
    `the negative check failed: the deployment accepted this token's store search under another tenant's label ("${other}", a random tenant; answered ${answer.status}${shown ? ` with ${shown} item(s)` : ""}). ` +
      `Its tenant filter is not in force, so what this token sees cannot be trusted to be tenant "${tenant}"'s alone, and nothing was deleted. Check the deployment's auth with check-isolation first.`,
  );
}

/** What the token's own claims say, for an explanation ("its scope claim lists …"); never the token. */
function claimsInWords(token: string): string {
  const claims = decodeClaims(token);
  const parts: string[] = [];
  if (typeof claims.sub === "string") parts.push(`sub "${claims.sub}"`);
  for (const name of TENANT_CLAIMS) if (typeof claims[name] === "string") parts.push(`${name} "${claims[name]}"`);
  for (const name of ["scope", "scp", "permissions"]) {
    const value = claims[name];
    if (typeof value === "string" || Array.isArray(value)) parts.push(`${name} "${Array.isArray(value) ? value.join(" ") : value}"`);
  }
  return parts.length ? `the token claims ${parts.join(", ")}` : "the token's claims cannot be read (an opaque token)";
}

/**
 * Whether the deployment lets this token into `tenant`'s store namespace,
 * and with which visibility: `[label]` accepted is tenant visibility;
 * `[label]` refused but `[label, subject]` accepted is owner visibility
 * (each user sees only their own: `AUTH_VISIBILITY=owner`).
 */
async function storeAccess(api: TenantApi, label: string, subject: string | null): Promise<{ status: number; text: string; owner?: boolean }> {
  const probe = (namespace: string[]) => api.call("searching the tenant's store", { method: "POST", path: "/store/items/search", body: { namespace_prefix: namespace, limit: 1 } });
  const whole = await probe([label]);
  if (whole.status >= 200 && whole.status < 300) return { status: whole.status, text: "", owner: false };
  if (whole.status === 403 && subject) {
    const own = await probe([label, subject]);
    if (own.status >= 200 && own.status < 300) return { status: own.status, text: "", owner: true };
  }
  return { status: whole.status, text: excerptOf(whole) };
}

/**
 * Find and confirm the tenant, check the token can finish the job, and tell
 * whether the deployment serves crons.
 *
 * @throws {OffboardRefusedError} the token is refused, is another tenant's, sees only its own user's state, or lacks a permission (all missing ones named).
 * @example
 * const preflight = await checkPreflight(api, token, "acme");
 */
export async function checkPreflight(api: TenantApi, token: string, tenantOption: string | undefined): Promise<Preflight> {
  const claims = decodeClaims(token);
  const subject = typeof claims.sub === "string" && claims.sub !== "" ? claims.sub : null;

  const threads = await api.call("searching threads", { method: "POST", path: "/threads/search", body: { limit: 1 } });
  if (threads.status === 401) throw new OffboardRefusedError(`the deployment refuses the token (401: ${excerptOf(threads)}): it is expired, or not one of this deployment's`);
  const missing: string[] = [];
  const refused = (what: keyof typeof PERMISSION_OF, status: number, text: string) =>
    missing.push(`${PERMISSION_OF[what]} (${what} answered ${status}${text ? `: ${text}` : ""})`);
  if (threads.status === 403) refused("POST /threads/search", 403, excerptOf(threads));
  else if (threads.status < 200 || threads.status >= 300) throw new OffboardRefusedError(`POST /threads/search answered ${threads.status}: ${excerptOf(threads)}`);

  // The tenant: named, or the one the deployment stamped on what this token sees, or a claim; the store confirms it.
  const stamped = Array.isArray(threads.json) ? (threads.json as Array<{ metadata?: { tenant_id?: unknown } }>)[0]?.metadata?.tenant_id : undefined;
  const candidates = tenantOption !== undefined ? [tenantOption] : [...new Set([stamped, ...TENANT_CLAIMS.map((name) => claims[name])])].filter(isTenantId);
  let tenant: string | undefined;
  let lastRefusal: { status: number; text: string } | undefined;
  for (const candidate of candidates) {
    const access = await storeAccess(api, tenantNamespaceLabel(candidate), subject);
    if (access.owner === true) {
      throw new OffboardRefusedError(
        `this deployment runs with owner visibility (AUTH_VISIBILITY=owner): the token of "${subject}" sees only that user's own threads, assistants and store items, not the rest of tenant "${candidate}". ` +
          "It cannot offboard the whole tenant, so nothing was deleted. Run the offboarding while the deployment uses tenant visibility, or erase the tenant at the storage layer (docs/offboarding.md).",
      );
    }
    if (access.owner === false) {
      tenant = candidate;
      break;
    }
    lastRefusal = access;
  }
  if (tenant === undefined) {
    if (tenantOption !== undefined) {
      throw new OffboardRefusedError(
        `the deployment refuses tenant "${tenantOption}"'s store to this token (POST /store/items/search answered ${lastRefusal?.status}: ${lastRefusal?.text}): ` +
          `it is not a token of tenant "${tenantOption}", or it lacks store:read; ${claimsInWords(token)}. Nothing was deleted.`,
      );
    }
    throw new OffboardRefusedError(`cannot tell which tenant this token belongs to (${claimsInWords(token)}): name it with --tenant`);
  }

  // The tenant named must be the token's, by every sign the command can read: what the deployment stamps on
  // what the token sees, and the token's own tenant claims (when it has any of the usual ones).
  if (typeof stamped === "string" && stamped !== tenant) {
    throw new OffboardRefusedError(`the deployment stamps what this token sees with tenant "${stamped}", not "${tenant}": it is not a token of tenant "${tenant}" (or the deployment mixes tenants). Nothing was deleted.`);
  }
  const claimed = claimedTenants(claims);
  if (claimed.length > 0 && !claimed.includes(tenant)) {
    throw new OffboardRefusedError(`the token's tenant claims name ${claimed.map((t) => `"${t}"`).join(", ")}, not "${tenant}": it is not a token of tenant "${tenant}". Nothing was deleted.`);
  }
  await requireOtherTenantsRefused(api, tenant);

  // Write permissions, proven harmlessly: deleting an id that exists nowhere is a 404 when allowed, a 403 when not.
  const nobody = randomUUID();
  for (const [what, path] of [
    ["DELETE /threads/{id}", `/threads/${nobody}`],
    ["DELETE /assistants/{id}", `/assistants/${nobody}`],
    ["POST /threads/{id}/runs/{run_id}/cancel", `/threads/${nobody}/runs/${randomUUID()}/cancel?action=interrupt`],
  ] as const) {
    const answer = await api.call(`checking ${what}`, { method: what.startsWith("POST") ? "POST" : "DELETE", path });
    if (answer.status === 401 || answer.status === 403) refused(what, answer.status, excerptOf(answer));
  }
  // store:write, proven harmlessly too: a random key in a namespace of the tenant that already exists (so not even an
  // empty namespace is left behind). With no store item at all there is nothing to delete, and nothing to prove.
  const firstItem = await api.call("searching the tenant's store", { method: "POST", path: "/store/items/search", body: { namespace_prefix: [tenantNamespaceLabel(tenant)], limit: 1 } });
  const namespace = ((firstItem.json as { items?: Array<{ namespace?: unknown }> } | null)?.items ?? [])[0]?.namespace;
  if (ok(firstItem.status) && Array.isArray(namespace)) {
    const probe = await api.call("checking DELETE /store/items", { method: "DELETE", path: "/store/items", body: { namespace, key: `offboard-check-${randomUUID()}` } });
    if (probe.status === 401 || probe.status === 403) refused("DELETE /store/items", probe.status, excerptOf(probe));
  }
  const assistants = await api.call("searching assistants", { method: "POST", path: "/assistants/search", body: { limit: 1 } });
  if (assistants.status === 401 || assistants.status === 403) refused("POST /assistants/search", assistants.status, excerptOf(assistants));

  const crons = await cronSearch(api);
  const cronsServed = crons !== false;
  if (crons !== false && (crons.status === 401 || crons.status === 403)) refused("POST /runs/crons/search", crons.status, crons.text);
  else if (cronsServed) {
    const answer = await api.call("checking DELETE /runs/crons/{id}", { method: "DELETE", path: `/runs/crons/${nobody}` });
    if (answer.status === 401 || answer.status === 403) refused("DELETE /runs/crons/{id}", answer.status, excerptOf(answer));
  }
  if (missing.length) {
    throw new OffboardRefusedError(`this token cannot finish the job, so nothing was deleted. Missing: ${missing.join("; ")}. ${claimsInWords(token)}.`);
  }
  return { tenant, label: tenantNamespaceLabel(tenant), subject, cronsServed, tenantFrom: tenantOption !== undefined ? "option" : "deployment" };
}
