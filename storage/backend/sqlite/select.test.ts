import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compareLabels, labelsFromRecord } from '../../../common/labels.js';
import { type Labels, type Matcher, MatchType, wordsOf } from '../../../common/types.js';
import { SqliteBackend } from './sqlite-backend.js';
import { decodeSelected as decode, sampleBatch } from '../../../test/helpers/chunks.js';
import { ChunkEncoding } from '../backend.js';

// Select over many series at once (batched chunk reads, cached label order) against brute force.

const dirs: string[] = [];
const open: SqliteBackend[] = [];

function openBackend(extra: { samplesPerChunk?: number } = {}): SqliteBackend {
  const d = mkdtempSync(join(tmpdir(), 'promstore-select-'));
  dirs.push(d);
  const b = SqliteBackend.open({ dataDir: d, checkpointIntervalMs: 0, ...extra });
  open.push(b);
  return b;
}

afterEach(async () => {
  for (const b of open.splice(0)) await b.close().catch(() => undefined);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const L = (r: Record<string, string>): Labels => labelsFromRecord(r);
const m = (type: Matcher['type'], name: string, value: string): Matcher => ({ type, name, value });

const batch = sampleBatch;

function wordsFor(vs: readonly number[]): number[] {
  return Array.from(wordsOf(Float64Array.from(vs)));
}

describe('select over many series', () => {
  it('returns series in label order while series keep arriving (cached label ranks stay consistent)', async () => {
    const b = openBackend();
    const sel = m(MatchType.EQ, '__name__', 'order');
    const written: Labels[] = [];
    // Rounds of new series whose labels interleave with earlier ones; selects in between rank
    // some of them, later rounds add unranked ones, and small selects take the plain path.
    for (let round = 0; round < 5; round++) {
      const series: [Labels, number[], number[]][] = [];
      for (let k = 0; k < [300, 5, 110, 3, 150][round]!; k++) {
        const l = L({ __name__: 'order', a: String((k * 7919 + round * 31) % 997), r: String(round) });
        series.push([l, [1000 + round], [k]]);
        written.push(l);
      }
      await b.append('t', batch(...series));
      const want = [...written].sort(compareLabels);
      expect((await b.select('t', [sel], 0, 1e9)).map((s) => s.labels)).toEqual(want);
      const some = await b.select('t', [sel, m(MatchType.RE, 'a', '1.*')], 0, 1e9);
      expect(some.map((s) => s.labels)).toEqual(want.filter((l) => l[3]!.startsWith('1')));
    }
  });

  it('keeps label order for repeated selects of a small share of the series (ranks rebuilt once sorts have cost as much)', async () => {
    const b = openBackend();
    const other: [Labels, number[], number[]][] = [];
    for (let k = 0; k < 1000; k++) other.push([L({ __name__: 'other', k: String(k) }), [1000], [k]]);
    await b.append('t', batch(...other));
    const small: Labels[] = [];
    const sel = m(MatchType.EQ, '__name__', 'small');
    // 40 selects of ~100 series (a tenth of all): the rebuild comes after ~17; new series between
    // selects stay unranked until then.
    for (let round = 0; round < 40; round++) {
      const add: [Labels, number[], number[]][] = [];
      for (let k = 0; k < (round === 0 ? 90 : 1); k++) {
        const l = L({ __name__: 'small', a: String((round * 7919 + k * 104729) % 1009), r: String(round) });
        add.push([l, [1000], [k]]);
        small.push(l);
      }
      await b.append('t', batch(...add));
      expect((await b.select('t', [sel], 0, 1e9)).map((s) => s.labels)).toEqual([...small].sort(compareLabels));
    }
  });

  it('selects many series with persisted, unflushed and head chunks exactly like a per-series scan', async () => {
    // 40 series with different sample spacings, so chunk boundaries differ per series; part of
    // the data is checkpointed (persisted rows), the rest stays cut-but-unflushed or in the head.
    const b = openBackend({ samplesPerChunk: 10 });
    const all: [Labels, number[], number[]][] = [];
    for (let k = 0; k < 40; k++) {
      const step = 1000 + 250 * (k % 7);
      const ts = Array.from({ length: 35 + k }, (_, i) => 5000 * (k % 3) + i * step);
      all.push([L({ __name__: 'many', k: String(k).padStart(2, '0') }), ts, ts.map((t) => t / 3 + k)]);
    }
    const half = (s: [Labels, number[], number[]], first: boolean): [Labels, number[], number[]] => {
      const cut = Math.floor(s[1].length * 0.6);
      return first ? [s[0], s[1].slice(0, cut), s[2].slice(0, cut)] : [s[0], s[1].slice(cut), s[2].slice(cut)];
    };
    await b.append('t', batch(...all.map((s) => half(s, true))));
    b.checkpoint();
    await b.append('t', batch(...all.map((s) => half(s, false))));
    const ranges: [number, number][] = [
      [-Infinity, Infinity],
      [0, 0],
      [9_999, 30_000],
      [20_500, 20_500],
      [40_000, 41_000],
      [60_000, 1e9],
      [200_000, 300_000],
    ];
    for (const [start, end] of ranges) {
      const sel = await b.select('t', [m(MatchType.EQ, '__name__', 'many')], start, end);
      const inRange = (t: number): boolean => t >= start && t <= end;
      // Series with a chunk overlapping the range come back (even with no sample inside it).
      const overlapping = all.filter(([, ts]) => ts[0]! <= end && ts[ts.length - 1]! >= start);
      const labels = sel.map((s) => s.labels);
      expect(overlapping.filter(([, ts]) => ts.some(inRange)).every(([l]) => labels.some((x) => x.join() === l.join())), `[${start}, ${end}]`).toBe(true);
      const want = overlapping.filter(([l]) => labels.some((x) => x.join() === l.join()));
      expect(labels).toEqual(want.map((s) => s[0]));
      sel.forEach((s, i) => {
        const [, ts, vs] = want[i]!;
        const got = decode(s);
        // Chunks may extend past the range, but every in-range sample is there, in order.
        expect(got.ts.filter(inRange)).toEqual(ts.filter(inRange));
        expect(got.words.filter((_, j) => inRange(got.ts[j >> 1]!))).toEqual(wordsFor(vs.filter((_, j) => inRange(ts[j]!))));
        // Only chunks overlapping the range are returned.
        for (const c of s.chunks) expect(c.minTimeMs <= end && c.maxTimeMs >= start).toBe(true);
      });
    }
  });

  it('reads a select in slices that add up to the whole select, in order, for any slice size', async () => {
    const b = openBackend({ samplesPerChunk: 10 });
    const all: [Labels, number[], number[]][] = [];
    for (let k = 0; k < 57; k++) {
      const ts = Array.from({ length: 15 + (k % 11) }, (_, i) => 1000 * i + 7 * k);
      all.push([L({ __name__: 'sliced', k: String((k * 37) % 57).padStart(2, '0') }), ts, ts.map((t) => t * 0.5 + k)]);
    }
    await b.append('t', batch(...all.map(([l, ts, vs]) => [l, ts.slice(0, 12), vs.slice(0, 12)] as [Labels, number[], number[]])));
    b.checkpoint();
    await b.append('t', batch(...all.map(([l, ts, vs]) => [l, ts.slice(12), vs.slice(12)] as [Labels, number[], number[]])));
    const sel = [m(MatchType.EQ, '__name__', 'sliced')];
    for (const [start, end] of [
      [0, 1e9],
      [5_000, 13_000],
      [20_000, 30_000],
    ] as const) {
      const whole = await b.select('t', sel, start, end);
      expect(whole.length).toBeGreaterThan(0);
      for (const size of [1, 7, 56, 57, 500]) {
        const slices = [...b.selectSlices('t', sel, start, end, undefined, size)];
        expect(slices.every((x) => x.length > 0 && x.length <= size)).toBe(true);
        const flat = slices.flat();
        expect(flat.map((x) => x.labels)).toEqual(whole.map((x) => x.labels));
        flat.forEach((x, i) => expect(decode(x)).toEqual(decode(whole[i]!)));
      }
    }
    // The newest-sample path is one slice; an unknown tenant yields none.
    expect([...b.selectSlices('t', sel, 0, 1e9, { newestOnly: true }, 5)]).toHaveLength(1);
    expect([...b.selectSlices('nobody', sel, 0, 1e9, undefined, 5)]).toEqual([]);
  });

  it('sends heads from a resume point when the range starts inside them, as the heads grow and queries move', async () => {
    const b = openBackend();
    const sel = [m(MatchType.EQ, '__name__', 'grow')];
    const truth: { ts: number[]; vs: number[] }[] = Array.from({ length: 30 }, () => ({ ts: [], vs: [] }));
    let resumed = 0;
    for (let step = 0; step < 30; step++) {
      const add: [Labels, number[], number[]][] = [];
      for (let k = 0; k < 30; k++) {
        const ts = Array.from({ length: 10 }, (_, i) => 1_000_000 + (step * 10 + i) * 15_000 + k);
        const vs = ts.map((t, i) => (k % 3 === 0 ? Math.sin(t) : (step * 10 + i) * (k + 1)));
        truth[k]!.ts.push(...ts);
        truth[k]!.vs.push(...vs);
        add.push([L({ __name__: 'grow', k: String(k).padStart(2, '0') }), ts, vs]);
      }
      await b.append('t', batch(...add));
      const last = 1_000_000 + (step * 10 + 9) * 15_000;
      // The last 5 minutes (a dashboard refresh), a start further back, then the same again.
      for (const start of [last - 300_000, last - 1_200_000, last - 300_000, last - 15_000]) {
        const got = await b.select('t', sel, start, last);
        expect(got).toHaveLength(30);
        got.forEach((x, k) => {
          if (x.chunks.some((c) => c.encoding === ChunkEncoding.XOR_RESUME)) resumed++;
          const d = decode(x);
          const inRange = (t: number): boolean => t >= start && t <= last;
          const want = truth[k]!;
          expect(d.ts.filter(inRange), `step ${step} start ${start}`).toEqual(want.ts.filter(inRange));
          expect(d.words.filter((_, j) => inRange(d.ts[j >> 1]!))).toEqual(wordsFor(want.vs.filter((_, j) => inRange(want.ts[j]!))));
        });
      }
    }
    expect(resumed).toBeGreaterThan(1000);
  });
});

