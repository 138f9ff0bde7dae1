import { describe, expect, it } from "vitest";
import { readConfig } from "../../src/config/read-config.ts";
import { ConfigError } from "../../src/errors.ts";

const base = { AUTH_ISSUER: "https://idp.example.com/", AUTH_AUDIENCE: "api" };

describe("AUTH_TOKEN_CACHE settings", () => {
  it("defaults to on, 10000 entries, 300 seconds", () => {
    expect(readConfig(base).tokenCache).toEqual({ enabled: true, maxEntries: 10_000, maxAgeSeconds: 300 });
  });

  it("reads off, a cap and a maximum age", () => {
    expect(
      readConfig({ ...base, AUTH_TOKEN_CACHE: "OFF", AUTH_TOKEN_CACHE_MAX_ENTRIES: "500", AUTH_TOKEN_CACHE_MAX_AGE: "60" })
        .tokenCache,
    ).toEqual({ enabled: false, maxEntries: 500, maxAgeSeconds: 60 });
  });

  it.each([
    ["AUTH_TOKEN_CACHE", "maybe", 'AUTH_TOKEN_CACHE must be "on" or "off"'],
    ["AUTH_TOKEN_CACHE_MAX_ENTRIES", "0", "AUTH_TOKEN_CACHE_MAX_ENTRIES must be a whole number from 1 to 1000000"],
    ["AUTH_TOKEN_CACHE_MAX_ENTRIES", "1e4", "AUTH_TOKEN_CACHE_MAX_ENTRIES must be a whole number from 1 to 1000000"],
    ["AUTH_TOKEN_CACHE_MAX_AGE", "86401", "AUTH_TOKEN_CACHE_MAX_AGE must be a whole number from 1 to 86400"],
    ["AUTH_TOKEN_CACHE_MAX_AGE", "-5", "AUTH_TOKEN_CACHE_MAX_AGE must be a whole number from 1 to 86400"],
  ])("refuses %s=%s, naming the variable", (name, value, message) => {
    const read = () => readConfig({ ...base, [name]: value });
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(message);
  });
});
