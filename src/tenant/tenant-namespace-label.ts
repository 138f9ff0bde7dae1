import { InvalidTenantIdError } from "../errors.ts";
import { isTenantId } from "./tenant-id.ts";

/**
 * The character that starts an escape in a tenant's store namespace label.
 * The tenant rule forbids it, so in a label it never stands for itself.
 */
export const NAMESPACE_LABEL_ESCAPE = "~";

// `.` is forbidden in LangGraph store labels (and the dev server splits GET
// namespaces on it); `_` is a LIKE wildcard that LangGraph's PostgresStore
// refuses in labels. Every other character of the tenant rule passes as is.
const ESCAPED = /[._]/g;
const ESCAPE_OF: Record<string, string> = { ".": "~2E", "_": "~5F" };
const CHAR_OF: Record<string, string> = { "~2E": ".", "~5F": "_", "~6C": "l" };
// The root label "langgraph" is reserved by LangGraph stores (put refuses it).
const RESERVED_ROOT = "langgraph";

/**
 * The label that stands for a tenant as the first element of every store
 * namespace: the tenant id with `.` written `~2E` and `_` written `~5F`, and
 * the tenant `langgraph` written `~6Canggraph` (a reserved root label).
 * Every other tenant id is its own label (`acme`, `acme-eu`).
 *
 * The encoding is what every LangGraph store accepts (no `.`, `:`, `_`, `%`,
 * `\`, NUL, empty label or `langgraph` root) and what survives the dev
 * server's `GET /store/items?namespace=a.b` split and a URL query unescaped.
 * It is collision-free and reversible: `~` is outside the tenant rule, so it
 * only ever starts an escape, and {@link tenantIdFromNamespaceLabel} undoes
 * it exactly (`acme.eu`, `acme_eu` and `acme-eu` get three different labels).
 *
 * @throws {InvalidTenantIdError} `tenantId` breaks the tenant rule (400).
 * @example
 * tenantNamespaceLabel("acme");    // "acme"
 * tenantNamespaceLabel("acme.eu"); // "acme~2Eeu"
 * tenantNamespaceLabel("acme_eu"); // "acme~5Feu"
 */
export function tenantNamespaceLabel(tenantId: string): string {
  if (!isTenantId(tenantId)) throw new InvalidTenantIdError();
  if (tenantId === RESERVED_ROOT) return `~6C${tenantId.slice(1)}`;
  return tenantId.replace(ESCAPED, (c) => ESCAPE_OF[c]!);
}

/**
 * The tenant a store namespace label stands for, or `undefined` when the
 * label is not the exact label of any tenant (an unknown or lower-case
 * escape, a bare `~`, a raw `.`, anything but a string). Inverse of
 * {@link tenantNamespaceLabel}: only the one canonical label of a tenant
 * maps back to it.
 *
 * @example
 * tenantIdFromNamespaceLabel("acme~2Eeu"); // "acme.eu"
 * tenantIdFromNamespaceLabel("acme.eu");   // undefined
 */
export function tenantIdFromNamespaceLabel(label: unknown): string | undefined {
  if (typeof label !== "string") return undefined;
  const tenantId = label.replace(/~[0-9A-Za-z]{0,2}/g, (escape) => CHAR_OF[escape] ?? "\u0000");
  if (!isTenantId(tenantId) || tenantNamespaceLabel(tenantId) !== label) return undefined;
  return tenantId;
}
