/**
 * Wait for a condition instead of sleeping for a guessed time: `check` runs
 * at once and then every `intervalMs` until it returns true. The deadline
 * only decides how long a failing test takes to say so; a passing test
 * waits exactly as long as the condition needs, on a busy machine too.
 *
 * `check` may assert on what it sees in between (a 503 while a provider is
 * down, a 200 while a token is valid); such an assertion fails the wait at once.
 *
 * @example
 * await waitFor(async () => (await fetch(url)).status === 200, "the server to answer");
 */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const { timeoutMs = 45_000, intervalMs = 50 } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
