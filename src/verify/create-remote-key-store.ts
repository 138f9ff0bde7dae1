import { errors, type CryptoKey, type JWTVerifyGetKey, type KeyObject } from "jose";
import { isSecureOrLoopbackUrl } from "../config/is-loopback-url.ts";
import { KeysUnavailableError } from "../errors.ts";
import { DEFAULT_MAX_DOCUMENT_BYTES, fetchJson } from "./fetch-json.ts";
import type { FetchLike, KeySetChange, KeyStore } from "./key-store.ts";
import { resolveJwksUrl } from "./resolve-jwks-url.ts";
import { choiceKey, rememberChoice, toKeySet, type KeySet } from "./key-set.ts";

/** Options of {@link createRemoteKeyStore}. Durations in milliseconds. */
export interface RemoteKeyStoreOptions {
  /** The configured issuer (used for discovery when `jwksUrl` is not given). */
  issuer: string;
  /** JWKS endpoint; default: `jwks_uri` from the issuer's discovery document. */
  jwksUrl?: string | undefined;
  /** `fetch` to use. Default: the global one. */
  fetch?: FetchLike | undefined;
  /** Clock in ms since the epoch. Default `Date.now`. */
  now?: (() => number) | undefined;
  /** Abort a discovery or key set request after this long. Default 5000. */
  timeoutMs?: number | undefined;
  /** A key set younger than this is fresh; older, it is refreshed in the background. Default 600000 (10 min). */
  cacheMaxAgeMs?: number | undefined;
  /** At most one fetch per cooldown for unknown kids and after a failure. Default 30000. */
  cooldownMs?: number | undefined;
  /** While the provider fails, keep verifying with keys at most this old. Default 86400000 (24 h). */
  staleIfErrorMs?: number | undefined;
  /** Refuse a key set or discovery document larger than this. Default 262144. */
  maxResponseBytes?: number | undefined;
  /** Refuse a key set with more keys than this. Default 100. */
  maxKeys?: number | undefined;
  /** Where a failed or recovered refresh is reported. Default `console.warn`. */
  log?: ((message: string) => void) | undefined;
}

/** Counters of a remote key store, for metrics (`src/metrics/`) and tests. */
export interface KeyStoreStats {
  /** Refresh attempts (discovery + key set count as one). */
  fetches: number;
  /** Refresh attempts that brought a key set. */
  fetchSuccesses: number;
  /** Refresh attempts that failed (provider down, 5xx, timeout, garbage, caps). */
  fetchFailures: number;
  /** Key lookups answered from a set the provider could not refresh (stale-if-error). */
  staleIfErrorServed: number;
  /** Lookups of an unknown kid answered without a fetch (negative cache or cooldown). */
  unknownKidSuppressed: number;
  /** Key lookups refused with `KeysUnavailableError` (no usable key set: a 503 `key_set_unavailable`). */
  unavailable: number;
  /** Age of the key set in use, in ms by the store's clock; `null` while it has none. */
  keySetAgeMs: number | null;
}

/** A key store over an identity provider's JWKS endpoint; see {@link createRemoteKeyStore}. */
export interface RemoteKeyStore extends KeyStore {
  keyFor(header: { alg?: unknown; kid?: unknown }): CryptoKey | KeyObject | undefined;
  hasKid(kid: string): boolean;
  onKeySetChange(listener: (change: KeySetChange) => void): () => void;
  /** A copy of the counters. */
  stats(): KeyStoreStats;
  /** Fetch now (single flight). Rejects with the failure; the last good set stays in use. */
  refresh(): Promise<void>;
}

const MAX_NEGATIVE_ENTRIES = 1024;

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`createRemoteKeyStore: "${name}" must be a positive finite number (got ${String(value)})`);
  }
  return value;
}

