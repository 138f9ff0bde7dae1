import { requireChainKey, type AuditRecord, type ChainHead, type ChainKey } from "./audit-record.ts";
import { InvalidAuditEntryError } from "./audit-errors.ts";
import { AuditWriteError } from "./audit-log.ts";
import type { AuditSink } from "./audit-sink.ts";
import { canonicalJson } from "./canonical-json.ts";
import { nodeAuditFileSystem, readIntoParser, writeWhole, type AuditFileHandle, type AuditFileSystem } from "./audit-file.ts";
import { createAuditLogParser, type AuditLogParser } from "./audit-log-parser.ts";
import { FileLockTimeoutError, acquireFileLock } from "./file-lock.ts";
import { AuditLogNotRepairableError, repairOpenAuditLog } from "./repair-audit-log.ts";

/** Options of {@link createJsonLinesSink}. */
export interface JsonLinesSinkOptions {
  /**
   * File to append records to (created with mode 0600). Its folder must be
   * writable too: writers take turns through `<file>.lock` beside it.
   * Default: none, so records go to `stream`.
   */
  file?: string | undefined;
  /** Stream for records when no `file` is given. Default `process.stdout`. */
  stream?: NodeJS.WritableStream;
  /** `fdatasync` after every record (file only): survives a power cut, costs a disk flush. Default false. */
  fsync?: boolean;
  /** The chain key of a keyed log (the audit log's `chainKey`), to verify the existing file. Default: none. */
  chainKey?: ChainKey | undefined;
  /**
   * Repair a tail defect of the existing file when opening it (add a missing
   * final newline, or cut a torn line, NUL padding or empty lines back to
   * the last whole line, saving the cut bytes beside the log), and log what
   * was done. A chain broken inside the log is never repaired. Default
   * false: a defect stops the sink until someone repairs the file
   * (`npm run audit -- repair <file>`).
   */
  repair?: boolean;
  /** How long an append waits for another writer's lock (`<file>.lock`). Default 10 000 ms. */
  lockTimeoutMs?: number;
  /** Where the sink says why it stopped or what it repaired. Default: a line on stderr. */
  log?: (message: string) => void;
  /** Files to open; a test injects short or failing writes here. Default {@link nodeAuditFileSystem}. */
  fileSystem?: AuditFileSystem;
}

/** Appends in a row under one hold of the lock before it is let go. */
const HOLD_LIMIT = 64;

interface FileState {
  handle: AuditFileHandle;
  parser: AuditLogParser;
  /** Bytes of the file this sink has verified or written. */
  end: number;
  /** The file was found broken at this size (by this or another writer): the error, until the size changes. */
  broken?: { size: number; error: AuditWriteError } | undefined;
}

/**
 * An audit sink writing one canonical-JSON record per line, to a file or to
 * stdout (the default).
 *
 * With a file:
 * - The chains continue across restarts: the existing file is read and
 *   verified by the shared log parser (`audit-log-parser.ts`) when the first
 *   record is written (or on `ready()`). A broken or badly ended file is
 *   not appended to: every write fails with an {@link AuditWriteError}
 *   naming the first bad line and its repair.
 * - Several processes may append to the same file. Each append holds the
 *   lock file `<file>.lock` (created with `"wx"`, holding the pid; a lock
 *   left by a dead process is taken over), reads and verifies what other
 *   writers appended since, then seals onto the current head. So writers
 *   share one chain per tenant and never fork it.
 * - An append resolves only when its whole line is written (and synced with
 *   `fsync`). A write that fails (a full disk: `ENOSPC`, `EFBIG` under a
 *   file size limit, or a short write that cannot be completed) rejects
 *   that append, and the sink heals at once: holding the lock, it cuts the
 *   file back to where the append began, so the file ends at its last
 *   acknowledged record and nothing is ever glued onto a torn line. The
 *   next append simply tries again, so appends go on by themselves once
 *   there is space. The first failure of a run is logged, and so is its end.
 *   A lock file that cannot be written (a full disk) is removed again, so
 *   no writer is left waiting on it.
 * - Only when that cut fails may the file end in a torn line: then the sink
 *   stops (every append rejects, because a record after a torn line would
 *   be hidden behind it) until `npm run audit -- repair <file>` cuts the
 *   line off; it then resumes by itself, even if other writers appended
 *   since. After a failed sync only a reopen goes on (what the disk holds
 *   is unknown); reopening with `repair: true` also repairs the tail first.
 * - A file found broken by any writer (a torn line a crashed writer left,
 *   a tampered record) is not appended to; its problem is reported without
 *   reading the file again until it changes. A torn tail the sink did not
 *   write itself is never cut by it: that needs `audit repair` (or
 *   `repair: true` when opening), which saves the cut bytes.
 *
 * On stdout each process starts new chains (seq 0), so `verify` is meant
 * for files; ship stdout to a collector that keeps it per process.
 *
 * @example
 * const sink = createJsonLinesSink({ file: process.env.AUDIT_LOG_FILE }); // stdout when unset
 */
