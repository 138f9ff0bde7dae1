/**
 * `npm run test:stress [-- vitest args]`: the whole suite (or the files
 * named) while CPU hogs keep every core busy, as on a loaded CI runner.
 *
 * One hog per core (`os.availableParallelism()`, or `STRESS_HOGS`), each a
 * child process spinning in a loop. They are stopped when the suite ends,
 * on Ctrl-C or SIGTERM, and by themselves when this script dies without
 * stopping them (each hog checks that its parent is alive every few ms).
 * Exits with the suite's own status.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { availableParallelism } from "node:os";
import { performance } from "node:perf_hooks";

const HOG = `
  const parent = Number(process.argv[1]);
  let spins = 0;
  for (;;) {
    if (++spins % 2000000 === 0) {
      try { process.kill(parent, 0); } catch { process.exit(0); }
    }
  }`;

const count = Number(process.env.STRESS_HOGS ?? availableParallelism());
if (!Number.isInteger(count) || count < 1) throw new TypeError("STRESS_HOGS must be a whole number ≥ 1");

const hogs: ChildProcess[] = [];
function stopHogs(): void {
  for (const hog of hogs) if (hog.exitCode === null && hog.signalCode === null) hog.kill("SIGKILL");
}
process.on("exit", stopHogs);

for (let i = 0; i < count; i++) hogs.push(spawn(process.execPath, ["-e", HOG, String(process.pid)], { stdio: "ignore" }));
console.log(`test:stress: ${count} CPU hog(s) spinning (pids ${hogs.map((h) => h.pid).join(", ")})`);

const started = performance.now();
const suite = spawn("npx", ["vitest", "run", ...process.argv.slice(2)], { stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    stopHogs();
    suite.kill(signal);
  });
}
suite.on("exit", (code, signal) => {
  stopHogs();
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  console.log(`test:stress: suite ${code === 0 ? "passed" : `failed (${code ?? signal})`} in ${seconds} s beside ${count} CPU hog(s)`);
  process.exitCode = code ?? 1;
});
