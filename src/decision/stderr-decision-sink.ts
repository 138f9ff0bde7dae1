import type { DecisionRecord } from "./decision-event.ts";
import type { DecisionSink } from "./decision-sink.ts";

/** Options of {@link createStderrDecisionSink}. */
export interface StderrDecisionSinkOptions {
  /** Where a line goes. Default `process.stderr.write` (synchronous for files and pipes on Linux). */
  write?: (line: string) => void;
}

/**
 * The default sink: one JSON line per event on the process's standard error,
 * which LangGraph Platform and every container runtime collect. Each line is
 * one `write` of at most 4 KiB (the decision log caps each record:
 * `line-cap.ts`), so lines of concurrent writers never interleave on a pipe.
 *
 * @example
 * createDecisionLog({ sink: createStderrDecisionSink() });
 */
export function createStderrDecisionSink(options: StderrDecisionSinkOptions = {}): DecisionSink {
  const write = options.write ?? ((line: string) => void process.stderr.write(line));
  return {
    write(record: DecisionRecord) {
      write(`${JSON.stringify(record)}\n`);
    },
  };
}
