/**
 * Several processes append to one JSON-lines file at the same time. They
 * take turns through the lock file `<file>.lock`, each reading what the
 * others wrote before sealing, so every tenant keeps one chain.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAuditLine, verifyAuditLog } from "../../src/audit/verify-audit-chain.ts";
import { spawnWriter, waitFor } from "./fixtures/spawn-writer.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "audit-writers-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("several writers, one file", () => {
  it("four processes appending at once keep every tenant's chain intact and lose no record", async () => {
    const file = join(dir, "shared.jsonl");
    const go = join(dir, "go");
    const perWriter = 100;
    const writers = Array.from({ length: 4 }, () => spawnWriter(["append", file, String(perWriter), go]));
    // Start them together, once every one has opened the log and waits.
    for (const writer of writers) {
      await waitFor(() => writer.output().includes("ready"), { giveUp: writer.exited, describe: writer.output });
    }
    await writeFile(go, "");
    // Halfway, every writer waits until all have written their first half:
    // each second half must then read and continue the others' chains.
    for (const writer of writers) {
      await waitFor(() => writer.output().includes("half"), { giveUp: writer.exited, describe: writer.output });
    }
    await writeFile(`${go}.2`, "");
    const codes = await Promise.all(writers.map((w) => w.exited));
    expect(codes, writers.map((w) => w.output()).join("\n")).toEqual([0, 0, 0, 0]);

    const text = await readFile(file, "utf8");
    const report = verifyAuditLog(text);
    expect(report).toMatchObject({ ok: true, records: 4 * perWriter });
    expect([...report.heads].map(([tenant, head]) => [tenant, head.seq]).sort()).toEqual([["acme", 135], ["globex", 131], ["initech", 131]]);
    const byWriter = new Map<string, number>();
    for (const line of text.trimEnd().split("\n")) {
      const user = parseAuditLine(line).user_id!;
      byWriter.set(user, (byWriter.get(user) ?? 0) + 1);
    }
    expect([...byWriter.values()]).toEqual([perWriter, perWriter, perWriter, perWriter]);
    // Every writer appended after the others (in each half, four runs of
    // one writer's records at least), and none left its lock behind.
    const order = text.trimEnd().split("\n").map((line) => parseAuditLine(line).user_id);
    expect(order.filter((user, i) => i > 0 && user !== order[i - 1]).length).toBeGreaterThanOrEqual(6);
    await expect(stat(`${file}.lock`)).rejects.toMatchObject({ code: "ENOENT" });
  });
});
