/** A pause that Ctrl-C cuts short. */

/**
 * Wait `ms`, or less when `signal` aborts first.
 *
 * @example
 * await pause(10_000, interrupts.signal);
 */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
