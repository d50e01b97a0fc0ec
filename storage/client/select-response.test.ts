import { describe, expect, it } from 'vitest';
import { AppError } from '../../common/errors.js';
import { decodeSelectResponse, encodeSelectResponse, type SelectResponseMsg } from '../../proto/index.js';
import { LabelStringCache, parseSelectResponse } from './select-response.js';

const pairs = (...kv: string[]): { name: string; value: string }[] => {
  const out: { name: string; value: string }[] = [];
  for (let i = 0; i < kv.length; i += 2) out.push({ name: kv[i]!, value: kv[i + 1]! });
  return out;
};

const msg: SelectResponseMsg = {
  series: [
    {
      labels: pairs('__name__', 'up', 'instance', 'a:1', 'job', 'node'),
      chunks: [
        { minTimeMs: -5, maxTimeMs: 2 ** 40, encoding: 2, data: Uint8Array.from([0, 1, 2, 3]) },
        { minTimeMs: 7, maxTimeMs: 9, encoding: 1, data: new Uint8Array(300).fill(7) },
      ],
    },
    // Same names, one value changed, a non-ASCII and a long value: cached and fresh strings mix.
    { labels: pairs('__name__', 'up', 'instance', 'a:2', 'job', 'nöde'), chunks: [{ minTimeMs: 0, maxTimeMs: 0, encoding: 2, data: new Uint8Array(0) }] },
    { labels: pairs('__name__', 'up', 'instance', 'x'.repeat(40), 'job', 'node'), chunks: [] },
    { labels: [], chunks: [{ minTimeMs: 1, maxTimeMs: 1, encoding: 0, data: Uint8Array.from([9]) }] },
  ],
};

describe('parseSelectResponse', () => {
  it('reads what the reflected encoder writes, like the reflected decoder', () => {
    const bytes = encodeSelectResponse(msg);
    const cache = new LabelStringCache();
    // Twice with one cache: the second parse reuses strings across messages.
    for (let k = 0; k < 2; k++) {
      const got = parseSelectResponse(bytes, cache);
      const want = decodeSelectResponse(bytes);
      expect(got.length).toBe(want.series.length);
      got.forEach((s, i) => {
        const w = want.series[i]!;
        expect(s.labels).toEqual(w.labels.flatMap((l) => [l.name, l.value]));
        expect(s.chunks.map((c) => [c.encoding, Array.from(c.data)])).toEqual(w.chunks.map((c) => [c.encoding ?? 0, Array.from(c.data)]));
      });
    }
  });

  it('skips unknown fields', () => {
    const bytes = encodeSelectResponse({ series: [{ labels: pairs('a', 'b'), chunks: [{ minTimeMs: 1, maxTimeMs: 2, encoding: 2, data: Uint8Array.from([5]) }] }] });
    // Unknown field 15 (varint) and 14 (fixed32) before the series.
    const extra = Uint8Array.from([(15 << 3) | 0, 0x96, 0x01, (14 << 3) | 5, 1, 2, 3, 4, ...bytes]);
    const [s] = parseSelectResponse(extra, new LabelStringCache());
    expect(s!.labels).toEqual(['a', 'b']);
    expect(Array.from(s!.chunks[0]!.data)).toEqual([5]);
  });

  it.each([
    { name: 'truncated', cut: 5 },
    { name: 'truncated in a chunk', cut: 40 },
  ])('rejects a $name message with storage-bad-response', ({ cut }) => {
    const bytes = encodeSelectResponse(msg).subarray(0, cut);
    expect(() => parseSelectResponse(bytes, new LabelStringCache())).toThrow(AppError);
    try {
      parseSelectResponse(bytes, new LabelStringCache());
    } catch (e) {
      expect((e as AppError).code).toBe('storage-bad-response');
    }
  });

  it('rejects group wire types', () => {
    expect(() => parseSelectResponse(Uint8Array.from([(1 << 3) | 3]), new LabelStringCache())).toThrow(expect.objectContaining({ code: 'storage-bad-response' }));
  });
});
