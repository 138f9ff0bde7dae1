/**
 * The export: one JSON Lines file per kind and a `manifest.json` with the
 * counts and the sha256 of each file. The folder must exist, be writable and
 * hold no earlier export (a resumed run writes what is left to a new
 * folder, so a complete first export is never overwritten by a partial one).
 * Files are created exclusively, synced, and the manifest is written last:
 * a folder without a manifest is an export that did not finish.
 */
import { createHash, randomUUID } from "node:crypto";
import { open, stat, unlink, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { OffboardRefusedError } from "./preflight.ts";

/**
 * The files of an export, by what they hold.
 *
 * @example
 * join(dir, EXPORT_FILES.manifest); // "<dir>/manifest.json"
 */
export const EXPORT_FILES = Object.freeze({
  threads: "threads.jsonl",
  assistants: "assistants.jsonl",
  crons: "crons.jsonl",
  store: "store.jsonl",
  manifest: "manifest.json",
} as const);

/** One of the JSON Lines files. */
export type ExportKind = Exclude<keyof typeof EXPORT_FILES, "manifest">;

/** What the manifest says of one file. */
export interface ExportFileEntry {
  records: number;
  bytes: number;
  sha256: string;
}

/** `manifest.json`. */
export interface ExportManifest {
  format: "langgraph-tenant-auth.offboard-export";
  format_version: 1;
  tool: "langgraph-tenant-auth offboard";
  tool_version: string;
  tenant: string;
  /** The deployment's base URL (never with credentials). */
  deployment: string;
  exported_at: string;
  crons_served: boolean;
  counts: Record<string, number>;
  files: Record<string, ExportFileEntry>;
}

const code = (error: unknown) => (error as NodeJS.ErrnoException).code ?? (error as Error).message;

/**
 * Check the folder before anything is read or deleted: it exists, is a
 * folder, holds no earlier export, and a file can be created in it.
 *
 * @throws {OffboardRefusedError} naming what is wrong.
 * @example
 * await requireExportFolder("./acme-export");
 */
export async function requireExportFolder(dir: string): Promise<void> {
  const info = await stat(dir).catch((error: unknown) => {
    throw new OffboardRefusedError(`--export ${dir}: the folder cannot be used (${code(error)}); create it first`);
  });
  if (!info.isDirectory()) throw new OffboardRefusedError(`--export ${dir}: not a folder`);
  for (const name of Object.values(EXPORT_FILES)) {
    const there = await stat(join(dir, name)).then(
      () => true,
      () => false,
    );
    if (there) throw new OffboardRefusedError(`--export ${dir}: it already holds ${name} of an earlier export; give a new folder (a resumed run exports what is left, and the first export stays whole)`);
  }
  const probe = join(dir, `.offboard-write-check-${randomUUID()}`);
  try {
    const handle = await open(probe, "wx", 0o600);
    await handle.close();
    await unlink(probe);
  } catch (error) {
    throw new OffboardRefusedError(`--export ${dir}: the folder is not writable (${code(error)})`);
  }
}

/** Writes the files of one export. */
export interface ExportWriter {
  /** Append one record to a kind's file. */
  write(kind: ExportKind, record: unknown): Promise<void>;
  /** Close the files and write the manifest; resolves with it and its sha256. */
  finish(fields: Omit<ExportManifest, "files" | "format" | "format_version" | "tool">): Promise<{ manifest: ExportManifest; sha256: string }>;
  /** Close whatever is open (after a failure). */
  abort(): Promise<void>;
}

/**
 * Create the export's files (exclusively, mode 0600) in a checked folder.
 *
 * @example
 * const writer = await createExportWriter(dir);
 * await writer.write("threads", { thread, state, history, runs });
 * const { sha256 } = await writer.finish({ tool_version, tenant, deployment, exported_at, crons_served, counts });
 */
export async function createExportWriter(dir: string): Promise<ExportWriter> {
  const kinds = ["threads", "assistants", "crons", "store"] as const;
  const files = new Map<ExportKind, { handle: FileHandle; hash: ReturnType<typeof createHash>; records: number; bytes: number }>();
  try {
    for (const kind of kinds) {
      files.set(kind, { handle: await open(join(dir, EXPORT_FILES[kind]), "wx", 0o600), hash: createHash("sha256"), records: 0, bytes: 0 });
    }
  } catch (error) {
    await Promise.allSettled([...files.values()].map((f) => f.handle.close()));
    throw new OffboardRefusedError(`--export ${dir}: cannot create the export files (${code(error)})`);
  }
  const closeAll = async (sync: boolean) => {
    for (const file of files.values()) {
      if (sync) await file.handle.datasync();
      await file.handle.close();
    }
    files.clear();
  };
  const entries: Record<string, ExportFileEntry> = {};
  return {
    async write(kind, record) {
      const file = files.get(kind);
      if (!file) throw new Error(`the export's ${kind} file is closed`);
      const line = Buffer.from(`${JSON.stringify(record)}\n`, "utf8");
      await file.handle.write(line);
      file.hash.update(line);
      file.records += 1;
      file.bytes += line.byteLength;
    },
    async finish(fields) {
      for (const [kind, file] of files) entries[EXPORT_FILES[kind]] = { records: file.records, bytes: file.bytes, sha256: file.hash.digest("hex") };
      await closeAll(true);
      const manifest: ExportManifest = {
        format: "langgraph-tenant-auth.offboard-export",
        format_version: 1,
        tool: "langgraph-tenant-auth offboard",
        ...fields,
        files: entries,
      };
      const bytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, "utf8");
      const handle = await open(join(dir, EXPORT_FILES.manifest), "wx", 0o600);
      try {
        await handle.write(bytes);
        await handle.datasync();
      } finally {
        await handle.close();
      }
      return { manifest, sha256: createHash("sha256").update(bytes).digest("hex") };
    },
    abort: () => closeAll(false),
  };
}
