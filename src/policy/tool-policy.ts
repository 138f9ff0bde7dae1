import { z } from "zod";
import { deepFreeze } from "../lib/deep-freeze.ts";
import type { Principal } from "../tenant/principal.ts";
import { isTenantId } from "../tenant/tenant-id.ts";

/**
 * A tool name as chat-model providers accept it (OpenAI and Anthropic both
 * limit function names to `^[A-Za-z0-9_-]{1,64}$`), as the source text of a
 * regular expression: the policy checks names with its own private copy,
 * so no caller can widen the rule (`compile` rewrites even a frozen `RegExp`).
 *
 * @example
 * new RegExp(TOOL_NAME_PATTERN_SOURCE).test("billing_lookup"); // true
 */
export const TOOL_NAME_PATTERN_SOURCE = "^[A-Za-z0-9_-]{1,64}$";

const TOOL_NAME = new RegExp(TOOL_NAME_PATTERN_SOURCE);

/** A role or permission name: the same rule the principal applies to them. */
const GRANT_NAME_PATTERN = /^[\x21-\x7e]{1,200}$/;

const toolList = z.array(
  z.string().regex(TOOL_NAME, `a tool name must match ${TOOL_NAME_PATTERN_SOURCE}`),
);
const grantMap = z.record(
  z.string().regex(GRANT_NAME_PATTERN, "a role or permission name must be 1-200 printable ASCII characters"),
  toolList,
);

/**
 * The policy format (JSON-compatible): allow lists, nothing else. A tool
 * that no list names is refused to everyone.
 *
 * - `everyone`: tools any authenticated caller with a tenant may use.
 * - `roles`: role → tools (roles come from the token's roles claim).
 * - `permissions`: permission → tools (from `scope` / `permissions`).
 *
 * A caller gets the union of `everyone`, its roles' tools and its
 * permissions' tools. Unknown keys are refused, so a typo such as `role`
 * fails at start instead of silently granting nothing (or everything).
 */
export const ToolPolicySchema = z.strictObject({
  everyone: toolList.default([]),
  roles: grantMap.default({}),
  permissions: grantMap.default({}),
});

/** The policy as written in configuration (every key optional). */
export type ToolPolicyConfig = z.input<typeof ToolPolicySchema>;

/** Anything with a name: a LangChain tool, a `ToolSpec`, a tool call. */
export interface Named {
  name: string;
}

/** A validated tool policy. Every method is pure and fails closed. */
export interface ToolPolicy {
  /** The validated configuration (defaults filled in), deeply frozen: the policy decides over exactly this. */
  readonly config: z.output<typeof ToolPolicySchema>;
  /** Tool names `user` may call; empty for anything that is not a principal. */
  allowedToolNames(user: unknown): ReadonlySet<string>;
  /** True when `user` may call the tool named `tool`. */
  isAllowed(user: unknown, tool: string): boolean;
  /**
   * The subset of `tools` that `user` may call, in their original order: bind
   * these and nothing else (`model.bindTools(policy.toolsFor(user, tools))`).
   */
  toolsFor<T extends Named>(user: unknown, tools: readonly T[]): T[];
}

/**
 * Read a run's caller as a principal, or `undefined` when it is not one
 * (no user, LangGraph Studio's user, a string identity, a malformed object).
 * Only callers with an identity, a valid tenant id and array permissions
 * count; a missing `roles` reads as no roles.
 *
 * @example
 * readToolCaller(config.configurable?.langgraph_auth_user); // Principal | undefined
 */
export function readToolCaller(user: unknown): Principal | undefined {
  if (user === null || typeof user !== "object") return undefined;
  const u = user as Partial<Record<keyof Principal, unknown>>;
  if (typeof u.identity !== "string" || u.identity === "" || !isTenantId(u.tenant_id)) return undefined;
  if (!Array.isArray(u.permissions) || !u.permissions.every((p) => typeof p === "string")) return undefined;
  const roles = u.roles ?? [];
  if (!Array.isArray(roles) || !roles.every((r) => typeof r === "string")) return undefined;
  return { ...(u as Principal), roles: roles as string[] };
}

/**
 * Validate a tool policy and return its decisions.
 *
 * Defaults: every list empty, so `createToolPolicy({})` allows nothing.
 *
 * @throws {TypeError} naming the first bad path, e.g. `toolPolicy.roles.admin[0]`.
 * @example
 * const policy = createToolPolicy({
 *   everyone: ["search_docs"],
 *   roles: { billing: ["billing_lookup"], admin: ["billing_lookup", "refund"] },
 *   permissions: { "billing:read": ["billing_lookup"] },
 * });
 * const bound = model.bindTools(policy.toolsFor(user, allTools));
 */
export function createToolPolicy(input: ToolPolicyConfig): ToolPolicy {
  const parsed = ToolPolicySchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
    throw new TypeError(`toolPolicy${path}: ${issue.message}`);
  }
  // Frozen: `policy.config.everyone.push("refund")` must not widen the policy.
  const config = deepFreeze(parsed.data);
  // Object.hasOwn: a role named "__proto__" or "constructor" must not reach
  // the prototype (z.record builds a plain object).
  const grantsOf = (map: Record<string, string[]>, names: readonly string[]) =>
    names.flatMap((name) => (Object.hasOwn(map, name) ? map[name]! : []));

  const allowedToolNames = (user: unknown): ReadonlySet<string> => {
    const caller = readToolCaller(user);
    if (!caller) return new Set();
    return new Set([
      ...config.everyone,
      ...grantsOf(config.roles, caller.roles),
      ...grantsOf(config.permissions, caller.permissions),
    ]);
  };

  return {
    config,
    allowedToolNames,
    isAllowed: (user, tool) => typeof tool === "string" && allowedToolNames(user).has(tool),
    toolsFor(user, tools) {
      const allowed = allowedToolNames(user);
      return tools.filter((t) => allowed.has(t.name));
    },
  };
}
