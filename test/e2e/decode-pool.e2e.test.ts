import snappy from 'snappyjs';
import type { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { DecodePool } from '../../ingest/decode-pool.js';
import { decodeWriteRequest, resolveLabels } from '../../proto/write-request-decoder.js';
import { encodeWriteRequest } from '../../proto/write-request-encoder.js';
import { batchOf } from '../helpers/remote-write.js';
import { rejection } from '../helpers/errors.js';

// The decode threads run the compiled worker (npm test builds first), as the service does.
const WORKER = new URL('../../dist/ingest/decode-worker.js', import.meta.url);

const pools: DecodePool[] = [];
function pool(): DecodePool {
  const p = new DecodePool({ threads: 1, maxDecompressedBytes: 64 << 20, workerUrl: WORKER });
  pools.push(p);
  return p;
}

afterEach(async () => {
  for (const p of pools.splice(0)) await p.close();
});

const body = (n: number): Uint8Array =>
  snappy.compress(
    encodeWriteRequest(batchOf(Array.from({ length: n }, (_, i) => ({ labels: { __name__: 'm', i: String(i) }, samples: [[1_700_000_000_000 + i, i / 3] as [number, number]] })))),
  );

const failure = rejection;

describe('decode threads', () => {
  it('decode a body to exactly what the one-pass decoder gives', async () => {
    const p = pool();
    const b = body(500);
    const { buf, cols } = await p.decode(b);
    expect(cols).not.toBeNull();
    expect(resolveLabels(buf, cols!)).toEqual(decodeWriteRequest(snappy.uncompress(b)));
  });

  it('answer bad bodies with the decoder’s AppError and keep working', async () => {
    const p = pool();
    expect((await failure(p.decode(Uint8Array.from([0x10, 0xff, 0xff, 0xff, 0x01, 0x02])))).code).toBe('bad-snappy');
    expect((await failure(p.decode(snappy.compress(Uint8Array.from([0x0a, 0x05]))))).code).toBe('bad-protobuf');
    expect((await failure(p.decode(Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x04, 0x00])))).code).toBe('decompressed-too-large');
    expect((await p.decode(body(3))).cols?.sampleStart.length).toBe(4);
  });

  it('fail the jobs of a thread that dies, and replace the thread', async () => {
    const p = pool();
    const inFlight = p.decode(body(200_000));
    // A crash of the decode thread (here: terminated from outside while it works).
    const threads = (p as unknown as { _threads: { worker: Worker }[] })._threads;
    await threads[0]!.worker.terminate();
    expect((await failure(inFlight)).code).toBe('decode-thread-failed');
    expect(p.size).toBe(1);
    expect((await p.decode(body(5))).cols?.sampleStart.length).toBe(6);
  });
});
