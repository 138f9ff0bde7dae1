import { z } from "zod";
import { ConfigError } from "../errors.ts";
import { setVariables } from "./set-variables.ts";
import { deepFreeze } from "../lib/deep-freeze.ts";
import { isSecureOrLoopbackUrl } from "./is-loopback-url.ts";
import { wholeNumberVariable } from "./whole-number-variable.ts";
import { issuerListVariable, toVerificationConfig, VERIFICATION_ENV, type VerificationConfig } from "./verification-env.ts";
import { ProviderVariables, readProviderSettings, type ProviderSettings } from "./provider-variables.ts";
import { TokenCacheEnvSchema, toTokenCacheConfig, type TokenCacheConfig } from "./token-cache-config.ts";
import { customRoutesVariable, type CustomRoute } from "./custom-routes-variable.ts";
import { decisionLogProblems, DecisionLogEnvSchema, toDecisionLogConfig, type DecisionLogConfig } from "./decision-log-config.ts";
import { MetricsEnvSchema, toMetricsConfig, type MetricsConfig } from "./metrics-config.ts";

/** Asymmetric JWS algorithms this package can verify (RFC 7518, RFC 8037). */
export const SUPPORTED_ALGORITHMS = deepFreeze([
  "RS256", "RS384", "RS512",
  "PS256", "PS384", "PS512",
  "ES256", "ES384", "ES512",
  "EdDSA", "Ed25519",
] as const);
export type Algorithm = (typeof SUPPORTED_ALGORITHMS)[number];

/** Default allowlist: `RS256,PS256,ES256,EdDSA`. */
export const DEFAULT_ALGORITHMS: readonly Algorithm[] = deepFreeze(["RS256", "PS256", "ES256", "EdDSA"]);

/**
 * The tenant id rule as the source text of a regular expression: 1–128
 * ASCII letters, digits, `.`, `_` and `-`, starting with a letter or digit
 * (so no `::`, whitespace or look-alike). A string, not a `RegExp`: an
 * exported `RegExp` can be recompiled by anyone (`compile`), even frozen.
 * Check ids with `isTenantId`; `new RegExp(TENANT_ID_PATTERN_SOURCE)`
 * builds a copy of your own.
 *
 * @example
 * new RegExp(TENANT_ID_PATTERN_SOURCE).test("acme-eu"); // true
 */
export const TENANT_ID_PATTERN_SOURCE = "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$";

/** This module's own copy of the rule: never exported. */
const TENANT_ID = new RegExp(TENANT_ID_PATTERN_SOURCE);

/** Validated options every layer below is built from. */
export interface AuthConfig extends VerificationConfig {
  /** Exact `iss` value tokens must carry: the first of `issuers`. */
  issuer: string;
  /** Accepted `aud` values; a token must contain at least one. */
  audience: string[];
  /** JWKS endpoint; `undefined` means OIDC discovery from the issuer. */
  jwksUrl: string | undefined;
  /**
   * `AUTH_TENANT_CLAIM`: claim name or dotted path holding the tenant id.
   * Default `org_id`; with `AUTH_PROVIDER` set and this unset, the preset's claim is used.
   */
  tenantClaim: string;
  /** JWS algorithm allowlist. Default `RS256,PS256,ES256,EdDSA`. */
  algorithms: Algorithm[];
  /** Seconds of skew allowed on `exp`/`nbf`. Default 5. */
  clockToleranceSeconds: number;
  /** `multi` (tenant from the token) or `single` (one fixed tenant). Default `multi`. */
  tenantMode: "multi" | "single";
  /** The tenant stamped on everything in `single` mode. Default `default`. */
  singleTenantId: string;
  /** `tenant`: members share; `owner`: each user sees only their own. Default `tenant`. */
  visibility: "tenant" | "owner";
  /**
   * Permission that unlocks each route group the route policy refuses, from
   * `AUTH_ROUTE_PERMISSIONS` (`truncate=admin:truncate,webhooks=runs:webhook`).
   * Default `{}`: every group refused for everyone.
   */
  routePermissions: Record<string, string>;
  /** `AUTH_PROVIDER` and its overrides (see `provider-variables.ts`). Absent: `generic`. */
  provider?: ProviderSettings;
  /** Verified-token cache (`AUTH_TOKEN_CACHE*`); absent means the defaults (on, 10000 entries, 300 s). */
  tokenCache?: TokenCacheConfig;
  /**
   * `AUTH_SERVER`: the host the `Auth` runs in (`dev`, `platform` or `js`),
   * overriding detection (see `src/langgraph/detect-host.ts`). Default: detected.
   */
  server?: "dev" | "platform" | "js";
  /**
   * `AUTH_STUDIO_ACCESS`: what a LangGraph Studio user verified by LangSmith
   * gets on the platform: `none` (default) or `operator` (read-only, every tenant).
   */
  studioAccess: "none" | "operator";
  /**
   * `AUTH_SYSTEM_ASSISTANTS`: `visible` (default: every tenant may read and
   * search the server's system assistants, never change them) or `hidden`.
   */
  systemAssistants: "visible" | "hidden";
  /**
   * `AUTH_CUSTOM_ROUTES`: the app's own `http.app` routes the route policy
   * lets through (`GET /custom/tenant,POST /custom/notes`); see
   * `custom-routes-variable.ts`. Default: none (absent).
   */
  customRoutes?: CustomRoute[];
  /**
   * `AUTH_DECISION_LOG` (`refusals`, `all`, `off`; default `refusals`) and
   * `AUTH_DECISION_LOG_SINK` (`stderr`, `audit`; default `stderr`): see
   * `decision-log-config.ts`. Absent means the defaults.
   */
  decisionLog?: DecisionLogConfig;
  /**
   * `AUTH_METRICS_TENANT_LABEL` (`true`, `false`; default `false`): see
   * `metrics-config.ts`. Absent means the defaults.
   */
  metrics?: MetricsConfig;
}

