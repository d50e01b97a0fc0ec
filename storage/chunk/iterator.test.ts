import { describe, expect, it } from 'vitest';
import { isStaleNaNAt, setStaleNaNAt, wordsOf } from '../../common/types.js';
import { SampleIterator } from './iterator.js';
import { XorEncoder } from './xor.js';

function chunk(ts: readonly number[], vs: Float64Array): Uint8Array {
  const enc = new XorEncoder();
  ts.forEach((t, i) => enc.append(t, wordsOf(vs), i));
  return enc.bytes();
}

const vs = Float64Array.from([1, 2, 3, 4, 5]);
setStaleNaNAt(vs, 3);
const data = chunk([10, 20, 30, 40, 50], vs);

describe('SampleIterator', () => {
  it.each([
    { seekTo: 0, t: 10 },
    { seekTo: 10, t: 10 },
    { seekTo: 11, t: 20 },
    { seekTo: 50, t: 50 },
    { seekTo: 51, t: null },
  ])('seek($seekTo) lands on $t', ({ seekTo, t }) => {
    const it1 = new SampleIterator();
    it1.reset(data);
    expect(it1.seek(seekTo)).toBe(t !== null);
    if (t !== null) expect(it1.atT()).toBe(t);
  });

  it('iterates values and copies stale markers bit-exact; seek never goes backwards', () => {
    const it1 = new SampleIterator();
    it1.reset(data);
    const out = new Float64Array(5);
    const w = wordsOf(out);
    let i = 0;
    while (it1.next()) it1.copyValueTo(w, i++);
    expect(i).toBe(5);
    expect(isStaleNaNAt(w, 3)).toBe(true);
    expect(out[4]).toBe(5);
    it1.reset(data);
    expect(it1.seek(30)).toBe(true);
    expect(it1.atV()).toBe(3);
    expect(it1.seek(20)).toBe(true);
    expect(it1.atT()).toBe(30);
  });
});
