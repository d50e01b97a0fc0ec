import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushBody } from '../helpers/remote-write.js';
import { encodeRichBody } from '../helpers/rich-write.js';
import { startService, tempDir, type RunningService } from '../helpers/service.js';

// Replays what Grafana's Prometheus data source sends (http-api.md §5) against a real `all`
// process, and proves tenant isolation: two tenants write identically named series, exemplars
// and metadata, and neither sees the other's through any endpoint.
const TENANTS = ['team-a', 'team-b'] as const;
const MINUTE = 60_000;
// Recent, minute-aligned data so no age limit applies: 11 samples, 15 s apart, ending 1 min ago.
const END_MS = Math.floor(Date.now() / MINUTE) * MINUTE - MINUTE;
const START_MS = END_MS - 10 * 15_000;
const VALUE_SCALE: Record<string, number> = { 'team-a': 1, 'team-b': 100 };
const COUNTER = 'http_requests_total';

function samples(tenant: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let t = START_MS, i = 0; t <= END_MS; t += 15_000, i++) out.push([t, i * 15 * (VALUE_SCALE[tenant] as number)]);
  return out;
}

async function api(svc: RunningService, method: 'GET' | 'POST', path: string, params: Record<string, string | string[]>, tenant?: string): Promise<{ status: number; body: any }> {
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const x of Array.isArray(v) ? v : [v]) form.append(k, x);
  const headers: Record<string, string> = tenant === undefined ? {} : { 'X-Scope-OrgID': tenant };
  const url = `${svc.url}${path}${method === 'GET' && [...form].length > 0 ? `?${form}` : ''}`;
  const res =
    method === 'GET'
      ? await fetch(url, { headers })
      : await fetch(url, { method: 'POST', headers: { ...headers, 'Content-Type': 'application/x-www-form-urlencoded' }, body: form.toString() });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON (e.g. /metrics)
  }
  return { status: res.status, body };
}

const secs = (ms: number): string => String(ms / 1000);

