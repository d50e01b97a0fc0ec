import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../common/auth.js';
import { waitFor } from '../helpers/poll.js';
import { pushSeries, queryApi, type TestSeries } from '../helpers/remote-write.js';
import { startService, tempDir, type RunningService } from '../helpers/service.js';

// Per-tenant limits from a runtime-config file (status codes, messages, reload on SIGHUP, a broken
// file keeping the last good one), query limits, and optional authentication.
const NOW = Math.floor(Date.now() / 1000) * 1000 - 60_000;

const RUNTIME_CONFIG = `
overrides:
  tiny:
    max_label_names_per_series: 3
    max_global_series_per_user: 2
    sample_limit: 50
  ratey:
    ingestion_rate: 1
    ingestion_burst_size: 10
  qlimited:
    max_fetched_series_per_query: 1
    max_query_length: 1h
`;

const one = (name: string, labels: Record<string, string> = {}, t = NOW): TestSeries => ({ labels: { __name__: name, ...labels }, samples: [[t, 1]] });

describe('per-tenant limits from the runtime config', () => {
  const data = tempDir('limits');
  const runtimeFile = join(data.dir, 'runtime.yml');
  let svc: RunningService;

  beforeAll(async () => {
    writeFileSync(runtimeFile, RUNTIME_CONFIG);
    svc = await startService('all', [`--data-dir=${join(data.dir, 'data')}`, `--runtime-config.file=${runtimeFile}`, '--runtime-config.reload-period=1h']);
  });

  afterAll(async () => {
    await svc?.stop();
    data.remove();
  });

  it('label limit: 400 naming limit, tenant and value; the valid series of the request is stored', async () => {
    const res = await pushSeries(svc.url, [one('too_many', { a: '1', b: '2', c: '3' }), one('fine', { job: 'j' })], 'tiny');
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).toContain('tenant "tiny"');
    expect(text).toContain('series has 4 labels, limit 3 (limits.max_label_names_per_series)');
    expect(text).toContain('[err-max-label-names]');
    const r = await queryApi(svc.url, 'query', { query: 'fine', time: String(NOW / 1000) }, 'tiny');
    expect(r.body.data.result).toHaveLength(1);
  });

  it('sample limit: the whole request is 400 and nothing is stored', async () => {
    const samples: Array<[number, number]> = [];
    for (let i = 0; i < 51; i++) samples.push([NOW - 51_000 + i * 1000, i]);
    const res = await pushSeries(svc.url, [{ labels: { __name__: 'big' }, samples }], 'tiny');
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/request has 51 samples.*limit 50 \(limits\.sample_limit\).*\[err-sample-limit\]/);
    expect((await queryApi(svc.url, 'query', { query: 'big', time: String(NOW / 1000) }, 'tiny')).body.data.result).toEqual([]);
  });

  it('active series limit: new series beyond it are refused, known ones keep working', async () => {
    // `fine` is active; one more fits, the third does not.
    const res = await pushSeries(svc.url, [one('second', {}, NOW + 1000), one('third', {}, NOW + 1000)], 'tiny');
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/has 2 active series, limit 2 \(limits\.max_global_series_per_user\).*\[err-max-series-per-tenant\]/);
    expect((await pushSeries(svc.url, [one('fine', { job: 'j' }, NOW + 2000)], 'tiny')).status).toBe(204);
  });

  it('rate limit: 429 with Retry-After for the whole request, nothing stored', async () => {
    const ten: TestSeries[] = [];
    for (let i = 0; i < 10; i++) ten.push(one('r', { i: String(i) }));
    expect((await pushSeries(svc.url, ten, 'ratey')).status).toBe(204);
    const res = await pushSeries(svc.url, [one('late', {})], 'ratey');
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await res.text()).toMatch(/tenant "ratey": ingestion rate limit .*\(limits\.ingestion_rate, limits\.ingestion_burst_size\).*\[err-ingestion-rate-limited\]/);
  });

  it('query limits: too many series is 422 execution, too long a range is 400 bad_data', async () => {
    expect((await pushSeries(svc.url, [one('q', { i: '1' }), one('q', { i: '2' })], 'qlimited')).status).toBe(204);
    const many = await queryApi(svc.url, 'query', { query: 'q', time: String(NOW / 1000) }, 'qlimited');
    expect(many.status).toBe(422);
    expect(many.body.errorType).toBe('execution');
    expect(many.body.error).toMatch(/loaded 2 series, limit 1 .*max_fetched_series_per_query/);
    const long = await queryApi(svc.url, 'query_range', { query: 'q', start: String(NOW / 1000 - 7200), end: String(NOW / 1000), step: '60' }, 'qlimited');
    expect(long.status).toBe(400);
    expect(long.body.error).toMatch(/query length: 2h, limit: 1h.*max_query_length/);
    // Other tenants are unaffected by qlimited's overrides.
    expect((await pushSeries(svc.url, [one('q', { i: '1' }), one('q', { i: '2' })], 'roomy')).status).toBe(204);
    expect((await queryApi(svc.url, 'query', { query: 'q', time: String(NOW / 1000) }, 'roomy')).body.data.result).toHaveLength(2);
  });

  it('discarded samples are counted by tenant and reason', async () => {
    const text = await (await fetch(`${svc.url}/metrics`)).text();
    expect(text).toContain('promstore_ingest_discarded_samples_total{tenant="tiny",reason="max-label-names"} 1');
    expect(text).toContain('promstore_ingest_discarded_samples_total{tenant="tiny",reason="sample-limit"} 51');
    expect(text).toContain('promstore_ingest_discarded_samples_total{tenant="tiny",reason="max-series-per-tenant"} 1');
    expect(text).toContain('promstore_ingest_discarded_samples_total{tenant="ratey",reason="ingestion-rate-limited"} 1');
  });

  it('SIGHUP reloads the runtime config; a broken file keeps the last good one', async () => {
    const wide = one('wide', { a: '1', b: '2', c: '3' }, NOW + 5000);
    writeFileSync(runtimeFile, RUNTIME_CONFIG.replace('max_label_names_per_series: 3', 'max_label_names_per_series: 4').replace('max_global_series_per_user: 2', 'max_global_series_per_user: 100'));
    svc.proc.kill('SIGHUP');
    await waitFor('the new label limit', async () => ((await pushSeries(svc.url, [wide], 'tiny')).status === 204 ? true : undefined));
    writeFileSync(runtimeFile, 'overrides: [this is: not valid');
    svc.proc.kill('SIGHUP');
    await waitFor('the reload failure to be logged', async () => (svc.output().includes('config reload failed') ? true : undefined));
    const res = await pushSeries(svc.url, [one('wider', { a: '1', b: '2', c: '3', d: '4' }, NOW + 5000)], 'tiny');
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('series has 5 labels, limit 4');
  });
});

