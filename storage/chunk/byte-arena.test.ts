import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../load/generator/workload.js';
import { ByteArena, MAX_REGION_BYTES } from './byte-arena.js';

interface Region {
  page: number;
  offset: number;
  cap: number;
}

function take(a: ByteArena, bytes: number): Region {
  const cap = a.alloc(bytes);
  return { page: a.allocPage, offset: a.allocOffset, cap };
}

describe('ByteArena', () => {
  it('hands out disjoint regions of at least the asked size, within one page each', () => {
    const a = new ByteArena();
    const rnd = mulberry32(7);
    const live: Region[] = [];
    for (let i = 0; i < 5000; i++) {
      if (live.length > 0 && rnd() < 0.4) {
        const r = live.splice(Math.floor(rnd() * live.length), 1)[0] as Region;
        a.free(r.page, r.offset, r.cap);
        continue;
      }
      const bytes = 1 + Math.floor(rnd() * (rnd() < 0.9 ? 600 : MAX_REGION_BYTES));
      const r = take(a, bytes);
      expect(r.cap).toBeGreaterThanOrEqual(bytes);
      expect(r.cap).toBeLessThan(2 * bytes + 16);
      expect(r.offset + r.cap).toBeLessThanOrEqual((a.pages[r.page] as Uint8Array).length);
      live.push(r);
    }
    // No two live regions overlap.
    const sorted = [...live].sort((x, y) => x.page - y.page || x.offset - y.offset);
    for (let i = 1; i < sorted.length; i++) {
      const p = sorted[i - 1] as Region;
      const q = sorted[i] as Region;
      if (p.page === q.page) expect(p.offset + p.cap).toBeLessThanOrEqual(q.offset);
    }
    expect(a.bytesInUse).toBe(live.reduce((s, r) => s + r.cap, 0));
    for (const r of live) a.free(r.page, r.offset, r.cap);
    expect(a.bytesInUse).toBe(0);
  });

  it('reuses a freed region of the same size class before new page space', () => {
    const a = new ByteArena();
    const r1 = take(a, 100);
    take(a, 100);
    a.free(r1.page, r1.offset, r1.cap);
    expect(take(a, 97)).toEqual(r1);
    expect(a.bytesReserved).toBe((a.pages[0] as Uint8Array).length);
  });

  it('refuses sizes it does not serve', () => {
    const a = new ByteArena();
    expect(() => a.alloc(0)).toThrow(RangeError);
    expect(() => a.alloc(MAX_REGION_BYTES + 1)).toThrow(RangeError);
    expect(() => a.alloc(Number.NaN)).toThrow(RangeError);
  });
});