const parsedUrl = (value: string): URL | undefined => (URL.canParse(value) ? new URL(value) : undefined);

const urlVariable = (name: string, options: { issuer?: boolean } = {}) =>
  z
    .string({ error: `${name} is required (an https URL, or http on a loopback host)` })
    .trim()
    .min(1, `${name} is required (an https URL, or http on a loopback host)`)
    .refine((value) => URL.canParse(value), `${name} must be an absolute URL`)
    .refine(
      (value) => { const url = parsedUrl(value); return !url || isSecureOrLoopbackUrl(url); },
      `${name} must use https (plain http is allowed only on 127.0.0.0/8, ::1 or localhost)`,
    )
    // A password in the URL would end up in logs and error causes.
    .refine(
      (value) => { const url = parsedUrl(value); return !url || (url.username === "" && url.password === ""); },
      `${name} must not contain a user name or password`,
    )
    // OIDC Discovery §3 / RFC 8414 §2: an issuer identifier has no query or fragment.
    .refine(
      (value) => { const url = parsedUrl(value); return !options.issuer || !url || (url.search === "" && url.hash === "" && !value.includes("#") && !value.includes("?")); },
      `${name} must not contain a query or a fragment`,
    );

const listVariable = (name: string, what: string) =>
  z
    .string()
    .transform((value) => value.split(",").map((part) => part.trim()).filter(Boolean))
    .refine((list) => list.length > 0, `${name} must list at least one ${what}`);

const algorithmsVariable = z
  .string()
  .transform((value) => value.split(",").map((part) => part.trim()).filter(Boolean))
  .superRefine((list, ctx) => {
    if (list.length === 0) ctx.addIssue({ code: "custom", message: "AUTH_ALGORITHMS must list at least one algorithm" });
    for (const alg of list) {
      if (/^none$/i.test(alg) || /^HS/i.test(alg)) {
        ctx.addIssue({
          code: "custom",
          message: `AUTH_ALGORITHMS: "${alg}" is refused (unsigned and HMAC algorithms let anyone who knows the public key forge tokens)`,
        });
      } else if (!(SUPPORTED_ALGORITHMS as readonly string[]).includes(alg)) {
        ctx.addIssue({
          code: "custom",
          message: `AUTH_ALGORITHMS: "${alg}" is not one of ${SUPPORTED_ALGORITHMS.join(", ")}`,
        });
      }
    }
  })
  .transform((list) => list as Algorithm[]);

