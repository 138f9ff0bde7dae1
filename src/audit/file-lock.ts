import { closeSync, openSync, statSync, unlinkSync, utimesSync, writeSync } from "node:fs";
import { readFile, stat, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { AuditShortWriteError } from "./audit-errors.ts";

/** Who holds a lock file (its JSON content). */
export interface FileLockHolder {
  pid: number;
  host: string;
  /** When it was taken, ISO 8601. */
  since: string;
}

/** Options of {@link acquireFileLock}. */
export interface FileLockOptions {
  /** Give up after this many milliseconds of waiting for a live holder. Default 10 000. */
  timeoutMs?: number;
  /** Whether a process of this host is alive. Default: `process.kill(pid, 0)` (EPERM counts as alive). */
  isAlive?: (pid: number) => boolean;
}

/**
 * The lock is held by a live process for longer than the timeout.
 *
 * @example
 * try { await acquireFileLock(path); } catch (error) { if (error instanceof FileLockTimeoutError) console.error(error.holder?.pid); }
 */
export class FileLockTimeoutError extends Error {
  override name = "FileLockTimeoutError";
  readonly code = "ERR_FILE_LOCK_TIMEOUT" as const;
  /** The holder seen last, when its lock file could be read. */
  readonly holder: FileLockHolder | undefined;
  constructor(message: string, holder: FileLockHolder | undefined) {
    super(message);
    this.holder = holder;
  }
}

const isAliveDefault = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
};

/**
 * A release function that also tells whether another writer waits: a
 * holder that keeps the lock across several appends lets go as soon as
 * someone waits.
 */
export interface FileLockRelease {
  (): Promise<void>;
  /** True when another writer waits for this lock now. */
  contended(): boolean;
}

/**
 * Waiters touch `<lock>.waiting` at every try (at most {@link MAX_POLL_MS}
 * apart), so a fresh mark means someone waits now; a mark older than this
 * was left by a waiter that gave up or died.
 */
const WAITING_FRESH_MS = 100;
/** The longest pause between two tries of a waiter: keeps its mark fresh and a handoff quick. */
const MAX_POLL_MS = 5;

function markWaiting(path: string): void {
  const mark = `${path}.waiting`;
  const now = new Date();
  try {
    utimesSync(mark, now, now);
  } catch {
    try {
      closeSync(openSync(mark, "a", 0o600));
    } catch {
      // Best effort (a full disk): the holder then only lets go at its limits.
    }
  }
}

function unmarkWaiting(path: string): void {
  try {
    unlinkSync(`${path}.waiting`);
  } catch {
    // Gone already, or another waiter's: it is touched again at its next try.
  }
}

/**
 * True when a writer waits for the lock at `path` now (its waiting mark is
 * fresh). A stale mark is removed. One `stat`, so a holder can ask after
 * every append.
 *
 * @example
 * if (isFileLockWanted("audit.jsonl.lock")) await release();
 */
export function isFileLockWanted(path: string): boolean {
  const mark = `${path}.waiting`;
  const info = statSync(mark, { throwIfNoEntry: false });
  if (info === undefined) return false;
  if (Date.now() - info.mtimeMs < WAITING_FRESH_MS) return true;
  unmarkWaiting(path);
  return false;
}

/** A lock file nobody could have left behind half-written for this long is abandoned. */
const UNREADABLE_GRACE_MS = 5_000;

async function readHolder(path: string): Promise<{ holder: FileLockHolder | undefined; raw: string } | undefined> {
  let raw: string;
  try {
    raw = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    const value = JSON.parse(raw) as FileLockHolder;
    if (Number.isSafeInteger(value.pid) && typeof value.host === "string") return { holder: value, raw };
  } catch {
    // Being written right now, or its writer died between creating and writing it.
  }
  return { holder: undefined, raw };
}

async function isStale(path: string, seen: { holder: FileLockHolder | undefined }, isAlive: (pid: number) => boolean): Promise<boolean> {
  if (seen.holder) return seen.holder.host === hostname() && !isAlive(seen.holder.pid);
  const info = await stat(path).catch(() => undefined);
  return info !== undefined && Date.now() - info.mtimeMs > UNREADABLE_GRACE_MS;
}

