/**
 * Register an OpenTelemetry metrics SDK with a Prometheus endpoint before the
 * LangGraph server loads anything, so langgraph-tenant-auth's metrics (and any
 * other library's) are recorded. Plain JavaScript, so Node can preload it
 * without a TypeScript loader:
 *
 *   npm install @opentelemetry/api @opentelemetry/sdk-metrics @opentelemetry/exporter-prometheus
 *   NODE_OPTIONS="--import ./examples/otel/metrics-preload.mjs" npx @langchain/langgraph-cli dev
 *   curl http://127.0.0.1:9464/metrics
 *
 * `langgraph dev` runs three Node processes, and NODE_OPTIONS reaches all
 * three: the CLI, tsx's file watcher, and the server itself (where the `Auth`
 * runs). Only the server should listen, so the two launchers are skipped.
 * The same file works for your own server (`node --import … server.js`) and
 * for a worker started by `node` or `tsx`.
 *
 * OTEL_EXPORTER_PROMETHEUS_PORT (default 9464; 0 picks a free port) and
 * OTEL_EXPORTER_PROMETHEUS_HOST (default 127.0.0.1; 0.0.0.0 in a container that
 * Prometheus scrapes from outside) say where it listens. The address is
 * printed on standard error.
 *
 * Tested by test/integration/metrics.test.ts (langgraph dev) and
 * test/platform/metrics.test.ts (the platform worker stand-in).
 */
import { createServer } from "node:http";
import { metrics } from "@opentelemetry/api";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { MeterProvider } from "@opentelemetry/sdk-metrics";

/** Processes that only start the real one: the langgraph CLI and tsx's launcher (or watcher). */
const LAUNCHER = /[\\/](?:@langchain[\\/]langgraph-cli[\\/]dist[\\/]cli[\\/]cli\.mjs|\.bin[\\/]langgraph(?:js)?|tsx[\\/]dist[\\/]cli\.m?js|\.bin[\\/]tsx)$/;

if (!LAUNCHER.test(process.argv[1] ?? "")) {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [exporter] }));
  const port = Number(process.env.OTEL_EXPORTER_PROMETHEUS_PORT ?? 9464);
  const host = process.env.OTEL_EXPORTER_PROMETHEUS_HOST || "127.0.0.1";
  const server = createServer((req, res) => {
    if (req.url?.split("?")[0] === "/metrics") exporter.getMetricsRequestHandler(req, res);
    else res.writeHead(404).end();
  });
  // Never keeps the process alive on its own.
  server.unref();
  server.on("error", (error) => process.stderr.write(`metrics: cannot listen on ${host}:${port} (${error.code ?? error.message})\n`));
  server.listen(port, host, () => {
    const { port: bound } = server.address();
    process.stderr.write(`metrics: http://${host}:${bound}/metrics (pid ${process.pid})\n`);
  });
}
