/**
 * noteListeners: what a borrower adds to a pooled client goes at release,
 * what was there before stays, counted per function (the same function may
 * be added twice) and with once() listeners matched through their wrappers.
 * The behaviour on real pooled connections is in
 * test/integration/pg-session-hygiene.test.ts.
 */
import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { noteListeners } from "../../src/pg/borrower-listeners.ts";

describe("noteListeners", () => {
  it("removes every listener added after the note, once() ones too, and keeps those from before", () => {
    const client = new EventEmitter();
    const pools = () => undefined;
    const poolsOnce = () => undefined;
    client.on("error", pools);
    client.once("end", poolsOnce);
    const drop = noteListeners(client);
    const heard: string[] = [];
    client.on("notice", () => heard.push("notice"));
    client.once("notification", () => heard.push("notification"));
    client.on("error", () => heard.push("error"));
    drop();
    expect(client.eventNames().sort()).toEqual(["end", "error"]);
    expect(client.rawListeners("error")).toEqual([pools]);
    expect(client.listeners("end")).toEqual([poolsOnce]);
    client.emit("notice");
    client.emit("notification");
    expect(heard).toEqual([]);
  });

  it("counts a function added twice: the copy added while borrowed goes, the one from before stays", () => {
    const client = new EventEmitter();
    const shared = () => undefined;
    client.on("notice", shared);
    const drop = noteListeners(client);
    client.on("notice", shared);
    client.on("notice", shared);
    expect(client.listenerCount("notice")).toBe(3);
    drop();
    expect(client.rawListeners("notice")).toEqual([shared]);
  });

  it("leaves a client nobody touched as it was, and can run again", () => {
    const client = new EventEmitter();
    const kept = () => undefined;
    client.on("drain", kept);
    const drop = noteListeners(client);
    drop();
    drop();
    expect(client.rawListeners("drain")).toEqual([kept]);
  });
});
