/** The problems `readConfig` reports for an environment, asserting it refused it with a `ConfigError`. */
import { expect } from "vitest";
import { readConfig } from "../../src/config/read-config.ts";
import { ConfigError } from "../../src/errors.ts";

export function configProblems(env: Record<string, string | undefined>): string[] {
  try {
    readConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as ConfigError).code).toBe("ERR_CONFIG_INVALID");
    return [...(error as ConfigError).problems];
  }
  throw new Error("readConfig accepted the environment");
}
