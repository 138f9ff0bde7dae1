import { setTimeout as sleep } from "node:timers/promises";
import { auditRecordLine, requireChainKey, type AuditRecord, type ChainHead, type ChainKey } from "./audit-record.ts";
import { AuditWriteError } from "./audit-log.ts";
import type { AuditSink } from "./audit-sink.ts";
import {
  appendLineSync, nodeAuditFileSystem, readIntoParser, writeWhole, writeWholeSync, type AuditFileHandle, type AuditFileSystem,
} from "./audit-file.ts";
import { createAuditLogParser, type AuditLogParser } from "./audit-log-parser.ts";
import { FileLockTimeoutError, acquireFileLock, isFileLockWanted, type FileLockRelease } from "./file-lock.ts";
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
   * (`npx langgraph-tenant-auth audit repair <file>`).
   */
  repair?: boolean;
  /** How long an append waits for another writer's lock (`<file>.lock`). Default 10 000 ms. */
  lockTimeoutMs?: number;
  /** Where the sink says why it stopped or what it repaired. Default: a line on stderr. */
  log?: (message: string) => void;
  /** Files to open; a test injects short or failing writes here. Default {@link nodeAuditFileSystem}. */
  fileSystem?: AuditFileSystem;
}

// Not frozen: async_hooks tags every promise it sees, so a frozen one throws under AsyncLocalStorage.
const RESOLVED: Promise<void> = Promise.resolve();

/** Idle time the lock is kept after the last append, so a burst (a tool call's started and outcome records) takes it once. */
const LINGER_MS = 2;
/** Appends under one hold of the lock before it is let go, even if nobody says they wait (a writer of an older version). */
const HOLD_LIMIT = 256;
/** ... or this long. */
const HOLD_MS = 100;
/** After letting go for a waiter: how long it may take to pick the lock up before this sink competes for it again. */
const HANDOFF_MS = 50;
/** Records written by one write (and covered by one sync). */
const GROUP_LIMIT = 256;
/** Appends between two looks at whether another writer waits (one `stat`); the linger timer looks too. */
const ASK_EVERY = 16;

interface FileState {
  handle: AuditFileHandle;
  parser: AuditLogParser;
  /** Bytes of the file this sink has verified or written. */
  end: number;
  /** The file was found broken at this size (by this or another writer): the error, until the size changes. */
  broken?: { size: number; error: AuditWriteError } | undefined;
}

/** An append waiting for its group. */
interface Waiter {
  tenantId: string;
  seal: (head: ChainHead | undefined) => AuditRecord;
  resolve: (record: AuditRecord) => void;
  reject: (error: unknown) => void;
}

/** A sealed record of a group, and its line. */
interface Sealed {
  waiter: Waiter;
  record: AuditRecord;
  line: string;
}