describe('Grafana Prometheus data source contract, and tenant isolation', () => {
  const data = tempDir('grafana');
  let svc: RunningService;

  beforeAll(async () => {
    svc = await startService('all', [`--data-dir=${data.dir}`]);
    for (const tenant of TENANTS) {
      const body = encodeRichBody(
        [
          {
            labels: { __name__: COUNTER, job: 'api', instance: 'x:9100' },
            samples: samples(tenant),
            exemplars: [{ labels: { trace_id: `trace-${tenant}` }, value: 6, tsMs: END_MS - 1000 }],
          },
          { labels: { __name__: `only_${tenant.replace('-', '_')}`, job: 'api' }, samples: [[END_MS, 1]] },
        ],
        [{ metric: COUNTER, type: 1, help: `requests of ${tenant}`, unit: '' }],
      );
      const res = await pushBody(svc.url, body, { 'X-Scope-OrgID': tenant });
      expect(res.status, await res.text()).toBe(204);
      expect(res.headers.get('X-Prometheus-Remote-Write-Exemplars-Written')).toBe('1');
    }
  });

  afterAll(async () => {
    await svc?.stop();
    data.remove();
  });

  it('health check: instant query 1+1 at time=4', async () => {
    for (const method of ['GET', 'POST'] as const) {
      const r = await api(svc, method, '/api/v1/query', { query: '1+1', time: '4' }, 'team-a');
      expect(r).toEqual({ status: 200, body: { status: 'success', data: { resultType: 'scalar', result: [4, '2'] } } });
    }
  });

  it('buildinfo: Prometheus-shaped strings without `features` (so Grafana does not assume Mimir)', async () => {
    const r = await api(svc, 'GET', '/api/v1/status/buildinfo', {});
    expect(r.status).toBe(200);
    expect(Object.keys(r.body.data).sort()).toEqual(['branch', 'buildDate', 'buildUser', 'goVersion', 'revision', 'version']);
    expect(r.body.data.features).toBeUndefined();
  });

  it('metric browser: label names and __name__ values with start/end/limit, GET and POST', async () => {
    const window = { start: String(Math.floor(START_MS / 1000) - 60), end: String(Math.ceil(END_MS / 1000) + 60) };
    const names = await api(svc, 'POST', '/api/v1/labels', { ...window, 'match[]': `{__name__="${COUNTER}"}`, limit: '40000' }, 'team-a');
    expect(names.body).toEqual({ status: 'success', data: ['__name__', 'instance', 'job'] });
    const values = await api(svc, 'GET', '/api/v1/label/__name__/values', { ...window, limit: '40000' }, 'team-a');
    expect(values.body).toEqual({ status: 'success', data: [COUNTER, 'only_team_a'] });
    const limited = await api(svc, 'GET', '/api/v1/label/__name__/values', { ...window, limit: '1' }, 'team-a');
    expect(limited.body).toEqual({ status: 'success', data: [COUNTER], warnings: ['results truncated due to limit'] });
    const jobs = await api(svc, 'GET', '/api/v1/label/job/values', { ...window, 'match[]': COUNTER }, 'team-a');
    expect(jobs.body.data).toEqual(['api']);
  });

  it('series with the match-all selector {__name__!=""}, POST and GET fallback', async () => {
    for (const method of ['POST', 'GET'] as const) {
      const r = await api(svc, method, '/api/v1/series', { 'match[]': '{__name__!=""}', start: secs(START_MS), end: secs(END_MS), limit: '40000' }, 'team-b');
      expect(r.body).toEqual({
        status: 'success',
        data: [
          { __name__: COUNTER, instance: 'x:9100', job: 'api' },
          { __name__: 'only_team_b', job: 'api' },
        ],
      });
    }
  });

  it('metadata from remote write, per tenant', async () => {
    const a = await api(svc, 'GET', '/api/v1/metadata', {}, 'team-a');
    expect(a.body).toEqual({ status: 'success', data: { [COUNTER]: [{ type: 'counter', help: 'requests of team-a', unit: '' }] } });
    const b = await api(svc, 'GET', '/api/v1/metadata', { metric: COUNTER, limit: '1' }, 'team-b');
    expect(b.body.data).toEqual({ [COUNTER]: [{ type: 'counter', help: 'requests of team-b', unit: '' }] });
  });

  it('exemplars: the frontend probe with millisecond times succeeds, and a real query returns Prometheus JSON', async () => {
    const probe = await api(svc, 'GET', '/api/v1/query_exemplars', { query: 'test', start: String(START_MS), end: String(END_MS) }, 'team-a');
    expect(probe.body).toEqual({ status: 'success', data: [] });
    const r = await api(svc, 'POST', '/api/v1/query_exemplars', { query: `sum(rate(${COUNTER}[1m0s]))`, start: secs(START_MS), end: secs(END_MS) }, 'team-a');
    expect(r.body).toEqual({
      status: 'success',
      data: [
        {
          seriesLabels: { __name__: COUNTER, instance: 'x:9100', job: 'api' },
          exemplars: [{ labels: { trace_id: 'trace-team-a' }, value: '6', timestamp: (END_MS - 1000) / 1000 }],
        },
      ],
    });
  });

  it('dashboard panel: query_range with aligned start/end and a $__rate_interval-style [1m0s] window (POST form)', async () => {
    const step = 15;
    const r = await api(
      svc,
      'POST',
      '/api/v1/query_range',
      { query: `sum by (job) (rate(${COUNTER}[1m0s]))`, start: secs(START_MS + MINUTE), end: secs(END_MS), step: String(step), timeout: '30s' },
      'team-b',
    );
    expect(r.status).toBe(200);
    expect(r.body.data.resultType).toBe('matrix');
    expect(r.body.data.result).toHaveLength(1);
    expect(r.body.data.result[0].metric).toEqual({ job: 'api' });
    // team-b's counter grows by 1500 per 15 s: rate 100/s.
    for (const [, v] of r.body.data.result[0].values as Array<[number, string]>) expect(Number(v)).toBeCloseTo(100, 9);
  });

  it('rules (no ruler: empty groups) and format_query', async () => {
    expect((await api(svc, 'GET', '/api/v1/rules', {}, 'team-a')).body).toEqual({ status: 'success', data: { groups: [] } });
    const f = await api(svc, 'POST', '/api/v1/format_query', { query: 'sum(rate(foo{bar="baz"}[5m]))by(job)' });
    expect(f.body).toEqual({ status: 'success', data: 'sum by (job) (rate(foo{bar="baz"}[5m]))' });
    const bad = await api(svc, 'GET', '/api/v1/format_query', { query: 'sum(' });
    expect(bad.status).toBe(400);
    expect(bad.body.errorType).toBe('bad_data');
  });

  describe('isolation: identically named series never leak between tenants', () => {
    const window = () => ({ start: secs(START_MS), end: secs(END_MS) });
    it.each(TENANTS)('%s sees only its own data on every endpoint', async (tenant) => {
      const other = tenant === 'team-a' ? 'team-b' : 'team-a';
      const scale = VALUE_SCALE[tenant] as number;
      const q = await api(svc, 'GET', '/api/v1/query', { query: COUNTER, time: secs(END_MS) }, tenant);
      expect(q.body.data.result).toEqual([{ metric: { __name__: COUNTER, instance: 'x:9100', job: 'api' }, value: [END_MS / 1000, String(150 * scale)] }]);
      const qr = await api(svc, 'GET', '/api/v1/query_range', { query: COUNTER, start: secs(START_MS), end: secs(END_MS), step: '15' }, tenant);
      expect(qr.body.data.result).toHaveLength(1);
      expect((qr.body.data.result[0].values as Array<[number, string]>).map((v) => v[1])).toEqual(samples(tenant).map(([, v]) => String(v)));
      const otherOnly = `only_${other.replace('-', '_')}`;
      expect((await api(svc, 'GET', '/api/v1/query', { query: otherOnly, time: secs(END_MS) }, tenant)).body.data.result).toEqual([]);
      const series = await api(svc, 'GET', '/api/v1/series', { 'match[]': '{__name__!=""}', ...window() }, tenant);
      expect(JSON.stringify(series.body)).not.toContain(otherOnly);
      const names = await api(svc, 'GET', '/api/v1/label/__name__/values', window(), tenant);
      expect(names.body.data).toEqual([COUNTER, `only_${tenant.replace('-', '_')}`]);
      const labels = await api(svc, 'GET', '/api/v1/labels', { 'match[]': otherOnly }, tenant);
      expect(labels.body.data).toEqual([]);
      const md = await api(svc, 'GET', '/api/v1/metadata', {}, tenant);
      expect(JSON.stringify(md.body)).not.toContain(other);
      const ex = await api(svc, 'GET', '/api/v1/query_exemplars', { query: COUNTER, ...window() }, tenant);
      expect(JSON.stringify(ex.body)).toContain(`trace-${tenant}`);
      expect(JSON.stringify(ex.body)).not.toContain(`trace-${other}`);
    });

    it('an unknown tenant sees nothing at all', async () => {
      expect((await api(svc, 'GET', '/api/v1/series', { 'match[]': '{__name__!=""}' }, 'nobody')).body.data).toEqual([]);
      expect((await api(svc, 'GET', '/api/v1/metadata', {}, 'nobody')).body.data).toEqual({});
      expect((await api(svc, 'GET', '/api/v1/query_exemplars', { query: COUNTER }, 'nobody')).body.data).toEqual([]);
    });
  });

  describe('federation: X-Scope-OrgID a|b', () => {
    const both = 'team-b|team-a|team-a';
    it('query results carry __tenant_id__ for each tenant, sorted', async () => {
      const r = await api(svc, 'GET', '/api/v1/query', { query: COUNTER, time: secs(END_MS) }, both);
      const got = (r.body.data.result as Array<{ metric: Record<string, string>; value: [number, string] }>).map((e) => [e.metric.__tenant_id__, e.value[1]]).sort();
      expect(got).toEqual([
        ['team-a', '150'],
        ['team-b', '15000'],
      ]);
    });

    it('matchers on __tenant_id__ pick tenants; label values of __tenant_id__ list them', async () => {
      const r = await api(svc, 'GET', '/api/v1/query', { query: `${COUNTER}{__tenant_id__="team-b"}`, time: secs(END_MS) }, both);
      expect(r.body.data.result).toHaveLength(1);
      expect(r.body.data.result[0].metric.__tenant_id__).toBe('team-b');
      const v = await api(svc, 'GET', '/api/v1/label/__tenant_id__/values', {}, both);
      expect(v.body.data).toEqual(['team-a', 'team-b']);
      const s = await api(svc, 'GET', '/api/v1/series', { 'match[]': 'only_team_a' }, both);
      expect(s.body.data).toEqual([{ __name__: 'only_team_a', __tenant_id__: 'team-a', job: 'api' }]);
    });

    it('writes still take exactly one tenant', async () => {
      const res = await pushBody(svc.url, encodeRichBody([{ labels: { __name__: 'x' }, samples: [[END_MS, 1]] }]), { 'X-Scope-OrgID': 'team-a|team-b' });
      expect(res.status).toBe(400);
    });
  });

  it('/metrics exposes ingest, query and storage figures', async () => {
    const r = await api(svc, 'GET', '/metrics', {});
    expect(r.status).toBe(200);
    const text = r.body as string;
    for (const name of [
      'promstore_ingest_samples_received_total{tenant="team-a"} 12',
      'promstore_ingest_active_series{tenant="team-a"} 2',
      'promstore_ingest_exemplars_written_total{tenant="team-b"} 1',
      'promstore_query_samples_loaded_total',
      'promstore_query_duration_seconds_bucket',
      'promstore_http_request_duration_seconds_bucket{',
      'promstore_storage_series',
      'promstore_storage_disk_bytes',
      'promstore_storage_wal_bytes',
      'promstore_storage_up 1',
      'nodejs_eventloop_lag_p99_seconds',
    ]) {
      expect(text).toContain(name);
    }
  });
});
