import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { PLATFORM_ROUTES } from "../../src/policy/platform-routes.ts";

/** The "Deploying to LangGraph Platform" section of docs/deploying.md, up to the next section. */
function platformSection(): string {
  const readme = readFileSync("docs/deploying.md", "utf8");
  const start = readme.indexOf("## Deploying to LangGraph Platform");
  expect(start).toBeGreaterThan(-1);
  const end = readme.indexOf("\n## ", start + 3);
  return readme.slice(start, end === -1 ? undefined : end);
}

describe("docs/deploying.md: Deploying to LangGraph Platform", () => {
  it("names every route of the platform table with what the platform and the package check", () => {
    const section = platformSection();
    for (const route of PLATFORM_ROUTES) {
      const row = section.split("\n").find((line) => line.startsWith("| ") && line.includes(`\`${route.method} ${route.path}\``));
      expect(row, `${route.method} ${route.path}`).toBeDefined();
      expect(row).toContain(route.platformChecks);
      expect(row).toContain(route.packageChecks);
    }
  });

  it("documents the variables and the host line", () => {
    const section = platformSection();
    for (const text of ["AUTH_SERVER", "AUTH_STUDIO_ACCESS", "langgraph-tenant-auth: host=platform", "auth.cache", "LANGGRAPH_AUTH"]) {
      expect(section).toContain(text);
    }
  });
});
