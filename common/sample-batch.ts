import type { Labels, SampleBatch } from './types.js';

/**
 * Series `idx` of `batch` (in that order) as a new batch. Copies the samples; values are copied
 * Float64Array to Float64Array, so NaN payloads (the staleness marker) stay bit-exact.
 */
export function subBatch(batch: SampleBatch, idx: readonly number[]): SampleBatch {
  let total = 0;
  for (const s of idx) total += (batch.sampleStart[s + 1] as number) - (batch.sampleStart[s] as number);
  const series = new Array<Labels>(idx.length);
  const sampleStart = new Uint32Array(idx.length + 1);
  const tsMs = new Float64Array(total);
  const values = new Float64Array(total);
  let at = 0;
  for (let k = 0; k < idx.length; k++) {
    const s = idx[k] as number;
    const from = batch.sampleStart[s] as number;
    const to = batch.sampleStart[s + 1] as number;
    series[k] = batch.series[s] as Labels;
    tsMs.set(batch.tsMs.subarray(from, to), at);
    values.set(batch.values.subarray(from, to), at);
    at += to - from;
    sampleStart[k + 1] = at;
  }
  return { series, sampleStart, tsMs, values };
}
