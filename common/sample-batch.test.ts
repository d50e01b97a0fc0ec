import { describe, expect, it } from 'vitest';
import { subBatch } from './sample-batch.js';
import { isStaleNaNAt, setStaleNaNAt, wordsOf, type SampleBatch } from './types.js';

describe('subBatch', () => {
  const values = new Float64Array([1, 2, 3, 4, 5, 6]);
  setStaleNaNAt(values, 5);
  const batch: SampleBatch = {
    series: [['__name__', 'a'], ['__name__', 'b'], ['__name__', 'c']],
    sampleStart: Uint32Array.from([0, 1, 3, 6]),
    tsMs: Float64Array.from([10, 20, 30, 40, 50, 60]),
    values,
  };

  it('picks the listed series in order, with their samples', () => {
    const out = subBatch(batch, [2, 0]);
    expect(out.series).toEqual([['__name__', 'c'], ['__name__', 'a']]);
    expect(Array.from(out.sampleStart)).toEqual([0, 3, 4]);
    expect(Array.from(out.tsMs)).toEqual([40, 50, 60, 10]);
    expect(isStaleNaNAt(wordsOf(out.values), 2)).toBe(true);
    expect(out.values[3]).toBe(1);
  });

  it('gives an empty batch for no series', () => {
    const out = subBatch(batch, []);
    expect([out.series.length, out.tsMs.length, Array.from(out.sampleStart)]).toEqual([0, 0, [0]]);
  });
});
