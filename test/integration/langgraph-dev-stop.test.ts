/**
 * The test harness's `stop()` (test/support/langgraph-dev.ts) returns only
 * when the whole server is gone. `langgraph dev`'s CLI exits on SIGTERM
 * before the server it spawned has written its state to `.langgraph_api/`
 * (an exit hook of up to 3 s): removing the folder at the CLI's exit raced
 * that write, and a CI run failed with ENOTEMPTY. After `stop()`, no process
 * may still run in the server's folder, and the folder must be gone.
 */
import { existsSync, readdirSync, readlinkSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { startLangGraphDev } from "../support/langgraph-dev.ts";

/** Pids whose working directory is `dir` or below it (Linux `/proc`; none elsewhere). */
function runningIn(dir: string): string[] {
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  return pids.filter((pid) => {
    try {
      // A removed folder reads as "<path> (deleted)".
      const cwd = readlinkSync(`/proc/${pid}/cwd`).replace(/ \(deleted\)$/, "");
      return cwd === dir || cwd.startsWith(`${dir}/`);
    } catch {
      return false; // gone, or not ours to read
    }
  });
}

describe("startLangGraphDev().stop()", () => {
  it("returns after the server has written its state and exited, then removes its folder", async () => {
    // No auth and no custom app: only the harness is under test.
    const server = await startLangGraphDev({
      env: {},
      editConfig: (config) => {
        delete config.auth;
        delete config.http;
      },
    });
    let stopped = false;
    try {
      // State for the server to write at exit, large enough that writing it
      // takes longer than the CLI's own exit (a few MB, as a bench leaves).
      for (let i = 0; i < 8; i++) {
        const created = await fetch(`${server.url}/threads`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ metadata: { topic: "stop", filler: "x".repeat(4_000_000) } }),
        });
        expect(created.status).toBe(200);
      }
      expect(runningIn(server.dir).length).toBeGreaterThan(0); // the check below can see the server
      await server.stop();
      stopped = true;
      expect(runningIn(server.dir)).toEqual([]);
      expect(existsSync(server.dir)).toBe(false);
    } finally {
      if (!stopped) await server.stop();
    }
  }, 200_000);
});
