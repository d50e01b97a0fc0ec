import snappy from 'snappyjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWriteRequest } from '../../proto/write-request-encoder.js';
import { batchOf, encodeBody, pushBody, pushSeries, queryApi } from '../helpers/remote-write.js';
import { startService, tempDir, type RunningService } from '../helpers/service.js';

// Bad input gets a clear error, never a crash or a hang, and the server stays healthy.
describe('bad remote-write input', () => {
  const data = tempDir('bad');
  let svc: RunningService;
  const t0 = 1_700_000_000_000;

  beforeAll(async () => {
    svc = await startService('all', [`--data-dir=${data.dir}`, '--ingest.max-body-bytes=65536']);
  });

  afterAll(async () => {
    await svc?.stop();
    data.remove();
  });

  const good = () => batchOf([{ labels: { __name__: 'ok_metric', job: 'j' }, samples: [[t0, 1]] }]);

  const cases: Array<[string, () => Uint8Array, number, Record<string, string>?]> = [
    ['corrupt snappy', () => Uint8Array.from([0x10, 0xff, 0xff, 0xff, 0x01, 0x02]), 400],
    ['truncated protobuf', () => snappy.compress(encodeWriteRequest(good()).subarray(0, 7)), 400],
    ['framed snappy stream', () => Uint8Array.from([0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59]), 400],
    ['body over the compressed limit', () => new Uint8Array(200_000).fill(7), 413],
    ['decompressed length over the limit', () => Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x04, 0x00]), 413],
    ['unsupported encoding', () => encodeBody(good()), 415, { 'Content-Encoding': 'gzip' }],
    ['remote write 2.0 content type', () => encodeBody(good()), 415, { 'Content-Type': 'application/x-protobuf;proto=io.prometheus.write.v2.Request' }],
  ];

  it.each(cases)('%s → %i', async (_name, body, status, headers) => {
    const res = await pushBody(svc.url, body(), headers ?? {});
    expect(res.status).toBe(status);
    expect((await res.text()).length).toBeGreaterThan(0);
  });

  it('rejects invalid series with 400 but stores the valid ones of the same request', async () => {
    const res = await pushSeries(svc.url, [
      { labels: { __name__: 'valid_one', job: 'j' }, samples: [[t0, 5]] },
      { labels: { __name__: '0bad-name', job: 'j' }, samples: [[t0, 6]] },
      { labels: { job: 'no-name' }, samples: [[t0, 7]] },
    ]);
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/metric name/);
    const r = await queryApi(svc.url, 'query', { query: 'valid_one', time: String(t0 / 1000) });
    expect(r.body.data.result).toEqual([{ metric: { __name__: 'valid_one', job: 'j' }, value: [t0 / 1000, '5'] }]);
  });

  it('rejects an out-of-order sample with 400 and keeps the first', async () => {
    expect((await pushSeries(svc.url, [{ labels: { __name__: 'ooo', job: 'j' }, samples: [[t0 + 60_000, 1]] }])).status).toBe(204);
    const res = await pushSeries(svc.url, [{ labels: { __name__: 'ooo', job: 'j' }, samples: [[t0, 2]] }]);
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/out of order/i);
  });

  it('rejects an invalid tenant id with 400', async () => {
    const res = await pushSeries(svc.url, [{ labels: { __name__: 'x' }, samples: [[t0, 1]] }], 'bad/tenant');
    expect(res.status).toBe(400);
  });

  it('is still healthy and serving after all of that', async () => {
    expect((await fetch(`${svc.url}/-/ready`)).status).toBe(200);
    expect((await pushSeries(svc.url, [{ labels: { __name__: 'after', job: 'j' }, samples: [[t0, 1]] }])).status).toBe(204);
    expect(svc.proc.exitCode).toBeNull();
  });
});
