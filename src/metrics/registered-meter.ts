/**
 * The one place that loads `@opentelemetry/api`. It is an optional peer
 * dependency: an application that registers an OpenTelemetry SDK has it (every
 * SDK depends on it), one that does not may not, and then there is nothing to
 * record into. So it is loaded with `require` when a meter is first asked for,
 * never by importing this package, and its absence means "no metrics".
 */
import { createRequire } from "node:module";
import type { MeterLike } from "./meter-like.ts";

/** The part of `@opentelemetry/api` read here. */
interface OtelApi {
  metrics: { getMeter(name: string, version?: string): MeterLike };
  createNoopMeter(): unknown;
}

/** Loads `@opentelemetry/api`; `undefined` when it is not installed. */
export type OtelApiLoader = () => OtelApi | undefined;

let loaded: OtelApi | null | undefined;

/** `@opentelemetry/api` from where this package is installed (the application's copy, as npm resolves a peer), once. */
const loadOtelApi: OtelApiLoader = () => {
  if (loaded === undefined) {
    try {
      const require = createRequire(import.meta.url);
      loaded = require("@opentelemetry/api") as OtelApi;
    } catch {
      loaded = null;
    }
  }
  return loaded ?? undefined;
};

/**
 * The meter of the application's registered OpenTelemetry SDK (its global
 * `MeterProvider`), or `undefined` when none is registered or
 * `@opentelemetry/api` is not installed. OpenTelemetry gives a library a
 * no-op meter until an SDK is registered, and that meter stays a no-op: so
 * the SDK must be registered before the package's parts are built (a
 * `--import` preload, or an import at the top of the module that builds them).
 *
 * @param load How to load `@opentelemetry/api` (tests). Default: `require` from this package.
 * @example
 * const meter = registeredMeter("langgraph-tenant-auth"); // undefined without an SDK
 */
export function registeredMeter(name: string, load: OtelApiLoader = loadOtelApi): MeterLike | undefined {
  const api = load();
  if (api === undefined) return undefined;
  const meter = api.metrics.getMeter(name);
  return meter === api.createNoopMeter() ? undefined : meter;
}
