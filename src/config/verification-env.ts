/**
 * The `AUTH_*` variables of token verification and key fetching (required
 * claim values are `AUTH_REQUIRED_CLAIMS` of `provider-variables.ts`), kept apart
 * from `read-config.ts` (which merges this shape into its schema) so each
 * concern's variables are read in one place.
 */
import { z } from "zod";
import { wholeNumberVariable } from "./whole-number-variable.ts";
import { ConfigError } from "../errors.ts";
import { isSecureOrLoopbackUrl } from "./is-loopback-url.ts";

/**
 * Verification options read from the environment; part of `AuthConfig`.
 * `readConfig` fills every field; they are optional so that a config built
 * by hand (tests, programmatic use) may leave them at their defaults.
 */
export interface VerificationConfig {
  /** Every trusted issuer (`AUTH_ISSUER`, comma-separated). `issuer` is the first. */
  issuers: string[];
  /** Required `typ` header, e.g. `at+jwt` (RFC 9068). Default: any. */
  requiredTyp?: string | undefined;
  /** Refuse tokens issued (`iat`) longer ago than this many seconds. Default: no limit. */
  maxTokenAgeSeconds?: number | undefined;
  /** Longest token accepted, in bytes. Default 8192. */
  maxTokenBytes?: number;
  /** Key set and discovery request timeout, ms. Default 5000. */
  jwksTimeoutMs?: number;
  /** Seconds after which the key set is refreshed in the background. Default 600. */
  jwksMaxAgeSeconds?: number;
  /** Seconds between fetches caused by unknown kids or failures. Default 30. */
  jwksCooldownSeconds?: number;
  /** Seconds the last good key set is used while the provider fails. Default 86400. */
  jwksStaleIfErrorSeconds?: number;
}

const ISSUER_REQUIRED = "AUTH_ISSUER is required (an https URL, or http on a loopback host)";

/**
 * `AUTH_ISSUER`: one issuer URL or a comma-separated list of them. Problems
 * name the issuer by position, never by value (a secret pasted into the
 * wrong variable must not reach a log).
 */
export const issuerListVariable = z
  .string({ error: ISSUER_REQUIRED })
  .transform((value) => value.split(",").map((part) => part.trim()).filter(Boolean))
  .superRefine((list, ctx) => {
    if (list.length === 0) ctx.addIssue({ code: "custom", message: ISSUER_REQUIRED });
    if (new Set(list).size !== list.length) ctx.addIssue({ code: "custom", message: "AUTH_ISSUER lists an issuer twice" });
    list.forEach((issuer, index) => {
      const problem = issuerProblem(issuer);
      const which = list.length === 1 ? "AUTH_ISSUER" : `AUTH_ISSUER (issuer ${index + 1} of ${list.length})`;
      if (problem) ctx.addIssue({ code: "custom", message: `${which} ${problem}` });
    });
  });

function issuerProblem(issuer: string): string | undefined {
  if (!URL.canParse(issuer)) return "must be an absolute URL";
  const url = new URL(issuer);
  if (!isSecureOrLoopbackUrl(url)) return "must use https (plain http is allowed only on 127.0.0.0/8, ::1 or localhost)";
  if (url.username !== "" || url.password !== "") return "must not contain a user name or password";
  // OIDC Discovery §3 / RFC 8414 §2: an issuer identifier has no query or fragment.
  if (issuer.includes("?") || issuer.includes("#")) return "must not contain a query or a fragment";
  return undefined;
}

const seconds = (name: string, min: number, max: number) => wholeNumberVariable(name, min, max, "seconds");

// RFC 9110 §8.3.1 media type (the `application/` prefix may be left out, RFC 7515 §4.1.9).
const MEDIA_TYPE = /^[A-Za-z0-9!#$&^_.+-]{1,64}(\/[A-Za-z0-9!#$&^_.+-]{1,64})?$/;

/** The variables of this file, merged into the main schema by `read-config.ts`. */
export const VERIFICATION_ENV = {
  AUTH_REQUIRED_TYP: z
    .string()
    .trim()
    .regex(MEDIA_TYPE, 'AUTH_REQUIRED_TYP must be a media type such as "at+jwt" (RFC 9068)')
    .optional(),
  AUTH_MAX_TOKEN_AGE: seconds("AUTH_MAX_TOKEN_AGE", 1, 31_536_000).optional(),
  AUTH_MAX_TOKEN_BYTES: wholeNumberVariable("AUTH_MAX_TOKEN_BYTES", 1024, 65_536, "bytes").default(8192),
  AUTH_JWKS_TIMEOUT_MS: wholeNumberVariable("AUTH_JWKS_TIMEOUT_MS", 100, 60_000, "milliseconds").default(5000),
  AUTH_JWKS_MAX_AGE: seconds("AUTH_JWKS_MAX_AGE", 1, 86_400).default(600),
  AUTH_JWKS_COOLDOWN: seconds("AUTH_JWKS_COOLDOWN", 1, 3600).default(30),
  AUTH_JWKS_STALE_IF_ERROR: seconds("AUTH_JWKS_STALE_IF_ERROR", 1, 604_800).default(86_400),
};

const VerificationEnvObject = z.object(VERIFICATION_ENV);
type VerificationEnv = { AUTH_ISSUER: string[]; AUTH_JWKS_URL?: string | undefined } & z.output<typeof VerificationEnvObject>;

/**
 * The verification part of `AuthConfig`, from parsed variables.
 *
 * @throws {ConfigError} `AUTH_JWKS_URL` set together with several issuers
 * (each issuer's key set is then found by its own discovery document: one
 * URL cannot serve several issuers without one vouching for another).
 * @example
 * const verification = toVerificationConfig(parsedEnv);
 */
export function toVerificationConfig(e: VerificationEnv): VerificationConfig {
  if (e.AUTH_ISSUER.length > 1 && e.AUTH_JWKS_URL !== undefined) {
    throw new ConfigError([
      "AUTH_JWKS_URL can be set only with a single AUTH_ISSUER; with several issuers each key set is found by the issuer's discovery document",
    ]);
  }
  return {
    issuers: e.AUTH_ISSUER,
    requiredTyp: e.AUTH_REQUIRED_TYP,
    maxTokenAgeSeconds: e.AUTH_MAX_TOKEN_AGE,
    maxTokenBytes: e.AUTH_MAX_TOKEN_BYTES,
    jwksTimeoutMs: e.AUTH_JWKS_TIMEOUT_MS,
    jwksMaxAgeSeconds: e.AUTH_JWKS_MAX_AGE,
    jwksCooldownSeconds: e.AUTH_JWKS_COOLDOWN,
    jwksStaleIfErrorSeconds: e.AUTH_JWKS_STALE_IF_ERROR,
  };
}
