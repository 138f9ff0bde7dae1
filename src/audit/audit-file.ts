import { open } from "node:fs/promises";
import { StringDecoder } from "node:string_decoder";
import { AuditShortWriteError } from "./audit-errors.ts";
import type { AuditLogParser } from "./audit-log-parser.ts";

/**
 * The part of a `node:fs/promises` `FileHandle` the JSON-lines sink uses.
 * Injectable so a test can make writes short or fail with `ENOSPC`
 * without filling a real disk.
 */
export interface AuditFileHandle {
  /** `position` is set only on handles opened `"r+"`; `"a+"` handles always append. */
  write(buffer: Uint8Array, offset: number, length: number, position?: number): Promise<{ bytesWritten: number }>;
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  stat(): Promise<{ size: number }>;
  datasync(): Promise<void>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

/** Opens audit log files. Default {@link nodeAuditFileSystem}. */
export interface AuditFileSystem {
  /** `flags` is `"a+"` (append and read, created with `mode`) or `"r+"`. */
  open(path: string, flags: "a+" | "r+", mode: number): Promise<AuditFileHandle>;
}

/**
 * The real file system (`node:fs/promises` `open`).
 *
 * @example
 * createJsonLinesSink({ file, fileSystem: nodeAuditFileSystem }); // the default
 */
export const nodeAuditFileSystem: AuditFileSystem = Object.freeze({
  open: (path, flags, mode) => open(path, flags, mode),
} satisfies AuditFileSystem);

/**
 * Write all of `bytes` (at `position`, or appended when it is undefined),
 * continuing after short writes (which POSIX allows).
 *
 * @throws what the file system throws, or an {@link AuditShortWriteError}
 * when it stops accepting bytes without an error; then part of `bytes` may
 * already be in the file.
 * @example
 * await writeWhole(handle, Buffer.from(`${line}\n`));
 */
export async function writeWhole(handle: AuditFileHandle, bytes: Uint8Array, position?: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await (position === undefined
      ? handle.write(bytes, done, bytes.length - done)
      : handle.write(bytes, done, bytes.length - done, position + done));
    if (!(bytesWritten > 0)) throw new AuditShortWriteError(`the file system accepted ${done} of ${bytes.length} bytes, then none`);
    done += bytesWritten;
  }
}

/**
 * Push the bytes `[from, to)` of a file into a log parser, in chunks,
 * stopping at the first problem the parser finds (read it from the parser:
 * `wellFormed`, `end()`).
 *
 * @example
 * await readIntoParser(handle, parser, 0, (await handle.stat()).size);
 */
export async function readIntoParser(handle: AuditFileHandle, parser: AuditLogParser, from: number, to: number): Promise<void> {
  const decoder = new StringDecoder("utf8");
  const buffer = Buffer.allocUnsafe(64 * 1024);
  for (let position = from; position < to; ) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, to - position), position);
    if (bytesRead <= 0) break; // shrank while reading: the parser sees a shorter log
    position += bytesRead;
    if (parser.push(decoder.write(buffer.subarray(0, bytesRead)))) return;
  }
  parser.push(decoder.end());
}