/** A file system that is out of space: a full disk, a quota, or a file size limit. */
function isFullDisk(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === "ENOSPC" || code === "EDQUOT" || code === "EFBIG";
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
 * - Several processes may append to the same file. A writer appends while
 *   holding the lock file `<file>.lock` (created with `"wx"`, holding the
 *   pid; a lock left by a dead process is taken over); when it takes the
 *   lock it reads and verifies what other writers appended since, then
 *   seals onto the current head. So writers share one chain per tenant and
 *   never fork it.
 * - Group commit: the appends that arrive while the lock is being taken or
 *   while a sync runs are sealed in order and written together, by one
 *   write and one sync. The lock is kept across a burst (until 2 ms pass
 *   without an append, or 256 appends, or 100 ms), so a tool call's started
 *   and outcome records take it once; it is let go at once when another
 *   writer waits (waiters touch `<file>.lock.waiting`), and this sink then
 *   leaves the waiter time to take it.
 * - An append resolves only when its whole line is written (and synced with
 *   `fsync`, by the sync of its group). A write that fails (a full disk:
 *   `ENOSPC`, `EFBIG` under a file size limit, or a short write that cannot
 *   be completed) rejects every append of its group, and the sink heals at
 *   once: holding the lock, it cuts the file back to where the group began,
 *   so the file ends at its last acknowledged record and nothing is ever
 *   glued onto a torn line. The next append simply tries again, so appends
 *   go on by themselves once there is space. The first failure of a run is
 *   logged, and so is its end. A lock file that cannot be written (a full
 *   disk) is removed again, so no writer is left waiting on it.
 * - Only when that cut fails may the file end in a torn line: then the sink
 *   stops (every append rejects, because a record after a torn line would
 *   be hidden behind it) until `npx langgraph-tenant-auth audit repair <file>` cuts the
 *   line off; it then resumes by itself, even if other writers appended
 *   since. A sync that fails for want of space (`ENOSPC`, `EDQUOT`,
 *   `EFBIG`) is healed like a failed write: the group is cut off and the
 *   next append tries again. After any other failed sync
 *   (`EIO`) only a reopen goes on (what the disk holds is unknown);
 *   reopening with `repair: true` also repairs the tail first.
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
        : isFullDisk(error)
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
    const until = resumable ? `until repaired (npx langgraph-tenant-auth audit repair ${file}; the sink then resumes) or reopened` : "until the sink is reopened";
    // The first reason is kept, unless a later one forbids resuming.
    if (!stopped || (stopped.resumable && !resumable)) {
      stopped = { error: new AuditWriteError(`the audit log ${file} ${why}; it is not appended to ${until}`, { cause }), resumable };
    }
    log(stopped.error.message);
    throw stopped.error;
  };

  /** Read what other writers appended since this sink last looked (lock held). */
  async function catchUp(state: FileState): Promise<void> {
    const { size } = state.handle.statSync ? state.handle.statSync() : await state.handle.stat();
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

  // The lock, kept across a burst of appends (see the linger and the limits above).
  let held: FileLockRelease | undefined;
  let heldFor = 0;
  let heldSince = 0;
  /** Appends since the hold last asked whether another writer waits. */
  let sinceAsked = 0;
  /** When the last group was written: the linger timer lets go once this is LINGER_MS old. */
  let lastActive = 0;
  let linger: NodeJS.Timeout | undefined;
  /** After letting go for a waiter: until then, wait while someone still waits (it has not taken the lock yet). */
  let yieldUntil = 0;

  /** Take the lock and read what other writers appended meanwhile. */
  async function takeLock(state: FileState): Promise<void> {
    // Appends under a held lock complete without a turn of the event loop;
    // give one here, so timers and I/O (another sink of this process
    // waiting for the lock) are never starved by a long burst.
    await new Promise((resolve) => setImmediate(resolve));
    if (yieldUntil > 0) {
      while (performance.now() < yieldUntil && isFileLockWanted(lockFile)) await sleep(1);
      yieldUntil = 0;
    }
    const release = await lock();
    try {
      await catchUp(state);
    } catch (error) {
      await release();
      throw error;
    }
    held = release;
    heldFor = 0;
    sinceAsked = 0;
    heldSince = performance.now();
  }

  /**
   * Let the lock go (for a waiter: then leave it time to take it). The
   * release itself is synchronous (one unlink), so the lock is free when
   * this returns, without awaiting it.
   */
  function letGo(forWaiter = false): void {
    clearTimeout(linger);
    linger = undefined;
    const release = held;
    held = undefined;
    if (forWaiter) yieldUntil = performance.now() + HANDOFF_MS;
    release?.().catch((error: unknown) => {
      log(`the audit log's lock file ${lockFile} could not be removed (${why(error)}): other writers wait until it is deleted`);
    });
  }

  /** After a group under the lock: let go at the hold's limits, or at once when another writer waits. */
  function afterGroup(): void {
    if (!held) return;
    let wanted = false;
    if (sinceAsked >= ASK_EVERY) {
      sinceAsked = 0;
      try {
        wanted = held.contended();
      } catch {
        wanted = true; // the waiting mark cannot be read: let go as if someone waits
      }
    }
    if (wanted || heldFor >= HOLD_LIMIT || performance.now() - heldSince >= HOLD_MS) letGo(wanted);
  }

  /** Keep the lock for the next append of a burst; a timer lets it go once idle (or wanted). */
  function keepLock(): void {
    if (!held || linger) return;
    const check = () => {
      linger = undefined;
      if (!held) return;
      const idle = performance.now() - lastActive;
      let wanted = false;
      try {
        wanted = held.contended();
      } catch {
        wanted = true;
      }
      if (flushing && !wanted) linger = setTimeout(check, LINGER_MS);
      else if (flushing) sinceAsked = ASK_EVERY; // the loop lets go after its group
      else if (wanted || idle >= LINGER_MS) letGo(wanted);
      else linger = setTimeout(check, Math.max(1, LINGER_MS - idle));
    };
    linger = setTimeout(check, LINGER_MS);
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
    if (held) {
      await catchUp(state);
    } else {
      const release = await lock();
      try {
        await catchUp(state);
      } finally {
        await release();
      }
    }
    stopped = undefined;
    log(`the audit log ${file} is whole again after its last acknowledged record: appending resumes`);
  }

  let opened: Promise<FileState | undefined> | undefined;
  const openFile = async (): Promise<FileState | undefined> => {
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
      throw error;
    }
  };
  const openOnce = (): Promise<FileState | undefined> => {
    if (opened) return opened;
    const attempt = openFile();
    opened = attempt;
    // A folder that does not exist yet or is not writable, another writer
    // holding the lock for long, a full disk (the lock file or a repair's
    // saved tail could not be written): none is a defect of the log, so the
    // next append tries to open again. Only a log broken inside stays refused.
    attempt.catch((error: unknown) => {
      if (opened === attempt && !(error instanceof AuditLogNotRepairableError)) opened = undefined;
    });
    return attempt;
  };

  /**
   * Appends to the file rejected in a row (a full disk, a lock held too
   * long): the first is logged, and so is the end of the run, so a full
   * disk gives two lines, not one per refused tool call.
   */
  let failures = 0;
  function failed(count: number, error: unknown): void {
    // A stop says why itself, and a stopped sink refuses everything until it resumes.
    if (count === 0 || stopped) return;
    failures += count;
    if (failures === count) log(error instanceof AuditWriteError ? error.message : `the audit log ${file} cannot be written (${why(error)})`);
  }

  /**
   * A group's write failed (a full disk: `ENOSPC`, `EFBIG` under a file
   * size limit, or a short write the file system did not complete), or its
   * sync failed for want of space (`failed`: `"sync"`). The lock is held, so
   * every byte after `state.end` is the group's own: cut them off, so the
   * file ends at its last acknowledged record again (earlier groups were
   * synced before they were acknowledged). The error every append of the
   * group is rejected with: a plain failure (the next append tries again),
   * or a stop when the cut itself failed.
   */
  async function cutBack(state: FileState, error: unknown, failed: "write" | "sync" = "write"): Promise<AuditWriteError> {
    try {
      if (state.handle.truncateSync) state.handle.truncateSync(state.end);
      else await state.handle.truncate(state.end);
    } catch (cutError) {
      try {
        stop(`had a failed ${failed} (${why(error)}) and its partial record could not be cut off (${why(cutError)}): it may end in a torn line`, error, true);
      } catch (stopError) {
        return stopError as AuditWriteError;
      }
    }
    // Best effort: the acknowledged records are on disk already, and the
    // next group's sync also carries the cut. A crash before that may
    // leave the partial record on disk: found at open, as a torn line.
    if (fsync) await state.handle.datasync().catch(() => undefined);
    return new AuditWriteError(
      `the audit log ${file} had a failed ${failed} (${why(error)}): the record was not written (any partial bytes were cut off); the next append tries again`,
      { cause: error },
    );
  }

  /** The group failed: reject each append with the same error, and let the lock go. */
  function settleFailure(sealed: Sealed[], failure: AuditWriteError): void {
    failed(sealed.length, failure);
    for (const { waiter } of sealed) waiter.reject(failure);
    letGo();
  }

  /**
   * The group is written (and synced): the parser takes it, then each
   * append resolves. `one`: a single record written by {@link appendNow}
   * (then `sealed` is empty).
   */
  function settleSuccess(state: FileState, sealed: Sealed[], bytes: number, one?: AuditRecord): void {
    if (one) state.parser.trust(one, bytes);
    for (const { record, line } of sealed) state.parser.trust(record, sealed.length === 1 ? bytes : Buffer.byteLength(line));
    state.end += bytes;
    const count = one ? 1 : sealed.length;
    heldFor += count;
    sinceAsked += count;
    lastActive = performance.now();
    if (failures > 0) log(`the audit log ${file} is written again after ${failures} failed append(s)`);
    failures = 0;
    for (const { waiter, record } of sealed) waiter.resolve(record);
  }

  /**
   * Seal a group onto the current heads (lock held), write it with one
   * write and sync it with one sync, then settle each append. Synchronous
   * (returns `undefined`) on a file system with synchronous writes and no
   * `fsync`; otherwise a promise. Never throws or rejects.
   */
  function commit(state: FileState, group: Waiter[]): Promise<void> | undefined {
    const sealed: Sealed[] = [];
    // Heads moved by this group, before the parser trusts it (only a group of several needs them).
    const heads = group.length > 1 ? new Map<string, ChainHead>() : undefined;
    for (const waiter of group) {
      try {
        const record = waiter.seal(heads?.get(waiter.tenantId) ?? state.parser.head(waiter.tenantId));
        sealed.push({ waiter, record, line: `${auditRecordLine(record)}\n` });
        heads?.set(waiter.tenantId, { seq: record.seq, hash: record.hash });
      } catch (error) {
        // An entry that cannot be sealed fails alone; it is no failure of the file.
        waiter.reject(error);
      }
    }
    if (sealed.length === 0) return undefined;
    const bytes = Buffer.from(sealed.length === 1 ? sealed[0]!.line : sealed.map((s) => s.line).join(""));
    if (state.handle.writeSync) {
      try {
        writeWholeSync(state.handle as Parameters<typeof writeWholeSync>[0], bytes);
      } catch (error) {
        return cutBack(state, error).then((failure) => settleFailure(sealed, failure));
      }
      if (fsync) return synced(state, sealed, bytes.length);
      settleSuccess(state, sealed, bytes.length);
      return undefined;
    }
    return (async () => {
      try {
        await writeWhole(state.handle, bytes);
      } catch (error) {
        settleFailure(sealed, await cutBack(state, error));
        return;
      }
      if (fsync) await synced(state, sealed, bytes.length);
      else settleSuccess(state, sealed, bytes.length);
    })();
  }

  /** Sync a written group to disk, then settle it. */
  async function synced(state: FileState, sealed: Sealed[], bytes: number): Promise<void> {
    try {
      await state.handle.datasync();
    } catch (error) {
      // The disk filled up before the group reached it (file systems that
      // allocate at write-back, such as NFS, answer the sync with ENOSPC): the
      // group is not acknowledged, so it is cut off like a failed write's.
      settleFailure(sealed, isFullDisk(error) ? await cutBack(state, error, "sync") : stopUnsynced(error));
      return;
    }
    settleSuccess(state, sealed, bytes);
  }

  /**
   * Any other failed sync (`EIO`): the kernel may have dropped dirty pages,
   * so what the disk holds is unknown, and only a reopen (which reads the
   * file again) may go on.
   */
  function stopUnsynced(error: unknown): AuditWriteError {
    try {
      return stop(`could not be synced to disk (${why(error)})`, error, false);
    } catch (stopError) {
      return stopError as AuditWriteError;
    }
  }

  // Appends waiting for the next group, and the loop writing them.
  const waiting: Waiter[] = [];
  let flushing: Promise<void> | undefined;
  /** The open file, once opening succeeded (so an append under a held lock needs no await). */
  let openState: FileState | undefined;

  async function flush(): Promise<void> {
    while (waiting.length > 0) {
      let state: FileState;
      try {
        state = (await openOnce())!;
        openState = state;
        await resumeIfRepaired(state);
        if (!held) await takeLock(state);
      } catch (error) {
        // Every waiting append fails alike (the file cannot be opened, is
        // broken or stopped, or the lock cannot be had); the next one tries again.
        const all = waiting.splice(0);
        failed(all.length, error);
        for (const waiter of all) waiter.reject(error);
        continue;
      }
      await commit(state, waiting.splice(0, GROUP_LIMIT));
      afterGroup();
    }
  }

  function startFlush(first?: Promise<void>): void {
    flushing ??= (first ?? Promise.resolve())
      .then(flush)
      .catch((error: unknown) => {
        // Not expected (every step above catches its own errors); never leave an append hanging.
        for (const waiter of waiting.splice(0)) waiter.reject(error);
      })
      .finally(() => {
        flushing = undefined;
        // An append that arrived as the loop ended.
        if (waiting.length > 0) startFlush();
        else keepLock();
      });
  }

  /**
   * The common case of a burst, on the real file system without `fsync`:
   * nothing queued, the lock held, the file whole. The append is sealed,
   * written and settled right here, synchronously, with no trip through the
   * loop. `undefined` when that does not apply.
   */
  function appendNow(tenantId: string, seal: Waiter["seal"]): Promise<AuditRecord> | undefined {
    const state = openState;
    if (flushing || !held || !state || stopped || state.broken || fsync || !state.handle.writeSync) return undefined;
    let record: AuditRecord;
    let line: string;
    try {
      record = seal(state.parser.head(tenantId));
      line = `${auditRecordLine(record)}\n`;
    } catch (error) {
      return Promise.reject(error); // an entry that cannot be sealed fails alone
    }
    let bytes: number;
    try {
      bytes = appendLineSync(state.handle as Parameters<typeof appendLineSync>[0], line);
    } catch (error) {
      // Appends that arrive meanwhile wait for the cut (and the lock let go) in the loop.
      const failure = cutBack(state, error).then((cause) => {
        failed(1, cause);
        letGo();
        return cause;
      });
      startFlush(failure.then(() => undefined));
      return failure.then((cause) => Promise.reject(cause));
    }
    settleSuccess(state, [], bytes, record);
    afterGroup();
    keepLock();
    return Promise.resolve(record);
  }

  function appendToFile(tenantId: string, seal: Waiter["seal"]): Promise<AuditRecord> {
    return appendNow(tenantId, seal) ?? new Promise<AuditRecord>((resolve, reject) => {
      waiting.push({ tenantId, seal, resolve, reject });
      startFlush();
    });
  }

  /** `ready()` when the file is not known to be open and whole. */
  async function whenReady(): Promise<void> {
    const state = (await openOnce())!;
    openState = state;
    await resumeIfRepaired(state);
    // A file found broken is looked at again (a repair may have mended it);
    // while this sink holds the lock, the file is whole.
    if (state.broken && !held) {
      const release = await lock();
      try {
        await catchUp(state);
      } finally {
        await release();
      }
    }
  }

  // The chain heads of a stream (a file's are the parser's).
  const heads = new Map<string, ChainHead>();

  // One write at a time to a stream: reading a head and appending its successor is one step.
  let queue: Promise<unknown> = Promise.resolve();

  const writeStream = (line: string) =>
    new Promise<void>((resolve, reject) => {
      stream.write(line, (error?: Error | null) => (error ? reject(error) : resolve()));
    });

  return {
    append(tenantId, seal) {
      if (file !== undefined) return appendToFile(tenantId, seal);
      const step = queue.then(async () => {
        const record: AuditRecord = seal(heads.get(tenantId));
        await writeStream(`${auditRecordLine(record)}\n`);
        heads.set(tenantId, { seq: record.seq, hash: record.hash });
        return record;
      });
      queue = step.catch(() => undefined);
      return step;
    },
    ready() {
      // The common case (open, whole, not stopped) answers at once, without an async function's turn.
      if (file === undefined || (openState && !stopped && !openState.broken)) return RESOLVED;
      return whenReady();
    },
    async close() {
      await queue;
      while (flushing) await flushing;
      letGo();
      openState = undefined;
      const state = await opened?.catch(() => undefined);
      await state?.handle.close();
      opened = Promise.reject(new AuditWriteError("the audit sink is closed"));
      opened.catch(() => undefined);
    },
  };
}
