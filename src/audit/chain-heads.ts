import { InvalidChainHeadError } from "./audit-errors.ts";
import type { ChainHead } from "./audit-record.ts";

/**
 * Chain heads as text, one tenant a line: `<tenant> <seq> <hash>`. This is
 * what `npx langgraph-tenant-auth audit head` prints and `verify --expect-head` reads, so a
 * periodic job can copy the output somewhere the log's writer cannot
 * rewrite, and a later `verify` proves the log still reaches it.
 */
const HEAD_LINE = /^(\S+) (\d+) ([0-9a-f]{64})$/;

/**
 * Format heads, sorted by tenant.
 *
 * @example
 * formatChainHeads(report.heads); // "acme 41 3f1c…\nglobex 7 9ab0…\n"
 */
export function formatChainHeads(heads: ReadonlyMap<string, ChainHead>): string {
  return [...heads]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([tenant, head]) => `${tenant} ${head.seq} ${head.hash}\n`)
    .join("");
}

/**
 * True when `text` is one head line (so a command-line value is a head, not a file name).
 *
 * @example
 * isChainHeadLine(`acme 3 ${"a".repeat(64)}`); // true
 */
export function isChainHeadLine(text: string): boolean {
  return HEAD_LINE.test(text.trim());
}

/**
 * Parse heads written by {@link formatChainHeads}. Empty lines and lines
 * starting with `#` are skipped; a tenant may appear once.
 *
 * @throws {InvalidChainHeadError} naming the first line that is not a head.
 * @example
 * const heads = parseChainHeads(await readFile("heads.txt", "utf8"));
 * verifyAuditLog(text, { expectHeads: heads });
 */
export function parseChainHeads(text: string): Map<string, ChainHead> {
  const heads = new Map<string, ChainHead>();
  for (const [index, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const match = HEAD_LINE.exec(line);
    if (!match) throw new InvalidChainHeadError(`line ${index + 1} is not a chain head ("<tenant> <seq> <64 hex hash>")`);
    const [, tenant, seq, hash] = match;
    if (heads.has(tenant!)) throw new InvalidChainHeadError(`line ${index + 1}: a second head for tenant "${tenant}"`);
    const position = Number(seq);
    if (!Number.isSafeInteger(position)) throw new InvalidChainHeadError(`line ${index + 1}: seq is too large`);
    heads.set(tenant!, { seq: position, hash: hash! });
  }
  return heads;
}
