import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeBody, queryApi } from '../helpers/remote-write.js';
import { findPrometheus, type RunningPrometheus } from '../helpers/prometheus.js';
import { startPrometheusReceiver } from '../helpers/prometheus-receiver.js';
import { WORKLOAD_SLOTS, generatePromqlWorkload, type PromqlWorkload } from '../helpers/promql-workload.js';
import { startService, tempDir, type RunningService } from '../helpers/service.js';
import { DIFFERENTIAL_QUERIES } from '../helpers/promql-differential-queries.js';

// Differential test of the PromQL engine: the same generated data (counters with resets, gauges,
// classic histograms, gaps, staleness markers) is remote-written into a real Prometheus 2.42 and into
// us; every query of DIFFERENTIAL_QUERIES runs as instant queries at several times and as range
// queries on both, and the answers must be identical: status, errorType, result type, series,
// timestamps, values within 1e-9 relative. In CI a missing prometheus binary fails the test.
const binary = findPrometheus();
const inCI = process.env['CI'] === 'true';

type Sample = [number, string];
interface SeriesJson { metric: Record<string, string>; value?: Sample; values?: Sample[] }
interface Answer { status: number; body: any }

/** Replaces `{{m}}` placeholders (minutes after the data start) with Unix seconds. */
function expand(query: string, startMs: number): string {
  return query.replace(/\{\{([0-9.]+)\}\}/g, (_, m: string) => String((startMs + Number(m) * 60_000) / 1000));
}

function sameValue(a: string, b: string): boolean {
  if (a === b) return true;
  const x = Number(a);
  const y = Number(b);
  if (Number.isNaN(x) && Number.isNaN(y)) return true;
  if (!Number.isFinite(x) || !Number.isFinite(y)) return false;
  return Math.abs(x - y) <= 1e-9 * Math.max(Math.abs(x), Math.abs(y));
}

