import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, type TenantLimits } from '../common/limits.js';
import type { Labels, SampleBatch, TenantId, WriteResult } from '../common/types.js';
import { decodeWriteRequest, labelStringHash } from '../proto/write-request-decoder.js';
import { encodeWriteRequest } from '../proto/write-request-encoder.js';
import type { SeriesRefSlot, StorageClient } from '../storage/client/index.js';
import { Distributor, type WriteOutcome } from './distributor.js';
import { TenantKnownSeries, type KnownSeries } from './series-cache.js';
import { seriesIdentityKey } from './series-key.js';

interface Recorded {
  tenant: TenantId;
  series: Labels[];
  starts: number[];
  ts: number[];
  bits: number[];
  keys: string[] | undefined;
}

/** A storage double that records copies of every written batch. */
function recorder(): { storage: StorageClient; writes: Recorded[] } {
  const writes: Recorded[] = [];
  const storage = {
    write: async (tenant: TenantId, b: SampleBatch, _s?: AbortSignal, _e?: unknown, slots?: readonly SeriesRefSlot[]): Promise<WriteResult> => {
      writes.push({
        tenant,
        series: b.series.map((l) => [...l]),
        starts: [...b.sampleStart],
        ts: [...b.tsMs],
        bits: [...new Uint32Array(b.values.buffer, b.values.byteOffset, b.values.length * 2)],
        keys: slots === undefined ? undefined : slots.map((x) => x.key),
      });
      return { samplesWritten: b.tsMs.length, rejected: [] };
    },
  } as unknown as StorageClient;
  return { storage, writes };
}

function body(series: string[][], tsBase: number): Uint8Array {
  const starts = [0];
  for (let i = 0; i < series.length; i++) starts.push(i + 1);
  const values = new Float64Array(series.length);
  new Uint32Array(values.buffer).set(series.flatMap((_, i) => [i, 0x7ff00000 + i]));
  return encodeWriteRequest({ series, sampleStart: new Uint32Array(starts), tsMs: new Float64Array(series.map((_, i) => tsBase + i)), values });
}

/** Decodes like the route: with the tenant's lookup when `cached`, then pushes. */
async function push(d: Distributor, tenant: TenantId, buf: Uint8Array, cached: boolean): Promise<WriteOutcome> {
  const decoded = cached ? decodeWriteRequest<KnownSeries>(buf, d.seriesLookup(tenant)) : decodeWriteRequest(buf);
  return d.push(tenant, {
    batch: decoded,
    histogramCount: decoded.histogramCount,
    ...(cached && decoded.rawLabels !== undefined && decoded.known !== undefined ? { rawLabels: decoded.rawLabels, known: decoded.known as (KnownSeries | undefined)[] } : {}),
  });
}

const MIXED: string[][] = [
  ['job', 'a', '__name__', 'up', 'instance', 'h:1'], // unsorted
  ['__name__', 'up', 'empty', '', 'job', 'b'], // empty value dropped
  ['job', 'c'], // missing metric name
  ['__name__', 'up', '0bad', 'x'], // invalid label name
  ['__name__', 'up', 'job', 'd', 'job', 'e'], // duplicate names
  ['__name__', 'm\u00e9tric_ok', 'v', 'caf\u00e9'], // invalid metric name (non-ASCII), UTF-8 bytes
  ['__name__', 'ok', 'v', 'caf\u00e9 \u{1f600}'], // valid, non-ASCII value
];

