/** Where a command writes: the process's own streams unless a test passes others. */

/** The streams of a command (a test passes collecting streams). */
export interface CommandIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** Signals to listen to (tests pass an EventEmitter). Default: `process`. */
  signals?: Pick<NodeJS.Process, "on" | "off">;
}