function labelKey(metric: Record<string, string>): string {
  return JSON.stringify(Object.entries(metric).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Every difference between our answer and Prometheus's, as readable lines (empty = identical). */
export function diffAnswers(what: string, ours: Answer, theirs: Answer, ordered: boolean): string[] {
  const d: string[] = [];
  if (ours.status !== theirs.status) d.push(`${what}: status ${ours.status} vs prometheus ${theirs.status} (${JSON.stringify(ours.body).slice(0, 300)} | ${JSON.stringify(theirs.body).slice(0, 300)})`);
  const a = ours.body;
  const b = theirs.body;
  if (a?.status !== b?.status) {
    if (d.length === 0) d.push(`${what}: ${a?.status} vs prometheus ${b?.status}`);
    return d;
  }
  if (b.status !== 'success') {
    if (a.errorType !== b.errorType) d.push(`${what}: errorType ${a.errorType} (${a.error}) vs prometheus ${b.errorType} (${b.error})`);
    return d;
  }
  if (a.data.resultType !== b.data.resultType) return [...d, `${what}: resultType ${a.data.resultType} vs prometheus ${b.data.resultType}`];
  if (a.data.resultType === 'scalar' || a.data.resultType === 'string') {
    const [ta, va] = a.data.result as Sample;
    const [tb, vb] = b.data.result as Sample;
    if (ta !== tb) d.push(`${what}: time ${ta} vs prometheus ${tb}`);
    if (a.data.resultType === 'string' ? va !== vb : !sameValue(va, vb)) d.push(`${what}: value ${va} vs prometheus ${vb}`);
    return d;
  }
  const rowsOf = (r: SeriesJson[]): Array<{ key: string; values: Sample[] }> => r.map((s) => ({ key: labelKey(s.metric), values: s.values ?? (s.value ? [s.value] : []) }));
  const ra = rowsOf(a.data.result);
  const rb = rowsOf(b.data.result);
  if (ordered) {
    // sort()/sort_desc(): the order of values must agree (ties may order labels either way).
    const va = ra.map((r) => r.values[0]?.[1] ?? '');
    const vb = rb.map((r) => r.values[0]?.[1] ?? '');
    if (va.length === vb.length && va.some((v, i) => !sameValue(v, vb[i] as string))) d.push(`${what}: order of values ${va.join(',')} vs prometheus ${vb.join(',')}`);
  }
  const byKey = (rows: typeof ra): Map<string, Sample[]> => new Map(rows.map((r) => [r.key, r.values]));
  const ma = byKey(ra);
  const mb = byKey(rb);
  if (ma.size !== ra.length) d.push(`${what}: we returned duplicate series`);
  for (const [k] of ma) if (!mb.has(k)) d.push(`${what}: extra series ${k}`);
  for (const [k] of mb) if (!ma.has(k)) d.push(`${what}: missing series ${k}`);
  for (const [k, va] of ma) {
    const vb = mb.get(k);
    if (vb === undefined) continue;
    const tsA = va.map((s) => s[0]).join(',');
    const tsB = vb.map((s) => s[0]).join(',');
    if (tsA !== tsB) {
      d.push(`${what}: ${k} timestamps ${tsA} vs prometheus ${tsB}`);
      continue;
    }
    const bad = va.flatMap(([t, v], i) => (sameValue(v, vb[i]![1]) ? [] : [`@${t}: ${v} vs ${vb[i]![1]}`]));
    if (bad.length > 0) d.push(`${what}: ${k} values ${bad.slice(0, 5).join('; ')}${bad.length > 5 ? ` (+${bad.length - 5} more)` : ''}`);
  }
  return d;
}

describe.skipIf(binary === null && !inCI)('PromQL differential test against Prometheus 2.42', () => {
  const data = tempDir('promql-diff');
  let svc: RunningService;
  let prom: RunningPrometheus;
  let w: PromqlWorkload;

  beforeAll(async () => {
    if (binary === null) throw new Error('prometheus binary not found on PATH (apt-get install prometheus); required in CI');
    [svc, prom] = await Promise.all([startService('all', [`--data-dir=${data.dir}`]), startPrometheusReceiver(binary)]);
    // Data ends a minute before now: Prometheus's head accepts samples up to 1 h older than its newest.
    w = generatePromqlWorkload(Date.now() - 51 * 60_000);
    const body = encodeBody(w.batch);
    const headers = { 'Content-Encoding': 'snappy', 'Content-Type': 'application/x-protobuf', 'X-Prometheus-Remote-Write-Version': '0.1.0' };
    const [a, b] = await Promise.all([
      fetch(`${svc.url}/api/v1/push`, { method: 'POST', body, headers }),
      fetch(`${prom.url}/api/v1/write`, { method: 'POST', body, headers }),
    ]);
    expect(a.status, await a.text()).toBe(204);
    expect(b.status, await b.text()).toBe(204);
  }, 60_000);

  afterAll(async () => {
    await prom?.stop();
    await svc?.stop();
    data.remove();
  });

  it('both received the whole data set', async () => {
    const t = String(w.endMs / 1000);
    const q = { query: 'count({__name__=~"dt_.+"})', time: t };
    const [ours, theirs] = await Promise.all([queryApi(svc.url, 'query', q), queryApi(prom.url, 'query', q)]);
    // Every series but the one that went stale is visible at the end.
    expect(Number(ours.body.data.result[0].value[1])).toBe(w.seriesCount - 1);
    expect(ours.body.data.result).toEqual(theirs.body.data.result);
    // The raw samples: a range selector skips the 2 staleness markers.
    const n = { query: '{__name__=~"dt_.+"}[1h]', time: t };
    const [on, tn] = await Promise.all([queryApi(svc.url, 'query', n), queryApi(prom.url, 'query', n)]);
    const points = (body: any): number => (body.data.result as SeriesJson[]).reduce((k, r) => k + (r.values?.length ?? 0), 0);
    expect(points(on.body)).toBe(w.sampleCount - 2);
    expect(points(tn.body)).toBe(w.sampleCount - 2);
    expect(diffAnswers('raw samples', on, tn, false)).toEqual([]);
  });

  it('has at least 200 queries', () => {
    expect(new Set(DIFFERENTIAL_QUERIES).size).toBe(DIFFERENTIAL_QUERIES.length);
    expect(DIFFERENTIAL_QUERIES.length).toBeGreaterThanOrEqual(200);
  });

  it('rejects a range query with more than 11,000 points per series like Prometheus', async () => {
    // Prometheus checks (end - start) / step > 11000, so 11,001 points still pass.
    const q = { query: 'dt_gauge', start: String(w.startMs / 1000), end: String(w.startMs / 1000 + 11_001), step: '1' };
    const [ours, theirs] = await Promise.all([queryApi(svc.url, 'query_range', q), queryApi(prom.url, 'query_range', q)]);
    expect(theirs.status).toBe(400);
    expect(diffAnswers('11002 points', ours, theirs, false)).toEqual([]);
    const ok = { ...q, end: String(w.startMs / 1000 + 11_000) };
    const [o2, t2] = await Promise.all([queryApi(svc.url, 'query_range', ok), queryApi(prom.url, 'query_range', ok)]);
    expect(t2.status).toBe(200);
    expect(diffAnswers('11001 points', o2, t2, false)).toEqual([]);
  });

  it.each(DIFFERENTIAL_QUERIES)('%s', async (template) => {
    const query = expand(template, w.startMs);
    const s = w.startMs / 1000;
    const ordered = /^\s*sort(_desc)?\s*\(/.test(query);
    const evals: Array<{ what: string; path: string; params: Record<string, string> }> = [
      // On a scrape, between scrapes, on the last scrape, and past the end of the data.
      ...[20 * 60, 37 * 60 + 7.3, 49 * 60 + 45, 53 * 60, 56 * 60].map((dt) => ({ what: `instant @+${dt}s`, path: 'query', params: { query, time: String(s + dt) } })),
      { what: 'range +5m..+49m45s step 60s', path: 'query_range', params: { query, start: String(s + 300), end: String(s + 2985), step: '60' } },
      { what: 'range +3m3.3s..+55m step 97s', path: 'query_range', params: { query, start: String(s + 183.3), end: String(s + 3300), step: '97' } },
      { what: 'range +29m..+31m step 15s', path: 'query_range', params: { query, start: String(s + 1740), end: String(s + 1860), step: '15' } },
    ];
    const diffs: string[] = [];
    for (const e of evals) {
      const [ours, theirs] = await Promise.all([queryApi(svc.url, e.path, e.params), queryApi(prom.url, e.path, e.params)]);
      diffs.push(...diffAnswers(e.what, ours, theirs, ordered && e.path === 'query'));
    }
    expect(diffs, `${query}\n${diffs.join('\n')}`).toEqual([]);
  });
});
