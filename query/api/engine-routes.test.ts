// The query API over the real PromQL engine and the memory backend: what Grafana sees end to end.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../common/config.js';
import { MemoryBackend } from '../../storage/backend/memory.js';
import { createLocalStorageClient } from '../../storage/client/local.js';
import { Engine } from '../promql/engine.js';
import { buildQueryServer } from '../server.js';
import type { QueryEngine } from './routes.js';

let app: FastifyInstance;

beforeAll(async () => {
  const backend = new MemoryBackend();
  // up{job="api",instance="a"} = 1 and up{job="api",instance="b"} = 0 every 15 s for 2 minutes.
  const times = Array.from({ length: 9 }, (_, i) => i * 15_000);
  const tsMs = new Float64Array([...times, ...times]);
  const values = new Float64Array([...times.map(() => 1), ...times.map(() => 0)]);
  await backend.append('anonymous', {
    series: [
      ['__name__', 'up', 'instance', 'a', 'job', 'api'],
      ['__name__', 'up', 'instance', 'b', 'job', 'api'],
    ],
    sampleStart: new Uint32Array([0, 9, 18]),
    tsMs,
    values,
  });
  const engine: QueryEngine = new Engine({ ...DEFAULT_CONFIG.query });
  app = buildQueryServer({ storage: createLocalStorageClient(backend), engine, config: DEFAULT_CONFIG.query, now: () => 60_000 });
});

afterAll(async () => {
  await app.close();
});

async function body(url: string): Promise<{ status: number; body: string }> {
  const res = await app.inject(url);
  return { status: res.statusCode, body: res.body };
}

describe('query API with the real engine', () => {
  it.each<[string, number, string]>([
    // Grafana's data source health check.
    ['/api/v1/query?query=1%2B1&time=4', 200, '{"status":"success","data":{"resultType":"scalar","result":[4,"2"]}}'],
    [
      '/api/v1/query?query=sum%20by%20(job)%20(up)',
      200,
      '{"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"api"},"value":[60,"1"]}]}}',
    ],
    [
      '/api/v1/query_range?query=up%7Binstance%3D%22a%22%7D&start=0&end=30&step=15',
      200,
      '{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"up","instance":"a","job":"api"},"values":[[0,"1"],[15,"1"],[30,"1"]]}]}}',
    ],
  ])('%s', async (url, status, want) => {
    expect(await body(url)).toEqual({ status, body: want });
  });

  it('answers concurrent queries exactly as one at a time (pooled sample buffers are not shared)', async () => {
    const urls = [
      '/api/v1/query_range?query=up%7Binstance%3D%22a%22%7D&start=0&end=120&step=15',
      '/api/v1/query_range?query=up%7Binstance%3D%22b%22%7D&start=0&end=120&step=15',
      '/api/v1/query?query=up%5B2m%5D&time=120',
      '/api/v1/query_range?query=sum%20by%20(job)%20(up)&start=0&end=120&step=5',
    ];
    const alone: string[] = [];
    for (const u of urls) alone.push((await body(u)).body);
    for (let round = 0; round < 5; round++) {
      const together = await Promise.all(urls.flatMap((u) => [body(u), body(u)]));
      expect(together.map((r) => r.body)).toEqual(urls.flatMap((_, i) => [alone[i], alone[i]]));
    }
    expect(alone[1]).toContain('"values":[[0,"0"]');
  });

  it('reports a parse error as an invalid query parameter', async () => {
    const res = await app.inject('/api/v1/query?query=sum(');
    expect(res.statusCode).toBe(400);
    const json = res.json();
    expect(json.errorType).toBe('bad_data');
    expect(json.error).toMatch(/^invalid parameter "query": 1:\d+: parse error: /);
  });

  it('rejects a string expression in a range query', async () => {
    const res = await app.inject('/api/v1/query_range?query=%22x%22&start=0&end=30&step=15');
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('invalid parameter "query": invalid expression type "string" for range query, must be Scalar or instant Vector');
  });
});
