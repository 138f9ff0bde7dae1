/**
 * The repo's own deployment lets the sample app's routes through with
 * AUTH_CUSTOM_ROUTES in `langgraph.json`: that value must name exactly the
 * routes the sample app serves.
 */
import { describe, expect, it } from "vitest";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { readConfig } from "../../src/config/read-config.ts";
import { CUSTOM_ROUTES } from "../../examples/http/custom-routes.ts";
import { PROJECT_ROOT } from "../support/langgraph-dev.ts";

describe("langgraph.json AUTH_CUSTOM_ROUTES", () => {
  it("names exactly the sample app's routes", async () => {
    const config = JSON.parse(await readFile(join(PROJECT_ROOT, "langgraph.json"), "utf8")) as { env: Record<string, string> };
    const env = { AUTH_ISSUER: "https://id.example.com/", AUTH_AUDIENCE: "api", AUTH_CUSTOM_ROUTES: config.env.AUTH_CUSTOM_ROUTES };
    expect(readConfig(env).customRoutes).toEqual(CUSTOM_ROUTES);
  });
});
