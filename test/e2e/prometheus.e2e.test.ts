import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPrometheus, startPrometheus, type RunningPrometheus } from '../helpers/prometheus.js';
import { waitFor } from '../helpers/poll.js';
import { queryApi } from '../helpers/remote-write.js';
import { startService, tempDir, type RunningService } from '../helpers/service.js';

// The best test we have: a real Prometheus (Debian's 2.42 package) scrapes itself every second
// and remote-writes to us. The same PromQL, at the same evaluation times, must give the same
// series and values on both. In CI a missing prometheus binary is a failure, not a skip.
const binary = findPrometheus();
const inCI = process.env['CI'] === 'true';
// Debian's Prometheus does not send remote_write headers (see test/helpers/prometheus.ts): default tenant.
const TENANT = undefined;

/** Queries of the walking-skeleton PromQL subset, compared as instant and as range queries. */
const QUERIES = [
  'up',
  'prometheus_http_requests_total',
  'prometheus_http_requests_total{handler=~"/api/v1/.*"}',
  'prometheus_http_requests_total{code!="200"}',
  'prometheus_http_requests_total{handler!~"/api.*|/metrics"}',
  'rate(prometheus_tsdb_head_samples_appended_total[5s])',
  'irate(prometheus_tsdb_head_samples_appended_total[5s])',
  'increase(prometheus_tsdb_head_samples_appended_total[10s])',
  'rate(prometheus_http_requests_total[10s])',
  'sum by (job) (rate(prometheus_tsdb_head_samples_appended_total[5s]))',
  'sum without (handler) (prometheus_http_requests_total)',
  'sum(prometheus_http_requests_total) by (code)',
  'max(go_goroutines)',
  'min by (instance) (go_memstats_alloc_bytes)',
  'avg(process_cpu_seconds_total)',
  'count(prometheus_http_requests_total)',
  'count by (code) (prometheus_http_requests_total)',
  'go_goroutines * 2 + 1',
  'go_goroutines > 10',
  'go_goroutines > bool 10',
  'process_resident_memory_bytes / process_virtual_memory_bytes',
  'prometheus_tsdb_head_series - prometheus_tsdb_head_series offset 5s',
  'up offset 3s',
  '-up',
  'up == 1',
  '2 ^ 3 ^ 2',
  '1 + 1',
  '(go_goroutines + 1) / ignoring(job) (go_goroutines - 1)',
  'sum(rate(prometheus_http_requests_total[5s])) * 60',
];

type Sample = [number, string];
interface SeriesResult { metric: Record<string, string>; value?: Sample; values?: Sample[] }

function canonical(body: any): { resultType: string; result: Array<{ key: string; values: Sample[] }> | Sample } {
  expect(body.status, JSON.stringify(body)).toBe('success');
  const { resultType, result } = body.data;
  if (resultType === 'scalar' || resultType === 'string') return { resultType, result };
  const rows = (result as SeriesResult[]).map((s) => ({
    key: JSON.stringify(Object.entries(s.metric).sort(([a], [b]) => (a < b ? -1 : 1))),
    values: s.values ?? (s.value ? [s.value] : []),
  }));
  rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { resultType, result: rows };
}

function sameValue(a: string, b: string): boolean {
  if (a === b) return true;
  const x = Number(a);
  const y = Number(b);
  if (Number.isNaN(x) && Number.isNaN(y)) return true;
  return Math.abs(x - y) <= 1e-9 * Math.max(Math.abs(x), Math.abs(y));
}

function expectSameResult(query: string, ours: any, theirs: any): void {
  const a = canonical(ours);
  const b = canonical(theirs);
  expect(a.resultType, query).toBe(b.resultType);
  if (!Array.isArray(a.result) || !Array.isArray(b.result) || a.resultType === 'scalar') {
    const [ta, va] = a.result as Sample;
    const [tb, vb] = b.result as Sample;
    expect(ta, query).toBe(tb);
    expect(sameValue(va, vb), `${query}: ${va} vs ${vb}`).toBe(true);
    return;
  }
  const rowsA = a.result as Array<{ key: string; values: Sample[] }>;
  const rowsB = b.result as Array<{ key: string; values: Sample[] }>;
  expect(rowsA.map((r) => r.key), query).toEqual(rowsB.map((r) => r.key));
  rowsA.forEach((row, i) => {
    const other = rowsB[i]!;
    expect(row.values.map((v) => v[0]), `${query} ${row.key} timestamps`).toEqual(other.values.map((v) => v[0]));
    row.values.forEach(([, v], j) => {
      const w = other.values[j]![1];
      expect(sameValue(v, w), `${query} ${row.key} at ${row.values[j]![0]}: ours ${v}, prometheus ${w}`).toBe(true);
    });
  });
}

describe.skipIf(binary === null && !inCI)('a real Prometheus remote-writing to us', () => {
  const data = tempDir('prom-e2e');
  let svc: RunningService;
  let prom: RunningPrometheus;
  let evalTimeSec = 0;

  beforeAll(async () => {
    if (binary === null) throw new Error('prometheus binary not found on PATH (apt-get install prometheus); required in CI');
    svc = await startService('all', [`--data-dir=${data.dir}`]);
    prom = await startPrometheus(binary, `${svc.url}/api/v1/push`);
    // Let Prometheus collect ~15 scrapes, then pick an evaluation time safely in the past and wait
    // until remote write has delivered samples beyond it.
    await new Promise((r) => setTimeout(r, 15_000));
    evalTimeSec = Math.floor(Date.now() / 1000) - 3;
    await waitFor('remote write to catch up', async () => {
      const r = await queryApi(svc.url, 'query', { query: 'up[10s]', time: String(Date.now() / 1000) }, TENANT);
      const values = (r.body?.data?.result?.[0]?.values ?? []) as Sample[];
      const last = values.length > 0 ? values[values.length - 1]![0] : 0;
      return last > evalTimeSec + 1.5 ? true : undefined;
    }, 30_000, 250);
  }, 90_000);

  afterAll(async () => {
    await prom?.stop();
    await svc?.stop();
    data.remove();
  });

  it.each(QUERIES)('instant query %s matches Prometheus', async (query) => {
    for (const t of [evalTimeSec, evalTimeSec - 4.5]) {
      const params = { query, time: String(t) };
      const [ours, theirs] = await Promise.all([queryApi(svc.url, 'query', params, TENANT), queryApi(prom.url, 'query', params)]);
      expect(ours.status, JSON.stringify(ours.body)).toBe(theirs.status);
      expectSameResult(query, ours.body, theirs.body);
    }
  });

  it.each(QUERIES)('range query %s matches Prometheus', async (query) => {
    const params = { query, start: String(evalTimeSec - 10), end: String(evalTimeSec), step: '2' };
    const [ours, theirs] = await Promise.all([queryApi(svc.url, 'query_range', params, TENANT), queryApi(prom.url, 'query_range', params)]);
    expect(ours.status, JSON.stringify(ours.body)).toBe(theirs.status);
    expectSameResult(query, ours.body, theirs.body);
  });

  it('received real data (not an empty comparison)', async () => {
    // Hundreds of series from a real scrape arrived, and each comparison above saw the same ones.
    const r = await queryApi(svc.url, 'query', { query: 'count({__name__=~"prometheus_.+"})', time: String(evalTimeSec) }, TENANT);
    expect(Number(r.body.data.result[0].value[1])).toBeGreaterThan(100);
  });
});
