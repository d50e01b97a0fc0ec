import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushSeries, queryApi } from '../helpers/remote-write.js';
import { startService, tempDir, type RunningService } from '../helpers/service.js';

// `all` mode: one process, storage in a worker thread, write and read APIs on one port.
// Data is written with our own encoder and read back through the Prometheus API.
describe('all mode: write then query', () => {
  const data = tempDir('all');
  let svc: RunningService;
  const t0 = 1_700_000_000_000; // a fixed, whole-second base time (ms)

  beforeAll(async () => {
    svc = await startService('all', [`--data-dir=${data.dir}`]);
    const series = [];
    for (const instance of ['a', 'b']) {
      const samples: Array<[number, number]> = [];
      // Counter growing by 10 every 15 s for 10 minutes (41 samples).
      for (let i = 0; i <= 40; i++) samples.push([t0 + i * 15_000, i * 10 * (instance === 'a' ? 1 : 2)]);
      series.push({ labels: { __name__: 'http_requests_total', job: 'api', instance }, samples });
    }
    series.push({ labels: { __name__: 'temperature', room: 'kitchen' }, samples: [[t0, 21.5], [t0 + 60_000, NaN]] as Array<[number, number]> });
    const res = await pushSeries(svc.url, series);
    expect(res.status).toBe(204);
  });

  afterAll(async () => {
    await svc?.stop();
    data.remove();
  });

  it('answers an instant selector with Prometheus JSON', async () => {
    const r = await queryApi(svc.url, 'query', { query: 'http_requests_total{instance="a"}', time: String((t0 + 600_000) / 1000) });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      status: 'success',
      data: {
        resultType: 'vector',
        result: [{ metric: { __name__: 'http_requests_total', instance: 'a', job: 'api' }, value: [(t0 + 600_000) / 1000, '400'] }],
      },
    });
  });

  it('computes sum by (job) (rate(x[1m])) over a range', async () => {
    // Each counter grows linearly (10/15 s and 20/15 s), so rate is exact: 0.6667 + 1.3333 = 2 per second.
    const r = await queryApi(svc.url, 'query_range', {
      query: 'sum by (job) (rate(http_requests_total[1m]))',
      start: String((t0 + 120_000) / 1000),
      end: String((t0 + 240_000) / 1000),
      step: '60',
    });
    expect(r.status).toBe(200);
    expect(r.body.data.resultType).toBe('matrix');
    expect(r.body.data.result).toHaveLength(1);
    expect(r.body.data.result[0].metric).toEqual({ job: 'api' });
    const values = r.body.data.result[0].values as Array<[number, string]>;
    expect(values.map((v) => v[0])).toEqual([(t0 + 120_000) / 1000, (t0 + 180_000) / 1000, (t0 + 240_000) / 1000]);
    for (const [, v] of values) expect(Number(v)).toBeCloseTo(2, 9);
  });

  it('keeps NaN values and renders them as "NaN"', async () => {
    const r = await queryApi(svc.url, 'query', { query: 'temperature', time: String((t0 + 60_000) / 1000) });
    expect(r.body.data.result).toEqual([{ metric: { __name__: 'temperature', room: 'kitchen' }, value: [(t0 + 60_000) / 1000, 'NaN'] }]);
  });

  it('rejects a malformed query with 400 bad_data', async () => {
    const r = await queryApi(svc.url, 'query', { query: 'sum(rate(x[5m]', time: String(t0 / 1000) });
    expect(r.status).toBe(400);
    expect(r.body.status).toBe('error');
    expect(r.body.errorType).toBe('bad_data');
    expect(r.body.error).toMatch(/parse error/);
  });

  it('serves POST form-encoded queries', async () => {
    const res = await fetch(`${svc.url}/api/v1/query`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ query: 'count(http_requests_total)', time: String((t0 + 600_000) / 1000) }).toString(),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.data.result).toEqual([{ metric: {}, value: [(t0 + 600_000) / 1000, '2'] }]);
  });

  it('keeps acknowledged data across a graceful restart', async () => {
    expect(await svc.stop()).toBe(0);
    svc = await startService('all', [`--data-dir=${data.dir}`]);
    const r = await queryApi(svc.url, 'query', { query: 'http_requests_total', time: String((t0 + 600_000) / 1000) });
    expect(r.body.data.result).toHaveLength(2);
  });
});
