import { describe, expect, it } from 'vitest';
import { setStaleNaNAt, wordsOf, isStaleNaNAt, type SampleBatch } from '../common/types.js';
import { Rejections, validateBatch, type ValidationLimits } from './validate.js';

type RawSeries = readonly [labels: string[], nSamples: number];

/** Series with nSamples samples each; sample k of the whole batch has ts = k and value = k + 0.5. */
function batchOf(series: readonly RawSeries[]): SampleBatch {
  const starts = [0];
  let n = 0;
  for (const [, k] of series) starts.push((n += k));
  const tsMs = Float64Array.from({ length: n }, (_, k) => k);
  const values = Float64Array.from({ length: n }, (_, k) => k + 0.5);
  return { series: series.map(([l]) => l), sampleStart: new Uint32Array(starts), tsMs, values };
}

const OK = ['__name__', 'up', 'job', 'api'];

describe('validateBatch: per-series checks', () => {
  it.each([
    { name: 'valid', labels: OK, code: null },
    { name: 'no __name__', labels: ['job', 'api'], code: 'missing-metric-name' },
    { name: 'empty __name__ counts as missing', labels: ['__name__', '', 'job', 'a'], code: 'missing-metric-name' },
    { name: 'metric name with dash', labels: ['__name__', 'a-b'], code: 'invalid-metric-name' },
    { name: 'metric name with colon is fine', labels: ['__name__', 'job:rate5m'], code: null },
    { name: 'label name starting with digit', labels: ['__name__', 'm', '0a', 'x'], code: 'invalid-label-name' },
    { name: 'label name with colon', labels: ['__name__', 'm', 'a:b', 'x'], code: 'invalid-label-name' },
    { name: 'empty label name', labels: ['__name__', 'm', '', 'x'], code: 'invalid-label-name' },
    { name: 'duplicate names', labels: ['__name__', 'm', 'a', '1', 'a', '2'], code: 'duplicate-label-names' },
    { name: 'duplicate __name__', labels: ['__name__', 'm', '__name__', 'n'], code: 'duplicate-label-names' },
    { name: 'duplicate with one empty value is no duplicate', labels: ['__name__', 'm', 'a', '', 'a', '2'], code: null },
    { name: 'missing name wins over invalid label', labels: ['0a', 'x'], code: 'missing-metric-name' },
    { name: 'invalid metric name wins over duplicate', labels: ['__name__', '1', 'a', '1', 'a', '1'], code: 'invalid-metric-name' },
    { name: 'invalid label wins over duplicate', labels: ['__name__', 'm', 'a', '1', 'a', '1', 'b-c', '1'], code: 'invalid-label-name' },
    { name: 'unicode value is fine', labels: ['__name__', 'm', 'a', 'ü€😀'], code: null },
  ])('$name → $code', ({ labels, code }) => {
    const rej = new Rejections();
    const out = validateBatch(batchOf([[labels, 3]]), rej);
    if (code === null) {
      expect(out.batch.series).toHaveLength(1);
      expect(rej.list()).toEqual([]);
    } else {
      expect(out.batch.series).toHaveLength(0);
      expect(out.seriesRejected).toBe(1);
      const [r] = rej.list();
      expect([r?.code, r?.count]).toEqual([code, 3]);
      expect(r?.example).toMatch(new RegExp(`\\[err-${code}\\]$`));
    }
  });

  it.each([
    { name: 'label count', limits: { maxLabelNamesPerSeries: 1 }, code: 'max-label-names' },
    { name: 'label count at limit', limits: { maxLabelNamesPerSeries: 2 }, code: null },
    { name: 'name length', limits: { maxLabelNameLength: 7 }, code: 'label-name-too-long' },
    { name: 'name length at limit', limits: { maxLabelNameLength: 8 }, code: null },
    { name: 'value length counts bytes', limits: { maxLabelValueLength: 4 }, code: 'label-value-too-long', value: 'üü€' },
    { name: 'value length at limit', limits: { maxLabelValueLength: 3 }, code: null, value: 'abc' },
    { name: 'metric name is a value too', limits: { maxLabelValueLength: 3 }, code: 'label-value-too-long', metric: 'long_name' },
  ])('limit: $name → $code', ({ limits, code, value, metric }) => {
    const full: ValidationLimits = { maxLabelNamesPerSeries: 0, maxLabelNameLength: 0, maxLabelValueLength: 0, ...limits };
    const rej = new Rejections();
    const out = validateBatch(batchOf([[['__name__', metric ?? 'm', 'instance', value ?? 'x'], 1]]), rej, full);
    expect(rej.list().map((r) => r.code)).toEqual(code === null ? [] : [code]);
    expect(out.batch.series).toHaveLength(code === null ? 1 : 0);
    if (code !== null) expect(rej.list()[0]?.example).toMatch(/\(limits\.\w+\)/);
  });

  it('cuts echoed user text to 200 characters', () => {
    const rej = new Rejections();
    validateBatch(batchOf([[['__name__', `1${'x'.repeat(1000)}`], 1]]), rej);
    expect(rej.list()[0]?.example.length).toBeLessThan(300);
  });
});

describe('validateBatch: normalisation and compaction', () => {
  it('sorts labels, drops empty values, and keeps sorted input as the same array', () => {
    const sorted = ['__name__', 'm', 'a', 'x'];
    const out = validateBatch(batchOf([[['z', '1', '__name__', 'm', 'e', '', 'a', '2'], 1], [sorted, 1]]), new Rejections());
    expect(out.batch.series).toEqual([['__name__', 'm', 'a', '2', 'z', '1'], sorted]);
    expect(out.batch.series[1]).toBe(sorted);
  });

  it('squeezes rejected series out without disturbing the kept samples (bit-exact)', () => {
    const input = batchOf([
      [['bad', '1'], 2],
      [['__name__', 'a'], 3],
      [['__name__', '-'], 1],
      [['__name__', 'b'], 0],
      [['__name__', 'c'], 2],
    ]);
    setStaleNaNAt(input.values, 3); // second sample of series "a"
    const rej = new Rejections();
    const out = validateBatch(input, rej);
    expect(out.batch.series).toEqual([['__name__', 'a'], ['__name__', 'c']]);
    expect(Array.from(out.batch.sampleStart)).toEqual([0, 3, 5]);
    expect(Array.from(out.batch.tsMs)).toEqual([2, 3, 4, 6, 7]);
    const words = wordsOf(out.batch.values);
    expect(isStaleNaNAt(words, 1)).toBe(true);
    expect([out.batch.values[0], out.batch.values[2], out.batch.values[3], out.batch.values[4]]).toEqual([2.5, 4.5, 6.5, 7.5]);
    expect(rej.list().map((r) => [r.code, r.count])).toEqual([
      ['missing-metric-name', 2],
      ['invalid-metric-name', 1],
    ]);
    expect(rej.total()).toBe(3);
    expect(out.seriesRejected).toBe(2);
  });

  it('counts repeated codes into one entry with the first example', () => {
    const rej = new Rejections();
    validateBatch(batchOf([[['job', 'first'], 1], [['job', 'second'], 4]]), rej);
    const list = rej.list();
    expect(list).toHaveLength(1);
    expect(list[0]?.count).toBe(5);
    expect(list[0]?.example).toContain('first');
  });
});
