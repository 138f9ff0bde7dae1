/**
 * The test harness that starts the real `langgraph dev`
 * (test/support/langgraph-dev.ts), on the two ways it failed CI runs:
 *
 * - `stop()` returns only when the whole server is gone. `langgraph dev`'s
 *   CLI exits on SIGTERM before the server it spawned has written its state
 *   to `.langgraph_api/` (an exit hook of up to 3 s): removing the folder at
 *   the CLI's exit raced that write (ENOTEMPTY).
 * - A port taken between `freePort()` and the server's bind is tried again
 *   on another port. The server dies with EADDRINUSE but tsx's watcher
 *   above it stays up, so the harness used to wait out its whole start
 *   timeout and fail the file.
 */
import { existsSync, readdirSync, readlinkSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { describe, expect, it } from "vitest";
import { freePort, startLangGraphDev } from "../support/langgraph-dev.ts";

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

/** No auth and no custom app: only the harness is under test. */
const bare = (config: Record<string, unknown>) => {
  delete config.auth;
  delete config.http;
};

describe("startLangGraphDev (the test harness)", () => {
  it("stop() returns after the server has written its state and exited, then removes its folder", async () => {
    const server = await startLangGraphDev({ env: {}, editConfig: bare });
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
      if (existsSync("/proc/self/cwd")) expect(runningIn(server.dir).length).toBeGreaterThan(0); // the check below can see the server
      await server.stop();
      stopped = true;
      expect(runningIn(server.dir)).toEqual([]);
      expect(existsSync(server.dir)).toBe(false);
    } finally {
      if (!stopped) await server.stop();
    }
  }, 200_000);

  it("a port taken before the server binds it: the server is stopped and started again on another port", async () => {
    // Holds the port; a connection to it (the harness's /info probe) is closed at once.
    const taken: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      taken.once("error", reject);
      taken.listen(0, "127.0.0.1", () => resolve());
    });
    const takenPort = (taken.address() as { port: number }).port;
    const picked: number[] = [];
    try {
      const server = await startLangGraphDev({
        env: {},
        editConfig: bare,
        // The first attempt gets the taken port, as when another process binds it first.
        pickPort: async () => {
          const port = picked.length === 0 ? takenPort : await freePort();
          picked.push(port);
          return port;
        },
      });
      try {
        expect(picked).toHaveLength(2);
        expect(picked[0]).toBe(takenPort);
        expect(server.url).toBe(`http://127.0.0.1:${picked[1]}`);
        expect((await fetch(`${server.url}/info`)).status).toBe(200);
      } finally {
        await server.stop();
      }
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  }, 200_000);
});
