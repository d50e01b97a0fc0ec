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
      c.learn('t', c.plan('t', b), inst, refs, unknown);
    }
    const p = c.plan('t', b);
    expect([p.refs, p.instance]).toEqual([want, instance]);
    // Another tenant never sees them.
    expect(c.plan('u', b).refs).toEqual([0, 0, 0]);
  });

  it('stays within its bound', () => {
    const c = new SeriesRefCache(2);
    const b = batchOf(['a', 'b', 'c']);
    c.learn('t', c.plan('t', b), 'i1', [1, 2, 3], []);
    expect(c.size('t')).toBeLessThanOrEqual(2);
    const p = c.plan('t', b);
    expect(p.slots.map((s) => s.key)).toEqual(['__name__\xffa', '__name__\xffb', '__name__\xffc']);
    expect(p.refs.filter((r) => r !== 0).length).toBe(c.size('t'));
  });

  it('keeps refs in caller slots, valid only for the instance that issued them', () => {
    const c = new SeriesRefCache();
    const b = batchOf(['a', 'b']);
    const slots = [
      { key: 'k-a', ref: 0, refInstance: '' },
      { key: 'k-b', ref: 0, refInstance: '' },
    ];
    let p = c.plan('t', b, slots);
    expect(p.refs).toEqual([0, 0]);
    c.learn('t', p, 'i1', [5, 6], []);
    expect(slots.map((s) => [s.ref, s.refInstance])).toEqual([[5, 'i1'], [6, 'i1']]);
    // Caller slots do not fill the map.
    expect(c.size('t')).toBe(0);
    expect(c.plan('t', b, slots).refs).toEqual([5, 6]);
    // Storage did not know ref 6: that slot is cleared and its series goes by labels next time.
    p = c.plan('t', b, slots);
    c.learn('t', p, 'i1', [5, 0], [1]);
    expect(c.plan('t', b, slots).refs).toEqual([5, 0]);
    // A new storage instance: old refs are stale, whatever the slots still hold.
    c.learn('t', c.plan('t', batchOf([])), 'i2', [], []);
    expect(c.plan('t', b, slots).refs).toEqual([0, 0]);
    // Slots of the wrong length are ignored (map path).
    expect(c.plan('t', b, slots.slice(0, 1)).callerSlots).toBe(false);
  });
});
