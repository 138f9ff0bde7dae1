/**
 * Ctrl-C for the commands: the first SIGINT or SIGTERM asks the work to stop
 * (through an `AbortSignal`) and lets the command finish what must be
 * finished; a second one exits at once.
 */

/**
 * The exit code of a command stopped by each signal (128 + its number).
 *
 * @example
 * SIGNAL_EXIT.SIGINT; // 130
 */
export const SIGNAL_EXIT: Readonly<Record<string, number>> = Object.freeze({ SIGINT: 130, SIGTERM: 143 });

/** What the command says on the first and on a second signal. */
export interface InterruptWords {
  /** After `<SIGNAL>: `, e.g. "stopping the probes and deleting what was created". */
  first: string;
  /** After `<SIGNAL> again: `, e.g. "exiting without finishing the cleanup". */
  again: string;
}

/** Listening for the signals until {@link Interrupts.stop}. */
export interface Interrupts {
  /** Aborted on the first signal (its reason is an `Error` named after the signal). */
  signal: AbortSignal;
  /** The first signal received, if any. */
  signalled(): string | undefined;
  /** Stop listening. */
  stop(): void;
}

/**
 * Listen for SIGINT and SIGTERM.
 *
 * @param signals where to listen (tests pass an EventEmitter). Default `process`.
 * @example
 * const interrupts = listenForInterrupts(process, say, { first: "stopping", again: "exiting now" });
 * try { await work(interrupts.signal); } finally { interrupts.stop(); }
 * if (interrupts.signalled()) return SIGNAL_EXIT[interrupts.signalled()!];
 */
export function listenForInterrupts(signals: Pick<NodeJS.Process, "on" | "off">, say: (text: string) => void, words: InterruptWords): Interrupts {
  const controller = new AbortController();
  let signalled: string | undefined;
  const onSignal = (name: string) => () => {
    if (signalled) {
      say(`\n${name} again: ${words.again}\n`);
      process.exit(SIGNAL_EXIT[name] ?? 1);
    }
    signalled = name;
    say(`\n${name}: ${words.first} (press again to exit at once)\n`);
    controller.abort(new Error(name));
  };
  const handlers = Object.fromEntries(Object.keys(SIGNAL_EXIT).map((name) => [name, onSignal(name)]));
  for (const [name, handler] of Object.entries(handlers)) signals.on(name, handler);
  return {
    signal: controller.signal,
    signalled: () => signalled,
    stop() {
      for (const [name, handler] of Object.entries(handlers)) signals.off(name, handler);
    },
  };
}
