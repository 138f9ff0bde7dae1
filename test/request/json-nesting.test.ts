import { describe, expect, it } from "vitest";
import { createJsonNestingScanner, DEFAULT_MAX_JSON_DEPTH } from "../../src/request/json-nesting.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("createJsonNestingScanner", () => {
  it("counts array and object nesting and stops past the limit", () => {
    const ok = createJsonNestingScanner(3);
    expect(ok.push(bytes('{"a":[{"b":1}],"c":[]}'))).toBe(false);
    expect(ok.deepest).toBe(3);
    const deep = createJsonNestingScanner(3);
    expect(deep.push(bytes('{"a":[[['))).toBe(true);
    expect(deep.push(bytes("]]]}"))).toBe(true);
  });

  it("ignores brackets inside strings, escaped quotes included", () => {
    // The string ends at the quote after an escaped backslash: `{}` is then real nesting (depth 3).
    const scanner = createJsonNestingScanner(3);
    expect(scanner.push(bytes(String.raw`{"a":"[[[{{{\"[[[","b":["\\",{}]}`))).toBe(false);
    expect(scanner.deepest).toBe(3);
  });

  it("keeps its state across chunks split anywhere, even inside an escape or a UTF-8 character", () => {
    const text = String.raw`{"é\"[":[["ü"]]}`;
    const all = bytes(text);
    for (let cut = 0; cut <= all.length; cut += 1) {
      const scanner = createJsonNestingScanner(3);
      expect(scanner.push(all.subarray(0, cut)) || scanner.push(all.subarray(cut))).toBe(false);
      expect(scanner.deepest).toBe(3);
    }
  });

  it("defaults to 100 levels and checks the option", () => {
    expect(DEFAULT_MAX_JSON_DEPTH).toBe(100);
    expect(createJsonNestingScanner().push(bytes("[".repeat(100) + "]".repeat(100)))).toBe(false);
    expect(createJsonNestingScanner().push(bytes("[".repeat(101)))).toBe(true);
    for (const bad of [0, 1.5, 10_001, Number.NaN]) expect(() => createJsonNestingScanner(bad)).toThrow(TypeError);
  });

  it("accepts the bounds 1 and 10000 of the option", () => {
    expect(createJsonNestingScanner(1).push(bytes("[1]"))).toBe(false);
    expect(createJsonNestingScanner(1).push(bytes("[[1]]"))).toBe(true);
    expect(createJsonNestingScanner(10_000).push(bytes("[".repeat(10_000)))).toBe(false);
  });

  it("counts brackets right after an empty string, and never lets stray closing brackets buy depth", () => {
    expect(createJsonNestingScanner(2).push(bytes('["",[[1]]]'))).toBe(true);
    const stray = createJsonNestingScanner(2);
    expect(stray.push(bytes("]]][[["))).toBe(true);
    expect(stray.deepest).toBe(3);
  });

  it("closes arrays and objects alike", () => {
    expect(createJsonNestingScanner(1).push(bytes("[][][][]"))).toBe(false);
    expect(createJsonNestingScanner(1).push(bytes("{}{}{}{}"))).toBe(false);
  });
});
