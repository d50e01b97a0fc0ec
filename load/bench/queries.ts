/**
 * The dashboard queries of the benchmark, and running them against a Prometheus-compatible query
 * API. Each query runs once to warm up, then `runs` times; the median latency is reported.
 */
import { nearestRank } from '../generator/run.js';

/** One dashboard query. */
export interface BenchQuery {
  /** Short stable name, used as a table column. */
  readonly name: string;
  readonly expr: string;
  /** Instant query at the end of the data, or a range query over `rangeSec` ending there. */
  readonly kind: 'instant' | 'range';
  readonly rangeSec: number;
  readonly stepSec: number;
}

/**
 * About ten queries a Grafana dashboard over the workload would run: rates, sums by label,
 * histogram_quantile over the classic histogram, topk, and a selector matching thousands of series.
 */
export function dashboardQueries(prefix: string): BenchQuery[] {
  const r = (name: string, expr: string, rangeSec = 3600, stepSec = 15): BenchQuery => ({ name, expr, kind: 'range', rangeSec, stepSec });
  const i = (name: string, expr: string): BenchQuery => ({ name, expr, kind: 'instant', rangeSec: 0, stepSec: 0 });
  return [
    r('sum-rate-by-job', `sum by (job) (rate(${prefix}http_requests_total[5m]))`),
    r('rate-one-series', `rate(${prefix}http_requests_total{job="job-1",instance="host-03:9100",shard="0"}[5m])`),
    r('p99-by-job', `histogram_quantile(0.99, sum by (le, job) (rate(${prefix}http_request_duration_seconds_bucket[5m])))`),
    r('topk-bytes', `topk(5, sum by (instance) (rate(${prefix}http_response_bytes_total[5m])))`),
    r('avg-cpu-by-job', `avg by (job) (${prefix}cpu_utilisation_ratio)`),
    r('max-mem-mib', `max by (instance) (${prefix}process_resident_memory_bytes) / 1024 / 1024`),
    r('increase-2h', `sum(increase(${prefix}http_requests_total[1h]))`, 7200, 60),
    i('instant-sum-rate', `sum(rate(${prefix}http_requests_total[5m]))`),
    i('high-card-selector', `${prefix}cpu_utilisation_ratio`),
    i('count-by-job', `count by (job) ({__name__=~"${prefix}.+"})`),
    i('topk-mem', `topk(10, ${prefix}process_resident_memory_bytes)`),
  ];
}

/** Result of one query on one system. */
export interface QueryResult {
  readonly name: string;
  /** Median latency of the timed runs, ms; NaN when the query failed. */
  readonly medianMs: number;
  /** Series in the result (to check the systems agree); -1 on failure. */
  readonly resultSeries: number;
  /** Error of the first failed run, else ''. */
  readonly error: string;
}

/** Sends one query; returns the latency and the number of result series, or the error. */
export async function runQueryOnce(
  base: string,
  q: BenchQuery,
  endSec: number,
  headers: Record<string, string>,
): Promise<{ ms: number; series: number; error: string }> {
  const params = new URLSearchParams({ query: q.expr });
  let path = '/api/v1/query';
  if (q.kind === 'instant') params.set('time', String(endSec));
  else {
    path = '/api/v1/query_range';
    params.set('start', String(endSec - q.rangeSec));
    params.set('end', String(endSec));
    params.set('step', String(q.stepSec));
  }
  const t0 = performance.now();
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
    body: params.toString(),
  });
  const text = await res.text();
  const ms = performance.now() - t0;
  let body: { status?: string; error?: string; data?: { result?: unknown } };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return { ms, series: -1, error: `${res.status}: ${text.slice(0, 200)}` };
  }
  if (res.status !== 200 || body.status !== 'success') return { ms, series: -1, error: `${res.status}: ${String(body.error ?? text).slice(0, 200)}` };
  const result = body.data?.result;
  return { ms, series: Array.isArray(result) ? result.length : 1, error: '' };
}

/** Warm-up time above which a query is timed once instead of `runs` times (keeps a run bounded). */
export const SLOW_QUERY_MS = 5000;

/**
 * Runs every query: one warm-up, then `runs` timed runs (1 when the warm-up took over
 * SLOW_QUERY_MS); medians by nearest rank.
 */
export async function runQueries(
  base: string,
  queries: readonly BenchQuery[],
  endSec: number,
  runs: number,
  headers: Record<string, string>,
): Promise<QueryResult[]> {
  const out: QueryResult[] = [];
  for (const q of queries) {
    const warm = await runQueryOnce(base, q, endSec, headers);
    if (warm.error !== '') {
      out.push({ name: q.name, medianMs: NaN, resultSeries: -1, error: warm.error });
      continue;
    }
    const n = warm.ms > SLOW_QUERY_MS ? 1 : runs;
    const times = new Float64Array(n);
    let error = '';
    for (let k = 0; k < n; k++) {
      const r = await runQueryOnce(base, q, endSec, headers);
      times[k] = r.ms;
      if (r.error !== '' && error === '') error = r.error;
    }
    times.sort();
    out.push({ name: q.name, medianMs: error === '' ? nearestRank(times, 0.5) : NaN, resultSeries: warm.series, error });
  }
  return out;
}

/**
 * Total samples the system holds for `metrics` in `(endSec − rangeSec, endSec]`: the sum over
 * metrics of `sum(count_over_time(<metric>[…]))`. One query per metric name, because
 * count_over_time drops `__name__` and a regex over several names would produce duplicate label
 * sets (an error in Prometheus). Returns -1 when any query fails.
 */
export async function countSamples(base: string, metrics: readonly string[], endSec: number, rangeSec: number, headers: Record<string, string>): Promise<number> {
  let total = 0;
  for (const m of metrics) {
    const params = new URLSearchParams({ query: `sum(count_over_time(${m}[${rangeSec}s]))`, time: String(endSec) });
    const res = await fetch(`${base}/api/v1/query`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers }, body: params.toString() });
    const body = (await res.json().catch(() => ({}))) as { status?: string; data?: { result?: Array<{ value?: [number, string] }> } };
    if (res.status !== 200 || body.status !== 'success') return -1;
    // No result = no samples of that metric.
    const v = body.data?.result?.[0]?.value?.[1];
    total += v === undefined ? 0 : Number(v);
  }
  return total;
}