/**
 * Create the lock file. Synchronous on purpose: it is taken for every
 * append, and three tiny local syscalls cost about a tenth of three trips
 * through libuv's thread pool.
 */
function create(path: string): boolean {
  const holder: FileLockHolder = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  let fd: number;
  try {
    // "wx": O_CREAT | O_EXCL, so exactly one process creates it.
    fd = openSync(path, "wx", 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
  try {
    // A short write (allowed by POSIX) is continued: the next write then
    // fails with the reason, or completes the holder.
    const bytes = Buffer.from(JSON.stringify(holder));
    for (let done = 0; done < bytes.length; ) {
      const written = writeSync(fd, bytes, done, bytes.length - done);
      if (!(written > 0)) throw new AuditShortWriteError(`the lock file ${path} accepted ${done} of ${bytes.length} bytes, then none`);
      done += written;
    }
  } catch (error) {
    // A full disk (ENOSPC, EFBIG under a file size limit) fails the write
    // after the file exists. An empty lock file would stall every writer
    // until it looks abandoned, and holding it anyway would let another
    // writer take it over as abandoned while it is held: remove it (O_EXCL
    // made it ours) and fail this attempt; the caller tries again later.
    closeSync(fd);
    try {
      unlinkSync(path);
    } catch {
      // Already gone; or left for the unreadable-lock grace period to clear.
    }
    throw error;
  }
  closeSync(fd);
  return true;
}

/**
 * Remove a stale lock. Two processes may see the same stale lock; the
 * `.steal` marker (itself created exclusively) lets only one of them remove
 * it, and it re-reads the lock first, so a fresh lock taken meanwhile by a
 * third process is never removed.
 */
async function steal(path: string, stale: string, isAlive: (pid: number) => boolean): Promise<void> {
  const marker = `${path}.steal`;
  if (!create(marker)) {
    const other = await readHolder(marker);
    if (other && (await isStale(marker, other, isAlive))) await unlink(marker).catch(() => undefined);
    return;
  }
  try {
    const now = await readHolder(path);
    if (now && now.raw === stale) await unlink(path).catch(() => undefined);
  } finally {
    await unlink(marker).catch(() => undefined);
  }
}

/**
 * Take an exclusive lock file (`open(path, "wx")` holding this process's
 * pid and host), waiting while a live process holds it. A lock whose process
 * is dead (killed while holding it) is taken over. Resolves with the
 * function that releases it, which also tells (`contended()`) whether
 * another writer waits. A waiter says so by touching `<path>.waiting` at
 * every try, at most 5 ms apart, and removes it once it holds the lock.
 *
 * A holder on another host (a shared file system) cannot be checked and is
 * waited for; a pid reused by an unrelated process after a crash looks
 * alive, so the timeout error names the lock file to delete by hand.
 *
 * @throws {FileLockTimeoutError} still held by a live process after `timeoutMs`.
 * @example
 * const release = await acquireFileLock("audit.jsonl.lock");
 * try { await append(); } finally { await release(); }
 */
export async function acquireFileLock(path: string, options: FileLockOptions = {}): Promise<FileLockRelease> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const isAlive = options.isAlive ?? isAliveDefault;
  const deadline = performance.now() + timeoutMs;
  let wait = 1;
  let waited = false;
  for (;;) {
    if (create(path)) {
      if (waited) unmarkWaiting(path);
      const release = async () => {
        try {
          unlinkSync(path);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
        }
      };
      return Object.assign(release, { contended: () => isFileLockWanted(path) });
    }
    markWaiting(path);
    waited = true;
    const seen = await readHolder(path);
    if (seen === undefined) continue; // released meanwhile: try again at once
    if (await isStale(path, seen, isAlive)) {
      await steal(path, seen.raw, isAlive);
      continue;
    }
    if (performance.now() >= deadline) {
      const who = seen.holder ? `pid ${seen.holder.pid} on ${seen.holder.host} (since ${seen.holder.since})` : "a process that has not written its pid";
      throw new FileLockTimeoutError(
        `${path} is held by ${who} for more than ${timeoutMs} ms; if no such process writes this log any more, delete ${path}`,
        seen.holder,
      );
    }
    await sleep(wait);
    wait = Math.min(wait * 2, MAX_POLL_MS);
  }
}
