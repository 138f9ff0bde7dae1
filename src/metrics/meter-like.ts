/**
 * The part of OpenTelemetry's `Meter` (`@opentelemetry/api`) this package
 * uses, written out so the package's types never name `@opentelemetry/api`
 * (an optional peer dependency): a real `Meter` fits it.
 */

/** Attribute values of a measurement. */
export type MetricAttributesLike = Record<string, string | number | boolean>;

/** Options of an instrument. */
export interface InstrumentOptionsLike {
  description?: string;
  unit?: string;
  /** Hints to the SDK; `explicitBucketBoundaries` sets a histogram's buckets. */
  advice?: { explicitBucketBoundaries?: number[] };
}

/** A synchronous histogram. */
export interface HistogramLike {
  record(value: number, attributes?: MetricAttributesLike): void;
}

/** An asynchronous instrument, observed in a batch callback. */
export type ObservableLike = object;

/** What a batch callback reports into. */
export interface BatchObservableResultLike {
  observe(observable: ObservableLike, value: number, attributes?: MetricAttributesLike): void;
}

/** The subset of `Meter` this package calls. */
export interface MeterLike {
  createHistogram(name: string, options?: InstrumentOptionsLike): HistogramLike;
  createObservableCounter(name: string, options?: InstrumentOptionsLike): ObservableLike;
  createObservableUpDownCounter(name: string, options?: InstrumentOptionsLike): ObservableLike;
  createObservableGauge(name: string, options?: InstrumentOptionsLike): ObservableLike;
  addBatchObservableCallback(callback: (result: BatchObservableResultLike) => void, observables: ObservableLike[]): void;
}
