import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.ts";
import { readServerAuthOptions, requireStudioAuthDisabled } from "../../src/langgraph/require-studio-auth-disabled.ts";

// What `langgraph dev` (langgraph-api 1.5.1 cli/spawn.mjs) passes its server process: <ppid> <options JSON>.
const argv = (auth: unknown) => ["node", "/x/cli/entrypoint.mjs", "4242", JSON.stringify({ port: 2024, graphs: { echo: "./echo.ts:graph" }, auth })];

describe("requireStudioAuthDisabled", () => {
  it("refuses a server started without disable_studio_auth: true", () => {
    for (const auth of [{ path: "./auth.ts:auth" }, { path: "./auth.ts:auth", disable_studio_auth: false }, { path: "./auth.ts:auth", disable_studio_auth: "true" }]) {
      expect(() => requireStudioAuthDisabled(argv(auth)), JSON.stringify(auth)).toThrow(ConfigError);
    }
    expect(() => requireStudioAuthDisabled(argv({ path: "./a.ts:auth" }))).toThrow(/disable_studio_auth.*x-auth-scheme: langsmith/s);
  });

  it("lets a server with Studio auth disabled start, and does nothing outside a LangGraph JS server", () => {
    expect(() => requireStudioAuthDisabled(argv({ path: "./auth.ts:auth", disable_studio_auth: true }))).not.toThrow();
    for (const other of [["node", "vitest"], ["node", "x", "{not json"], ["node", "x", '{"a":1}'], ["node", "x", "null"], []]) {
      expect(() => requireStudioAuthDisabled(other), JSON.stringify(other)).not.toThrow();
      expect(readServerAuthOptions(other)).toBeUndefined();
    }
    expect(readServerAuthOptions(argv({ path: "p", disable_studio_auth: true }))).toEqual({ path: "p", disable_studio_auth: true });
  });
});
