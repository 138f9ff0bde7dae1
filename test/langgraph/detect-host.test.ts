import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.ts";
import { detectHost, isLangGraphCliServer, resolveHost } from "../../src/langgraph/detect-host.ts";
import { createAuthFromEnv } from "../../src/langgraph/create-env-auth.ts";
import { createTenantAuth } from "../../src/langgraph/create-tenant-auth.ts";
import { createPlatformRouteGuard } from "../../src/langgraph/create-platform-route-guard.ts";
import { createRoutePolicy } from "../../src/policy/route-policy.ts";
import type { Authenticator } from "../../src/authenticate/create-authenticator.ts";

// What `langgraph dev` (langgraph-api 1.5.1 cli/spawn.mjs) passes its server process: <ppid> <options JSON>.
const DEV_ARGV = ["node", "/x/cli/entrypoint.mjs", "4242", JSON.stringify({ port: 2024, graphs: { echo: "./echo.ts:graph" }, auth: { path: "./a.ts:auth", disable_studio_auth: true } })];
const WORKER_ARGV = ["node", "/api/langgraph_api/js/client.mts"];
const PLATFORM_ENV = { LANGGRAPH_AUTH: '{"path":"./src/auth.ts:auth"}', LANGSERVE_GRAPHS: '{"echo":"./examples/graphs/echo.ts:graph"}' };
const CONFIG = { AUTH_ISSUER: "https://id.example.com/", AUTH_AUDIENCE: "api" };
const authenticator = { authenticateRequest: async () => { throw new Error("unused"); } } as unknown as Authenticator;

describe("detectHost", () => {
  it("tells the langgraph dev server by its command line, the platform worker by its variables", () => {
    expect(isLangGraphCliServer(DEV_ARGV)).toBe(true);
    expect(detectHost({ argv: DEV_ARGV, env: {} })).toBe("dev");
    // The dev CLI wins over stray platform variables in its environment.
    expect(detectHost({ argv: DEV_ARGV, env: PLATFORM_ENV })).toBe("dev");
    expect(detectHost({ argv: WORKER_ARGV, env: PLATFORM_ENV })).toBe("platform");
    expect(detectHost({ argv: WORKER_ARGV, env: { LANGSERVE_GRAPHS: PLATFORM_ENV.LANGSERVE_GRAPHS } })).toBe("platform");
    for (const argv of [["node", "vitest"], ["node", "x", "{not json"], ["node", "x", '{"graphs":{}}'], ["node", "x", "1", "null"], []]) {
      expect(detectHost({ argv, env: { LANGGRAPH_AUTH: " " } }), JSON.stringify(argv)).toBeUndefined();
    }
  });

  it("AUTH_SERVER overrides detection; an unknown host fails closed at start naming AUTH_SERVER", () => {
    expect(resolveHost("js", { argv: WORKER_ARGV, env: {} })).toEqual({ host: "js", source: "AUTH_SERVER", detected: undefined });
    expect(resolveHost("platform", { argv: WORKER_ARGV, env: PLATFORM_ENV })).toEqual({ host: "platform", source: "AUTH_SERVER", detected: "platform" });
    expect(resolveHost("js", { argv: DEV_ARGV, env: {} })).toEqual({ host: "js", source: "AUTH_SERVER", detected: "dev" });
    expect(resolveHost(undefined, { argv: DEV_ARGV, env: {} })).toEqual({ host: "dev", source: "detected", detected: "dev" });
    expect(() => resolveHost(undefined, { argv: WORKER_ARGV, env: {} })).toThrow(ConfigError);
    // An override that contradicts the detected host stops the start: the platform's table on the dev
    // server would trust assistant checks that server does not make; dev checks on the platform refuse every run.
    expect(() => resolveHost("platform", { argv: DEV_ARGV, env: {} })).toThrow(/set to "platform", but this process is the langgraph dev server.*AUTH_SERVER=dev/);
    expect(() => resolveHost("dev", { argv: WORKER_ARGV, env: PLATFORM_ENV })).toThrow(/set to "dev", but this process is the LangGraph Platform worker.*AUTH_SERVER=platform/);
    expect(() => resolveHost("js", { argv: WORKER_ARGV, env: PLATFORM_ENV })).toThrow(ConfigError);
    expect(() => resolveHost(undefined, { argv: WORKER_ARGV, env: {} })).toThrow(/Set AUTH_SERVER=dev .*AUTH_SERVER=platform .*AUTH_SERVER=js/s);
  });
});

