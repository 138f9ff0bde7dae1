/**
 * Run the commands the README and `docs/` show, the way a reader would:
 * against one real `langgraph dev` with this repository's `langgraph.json`,
 * on the local issuer `npm run dev` uses (same key folder, so
 * `npm run -s token` signs tokens this server accepts).
 *
 * - ```` ```sh runnable ```` blocks run in `bash` from the project root, one
 *   bash per block, with `http://localhost:2024` (what `npm run dev` prints on
 *   a free machine) replaced by this server's address. Every command must
 *   exit 0, and a command followed by `# → text` must print exactly that
 *   text, where `…` stands for anything.
 * - ```` ```ts runnable ```` blocks run with `node --import tsx`, with a token
 *   per tenant in `ACME` and `GLOBEX`; they assert their own results.
 * - ```` ```text log-line ```` blocks must appear in the server's output.
 *
 * Blocks that cannot run here say why (`docs-references.test.ts` checks it).
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalIssuer, type LocalIssuer } from "../support/local-issuer.ts";
import { ALL_PERMISSIONS, DEV_AUDIENCE, DEV_KEY_DIR } from "../support/dev-settings.ts";
import { PROJECT_ROOT, startLangGraphDev, type LangGraphDev } from "../support/langgraph-dev.ts";
import { codeBlocks, expectedPattern, readDocs, shellCommands, type CodeBlock } from "../support/markdown-docs.ts";

const run = promisify(execFile);
/** The address the docs show: `npm run dev` on a machine where port 2024 is free. */
const DOCS_API = "http://localhost:2024";
/** Separates the output of one command from the next; no command prints it. */
const SEPARATOR = "\u001e";

const blocks = readDocs(PROJECT_ROOT).flatMap(codeBlocks);
const runnable = (lang: string) => blocks.filter((block) => block.lang === lang && block.flags.includes("runnable"));
const name = (block: CodeBlock) => `${block.file}:${block.line}`;

let issuer: LocalIssuer;
let server: LangGraphDev;
let work: string;

beforeAll(async () => {
  // The key folder of `npm run dev`: `npm run token` signs with the key kept there.
  issuer = await startLocalIssuer({ keyDir: DEV_KEY_DIR, audience: DEV_AUDIENCE });
  server = await startLangGraphDev({ env: issuer.env() });
  await mkdir(join(PROJECT_ROOT, ".tmp"), { recursive: true });
  work = await mkdtemp(join(PROJECT_ROOT, ".tmp", "docs-"));
});

afterAll(async () => {
  await server?.stop();
  await issuer?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Environment of a block: the issuer `npm run token` signs for is the test's. */
function blockEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const port = new URL(issuer.issuer).port;
  return { ...process.env, DEV_ISSUER_PORT: port, LANGGRAPH_CLI_NO_ANALYTICS: "1", ...extra };
}

describe("runnable shell blocks", () => {
  it("there are some: the README's demo at least", () => {
    expect(runnable("sh").map((block) => block.file)).toContain("README.md");
  });

  for (const block of runnable("sh")) {
    it(`${name(block)} runs and prints what it says`, async () => {
      const commands = shellCommands(block);
      expect(commands.length).toBeGreaterThan(0);
      // One bash for the block (variables carry from line to line), a marker
      // with the exit status after each command.
      const script = [
        "set -o pipefail",
        ...commands.flatMap((command, index) => [command.text, `printf '\\n${SEPARATOR}%d %d\\n' ${index} $?`]),
      ]
        .join("\n")
        .replaceAll(DOCS_API, server.url);
      const { stdout, stderr } = await run("bash", ["-c", script], {
        cwd: PROJECT_ROOT,
        env: blockEnv(),
        timeout: 240_000,
        maxBuffer: 16 * 1024 * 1024,
      }).catch((error: { stdout?: string; stderr?: string; message: string }) => {
        throw new Error(`${name(block)}: bash failed: ${error.message}\n${error.stdout ?? ""}\n${error.stderr ?? ""}`);
      });
      const outputs = new Map<number, { status: number; output: string }>();
      let rest = stdout;
      for (;;) {
        const marker = new RegExp(`\\n${SEPARATOR}(\\d+) (\\d+)\\n`).exec(rest);
        if (!marker) break;
        outputs.set(Number(marker[1]), { status: Number(marker[2]), output: rest.slice(0, marker.index) });
        rest = rest.slice(marker.index + marker[0].length);
      }
      commands.forEach((command, index) => {
        const result = outputs.get(index);
        const where = `${block.file}:${command.line}: ${command.text}\nstderr:\n${stderr}`;
        expect(result, where).toBeDefined();
        expect(result!.status, where).toBe(0);
        if (command.expected !== undefined) {
          const printed = result!.output.replaceAll("\r", "").trim();
          expect(printed, where).toMatch(expectedPattern(command.expected.replaceAll(DOCS_API, server.url)));
        }
      });
    }, 300_000);
  }
});

describe("runnable TypeScript blocks", () => {
  for (const block of runnable("ts")) {
    it(`${name(block)} runs against the server`, async () => {
      const file = join(work, `block-${block.line}.ts`);
      await writeFile(file, block.body.replaceAll(DOCS_API, server.url));
      const token = (tenant: string, sub: string) => issuer.sign({ sub, org_id: tenant, scope: ALL_PERMISSIONS });
      const env = blockEnv({ ACME: await token("acme", "alice"), GLOBEX: await token("globex", "bob") });
      await run(process.execPath, ["--import", "tsx", file], { cwd: PROJECT_ROOT, env, timeout: 120_000 }).catch(
        (error: { stdout?: string; stderr?: string; message: string }) => {
          throw new Error(`${name(block)}: ${error.message}\n${error.stdout ?? ""}\n${error.stderr ?? ""}`);
        },
      );
    }, 180_000);
  }
});

describe("log lines", () => {
  const lines = blocks.filter((block) => block.flags.includes("log-line"));
  it("there is one: the host line", () => {
    expect(lines.length).toBeGreaterThan(0);
  });
  for (const block of lines) {
    it(`${name(block)} is what the server prints`, () => {
      expect(server.output().replaceAll("\r", "")).toContain(block.body.trim());
    });
  }
});
