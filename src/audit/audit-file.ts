import { fstatSync, ftruncateSync, writeSync } from "node:fs";
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
  /**
   * Optional synchronous forms, which the sink prefers for its appends:
   * appending a line and reading the size of a local file take about a
   * microsecond each, a tenth of a trip through libuv's thread pool. The
   * real file system ({@link nodeAuditFileSystem}) has them. `writeSync`
   * appends (handles opened `"a+"`) and may write fewer bytes than asked.
   */
  writeSync?(buffer: Uint8Array, offset: number, length: number): number;
  /** Append a string as UTF-8 (without copying it into a buffer first); may write fewer bytes than it has. */
  writeStringSync?(text: string): number;
  statSync?(): { size: number };
  truncateSync?(length: number): void;
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
  async open(path: string, flags: "a+" | "r+", mode: number): Promise<AuditFileHandle> {
    const handle = await open(path, flags, mode);
    const { fd } = handle;
    return {
      write: (buffer, offset, length, position) => handle.write(buffer, offset, length, position),
      read: (buffer, offset, length, position) => handle.read(buffer, offset, length, position),
      stat: () => handle.stat(),
      datasync: () => handle.datasync(),
      truncate: (length) => handle.truncate(length),
      close: () => handle.close(),
      writeSync: (buffer, offset, length) => writeSync(fd, buffer, offset, length),
      writeStringSync: (text) => writeSync(fd, text),
      statSync: () => fstatSync(fd),
      truncateSync: (length) => ftruncateSync(fd, length),
    };
  },
});

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
 * {@link writeWhole} with the handle's synchronous `writeSync` (appending).
 *
 * @throws what the file system throws, or an {@link AuditShortWriteError}
 * when it stops accepting bytes without an error; then part of `bytes` may
 * already be in the file.
 * @example
 * writeWholeSync(handle, Buffer.from(`${line}\n`));
 */
export function writeWholeSync(handle: AuditFileHandle & Required<Pick<AuditFileHandle, "writeSync">>, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length; ) {
    const written = handle.writeSync(bytes, done, bytes.length - done);
    if (!(written > 0)) throw new AuditShortWriteError(`the file system accepted ${done} of ${bytes.length} bytes, then none`);
    done += written;
  }
}

/**
 * Append a line with the handle's synchronous writes: `writeStringSync`
 * when it has one, continuing a short write with the bytes left.
 *
 * @returns the line's length in bytes (all of them written).
 * @throws as {@link writeWholeSync}; then part of the line may be in the file.
 * @example
 * const bytes = appendLineSync(handle, `${line}\n`);
 */
export function appendLineSync(handle: AuditFileHandle & Required<Pick<AuditFileHandle, "writeSync">>, line: string): number {
  const total = Buffer.byteLength(line);
  if (!handle.writeStringSync) {
    writeWholeSync(handle, Buffer.from(line));
    return total;
  }
  let done = handle.writeStringSync(line);
  if (done < total) {
    const bytes = Buffer.from(line);
    while (done < total) {
      const written = done > 0 ? handle.writeSync(bytes, done, total - done) : 0;
      if (!(written > 0)) throw new AuditShortWriteError(`the file system accepted ${done} of ${total} bytes, then none`);
      done += written;
    }
  }
  return total;
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