const EnvSchema = z.object({
  AUTH_ISSUER: issuerListVariable,
  AUTH_AUDIENCE: z
    .string({ error: "AUTH_AUDIENCE is required (the API identifier tokens are issued for; comma-separated list allowed)" })
    .pipe(listVariable("AUTH_AUDIENCE", "audience")),
  AUTH_JWKS_URL: urlVariable("AUTH_JWKS_URL").optional(),
  AUTH_TENANT_CLAIM: z
    .string()
    .trim()
    .regex(/^[\x21-\x7e]{1,256}$/, "AUTH_TENANT_CLAIM must be a claim name or dotted path: 1-256 printable ASCII characters, no spaces")
    .optional(),
  AUTH_ALGORITHMS: algorithmsVariable.prefault(DEFAULT_ALGORITHMS.join(",")),
  AUTH_CLOCK_TOLERANCE: wholeNumberVariable("AUTH_CLOCK_TOLERANCE", 0, 300, "seconds").default(5),
  AUTH_TENANT_MODE: z.enum(["multi", "single"], { error: 'AUTH_TENANT_MODE must be "multi" or "single"' }).default("multi"),
  AUTH_SINGLE_TENANT_ID: z
    .string()
    .regex(TENANT_ID, `AUTH_SINGLE_TENANT_ID must match ${TENANT_ID_PATTERN_SOURCE}`)
    .default("default"),
  AUTH_VISIBILITY: z.enum(["tenant", "owner"], { error: 'AUTH_VISIBILITY must be "tenant" or "owner"' }).default("tenant"),
  ...VERIFICATION_ENV,
  AUTH_ROUTE_PERMISSIONS: z
    .string()
    .transform((value) => value.split(",").map((part) => part.trim()).filter(Boolean))
    .superRefine((pairs, ctx) => {
      for (const pair of pairs) {
        if (!/^[a-z][a-z0-9-]{0,39}=[\x21-\x2b\x2d-\x7e]{1,200}$/.test(pair)) {
          ctx.addIssue({ code: "custom", message: `AUTH_ROUTE_PERMISSIONS: "${pair}" is not group=permission` });
        }
      }
    })
    .transform((pairs) => Object.fromEntries(pairs.map((pair) => pair.split(/=(.*)/s).slice(0, 2) as [string, string])))
    .default({}),
  ...ProviderVariables.shape,
  ...TokenCacheEnvSchema.shape,
  AUTH_SERVER: z
    .enum(["dev", "platform", "js"], { error: 'AUTH_SERVER must be "dev" (langgraph dev), "platform" (LangGraph Platform) or "js" (startServer)' })
    .optional(),
  AUTH_STUDIO_ACCESS: z
    .enum(["none", "operator"], { error: 'AUTH_STUDIO_ACCESS must be "none" or "operator"' })
    .default("none"),
  AUTH_SYSTEM_ASSISTANTS: z
    .enum(["visible", "hidden"], { error: 'AUTH_SYSTEM_ASSISTANTS must be "visible" or "hidden"' })
    .default("visible"),
  AUTH_CUSTOM_ROUTES: customRoutesVariable.optional(),
  ...DecisionLogEnvSchema.shape,
  ...MetricsEnvSchema.shape,
});

/** The environment variables this module reads (frozen). */
export const CONFIG_VARIABLES: readonly string[] = deepFreeze(Object.keys(EnvSchema.shape));

/**
 * Read and validate the `AUTH_*` variables. Empty strings count as unset.
 *
 * @throws {ConfigError} naming every bad variable and what it expects
 * (also `AUTH_DECISION_LOG_SINK=audit` without an `AUDIT_LOG_FILE` this process can append to).
 * @example
 * const config = readConfig(process.env);
 */
export function readConfig(env: Record<string, string | undefined> = process.env): AuthConfig {
  const input = setVariables(env, CONFIG_VARIABLES);
  const parsed = EnvSchema.safeParse(input);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => {
        const variable = String(issue.path[0] ?? "");
        return issue.message.startsWith(variable) ? issue.message : `${variable}: ${issue.message}`;
      });
  // A tenant id given for single mode while the mode is multi is a half-done
  // switch: say so instead of quietly ignoring it.
  if (input.AUTH_SINGLE_TENANT_ID !== undefined && input.AUTH_TENANT_MODE?.trim() !== "single") {
    problems.push('AUTH_SINGLE_TENANT_ID is only used with AUTH_TENANT_MODE=single: set both, or neither');
  }
  // The audit sink's file is checked with the rest, so one message names every problem.
  if (parsed.success) problems.push(...decisionLogProblems(toDecisionLogConfig(parsed.data), env));
  if (!parsed.success || problems.length > 0) throw new ConfigError([...new Set(problems)]);
  const e = parsed.data;
  return {
    ...toVerificationConfig(e),
    issuer: e.AUTH_ISSUER[0]!,
    audience: e.AUTH_AUDIENCE,
    jwksUrl: e.AUTH_JWKS_URL,
    tenantClaim: e.AUTH_TENANT_CLAIM ?? "org_id",
    algorithms: e.AUTH_ALGORITHMS,
    clockToleranceSeconds: e.AUTH_CLOCK_TOLERANCE,
    tenantMode: e.AUTH_TENANT_MODE,
    singleTenantId: e.AUTH_SINGLE_TENANT_ID,
    visibility: e.AUTH_VISIBILITY,
    routePermissions: e.AUTH_ROUTE_PERMISSIONS,
    provider: readProviderSettings(e),
    tokenCache: toTokenCacheConfig(e),
    server: e.AUTH_SERVER,
    studioAccess: e.AUTH_STUDIO_ACCESS,
    systemAssistants: e.AUTH_SYSTEM_ASSISTANTS,
    customRoutes: e.AUTH_CUSTOM_ROUTES,
    decisionLog: toDecisionLogConfig(e),
    metrics: toMetricsConfig(e),
  };
}