describe("createAuthFromEnv and createTenantAuth on each host", () => {
  it("refuses to start in a process that is no known host, unless AUTH_SERVER says which", () => {
    expect(() => createAuthFromEnv(CONFIG, { argv: WORKER_ARGV, log: () => undefined })).toThrow(/AUTH_SERVER/);
    const lines: string[] = [];
    createAuthFromEnv({ ...CONFIG, AUTH_SERVER: "js" }, { argv: WORKER_ARGV, log: (line) => lines.push(line) });
    createAuthFromEnv(CONFIG, { argv: DEV_ARGV, log: (line) => lines.push(line) });
    createAuthFromEnv({ ...CONFIG, ...PLATFORM_ENV }, { argv: WORKER_ARGV, log: (line) => lines.push(line) });
    createAuthFromEnv({ ...CONFIG, AUTH_SERVER: "js", AUTH_SYSTEM_ASSISTANTS: "hidden" }, { argv: DEV_ARGV, log: (line) => lines.push(line) });
    expect(lines).toHaveLength(4);
    expect(lines[3]).toMatch(/^langgraph-tenant-auth: host=js \(AUTH_SERVER; detected dev\); package checks: .*system assistants hidden/);
    expect(lines[0]).toMatch(/^langgraph-tenant-auth: host=js \(AUTH_SERVER\); package checks: .*route policy with body and storage checks/);
    expect(lines[1]).toMatch(/^langgraph-tenant-auth: host=dev \(detected\)/);
    expect(lines[2]).toMatch(/^langgraph-tenant-auth: host=platform \(detected\); package checks: .*route table \(method, path, query\).*; left to the server: /);
  });

  it("createTenantAuth without a host detects it, and fails closed when it cannot", () => {
    // vitest is neither langgraph dev nor the platform worker.
    expect(() => createTenantAuth({ authenticator, log: () => undefined })).toThrow(/AUTH_SERVER/);
    expect(() => createTenantAuth({ authenticator, host: "cloud" as never, log: () => undefined })).toThrow(TypeError);
  });

  it("on the platform, auth.cache stops the start when authenticate makes route decisions, and only then", () => {
    const env = { LANGGRAPH_AUTH: JSON.stringify({ path: "./src/auth.ts:auth", cache: { cache_keys: ["authorization"] } }) };
    const guard = createPlatformRouteGuard({ policy: createRoutePolicy({ host: "platform" }) });
    expect(() => createTenantAuth({ authenticator, host: "platform", guard, env, log: () => undefined })).toThrow(/remove "auth": \{ "cache"/);
    expect(() => createTenantAuth({ authenticator, host: "platform", env, log: () => undefined })).not.toThrow();
    expect(() => createTenantAuth({ authenticator, host: "platform", guard, env: { LANGGRAPH_AUTH: "[1]" }, log: () => undefined })).toThrow(/LANGGRAPH_AUTH must be/);
    // On dev the platform's settings are not read.
    expect(() => createTenantAuth({ authenticator, host: "dev", env, log: () => undefined })).not.toThrow();
  });

  it("the platform guard refuses a policy whose routes need a body or storage", () => {
    expect(() => createPlatformRouteGuard({ policy: createRoutePolicy() })).toThrow(/needs a body or storage/);
    expect(() => createRoutePolicy({ host: "cloud" as never })).toThrow(TypeError);
  });
});
