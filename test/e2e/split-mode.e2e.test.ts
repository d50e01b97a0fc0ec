import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushSeries, queryApi } from '../helpers/remote-write.js';
import { startService, tempDir, type RunningService } from '../helpers/service.js';

// Split mode: storage, ingest and query as three processes; ingest and query reach storage
// only over gRPC (proto/storage/v1/storage.proto).
describe('split mode: storage, ingest and query processes', () => {
  const data = tempDir('split');
  let storage: RunningService;
  let ingest: RunningService;
  let query: RunningService;
  const t0 = 1_700_000_000_000;

  beforeAll(async () => {
    storage = await startService('storage', [`--data-dir=${data.dir}`]);
    const address = `--storage.address=127.0.0.1:${storage.grpcPort}`;
    [ingest, query] = await Promise.all([startService('ingest', [address]), startService('query', [address])]);
  });

  afterAll(async () => {
    await ingest?.stop();
    await query?.stop();
    await storage?.stop();
    data.remove();
  });

  it('stores through ingest and reads through query', async () => {
    const res = await pushSeries(
      ingest.url,
      [{ labels: { __name__: 'up', job: 'node', instance: 'x:9100' }, samples: [[t0, 1], [t0 + 15_000, 0]] }],
      'team-a',
    );
    expect(res.status).toBe(204);
    const r = await queryApi(query.url, 'query', { query: 'up == 0', time: String((t0 + 15_000) / 1000) }, 'team-a');
    expect(r.body).toEqual({
      status: 'success',
      data: { resultType: 'vector', result: [{ metric: { __name__: 'up', instance: 'x:9100', job: 'node' }, value: [(t0 + 15_000) / 1000, '0'] }] },
    });
  });

  it('keeps tenants apart', async () => {
    const r = await queryApi(query.url, 'query', { query: 'up', time: String((t0 + 15_000) / 1000) }, 'team-b');
    expect(r.body.data.result).toEqual([]);
  });

  it('answers 503 on writes while storage is down, so Prometheus retries', async () => {
    await storage.stop();
    const res = await pushSeries(ingest.url, [{ labels: { __name__: 'up', job: 'node' }, samples: [[t0 + 30_000, 1]] }], 'team-a');
    expect(res.status).toBe(503);
    const r = await queryApi(query.url, 'query', { query: 'up', time: String(t0 / 1000) }, 'team-a');
    expect(r.status).toBe(503);
    expect(r.body.errorType).toBe('unavailable');
  });
});
