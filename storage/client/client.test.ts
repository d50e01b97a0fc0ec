import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ErrorKind } from '../../common/errors.js';
import { MatchType, type SampleBatch } from '../../common/types.js';
import { batchToWriteRequest, createGrpcStorageClient } from './client.js';

/** A loopback port that nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const addr = srv.address();
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  return addr.port;
}

describe('batchToWriteRequest', () => {
  it('packs columns with byte views of the batch arrays (no copies)', () => {
    const batch: SampleBatch = {
      series: [['__name__', 'a'], ['__name__', 'b', 'x', 'y']],
      sampleStart: Uint32Array.from([0, 2, 3]),
      tsMs: Float64Array.from([1, 2, 3]),
      values: Float64Array.from([4, 5, 6]),
    };
    const req = batchToWriteRequest('t', batch);
    expect(req).toMatchObject({ tenant: 't', labelStrings: ['__name__', 'a', '__name__', 'b', 'x', 'y'], labelPairCounts: [1, 2], sampleCounts: [2, 1] });
    expect(req.timestamps.buffer).toBe(batch.tsMs.buffer);
    expect(req.values.buffer).toBe(batch.values.buffer);
    expect(Array.from(new Float64Array(req.values.slice().buffer))).toEqual([4, 5, 6]);
  });

  it('packs an empty batch', () => {
    const req = batchToWriteRequest('t', { series: [], sampleStart: Uint32Array.from([0]), tsMs: new Float64Array(0), values: new Float64Array(0) });
    expect([req.labelPairCounts, req.timestamps.byteLength]).toEqual([[], 0]);
  });
});

describe('createGrpcStorageClient against a closed port', () => {
  it('fails quickly with kind unavailable on every call, and ready() is false', async () => {
    const port = await closedPort();
    const c = createGrpcStorageClient({ address: `127.0.0.1:${port}`, timeoutMs: 5000, maxMessageBytes: 1 << 20 });
    const t = Date.now();
    const batch: SampleBatch = { series: [['a', '1']], sampleStart: Uint32Array.from([0, 1]), tsMs: Float64Array.from([1]), values: Float64Array.from([1]) };
    try {
      await expect(c.write('t', batch)).rejects.toMatchObject({ kind: ErrorKind.Unavailable, code: 'storage-unavailable' });
      await expect(c.select('t', [{ type: MatchType.EQ, name: 'a', value: '1' }], 0, 1)).rejects.toMatchObject({ kind: ErrorKind.Unavailable });
      await expect(c.labelNames('t', [], { startMs: 0, endMs: 1, limit: 0 })).rejects.toMatchObject({ kind: ErrorKind.Unavailable });
      expect(await c.ready()).toBe(false);
      expect(Date.now() - t).toBeLessThan(3000);
    } finally {
      c.close();
    }
  });
});
