import { mkdtemp, mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { listSdkClientEndpoints } from "./sdk-client-endpoints.ts";

describe("listSdkClientEndpoints", () => {
  const endpoints = listSdkClientEndpoints();
  const keys = endpoints.map((e) => `${e.method} ${e.path}`);

  it("reads the installed client's endpoints, with their methods", () => {
    for (const expected of [
      "POST /threads/:thread_id/runs",
      "POST /runs",
      "GET /runs/:run_id/stream",
      "GET /threads/:thread_id/runs/:run_id/stream",
      "POST /runs/cancel",
      "PATCH /runs/crons/:cron_id",
      "DELETE /store/items",
      "GET /store/items",
      "POST /threads/:thread_id/state/checkpoint",
      "GET /threads/:thread_id/state/:checkpoint_id",
      "POST /threads/:thread_id/commands",
      "GET /threads/:thread_id/stream/events",
      "POST /threads/prune",
    ]) {
      expect(keys).toContain(expected);
    }
    // GET is the default only when no method is named in the call.
    expect(keys).not.toContain("GET /threads/search");
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("fails on code it does not understand instead of skipping it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sdk-client-"));
    await mkdir(join(dir, "things"));
    await writeFile(join(dir, "things", "index.js"), "this.fetch(`/threads/${encodePathSegment(mystery)}`);\n");
    expect(() => listSdkClientEndpoints(dir)).toThrow(/unknown path parameter mystery/);
  });
});
