import { describe, expect, it } from 'vitest';
import type { Labels, SampleBatch } from '../../common/types.js';
import { SeriesRefCache } from './series-refs.js';

function batchOf(names: readonly string[]): SampleBatch {
  const series: Labels[] = names.map((n) => ['__name__', n]);
  const sampleStart = new Uint32Array(names.length + 1).map((_, i) => i);
  return { series, sampleStart, tsMs: new Float64Array(names.length), values: new Float64Array(names.length) };
}

describe('SeriesRefCache', () => {
  it.each([
    // [description, steps applied in order, expected refs planned for a,b,c afterwards, expected instance]
    ['learns refs of one instance', [['i1', [1, 2, 3], []]], [1, 2, 3], 'i1'],
    ['0 means no ref', [['i1', [1, 0, 3], []]], [1, 0, 3], 'i1'],
    ['a new instance forgets every old ref', [['i1', [1, 2, 3], []], ['i2', [0, 9, 0], []]], [0, 9, 0], 'i2'],
    ['unknown refs are forgotten', [['i1', [1, 2, 3], []], ['i1', [0, 0, 0], [1]]], [1, 0, 3], 'i1'],
    ['a changed ref replaces the old one', [['i1', [1, 2, 3], []], ['i1', [1, 7, 3], []]], [1, 7, 3], 'i1'],
    ['an instance of "" (backend without refs) keeps nothing', [['i1', [1, 2, 3], []], ['', [], []]], [0, 0, 0], ''],
  ] as [string, [string, number[], number[]][], number[], string][])('%s', (_d, steps, want, instance) => {
    const c = new SeriesRefCache();
    const b = batchOf(['a', 'b', 'c']);
    for (const [inst, refs, unknown] of steps) {
      const p = c.plan('t', b);
      c.learn('t', p.keys, inst, refs, unknown, p.instance === inst ? p.refs : undefined);
    }
    const p = c.plan('t', b);
    expect([p.refs, p.instance]).toEqual([want, instance]);
    // Another tenant never sees them.
    expect(c.plan('u', b).refs).toEqual([0, 0, 0]);
  });

  it('uses caller keys when complete and stays within its bound', () => {
    const c = new SeriesRefCache(2);
    const b = batchOf(['a', 'b', 'c']);
    const keys = ['k-a', 'k-b', 'k-c'];
    c.learn('t', keys, 'i1', [1, 2, 3], []);
    expect(c.size('t')).toBeLessThanOrEqual(2);
    const p = c.plan('t', b, keys);
    expect(p.keys).toEqual(keys);
    expect(p.refs.filter((r) => r !== 0).length).toBe(c.size('t'));
    // Incomplete keys are ignored (built from labels instead).
    expect(c.plan('t', b, ['x']).keys).toEqual(['__name__\xffa', '__name__\xffb', '__name__\xffc']);
  });
});