/**
 * A key store that keeps a deployment up when its identity provider is not.
 * jose's `createRemoteJWKSet` refetches on an unknown `kid` only after its
 * cooldown, has no stale-if-error and fails every request once its cache is
 * older than `cacheMaxAge` while the provider is down. This one:
 *
 * - **single flight**: one fetch however many requests need it at once;
 * - **rotation**: an unknown `kid` causes one refetch (then the token
 *   verifies without a restart), at most one per `cooldownMs`;
 * - **negative cache**: a kid still missing after a refetch is answered
 *   without a fetch until the cooldown ends, so a flood of random kids costs
 *   at most one fetch per cooldown;
 * - **stale-while-revalidate**: a set older than `cacheMaxAgeMs` is still
 *   used while it is refreshed in the background: expiry never puts a fetch
 *   on a request's path while good keys are at hand;
 * - **stale-if-error**: provider down, 5xx, slow past `timeoutMs` or garbage:
 *   keep verifying with the last good set while it is younger than
 *   `staleIfErrorMs`, with a log line per failed refresh and the
 *   `staleIfErrorServed` counter;
 * - **no keys ever**: `KeysUnavailableError` (503 + `Retry-After`), never a
 *   401 (the token may be fine), and at most one attempt per cooldown;
 * - **fetch hygiene**: timeout, no redirects, size and key-count caps,
 *   https except on loopback, discovery `issuer` equal to the configured one,
 *   private or symmetric keys refused.
 *
 * Keys are imported and selected by jose (`importJWK`, `createLocalJWKSet`);
 * verification stays in jose.
 *
 * @throws {TypeError} at construction, naming a bad option.
 * @example
 * const keyStore = createRemoteKeyStore({ issuer: "https://idp.example.com/", staleIfErrorMs: 6 * 3600_000 });
 * await jwtVerify(token, keyStore.getKey, { issuer, audience, algorithms: ["RS256"] });
 */
