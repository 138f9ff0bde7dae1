/**
 * Read the README and `docs/*.md` as the docs tests need them: fenced code
 * blocks with their info string and the `<!-- not runnable: … -->` marker
 * before them, shell blocks split into commands with their `# →` expected
 * output, headings as GitHub anchors, and relative links.
 *
 * Kept apart from the tests so the runner (which boots a server) and the
 * static checks (which do not) read the docs the same way.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** One Markdown file of the docs. */
export interface DocFile {
  /** Path relative to the project root, e.g. `docs/deploying.md`. */
  path: string;
  text: string;
}

/** A fenced code block. */
export interface CodeBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** First word of the info string (`sh`, `ts`, `json`, …); empty when none. */
  lang: string;
  /** The other words of the info string (`runnable`, `log-line`). */
  flags: string[];
  /** Why the block is not run, from `<!-- not runnable: why -->` right before it. */
  notRunnable: string | undefined;
  /** The block's text, without the fences and the fence's indentation. */
  body: string;
}

/** One command of a shell block and the output it must print. */
export interface ShellCommand {
  /** The command as written (continuation lines joined with their `\`). */
  text: string;
  /** 1-based line in the file. */
  line: number;
  /** Lines of `# → …` after it (or at its end), joined with `\n`; `…` matches anything. */
  expected: string | undefined;
}

/** Languages whose blocks are commands a reader runs in a shell. */
export const SHELL_LANGS = new Set(["sh", "bash", "shell", "console", "zsh"]);

/** README.md and every `docs/*.md`, read from `root`. */
export function readDocs(root: string): DocFile[] {
  const docs = readdirSync(join(root, "docs"))
    .filter((name) => name.endsWith(".md"))
    .sort()
    .map((name) => `docs/${name}`);
  return ["README.md", ...docs].map((path) => ({ path, text: readFileSync(join(root, path), "utf8") }));
}

/** Every fenced code block of a file. */
export function codeBlocks(doc: DocFile): CodeBlock[] {
  const lines = doc.text.split("\n");
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,})\s*(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, info] = open as unknown as [string, string, string, string];
    const end = lines.findIndex((line, j) => j > i && line.trim() === fence);
    if (end === -1) throw new Error(`${doc.path}:${i + 1}: code block is never closed`);
    const [lang = "", ...flags] = info.trim().split(/\s+/).filter(Boolean);
    let before = i - 1;
    while (before >= 0 && lines[before]!.trim() === "") before--;
    const marker = before >= 0 ? /^\s*<!--\s*not runnable:\s*(.*?)\s*-->\s*$/.exec(lines[before]!) : null;
    blocks.push({
      file: doc.path,
      line: i + 1,
      lang,
      flags,
      notRunnable: marker ? marker[1] : undefined,
      body: lines
        .slice(i + 1, end)
        .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line))
        .join("\n"),
    });
    i = end;
  }
  return blocks;
}

/** The text of a file outside its code blocks (prose, tables, headings); blocks become blank lines, so line numbers hold. */
export function prose(doc: DocFile): string {
  return doc.text.replace(/^([ \t]*)(`{3,})[^\n]*\n[\s\S]*?^[ \t]*\2[ \t]*$/gm, (block) => block.replace(/[^\n]/g, ""));
}

/**
 * Split a shell block into commands. A line ending in `\` continues the
 * command; `# → text` at the end of a command, or on the lines right after
 * it, is what the command prints; other comment lines are prose.
 */
export function shellCommands(block: CodeBlock): ShellCommand[] {
  const commands: ShellCommand[] = [];
  const lines = block.body.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const arrow = /^\s*#\s*→\s?(.*)$/.exec(line);
    if (arrow) {
      const last = commands.at(-1);
      if (!last) throw new Error(`${block.file}:${block.line + 1 + i}: "# →" before any command`);
      last.expected = last.expected === undefined ? arrow[1]! : `${last.expected}\n${arrow[1]}`;
      continue;
    }
    if (line.trim() === "" || line.trim().startsWith("#")) continue;
    const start = i;
    let text = line;
    while (text.endsWith("\\") && i + 1 < lines.length) text += `\n${lines[++i]}`;
    const trailing = /\s#\s*→\s?(.*)$/.exec(text);
    commands.push({ text, line: block.line + 1 + start, expected: trailing ? trailing[1] : undefined });
  }
  return commands;
}

/** `expected` as an anchored pattern: `…` matches any text, the rest literally. */
export function expectedPattern(expected: string): RegExp {
  const parts = expected.split("…").map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${parts.join("[\\s\\S]*")}$`);
}

/** GitHub's anchors for the headings of a file (`## Two tenants` → `two-tenants`). */
export function headingAnchors(doc: DocFile): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of prose(doc).split("\n")) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const slug = heading[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** Relative link targets of a file's prose (`[text](target)`), with their line. */
export function relativeLinks(doc: DocFile): Array<{ target: string; line: number }> {
  const links: Array<{ target: string; line: number }> = [];
  prose(doc)
    .split("\n")
    .forEach((line, index) => {
      for (const match of line.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = match[1]!;
        if (!/^[a-z][a-z0-9+.-]*:/i.test(target)) links.push({ target, line: index + 1 });
      }
    });
  return links;
}
