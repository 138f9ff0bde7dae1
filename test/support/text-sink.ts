/** Collecting streams, for commands run in-process by tests. */
import { Writable } from "node:stream";

/**
 * A stream that keeps what is written to it, for a command's stdout and
 * stderr run in-process (`runCheckIsolationCli`, `runAuditCli`, …).
 *
 * @example
 * const out = textSink();
 * await runCheckIsolationCli(args, env, { stdout: out.stream, stderr: textSink().stream });
 * out.text(); // the table
 */
export function textSink(): { stream: Writable; text(): string } {
  let text = "";
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}