export function createRemoteKeyStore(options: RemoteKeyStoreOptions): RemoteKeyStore {
  if (typeof options.issuer !== "string" || !URL.canParse(options.issuer)) {
    throw new TypeError('createRemoteKeyStore: "issuer" must be an absolute URL');
  }
  if (options.jwksUrl !== undefined) {
    if (!URL.canParse(options.jwksUrl) || !isSecureOrLoopbackUrl(new URL(options.jwksUrl))) {
      throw new TypeError('createRemoteKeyStore: "jwksUrl" must be an https URL (http only on a loopback host)');
    }
  } else if (!isSecureOrLoopbackUrl(new URL(options.issuer))) {
    throw new TypeError('createRemoteKeyStore: "issuer" must be https (http only on a loopback host) for discovery');
  }
  const doFetch = options.fetch;
  const now = options.now ?? Date.now;
  const timeoutMs = positive("timeoutMs", options.timeoutMs, 5000);
  const cacheMaxAgeMs = positive("cacheMaxAgeMs", options.cacheMaxAgeMs, 10 * 60_000);
  const cooldownMs = positive("cooldownMs", options.cooldownMs, 30_000);
  const staleIfErrorMs = positive("staleIfErrorMs", options.staleIfErrorMs, 24 * 3600_000);
  const maxBytes = positive("maxResponseBytes", options.maxResponseBytes, DEFAULT_MAX_DOCUMENT_BYTES);
  const maxKeys = positive("maxKeys", options.maxKeys, 100);
  const log = options.log ?? ((message: string) => console.warn(message));
  const fetchOptions = { fetch: doFetch, timeoutMs, maxBytes };

  let jwksUrl = options.jwksUrl;
  let current: KeySet | undefined;
  let inflight: Promise<KeySet> | undefined;
  let lastAttemptAt = Number.NEGATIVE_INFINITY;
  let failingSince: number | undefined;
  const missing = new Map<string, number>();
  const listeners = new Set<(change: KeySetChange) => void>();
  const stats: Omit<KeyStoreStats, "keySetAgeMs"> = { fetches: 0, fetchSuccesses: 0, fetchFailures: 0, staleIfErrorServed: 0, unknownKidSuppressed: 0, unavailable: 0 };

  const load = async (): Promise<KeySet> => {
    jwksUrl ??= await resolveJwksUrl({ issuer: options.issuer, ...fetchOptions });
    const document = await fetchJson(jwksUrl, fetchOptions);
    return toKeySet(document, jwksUrl, maxKeys, now());
  };

  const refresh = (): Promise<KeySet> => {
    if (inflight) return inflight;
    lastAttemptAt = now();
    stats.fetches += 1;
    const attempt = load().then(
      (next) => {
        stats.fetchSuccesses += 1;
        const previous = current;
        current = next;
        missing.clear();
        if (failingSince !== undefined) {
          log(`langgraph-tenant-auth: the key set of ${options.issuer} is reachable again`);
          failingSince = undefined;
        }
        announce(previous, next);
        return next;
      },
      (error: unknown) => {
        stats.fetchFailures += 1;
        failingSince ??= now();
        const reason = error instanceof Error ? error.message : String(error);
        if (current && now() - current.fetchedAt <= staleIfErrorMs) {
          const age = Math.round((now() - current.fetchedAt) / 1000);
          log(
            `langgraph-tenant-auth: key set refresh for ${options.issuer} failed (${reason}); ` +
              `stale-if-error: verifying with keys fetched ${age} s ago (limit ${Math.round(staleIfErrorMs / 1000)} s)`,
          );
        } else {
          log(`langgraph-tenant-auth: key set fetch for ${options.issuer} failed (${reason}); no usable keys, answering 503`);
        }
        throw error;
      },
    );
    inflight = attempt;
    const clear = () => {
      if (inflight === attempt) inflight = undefined;
    };
    attempt.then(clear, clear);
    return attempt;
  };

  const announce = (previous: KeySet | undefined, next: KeySet) => {
    const before = previous?.kids ?? new Set<string>();
    const added = [...next.kids].filter((kid) => !before.has(kid));
    const removed = [...before].filter((kid) => !next.kids.has(kid));
    if (added.length === 0 && removed.length === 0) return;
    for (const listener of listeners) {
      try {
        listener({ added, removed });
      } catch (error) {
        log(`langgraph-tenant-auth: a key set listener threw: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  };

  const unavailable = (cause: unknown): KeysUnavailableError => {
    stats.unavailable += 1;
    const waitMs = Math.max(1000, cooldownMs - (now() - lastAttemptAt));
    return new KeysUnavailableError(waitMs / 1000, { cause });
  };

  /** A usable set for this request, fetching on the path only when there is none. */
  const usableSet = async (): Promise<KeySet> => {
    const t = now();
    const set = current;
    if (set && t - set.fetchedAt <= staleIfErrorMs) {
      if (t - set.fetchedAt > cacheMaxAgeMs) {
        // Stale-while-revalidate: answer from the set at hand, refresh behind it.
        if (!inflight && t - lastAttemptAt >= Math.min(cooldownMs, cacheMaxAgeMs)) refresh().catch(() => undefined);
        if (failingSince !== undefined) stats.staleIfErrorServed += 1;
      }
      return set;
    }
    // No keys, or keys past the stale-if-error limit: the fetch is on the path.
    if (inflight) return inflight.catch((error: unknown) => Promise.reject(unavailable(error)));
    if (failingSince !== undefined && t - lastAttemptAt < cooldownMs) {
      throw unavailable(new Error("the last key set fetch failed; waiting for the cooldown"));
    }
    return refresh().catch((error: unknown) => Promise.reject(unavailable(error)));
  };

  const rememberMissing = (kid: string) => {
    missing.delete(kid);
    missing.set(kid, now());
    if (missing.size > MAX_NEGATIVE_ENTRIES) missing.delete(missing.keys().next().value as string);
  };

  const getKey: JWTVerifyGetKey = async (header, token) => {
    const set = await usableSet();
    try {
      const key = await set.lookup(header, token);
      rememberChoice(set, header, key, token);
      return key;
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      const kid = typeof header.kid === "string" ? header.kid : "";
      const t = now();
      const seen = missing.get(kid);
      let next: KeySet;
      if (inflight) {
        next = await inflight.catch(() => Promise.reject(error));
      } else if ((seen !== undefined && t - seen < cooldownMs) || t - lastAttemptAt < cooldownMs) {
        // RFC 8725 §3.1 asks verifiers not to be an oracle or a fetch amplifier:
        // an unknown kid costs a fetch only once per cooldown.
        stats.unknownKidSuppressed += 1;
        rememberMissing(kid);
        throw error;
      } else {
        next = await refresh().catch(() => Promise.reject(error));
      }
      try {
        const key = await next.lookup(header, token);
        rememberChoice(next, header, key, token);
        return key;
      } catch (retryError) {
        if (retryError instanceof errors.JWKSNoMatchingKey) rememberMissing(kid);
        throw retryError;
      }
    }
  };

  return {
    getKey,
    // Only a fresh set answers at once: a stale one goes through getKey,
    // which starts the background refresh (stale-while-revalidate).
    keyFor(header) {
      const set = current;
      if (set === undefined || set.chosen.size === 0 || now() - set.fetchedAt > cacheMaxAgeMs) return undefined;
      const choice = choiceKey(header);
      return choice === undefined ? undefined : set.chosen.get(choice);
    },
    hasKid: (kid) => current?.kids.has(kid) ?? false,
    onKeySetChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stats: () => ({ ...stats, keySetAgeMs: current === undefined ? null : Math.max(0, now() - current.fetchedAt) }),
    refresh: () => refresh().then(() => undefined),
  };
}
