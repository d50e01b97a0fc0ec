import { describe, expect, it } from 'vitest';
import { AppError } from '../../../common/errors.js';
import { decodePairIds, encodePairIds } from './label-pairs.js';

describe('pair-id varints', () => {
  it.each([
    { name: 'no labels', ids: [], bytes: 0 },
    { name: 'small ids', ids: [1, 2, 127], bytes: 3 },
    { name: 'two-byte ids', ids: [128, 16_383], bytes: 4 },
    { name: 'large ids', ids: [16_384, 2 ** 31, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER], bytes: 3 + 5 + 5 + 8 },
  ])('round-trips $name', ({ ids, bytes }) => {
    const data = encodePairIds(ids);
    expect(data.length).toBe(bytes);
    expect(decodePairIds(data, 1)).toEqual(ids);
  });

  it.each([
    { name: 'a truncated varint', data: [0x05, 0x80] },
    { name: 'an oversized varint', data: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f] },
  ])('refuses $name with series-corrupt', ({ data }) => {
    let err: unknown;
    try {
      decodePairIds(Uint8Array.from(data), 7);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('series-corrupt');
    expect((err as AppError).message).toMatch(/^series 7: /);
  });
});
