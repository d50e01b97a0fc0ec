import snappy from 'snappyjs';
import { prometheusWriteRequestType } from '../../proto/index.js';

/** One series for a rich write: samples plus optional exemplars. */
export interface RichSeries {
  readonly labels: Record<string, string>;
  readonly samples?: ReadonlyArray<readonly [number, number]>;
  readonly exemplars?: ReadonlyArray<{ readonly labels: Record<string, string>; readonly value: number; readonly tsMs: number }>;
}

/** Metric metadata as remote write sends it (type = MetricMetadata.MetricType number). */
export interface RichMetadata {
  readonly metric: string;
  readonly type: number;
  readonly help: string;
  readonly unit?: string;
}

const pairs = (r: Record<string, string>) => Object.entries(r).map(([name, value]) => ({ name, value }));

/**
 * snappy(protobuf(prometheus.WriteRequest)) with samples, exemplars and metadata, encoded by
 * protobufjs reflection (the project's fast encoder writes samples only).
 */
export function encodeRichBody(series: readonly RichSeries[], metadata: readonly RichMetadata[] = []): Uint8Array {
  const msg = {
    timeseries: series.map((s) => ({
      labels: pairs(s.labels),
      samples: (s.samples ?? []).map(([timestamp, value]) => ({ timestamp, value })),
      exemplars: (s.exemplars ?? []).map((e) => ({ labels: pairs(e.labels), value: e.value, timestamp: e.tsMs })),
    })),
    metadata: metadata.map((m) => ({ type: m.type, metricFamilyName: m.metric, help: m.help, unit: m.unit ?? '' })),
  };
  return snappy.compress(prometheusWriteRequestType.encode(prometheusWriteRequestType.fromObject(msg)).finish());
}
