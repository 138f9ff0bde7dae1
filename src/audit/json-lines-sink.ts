import { createReadStream } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { createInterface } from "node:readline";
import { requireChainKey, type AuditRecord, type ChainHead, type ChainKey } from "./audit-record.ts";
import { AuditWriteError } from "./audit-log.ts";
import type { AuditSink } from "./audit-sink.ts";
import { canonicalJson } from "./canonical-json.ts";
import { createAuditChainVerifier } from "./verify-audit-chain.ts";

/** Options of {@link createJsonLinesSink}. */
export interface JsonLinesSinkOptions {
  /**
   * File to append records to (created with mode 0600). Default: none, so
   * records go to `stream`.
   */
  file?: string | undefined;
  /** Stream for records when no `file` is given. Default `process.stdout`. */
  stream?: NodeJS.WritableStream;
  /** `fdatasync` after every record (file only): survives a power cut, costs a disk flush. Default false. */
  fsync?: boolean;
  /** The chain key of a keyed log (the audit log's `chainKey`), to verify the existing file. Default: none. */
  chainKey?: ChainKey | undefined;
}

/**
 * An audit sink writing one canonical-JSON record per line, to a file or to
 * stdout (the default).
 *
 * With a file, the chains continue across restarts: the existing file is
 * read and verified when the first record is written (or on `ready()`).
 * A file whose chain is broken is not appended to; every write then fails
 * with an {@link AuditWriteError} naming the first broken line, so tampering
 * or a torn write is seen, not buried under new records. Rotate or repair
 * the file to go on. One process writes one file.
 *
 * On stdout each process starts new chains (seq 0), so `verify` is meant
 * for files; ship stdout to a collector that keeps it per process.
 *
 * @example
 * const sink = createJsonLinesSink({ file: process.env.AUDIT_LOG_FILE }); // stdout when unset
 */
export function createJsonLinesSink(options: JsonLinesSinkOptions = {}): AuditSink {
  const { file, fsync = false } = options;
  if (file !== undefined && (typeof file !== "string" || file.trim() === "")) {
    throw new TypeError("createJsonLinesSink: options.file must be a non-empty path");
  }
  const stream = options.stream ?? process.stdout;
  const key = options.chainKey === undefined ? undefined : requireChainKey(options.chainKey, "createJsonLinesSink: options.chainKey");

  let opened: Promise<{ handle: FileHandle | undefined; heads: Map<string, ChainHead> }> | undefined;
  const openOnce = () =>
    (opened ??= (async () => {
      if (file === undefined) return { handle: undefined, heads: new Map<string, ChainHead>() };
      // Create the file (0600) before reading it, so the read below never races its creation.
      const handle = await open(file, "a", 0o600);
      try {
        const problem = await checkExisting(file, key);
        if (problem.reason) {
          throw new AuditWriteError(
            `the audit log ${file} is broken at line ${problem.line}: ${problem.reason}; it is not appended to (rotate or repair it)`,
          );
        }
        return { handle, heads: problem.heads };
      } catch (error) {
        await handle.close();
        throw error;
      }
    })());

  // One write at a time: reading a head and appending its successor is one
  // step, and lines of different tenants never interleave inside a line.
  let queue: Promise<unknown> = Promise.resolve();

  const writeStream = (line: string) =>
    new Promise<void>((resolve, reject) => {
      stream.write(line, (error?: Error | null) => (error ? reject(error) : resolve()));
    });

  return {
    append(tenantId, seal) {
      const step = queue.then(async () => {
        const { handle, heads } = await openOnce();
        const record: AuditRecord = seal(heads.get(tenantId));
        const line = `${canonicalJson(record)}\n`;
        if (handle) {
          await handle.write(line);
          if (fsync) await handle.datasync();
        } else {
          await writeStream(line);
        }
        heads.set(tenantId, { seq: record.seq, hash: record.hash });
        return record;
      });
      queue = step.catch(() => undefined);
      return step;
    },
    async ready() {
      await openOnce();
    },
    async close() {
      await queue;
      const state = await opened?.catch(() => undefined);
      await state?.handle?.close();
      opened = Promise.reject(new AuditWriteError("the audit sink is closed"));
      opened.catch(() => undefined);
    },
  };
}

/**
 * Verify an existing log line by line (it may be large) and require that it
 * ends with a newline: appending after a torn last line would glue two
 * records into one.
 */
async function checkExisting(
  file: string,
  key: ChainKey | undefined,
): Promise<{ line: number; reason: string | undefined; heads: Map<string, ChainHead> }> {
  const verifier = createAuditChainVerifier({ key });
  let lines = 0;
  let lastChar = "";
  const input = createReadStream(file, { encoding: "utf8" });
  input.on("data", (chunk) => (lastChar = chunk.length > 0 ? (chunk as string).slice(-1) : lastChar));
  let lastLine = "";
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    lines += 1;
    lastLine = line;
    if (verifier.check(line)) break;
  }
  input.destroy();
  const report = verifier.report();
  if (report.problem) return { line: report.problem.line, reason: report.problem.reason, heads: report.heads };
  if (lines > 0 && lastChar !== "\n") return { line: lines, reason: "the last line is incomplete (no newline)", heads: report.heads };
  if (lines > 0 && lastLine === "") return { line: lines, reason: "an empty line at the end of the log", heads: report.heads };
  return { line: 0, reason: undefined, heads: report.heads };
}
