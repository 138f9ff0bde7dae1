/**
 * The real OpenTelemetry metrics SDK for tests: a `MeterProvider` with an
 * in-memory exporter behind a periodic reader (flushed on demand, cumulative
 * temporality), and a reader of the Prometheus text format for the servers
 * that export through `@opentelemetry/exporter-prometheus`
 * (`examples/otel/metrics-preload.mjs`).
 */
import type { Meter } from "@opentelemetry/api";
import {
  AggregationTemporality, DataPointType, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader,
  type Histogram,
} from "@opentelemetry/sdk-metrics";

/** One data point: its attributes and its value (a number, or a histogram's count and sum). */
export interface CollectedPoint {
  attributes: Record<string, unknown>;
  value: number;
  /** Histograms only. */
  histogram?: { count: number; sum: number; buckets: { boundaries: number[]; counts: number[] } };
}

/** One metric stream as the SDK exported it. */
export interface CollectedMetric {
  name: string;
  unit: string;
  description: string;
  type: "sum" | "gauge" | "histogram" | "other";
  monotonic?: boolean;
  points: CollectedPoint[];
}

/** A provider and its in-memory exporter. */
export interface InMemoryMetrics {
  provider: MeterProvider;
  meter: Meter;
  /** Export now and give what the SDK holds (cumulative). */
  collect(): Promise<CollectedMetric[]>;
  shutdown(): Promise<void>;
}

/**
 * A fresh `MeterProvider` (not registered globally) with an in-memory exporter.
 *
 * @example
 * const otel = startInMemoryMetrics();
 * const metrics = createAuthMetrics({ meter: otel.meter });
 */
export function startInMemoryMetrics(): InMemoryMetrics {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  // The interval never fires within a test: every export is a forceFlush.
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ readers: [reader] });
  return {
    provider,
    meter: provider.getMeter("langgraph-tenant-auth"),
    async collect() {
      exporter.reset();
      await reader.forceFlush();
      const last = exporter.getMetrics().at(-1);
      return (last?.scopeMetrics ?? []).flatMap((scope) =>
        scope.metrics.map((metric): CollectedMetric => {
          const type = metric.dataPointType === DataPointType.SUM ? "sum"
            : metric.dataPointType === DataPointType.GAUGE ? "gauge"
              : metric.dataPointType === DataPointType.HISTOGRAM ? "histogram" : "other";
          return {
            name: metric.descriptor.name,
            unit: metric.descriptor.unit,
            description: metric.descriptor.description,
            type,
            ...(metric.dataPointType === DataPointType.SUM ? { monotonic: metric.isMonotonic } : {}),
            points: (metric.dataPoints as { attributes: Record<string, unknown>; value: unknown }[]).map((point) => {
              if (type !== "histogram") return { attributes: point.attributes, value: point.value as number };
              const h = point.value as Histogram;
              return { attributes: point.attributes, value: h.count, histogram: { count: h.count, sum: h.sum ?? 0, buckets: h.buckets } };
            }),
          };
        }),
      );
    },
    shutdown: () => provider.shutdown(),
  };
}

/** The metric of that name, or `undefined`. */
export function metricNamed(metrics: CollectedMetric[], name: string): CollectedMetric | undefined {
  return metrics.find((metric) => metric.name === name);
}

/** The sum of the values of the points whose attributes include `attributes` (0 when none). */
export function valueOf(metrics: CollectedMetric[], name: string, attributes: Record<string, unknown> = {}): number {
  const metric = metricNamed(metrics, name);
  if (metric === undefined) return 0;
  return metric.points
    .filter((point) => Object.entries(attributes).every(([key, value]) => value === undefined ? !(key in point.attributes) : point.attributes[key] === value))
    .reduce((sum, point) => sum + point.value, 0);
}

/** Everything a metric stream names: metric names, units, descriptions, attribute keys and values. */
export function metricText(metrics: CollectedMetric[]): string {
  return metrics
    .flatMap((metric) => [
      metric.name,
      metric.unit,
      metric.description,
      ...metric.points.flatMap((point) => Object.entries(point.attributes).flatMap(([key, value]) => [key, String(value)])),
    ])
    .join("\n");
}

/** One sample of the Prometheus text format. */
export interface PrometheusSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * The samples of a Prometheus text exposition (comment lines skipped).
 *
 * @example
 * parsePrometheus('a_total{x="1"} 3\n'); // [{ name: "a_total", labels: { x: "1" }, value: 3 }]
 */
export function parsePrometheus(text: string): PrometheusSample[] {
  const samples: PrometheusSample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample: ${line}`);
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[label[1]!] = label[2]!.replace(/\\(.)/g, (_all, c: string) => (c === "n" ? "\n" : c));
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of the samples of that name whose labels include `labels`. */
export function sampleValue(samples: PrometheusSample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value))
    .reduce((sum, s) => sum + s.value, 0);
}
