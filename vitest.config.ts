import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Integration tests start real servers (langgraph dev, Postgres, an OpenID
    // provider); on a 2-core machine they need room to boot.
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Keep at most two files in flight: each integration file boots its own
    // langgraph dev, and two cores cannot run more without starving them.
    maxWorkers: 2,
  },
});
