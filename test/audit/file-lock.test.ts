import { mkdtemp, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileLockTimeoutError, acquireFileLock } from "../../src/audit/file-lock.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "file-lock-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("acquireFileLock", () => {
  it("writes this process's pid and host, and removes the file on release", async () => {
    const path = join(dir, "a.lock");
    const release = await acquireFileLock(path);
    expect(JSON.parse(await readFile(path, "utf8"))).toMatchObject({ pid: process.pid, host: hostname() });
    await release();
    await expect(stat(path)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("waits for the holder: the second taker gets the lock once the first lets go", async () => {
    const path = join(dir, "b.lock");
    const first = await acquireFileLock(path);
    let second = false;
    const taking = acquireFileLock(path).then((release) => ((second = true), release));
    // Still held: the second taker is waiting (it polls, so give it turns).
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(second).toBe(false);
    await first();
    await (await taking)();
  });

  it("takes over a lock of a dead process, or one left unwritten for long, but not one of a live process", async () => {
    const dead = join(dir, "dead.lock");
    await writeFile(dead, JSON.stringify({ pid: 1_234_567, host: hostname(), since: "2026-01-01T00:00:00.000Z" }));
    await (await acquireFileLock(dead, { isAlive: (pid) => pid !== 1_234_567 }))();

    const unwritten = join(dir, "unwritten.lock");
    await writeFile(unwritten, "");
    await utimes(unwritten, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    await (await acquireFileLock(unwritten))();

    const fresh = join(dir, "fresh.lock");
    await writeFile(fresh, "");
    await expect(acquireFileLock(fresh, { timeoutMs: 20 })).rejects.toBeInstanceOf(FileLockTimeoutError);

    const otherHost = join(dir, "other-host.lock");
    await writeFile(otherHost, JSON.stringify({ pid: 1_234_567, host: `not-${hostname()}`, since: "2026-01-01T00:00:00.000Z" }));
    await expect(acquireFileLock(otherHost, { timeoutMs: 20, isAlive: () => false })).rejects.toMatchObject({
      code: "ERR_FILE_LOCK_TIMEOUT",
      holder: { pid: 1_234_567 },
      message: expect.stringMatching(/held by pid 1234567 on not-/),
    });
  });
});
