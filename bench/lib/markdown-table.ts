/**
 * A Markdown table, columns padded to line up in a terminal: the first column
 * left-aligned (`:---`), the others right-aligned (`---:`), as the benches'
 * numbers read best. Shared by every bench so the tables in
 * docs/performance.md all look alike.
 *
 * @example
 * console.log(markdownTable(["alg", "ops/s"], [["RS256", "12,000"]]));
 */
export function markdownTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(" | ")} |`;
  const rule = `|${widths.map((w, c) => (c === 0 ? ":" : "") + "-".repeat(w + 1) + (c === 0 ? "" : ":")).join("|")}|`;
  return [line(headers), rule, ...rows.map(line)].join("\n");
}