describe('authentication (--auth.file)', () => {
  const data = tempDir('auth');
  let svc: RunningService;
  const TOKEN_A = 'token-for-team-a-0123456789';
  const PASSWORD = 'grafana-password-9876';
  const basic = `Basic ${Buffer.from(`grafana:${PASSWORD}`).toString('base64')}`;

  beforeAll(async () => {
    const authFile = join(data.dir, 'auth.yml');
    writeFileSync(
      authFile,
      `tokens:\n  - name: prom-a\n    token: "${TOKEN_A}"\n    tenants: [team-a]\nusers:\n  - username: grafana\n    password_sha256: "${hashSecret(PASSWORD)}"\n    tenants: ["*"]\n`,
    );
    svc = await startService('all', [`--data-dir=${join(data.dir, 'data')}`, `--auth.file=${authFile}`, '--log.level=info']);
  });

  afterAll(async () => {
    await svc?.stop();
    data.remove();
  });

  const push = (headers: Record<string, string>) =>
    fetch(`${svc.url}/api/v1/push`, {
      method: 'POST',
      headers: { 'Content-Encoding': 'snappy', 'Content-Type': 'application/x-protobuf', ...headers },
      body: Buffer.from([0]),
    });
  const query = (headers: Record<string, string>) => fetch(`${svc.url}/api/v1/query?query=up&time=${NOW / 1000}`, { headers });

  it.each<[string, Record<string, string>, number]>([
    ['no credentials (write)', {}, 401],
    ['wrong token (write)', { Authorization: 'Bearer nope' }, 401],
    ['token, its own tenant implied (write)', { Authorization: `Bearer ${TOKEN_A}` }, 204],
    ['token, its own tenant named (write)', { Authorization: `Bearer ${TOKEN_A}`, 'X-Scope-OrgID': 'team-a' }, 204],
    ['token, another tenant (write)', { Authorization: `Bearer ${TOKEN_A}`, 'X-Scope-OrgID': 'team-b' }, 403],
    ['basic auth with the wrong password', { Authorization: `Basic ${Buffer.from('grafana:x').toString('base64')}`, 'X-Scope-OrgID': 'team-a' }, 401],
  ])('%s → %i', async (_name, headers, status) => {
    expect((await push(headers)).status).toBe(status);
  });

  it.each<[string, Record<string, string>, number]>([
    ['no credentials (read)', {}, 401],
    ['token, another tenant (read)', { Authorization: `Bearer ${TOKEN_A}`, 'X-Scope-OrgID': 'team-b' }, 403],
    ['token, federated read including a foreign tenant', { Authorization: `Bearer ${TOKEN_A}`, 'X-Scope-OrgID': 'team-a|team-b' }, 403],
    ['basic auth, any tenant', { Authorization: basic, 'X-Scope-OrgID': 'team-b' }, 200],
    ['basic auth, federated', { Authorization: basic, 'X-Scope-OrgID': 'team-a|team-b' }, 200],
  ])('%s → %i', async (_name, headers, status) => {
    const res = await query(headers);
    expect(res.status).toBe(status);
    if (status !== 200) expect(((await res.json()) as { status: string }).status).toBe('error');
  });

  it('never logs a secret', () => {
    expect(svc.output()).not.toContain(TOKEN_A);
    expect(svc.output()).not.toContain(PASSWORD);
  });
});