export function createJsonLinesSink(options: JsonLinesSinkOptions = {}): AuditSink {
  const { file, fsync = false, repair = false } = options ?? {};
  if (file !== undefined && (typeof file !== "string" || file.trim() === "")) {
    throw new TypeError("createJsonLinesSink: options.file must be a non-empty path");
  }
  const stream = options?.stream ?? process.stdout;
  const key = options?.chainKey === undefined ? undefined : requireChainKey(options.chainKey, "createJsonLinesSink: options.chainKey");
  const fileSystem = options?.fileSystem ?? nodeAuditFileSystem;
  const log = options?.log ?? ((message: string) => process.stderr.write(`audit: ${message}\n`));
  const lockFile = `${file}.lock`;
  const lock = () => acquireFileLock(lockFile, { timeoutMs: options?.lockTimeoutMs }).catch((error: unknown) => {
    const code = (error as NodeJS.ErrnoException)?.code;
    throw new AuditWriteError(
      error instanceof FileLockTimeoutError
        ? `the audit log ${file} is locked by another writer`
        : code === "ENOSPC" || code === "EFBIG" || code === "EDQUOT"
          ? `the audit log's lock file ${lockFile} cannot be written (${code}: the disk is full); the next append tries again`
          : `the audit log's lock file ${lockFile} cannot be created (${code ?? String(error)}): its folder must be writable`,
      { cause: error },
    );
  });

  const why = (error: unknown) => (error as NodeJS.ErrnoException)?.code ?? (error as Error)?.message ?? "unknown error";

  // Set once the file cannot be trusted to end at a whole record; every
  // later append rejects with it. A resumable stop ends when the file is
  // whole again after the last acknowledged record (see resumeIfRepaired).
  let stopped: { error: AuditWriteError; resumable: boolean } | undefined;
  const stop = (why: string, cause: unknown, resumable: boolean): never => {
    const until = resumable ? `until repaired (npm run audit -- repair ${file}; the sink then resumes) or reopened` : "until the sink is reopened";
    // The first reason is kept, unless a later one forbids resuming.
    if (!stopped || (stopped.resumable && !resumable)) {
      stopped = { error: new AuditWriteError(`the audit log ${file} ${why}; it is not appended to ${until}`, { cause }), resumable };
    }
    log(stopped.error.message);
    throw stopped.error;
  };

  /** Read what other writers appended since this sink last looked (lock held). */
  async function catchUp(state: FileState): Promise<void> {
    const { size } = await state.handle.stat();
    if (state.broken) {
      if (size === state.broken.size) throw state.broken.error;
      // Changed since (repaired, most likely): read it all again, as on open.
      state.broken = undefined;
      state.parser = createAuditLogParser({ key });
      state.end = 0;
    }
    if (size < state.end) stop(`shrank from ${state.end} to ${size} bytes (acknowledged records were cut off)`, undefined, false);
    if (size > state.end) {
      await readIntoParser(state.handle, state.parser, state.end, size);
      state.end = size;
    }
    if (!state.parser.wellFormed) {
      const { problem } = state.parser.end();
      const error = new AuditWriteError(
        `the audit log ${file} is broken at line ${problem!.line}: ${problem!.reason}; it is not appended to (${problem!.repair?.replaceAll("<file>", file!) ?? "rotate it: it is evidence"})`,
      );
      state.broken = { size, error };
      throw error;
    }
  }

  /**
   * After a failed write: resume once the file is whole again after the
   * last record this sink acknowledged, whatever other writers appended
   * since (a write that failed before its first byte, or a repair that cut
   * the torn line off). A torn tail keeps it stopped, with that problem.
   */
  async function resumeIfRepaired(state: FileState): Promise<void> {
    if (!stopped) return;
    if (!stopped.resumable) throw stopped.error;
    const release = await lock();
    try {
      await catchUp(state);
      stopped = undefined;
      log(`the audit log ${file} is whole again after its last acknowledged record: appending resumes`);
    } finally {
      await release();
    }
  }

  let opened: Promise<FileState | undefined> | undefined;
  const openOnce = () =>
    (opened ??= (async () => {
      if (file === undefined) return undefined;
      // "a+" creates the file (0600) and appends; reads use explicit positions.
      const handle = await fileSystem.open(file, "a+", 0o600);
      try {
        const release = await lock();
        try {
          if (repair) {
            const done = await repairOpenAuditLog(handle, file, { key });
            if (done.action !== "none") {
              log(`repaired ${file} (${done.defect}): ${done.action === "newline" ? "added the missing final newline" : `cut ${done.cutBytes} byte(s), saved to ${done.savedTo}`}`);
            }
          }
          const state: FileState = { handle, parser: createAuditLogParser({ key }), end: 0 };
          // A broken file stays open: appends reject with its problem until
          // it changes (a repair), without reading it all again each time.
          await catchUp(state).catch((error: unknown) => {
            if (!state.broken) throw error;
          });
          return state;
        } finally {
          await release();
        }
      } catch (error) {
        await handle.close();
        // Another writer holding the lock for long, a full disk (the lock
        // file or a repair's saved tail could not be written), a folder not
        // yet writable: none is a defect of the log, so the next append
        // tries to open again. Only a log broken inside stays refused.
        if (!(error instanceof AuditLogNotRepairableError)) opened = undefined;
        throw error;
      }
    })());

  /**
   * Appends to the file rejected in a row (a full disk, a lock held too
   * long): the first is logged, and so is the end of the run, so a full
   * disk gives two lines, not one per refused tool call.
   */
  let failures = 0;

  /**
   * A write failed (a full disk: `ENOSPC`, `EFBIG` under a file size limit,
   * or a short write the file system did not complete). The lock is held,
   * so every byte after `state.end` is this append's own: cut them off, so
   * the file ends at its last acknowledged record again, and reject the
   * append. The next append simply tries again, so the sink goes on by
   * itself once there is space. Only when the cut itself fails may the
   * file end in a torn line: then the sink stops until it is repaired.
   */
  async function cutBack(state: FileState, error: unknown): Promise<never> {
    try {
      await state.handle.truncate(state.end);
    } catch (cutError) {
      stop(`had a failed write (${why(error)}) and its partial record could not be cut off (${why(cutError)}): it may end in a torn line`, error, true);
    }
    // Best effort: the acknowledged records are on disk already, and the
    // next append's sync also carries the cut. A crash before that may
    // leave the partial record on disk: found at open, as a torn line.
    if (fsync) await state.handle.datasync().catch(() => undefined);
    throw new AuditWriteError(
      `the audit log ${file} had a failed write (${why(error)}): the record was not written (any partial bytes were cut off); the next append tries again`,
      { cause: error },
    );
  }

  // The lock is kept while more appends of this process are queued (at most
  // HOLD_LIMIT in a row, so other writers get their turn): a burst pays for
  // one lock and one catch-up, since nobody else can write meanwhile.
  let held: (() => Promise<void>) | undefined;
  let heldFor = 0;
  let pending = 0;

  async function appendToFile(state: FileState, tenantId: string, seal: (head: ChainHead | undefined) => AuditRecord) {
    let keep = false;
    try {
      if (!held) {
        held = await lock();
        heldFor = 0;
        await catchUp(state);
      }
      const record = seal(state.parser.head(tenantId));
      const bytes = Buffer.from(`${canonicalJson(record)}\n`);
      try {
        await writeWhole(state.handle, bytes);
      } catch (error) {
        await cutBack(state, error);
      }
      if (fsync) {
        // After a failed sync the kernel may have dropped the dirty pages:
        // what the disk holds is unknown, so only a reopen (which reads the
        // file again) may go on.
        await state.handle.datasync().catch((error: unknown) => stop(`could not be synced to disk (${why(error)})`, error, false));
      }
      state.end += bytes.length;
      state.parser.trust(record, bytes.length);
      heldFor += 1;
      keep = pending > 1 && heldFor < HOLD_LIMIT;
      return record;
    } finally {
      if (!keep && held) {
        const release = held;
        held = undefined;
        await release();
      }
    }
  }

  // The chain heads of a stream (a file's are the parser's).
  const heads = new Map<string, ChainHead>();

  // One write at a time in this process: reading a head and appending its
  // successor is one step (the lock file does the same across processes).
  let queue: Promise<unknown> = Promise.resolve();

  const writeStream = (line: string) =>
    new Promise<void>((resolve, reject) => {
      stream.write(line, (error?: Error | null) => (error ? reject(error) : resolve()));
    });

  return {
    append(tenantId, seal) {
      pending += 1;
      const step = queue.then(async () => {
        if (file !== undefined) {
          try {
            const state = (await openOnce())!;
            await resumeIfRepaired(state);
            const record = await appendToFile(state, tenantId, seal);
            if (failures > 0) log(`the audit log ${file} is written again after ${failures} failed append(s)`);
            failures = 0;
            return record;
          } catch (error) {
            // A stop says why itself; an entry that cannot be sealed is no failure of the sink.
            if (!stopped && !(error instanceof InvalidAuditEntryError) && ++failures === 1) {
              log(error instanceof AuditWriteError ? error.message : `the audit log ${file} cannot be written (${why(error)})`);
            }
            throw error;
          }
        }
        const record: AuditRecord = seal(heads.get(tenantId));
        await writeStream(`${canonicalJson(record)}\n`);
        heads.set(tenantId, { seq: record.seq, hash: record.hash });
        return record;
      });
      queue = step.catch(() => undefined).finally(() => (pending -= 1));
      return step;
    },
    async ready() {
      // Through the queue, so it never checks the file in the middle of an append.
      const step = queue.then(async () => {
        const state = await openOnce();
        if (!state) return;
        await resumeIfRepaired(state);
        if (state.broken && !held) {
          const release = await lock();
          try {
            await catchUp(state);
          } finally {
            await release();
          }
        }
      });
      queue = step.catch(() => undefined);
      await step;
    },
    async close() {
      await queue;
      const release = held;
      held = undefined;
      await release?.();
      const state = await opened?.catch(() => undefined);
      await state?.handle.close();
      opened = Promise.reject(new AuditWriteError("the audit sink is closed"));
      opened.catch(() => undefined);
    },
  };
}