describe('known-series cache', () => {
  it('gives identical batches, keys and outcomes on hits as the full path', async () => {
    const plain = recorder();
    const withCache = recorder();
    const dPlain = new Distributor({ storage: plain.storage });
    const dCache = new Distributor({ storage: withCache.storage });
    for (let round = 0; round < 3; round++) {
      const buf = body(MIXED, 1000 * (round + 1));
      const a = await push(dPlain, 't', buf, false);
      const b = await push(dCache, 't', buf, true);
      expect(b).toEqual(a);
    }
    // Same writes; with the cache every series also carries its slot, keyed by its identity key.
    expect(withCache.writes.map((w) => ({ ...w, keys: undefined }))).toEqual(plain.writes);
    for (const w of withCache.writes) expect(w.keys).toEqual(w.series.map((l) => seriesIdentityKey(l)));
    expect(plain.writes[0]?.series).toEqual([
      ['__name__', 'up', 'instance', 'h:1', 'job', 'a'],
      ['__name__', 'up', 'job', 'b'],
      ['__name__', 'ok', 'v', 'caf\u00e9 \u{1f600}'],
    ]);
    // Only the three valid series were cached; the later rounds were hits.
    expect(dCache.knownSeries.size('t')).toBe(3);
    const again = decodeWriteRequest<KnownSeries>(body(MIXED, 9000), dCache.seriesLookup('t'));
    expect(again.known?.map((k) => k !== undefined)).toEqual([true, true, false, false, false, false, true]);
    expect(dCache.activeSeries.activeSeries('t')).toBe(3);
  });

  it('keeps tenants apart', async () => {
    const { storage } = recorder();
    const d = new Distributor({ storage });
    await push(d, 'a', body([['__name__', 'x']], 1), true);
    expect(d.knownSeries.size('a')).toBe(1);
    expect(d.knownSeries.size('b')).toBe(0);
    expect(decodeWriteRequest<KnownSeries>(body([['__name__', 'x']], 2), d.seriesLookup('b')).known).toEqual([undefined]);
    expect(decodeWriteRequest<KnownSeries>(body([['__name__', 'x']], 2), d.seriesLookup('a')).known?.[0]?.labels).toEqual(['__name__', 'x']);
  });

  it('finds entries whose raw bytes share a hash (collision chain), never a different series', () => {
    const t = new TenantKnownSeries(10);
    const a = t.addHashed(7, 'raw-a', ['__name__', 'a'], 'key-a');
    const b = t.addHashed(7, 'raw-b', ['__name__', 'b'], 'key-b');
    expect(t.getHashed(7, 'raw-a')).toBe(a);
    expect(t.getHashed(7, 'raw-b')).toBe(b);
    expect(t.getHashed(7, 'raw-c')).toBeUndefined();
    expect(t.getHashed(8, 'raw-a')).toBeUndefined();
    // get() hashes the string itself: 'raw-a' is filed under 7, not under its real hash.
    expect(t.get('raw-a')).toBeUndefined();
    const c = t.add('raw-c', ['__name__', 'c'], 'key-c');
    expect(t.get('raw-c')).toBe(c);
    expect(t.getHashed(labelStringHash('raw-c'), 'raw-c')).toBe(c);
    expect(t.size).toBe(3);
  });

  it('keys the map by the low 30 bits of the hash, and the raw bytes still decide', () => {
    const t = new TenantKnownSeries(10);
    const a = t.addHashed(7, 'raw-a', ['__name__', 'a'], 'key-a');
    const b = t.addHashed(7 + 2 ** 30, 'raw-b', ['__name__', 'b'], 'key-b');
    expect(t.getHashed(7 + 2 ** 31, 'raw-a')).toBe(a);
    expect(t.getHashed(7, 'raw-b')).toBe(b);
    expect(t.getHashed(7 + 2 ** 30, 'raw-c')).toBeUndefined();
  });

  it('stays within its bound', async () => {
    const { storage } = recorder();
    const d = new Distributor({ storage, maxKnownSeriesPerTenant: 2 });
    for (let i = 0; i < 5; i++) {
      await push(d, 't', body([['__name__', `m${i}`]], i + 1), true);
      expect(d.knownSeries.size('t')).toBeLessThanOrEqual(2);
    }
  });

  it('does not trust hits validated under other label limits', async () => {
    const { storage, writes } = recorder();
    let limits: TenantLimits = DEFAULT_LIMITS;
    const d = new Distributor({ storage, limits: () => limits });
    const series = [['__name__', 'm', 'long', 'abcdefghij']];
    await push(d, 't', body(series, 1), true);
    // Decoded (with a hit) before the limits change, pushed after it.
    const decoded = decodeWriteRequest<KnownSeries>(body(series, 2), d.seriesLookup('t'));
    expect(decoded.known?.[0]).toBeDefined();
    limits = { ...DEFAULT_LIMITS, maxLabelValueLength: 5 };
    const out = await d.push('t', { batch: decoded, histogramCount: 0, rawLabels: decoded.rawLabels ?? [], known: decoded.known ?? [] });
    expect(out.rejected.map((r) => r.code)).toEqual(['label-value-too-long']);
    // A fresh decode under the new limits misses too, and is rejected the same way.
    const out2 = await push(d, 't', body(series, 3), true);
    expect(out2.rejected.map((r) => r.code)).toEqual(['label-value-too-long']);
    expect(writes).toHaveLength(1);
    expect(d.knownSeries.size('t')).toBe(0);
  });
});

/** Protobuf bytes of a length-delimited field. */
function field(num: number, payload: number[]): number[] {
  const out = [(num << 3) | 2];
  let n = payload.length;
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n, ...payload);
  return out;
}
const str = (s: string): number[] => [...Buffer.from(s, 'utf8')];
const label = (n: string, v: string): number[] => field(1, [...field(1, str(n)), ...field(2, str(v))]);
// Sample { value: 0 (absent), timestamp: 5 }
const sample = (): number[] => field(2, [0x10, 5]);

describe('decoder raw-label lookup', () => {
  it('keys series by their label bytes and forgets the key when labels are not contiguous', () => {
    const seen: string[] = [];
    const lookup = { get: (raw: string) => (seen.push(raw), undefined) };
    const contiguous = field(1, [...label('__name__', 'm'), ...label('job', 'x'), ...sample()]);
    const split = field(1, [...label('__name__', 'm'), ...sample(), ...label('job', 'x')]);
    const d = decodeWriteRequest(Uint8Array.from([...contiguous, ...split]), lookup);
    expect(d.series).toEqual([
      ['__name__', 'm', 'job', 'x'],
      ['__name__', 'm', 'job', 'x'],
    ]);
    expect(d.rawLabels).toEqual([Buffer.from([...label('__name__', 'm'), ...label('job', 'x')]).toString('latin1'), undefined]);
    expect(seen).toHaveLength(2);
  });

  it('decodes all labels when a hit is followed by more labels', () => {
    const run = Buffer.from(label('__name__', 'm')).toString('latin1');
    const hit = { labels: ['__name__', 'cached'] };
    const lookup = { get: (raw: string) => (raw === run ? hit : undefined) };
    const plainHit = decodeWriteRequest(Uint8Array.from(field(1, [...label('__name__', 'm'), ...sample()])), lookup);
    expect(plainHit.series).toEqual([['__name__', 'cached']]);
    expect(plainHit.known).toEqual([hit]);
    const split = decodeWriteRequest(Uint8Array.from(field(1, [...label('__name__', 'm'), ...sample(), ...label('job', 'x')])), lookup);
    expect(split.series).toEqual([['__name__', 'm', 'job', 'x']]);
    expect(split.known).toEqual([undefined]);
    expect(split.rawLabels).toEqual([undefined]);
    expect([...split.tsMs]).toEqual([5]);
  });
});
