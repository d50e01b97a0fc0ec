import Fastify, { type FastifyInstance } from 'fastify';
import { get as httpGet } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type QueryConfig } from '../../common/config.js';
import { AppError, ErrorKind, badData } from '../../common/errors.js';
import type { Labels, SampleBatch } from '../../common/types.js';
import { MemoryBackend } from '../../storage/backend/memory.js';
import { createLocalStorageClient } from '../../storage/client/local.js';
import type { StorageClient } from '../../storage/client/index.js';
import type { Queryable } from '../queryable.js';
import type { QueryResult } from '../promql/value.js';
import { buildQueryServer } from '../server.js';
import { registerQueryRoutes, type QueryEngine, type QueryEngineOptions } from './routes.js';

const NOW_MS = 1_700_000_000_123;
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

interface EngineCall {
  kind: 'instant' | 'range';
  q: Queryable;
  query: string;
  args: number[];
  opts: QueryEngineOptions | undefined;
}

/** Engine double: records calls and answers with `next` (a result, an error, or a function). */
class FakeEngine implements QueryEngine {
  calls: EngineCall[] = [];
  next: QueryResult | Error | ((opts: QueryEngineOptions | undefined) => Promise<QueryResult>) = {
    value: { type: 'vector', timeMs: 0, elements: [] },
    warnings: [],
  };

  private async _answer(opts: QueryEngineOptions | undefined): Promise<QueryResult> {
    const n = this.next;
    if (typeof n === 'function') return n(opts);
    if (n instanceof Error) throw n;
    return n;
  }

  instantQuery(q: Queryable, query: string, timeMs: number, opts?: QueryEngineOptions): Promise<QueryResult> {
    this.calls.push({ kind: 'instant', q, query, args: [timeMs], opts });
    return this._answer(opts);
  }

  rangeQuery(q: Queryable, query: string, startMs: number, endMs: number, stepMs: number, opts?: QueryEngineOptions): Promise<QueryResult> {
    this.calls.push({ kind: 'range', q, query, args: [startMs, endMs, stepMs], opts });
    return this._answer(opts);
  }
}

function batchOf(series: Array<[Labels, Array<[number, number]>]>): SampleBatch {
  const n = series.reduce((acc, [, s]) => acc + s.length, 0);
  const sampleStart = new Uint32Array(series.length + 1);
  const tsMs = new Float64Array(n);
  const values = new Float64Array(n);
  let k = 0;
  series.forEach(([, samples], i) => {
    sampleStart[i] = k;
    for (const [t, v] of samples) {
      tsMs[k] = t;
      values[k] = v;
      k++;
    }
  });
  sampleStart[series.length] = k;
  return { series: series.map(([l]) => l), sampleStart, tsMs, values };
}

function config(over: Partial<QueryConfig> = {}): QueryConfig {
  return { ...DEFAULT_CONFIG.query, ...over };
}

let backend: MemoryBackend;
let storage: StorageClient;
let engine: FakeEngine;
let app: FastifyInstance;

async function seed(): Promise<void> {
  await backend.append(
    'anonymous',
    batchOf([
      [['__name__', 'up', 'instance', 'a', 'job', 'api'], [[1000, 1]]],
      [['__name__', 'up', 'instance', 'b', 'job', 'api'], [[1000, 0]]],
      [['__name__', 'up', 'instance', 'c', 'job', 'db'], [[1000, 1]]],
      [['__name__', 'http_requests_total', 'code', '200', 'job', 'api'], [[1000, 5]]],
    ]),
  );
  await backend.append('team-b', batchOf([[['__name__', 'only_b', 'job', 'b'], [[1000, 1]]]]));
}

beforeEach(async () => {
  backend = new MemoryBackend();
  storage = createLocalStorageClient(backend);
  engine = new FakeEngine();
  await seed();
  app = buildQueryServer({ storage, engine, config: config(), now: () => NOW_MS });
});

afterEach(async () => {
  await app.close();
});

interface Sent {
  status: number;
  body: string;
  json: { status: string; data?: unknown; errorType?: string; error?: string; warnings?: string[] };
}

async function get(url: string, headers: Record<string, string> = {}): Promise<Sent> {
  const res = await app.inject({ method: 'GET', url, headers });
  return { status: res.statusCode, body: res.body, json: res.json() };
}

async function post(url: string, form: string, headers: Record<string, string> = {}): Promise<Sent> {
  const res = await app.inject({ method: 'POST', url, payload: form, headers: { ...FORM, ...headers } });
  return { status: res.statusCode, body: res.body, json: res.json() };
}

describe('/api/v1/query', () => {
  const vector: QueryResult = {
    value: { type: 'vector', timeMs: 1435781451781, elements: [{ labels: ['__name__', 'up', 'job', 'x'], value: 1 }] },
    warnings: [],
  };

  it.each(['GET', 'POST'])('%s renders a vector byte-exact and passes params to the engine', async (method) => {
    engine.next = vector;
    const qs = 'query=up%7Bjob%3D%22x%22%7D&time=1435781451.781&lookback_delta=1m';
    const res = method === 'GET' ? await get(`/api/v1/query?${qs}`) : await post('/api/v1/query', qs);
    expect(res.status).toBe(200);
    expect(res.body).toBe(
      '{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","job":"x"},"value":[1435781451.781,"1"]}]}}',
    );
    const call = engine.calls[0]!;
    expect(call.kind).toBe('instant');
    expect(call.query).toBe('up{job="x"}');
    expect(call.args).toEqual([1435781451781]);
    expect(call.opts?.lookbackDeltaMs).toBe(60_000);
    expect(call.opts?.signal).toBeInstanceOf(AbortSignal);
  });

  it('POST merges URL and form params, the body winning', async () => {
    await post('/api/v1/query?query=fromurl&time=5', 'query=frombody');
    expect(engine.calls[0]).toMatchObject({ query: 'frombody', args: [5000] });
  });

  it('uses the injected clock when time is absent, and the default lookback', async () => {
    await get('/api/v1/query?query=up');
    expect(engine.calls[0]!.args).toEqual([NOW_MS]);
    expect(engine.calls[0]!.opts?.lookbackDeltaMs).toBeUndefined();
  });

  it('binds the queryable to the tenant of the request', async () => {
    await get('/api/v1/query?query=x', { 'X-Scope-OrgID': 'team-b' });
    const got = await engine.calls[0]!.q.select([{ type: 0, name: '__name__', value: 'only_b' }], 0, 2000);
    expect(got.map((s) => s.labels)).toEqual([['__name__', 'only_b', 'job', 'b']]);
    await get('/api/v1/query?query=x');
    const other = await engine.calls[1]!.q.select([{ type: 0, name: '__name__', value: 'only_b' }], 0, 2000);
    expect(other).toEqual([]);
  });

  it.each<[string, QueryResult, string]>([
    [
      'matrix',
      {
        value: {
          type: 'matrix',
          series: [
            { labels: ['__name__', 'up'], tsMs: new Float64Array([1435781430781, 1435781445781]), values: new Float64Array([1, 0.5]) },
            { labels: [], tsMs: new Float64Array([1435781430000]), values: new Float64Array([NaN]) },
          ],
        },
        warnings: [],
      },
      '{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"up"},"values":[[1435781430.781,"1"],[1435781445.781,"0.5"]]},{"metric":{},"values":[[1435781430,"NaN"]]}]}}',
    ],
    [
      'scalar',
      { value: { type: 'scalar', timeMs: 4000, value: 2 }, warnings: [] },
      '{"status":"success","data":{"resultType":"scalar","result":[4,"2"]}}',
    ],
    [
      'string',
      { value: { type: 'string', timeMs: 1435781451781, value: 'hello' }, warnings: [] },
      '{"status":"success","data":{"resultType":"string","result":[1435781451.781,"hello"]}}',
    ],
    [
      'vector with warnings',
      { value: { type: 'vector', timeMs: 0, elements: [] }, warnings: ['PromQL info: something'] },
      '{"status":"success","data":{"resultType":"vector","result":[]},"warnings":["PromQL info: something"]}',
    ],
  ])('renders %s byte-exact', async (_name, result, body) => {
    engine.next = result;
    const res = await get('/api/v1/query?query=x&time=4');
    expect(res.status).toBe(200);
    expect(res.body).toBe(body);
  });

  it('limit truncates vectors and adds a warning, not scalars', async () => {
    engine.next = {
      value: {
        type: 'vector',
        timeMs: 1000,
        elements: [
          { labels: ['a', '1'], value: 1 },
          { labels: ['a', '2'], value: 2 },
          { labels: ['a', '3'], value: 3 },
        ],
      },
      warnings: [],
    };
    const res = await get('/api/v1/query?query=x&time=1&limit=2');
    expect(res.body).toBe(
      '{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1"},"value":[1,"1"]},{"metric":{"a":"2"},"value":[1,"2"]}]},"warnings":["results truncated due to limit"]}',
    );
    expect((await get('/api/v1/query?query=x&time=1&limit=3')).json.warnings).toBeUndefined();
    engine.next = { value: { type: 'scalar', timeMs: 1000, value: 1 }, warnings: [] };
    expect((await get('/api/v1/query?query=x&time=1&limit=1')).json.warnings).toBeUndefined();
  });

  it.each<[string, Error, number, string, string]>([
    ['parse error', badData('promql-parse', '1:5: parse error: unexpected end of input'), 400, 'bad_data', 'invalid parameter "query": 1:5: parse error: unexpected end of input'],
    ['execution error', new AppError(ErrorKind.Execution, 'too-many-samples', 'query processing would load too many samples into memory'), 422, 'execution', 'query processing would load too many samples into memory'],
    ['engine timeout', new AppError(ErrorKind.Timeout, 'query-timeout', 'query timed out in expression evaluation'), 503, 'timeout', 'query timed out in expression evaluation'],
    ['storage unavailable', new AppError(ErrorKind.Unavailable, 'storage-unavailable', 'storage unavailable: down'), 503, 'unavailable', 'storage unavailable: down'],
    ['unknown error', new TypeError('boom'), 500, 'internal', 'boom'],
  ])('%s', async (_name, err, status, errorType, message) => {
    engine.next = err;
    const res = await get('/api/v1/query?query=x');
    expect(res.status).toBe(status);
    expect(res.body).toBe(`{"status":"error","errorType":"${errorType}","error":${JSON.stringify(message)}}`);
  });

  it.each<[string, string]>([
    ['query=x&time=abc', 'invalid parameter "time": cannot parse "abc" to a valid timestamp'],
    ['query=x&timeout=soon', 'invalid parameter "timeout": cannot parse "soon" to a valid duration'],
    ['query=x&lookback_delta=zz', 'invalid parameter "lookback_delta": cannot parse "zz" to a valid duration'],
    ['query=x&limit=-3', 'invalid parameter "limit": limit must be non-negative'],
  ])('rejects %s', async (qs, message) => {
    const res = await get(`/api/v1/query?${qs}`);
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ status: 'error', errorType: 'bad_data', error: message });
    expect(engine.calls).toHaveLength(0);
  });

  it('timeout parameter aborts the engine and answers 503 timeout', async () => {
    engine.next = (opts) =>
      new Promise((_resolve, reject) => {
        opts?.signal?.addEventListener('abort', () => reject(new AppError(ErrorKind.Canceled, 'query-canceled', 'query was canceled')));
      });
    const res = await get('/api/v1/query?query=x&timeout=0.02');
    expect(res.status).toBe(503);
    expect(res.json).toEqual({ status: 'error', errorType: 'timeout', error: 'query timed out in expression evaluation' });
  });

  it('a timeout above the configured one is left to the engine', async () => {
    let signalSeen: AbortSignal | undefined;
    engine.next = async (opts) => {
      signalSeen = opts?.signal;
      return { value: { type: 'scalar', timeMs: 0, value: 1 }, warnings: [] };
    };
    expect((await get('/api/v1/query?query=x&timeout=1y')).status).toBe(200);
    expect(signalSeen?.aborted).toBe(false);
  });
});

describe('client disconnect', () => {
  it('aborts the engine when the client goes away (real socket on 127.0.0.1)', async () => {
    let sawAbort!: () => void;
    const aborted = new Promise<void>((resolve) => (sawAbort = resolve));
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    engine.next = (opts) =>
      new Promise((_resolve, reject) => {
        started();
        opts?.signal?.addEventListener('abort', () => {
          sawAbort();
          reject(new AppError(ErrorKind.Canceled, 'query-canceled', 'query was canceled'));
        });
      });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    // node:http without an agent: exactly one connection, closed by destroy().
    const req = httpGet({ host: '127.0.0.1', port, path: '/api/v1/query?query=x', agent: false });
    req.on('error', () => {});
    await running;
    req.destroy();
    await aborted;
    expect(engine.calls).toHaveLength(1);
  });
});

describe('/api/v1/query_range', () => {
  it.each(['GET', 'POST'])('%s passes start/end/step and renders a matrix', async (method) => {
    engine.next = {
      value: { type: 'matrix', series: [{ labels: ['job', 'a'], tsMs: new Float64Array([0, 15000]), values: new Float64Array([1e-7, 2e21]) }] },
      warnings: [],
    };
    const qs = 'query=rate(x%5B1m%5D)&start=0&end=15&step=15s';
    const res = method === 'GET' ? await get(`/api/v1/query_range?${qs}`) : await post('/api/v1/query_range', qs);
    expect(res.status).toBe(200);
    expect(res.body).toBe(
      '{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"job":"a"},"values":[[0,"1e-07"],[15,"2e+21"]]}]}}',
    );
    expect(engine.calls[0]).toMatchObject({ kind: 'range', query: 'rate(x[1m])', args: [0, 15_000, 15_000] });
  });

  it('accepts RFC 3339 times and float steps', async () => {
    await get('/api/v1/query_range?query=x&start=2015-07-01T20:10:30.781Z&end=2015-07-01T20:11:00.781Z&step=0.5');
    expect(engine.calls[0]!.args).toEqual([1435781430781, 1435781460781, 500]);
  });

  it.each<[string, string]>([
    ['query=x&start=x&end=1&step=1', 'invalid parameter "start": cannot parse "x" to a valid timestamp'],
    ['query=x&start=1&step=1', 'invalid parameter "end": cannot parse "" to a valid timestamp'],
    ['query=x&start=2&end=1&step=1', 'end timestamp must not be before start time'],
    ['query=x&start=0&end=1&step=0', 'zero or negative query resolution step widths are not accepted. Try a positive integer'],
    ['query=x&start=0&end=1&step=abc', 'invalid parameter "step": cannot parse "abc" to a valid duration'],
    ['query=x&start=0&end=11001&step=1', 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)'],
  ])('rejects %s', async (qs, message) => {
    const res = await get(`/api/v1/query_range?${qs}`);
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ status: 'error', errorType: 'bad_data', error: message });
    expect(engine.calls).toHaveLength(0);
  });

  it('allows exactly 11,000 points', async () => {
    expect((await get('/api/v1/query_range?query=x&start=0&end=11000&step=1')).status).toBe(200);
  });
});

describe('/api/v1/series', () => {
  it.each(['GET', 'POST'])('%s returns matching series', async (method) => {
    const qs = 'match[]=up%7Bjob%3D%22api%22%7D';
    const res = method === 'GET' ? await get(`/api/v1/series?${qs}`) : await post('/api/v1/series', qs);
    expect(res.status).toBe(200);
    expect(res.body).toBe(
      '{"status":"success","data":[{"__name__":"up","instance":"a","job":"api"},{"__name__":"up","instance":"b","job":"api"}]}',
    );
  });

  it('unions several match[] without duplicates, sorted', async () => {
    const res = await get('/api/v1/series?match[]=up%7Binstance%3D%22c%22%7D&match[]=http_requests_total&match[]=up%7Binstance%3D~%22a%7Cc%22%7D');
    expect(res.json.data).toEqual([
      { __name__: 'http_requests_total', code: '200', job: 'api' },
      { __name__: 'up', instance: 'a', job: 'api' },
      { __name__: 'up', instance: 'c', job: 'db' },
    ]);
  });

  it('POST takes match[] from body and URL together', async () => {
    const res = await post('/api/v1/series?match[]=http_requests_total', 'match[]=up%7Binstance%3D%22a%22%7D');
    expect((res.json.data as unknown[]).length).toBe(2);
  });

  it('returns [] when nothing matches', async () => {
    expect((await get('/api/v1/series?match[]=nope')).body).toBe('{"status":"success","data":[]}');
  });

  it('limit truncates with a warning', async () => {
    const res = await get('/api/v1/series?match[]=up&limit=2');
    expect(res.json.data).toHaveLength(2);
    expect(res.json.warnings).toEqual(['results truncated due to limit']);
    const exact = await get('/api/v1/series?match[]=up&limit=3');
    expect(exact.json.data).toHaveLength(3);
    expect(exact.json.warnings).toBeUndefined();
  });

  it('filters by time range', async () => {
    expect((await get('/api/v1/series?match[]=up&start=2&end=3')).json.data).toEqual([]);
    expect((await get('/api/v1/series?match[]=up&start=0&end=1')).json.data).toHaveLength(3);
  });

  it.each<[string, string | RegExp]>([
    ['', 'no match[] parameter provided'],
    ['match[]=up&start=yesterday', 'invalid parameter "start": cannot parse "yesterday" to a valid timestamp'],
    ['match[]=up&limit=x', 'invalid parameter "limit": cannot parse "x" to a valid limit'],
    ['match[]=%7Bjob%3D%22%22%7D', /must contain at least one non-empty matcher/],
    ['match[]=sum(up)', 'invalid parameter "match[]": "sum(up)" is not a series selector'],
    ['match[]=up%5B5m%5D', 'invalid parameter "match[]": "up[5m]" is not a series selector'],
    ['match[]=up%7B', /parse error/],
  ])('rejects %j', async (qs, message) => {
    const res = await get(`/api/v1/series?${qs}`);
    expect(res.status).toBe(400);
    expect(res.json.errorType).toBe('bad_data');
    expect(res.json.error).toMatch(message);
  });
});

describe('/api/v1/labels and /api/v1/label/:name/values', () => {
  it.each(['GET', 'POST'])('%s /labels lists all names sorted', async (method) => {
    const res = method === 'GET' ? await get('/api/v1/labels') : await post('/api/v1/labels', '');
    expect(res.body).toBe('{"status":"success","data":["__name__","code","instance","job"]}');
  });

  it('/labels with match[] unions', async () => {
    expect((await get('/api/v1/labels?match[]=up')).json.data).toEqual(['__name__', 'instance', 'job']);
    expect((await post('/api/v1/labels', 'match[]=http_requests_total&match[]=up')).json.data).toEqual(['__name__', 'code', 'instance', 'job']);
  });

  it('/labels limit', async () => {
    const res = await get('/api/v1/labels?limit=2');
    expect(res.body).toBe('{"status":"success","data":["__name__","code"],"warnings":["results truncated due to limit"]}');
  });

  it('/label/:name/values lists values, with match[] and limit', async () => {
    expect((await get('/api/v1/label/__name__/values')).body).toBe('{"status":"success","data":["http_requests_total","up"]}');
    expect((await get('/api/v1/label/job/values?match[]=up')).json.data).toEqual(['api', 'db']);
    expect((await get('/api/v1/label/instance/values?match[]=up%7Bjob%3D%22db%22%7D&match[]=up%7Binstance%3D%22a%22%7D')).json.data).toEqual(['a', 'c']);
    const limited = await get('/api/v1/label/instance/values?limit=1');
    expect(limited.json).toEqual({ status: 'success', data: ['a'], warnings: ['results truncated due to limit'] });
    expect((await get('/api/v1/label/nothing/values')).body).toBe('{"status":"success","data":[]}');
  });

  it('/label/:name/values decodes U__ escaping', async () => {
    await backend.append('anonymous', batchOf([[['__name__', 'm', 'http_status', '404'], [[1000, 1]]]]));
    expect((await get('/api/v1/label/U__http__status/values')).json.data).toEqual(['404']);
    expect((await get('/api/v1/label/U__http_5f_status/values')).json.data).toEqual(['404']);
  });

  it('/label/:name/values is GET only', async () => {
    const res = await post('/api/v1/label/job/values', '');
    expect(res.status).toBe(404);
    expect(res.json.errorType).toBe('not_found');
  });

  it('/label/:name/values rejects an invalid name', async () => {
    const res = await get('/api/v1/label/U__/values');
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ status: 'error', errorType: 'bad_data', error: 'invalid label name: "U__"' });
    // A malformed %-escape fails before routing; the server still answers in the envelope.
    const bad = await get('/api/v1/label/%ED%A0%80/values');
    expect(bad.status).toBe(400);
    expect(bad.json.errorType).toBe('bad_data');
  });

  it('metadata endpoints are tenant-scoped', async () => {
    expect((await get('/api/v1/label/__name__/values', { 'X-Scope-OrgID': 'team-b' })).json.data).toEqual(['only_b']);
    expect((await get('/api/v1/labels', { 'X-Scope-OrgID': 'nobody' })).json.data).toEqual([]);
  });
});

describe('tenant header', () => {
  it('is required when configured', async () => {
    await app.close();
    app = buildQueryServer({ storage, engine, config: config({ requireTenantHeader: true }) });
    const res = await get('/api/v1/labels');
    expect(res.status).toBe(401);
    expect(res.body).toBe('{"status":"error","errorType":"bad_data","error":"no org id [err-missing-tenant]"}');
    expect((await get('/api/v1/labels', { 'X-Scope-OrgID': 'team-b' })).status).toBe(200);
  });

  it.each(['/api/v1/query?query=x', '/api/v1/series?match[]=up', '/api/v1/labels', '/api/v1/label/job/values'])('rejects an invalid id on %s', async (url) => {
    // `a|b` is a federated read now; an invalid member is still refused.
    const res = await get(url, { 'X-Scope-OrgID': 'a|b/c' });
    expect(res.status).toBe(400);
    expect(res.json.error).toContain("tenant ID 'b/c' contains unsupported character '/'");
  });
});

describe('other endpoints and envelope of Fastify errors', () => {
  it('buildinfo is Prometheus-shaped without features', async () => {
    const res = await get('/api/v1/status/buildinfo');
    expect(res.status).toBe(200);
    const data = res.json.data as Record<string, unknown>;
    expect(Object.keys(data)).toEqual(['version', 'revision', 'branch', 'buildUser', 'buildDate', 'goVersion']);
    for (const v of Object.values(data)) expect(typeof v).toBe('string');
  });

  it.each<[string, string]>([
    ['/api/v1/metadata', '{"status":"success","data":{}}'],
    ['/api/v1/rules', '{"status":"success","data":{"groups":[]}}'],
    ['/api/v1/query_exemplars?query=test&start=1600096945479&end=1600096945479', '{"status":"success","data":[]}'],
  ])('empty %s', async (url, body) => {
    expect((await get(url)).body).toBe(body);
  });

  it('health and readiness', async () => {
    expect((await app.inject('/-/healthy')).statusCode).toBe(200);
    const ready = await app.inject('/-/ready');
    expect([ready.statusCode, ready.body]).toEqual([200, 'ready']);
    await app.close();
    app = buildQueryServer({ storage: { ...storage, ready: async () => false }, engine, config: config() });
    expect((await app.inject('/-/ready')).statusCode).toBe(503);
  });

  it('unknown API route → 404 envelope', async () => {
    const res = await get('/api/v1/nope');
    expect(res.status).toBe(404);
    expect(res.json).toEqual({ status: 'error', errorType: 'not_found', error: 'no route for GET /api/v1/nope' });
  });

  it('bad JSON body → 400 envelope', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/query?query=x', payload: '{nope', headers: { 'content-type': 'application/json' } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ status: 'error', errorType: 'bad_data' });
  });

  it('body too large → 413 envelope', async () => {
    await app.close();
    app = buildQueryServer({ storage, engine, config: config(), fastifyOptions: { bodyLimit: 100 } });
    const res = await post('/api/v1/query', `query=${'x'.repeat(200)}`);
    expect(res.status).toBe(413);
    expect(res.json).toMatchObject({ status: 'error', errorType: 'bad_data' });
  });

  it('unsupported content type → 415 envelope', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/query', payload: 'x', headers: { 'content-type': 'application/x-protobuf' } });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toMatchObject({ status: 'error', errorType: 'bad_data' });
  });
});

describe('sharing an app with other components', () => {
  it('form parser and handlers stay inside the plugin; a raw parser elsewhere keeps working', async () => {
    const shared = Fastify();
    // Stand-in for ingest in `all` mode: its own raw parser and route in a sibling context.
    shared.register(async (ingest) => {
      ingest.addContentTypeParser('application/x-protobuf', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
      ingest.post('/api/v1/push', async (request, reply) => reply.code(204).header('x-len', String((request.body as Buffer).length)).send());
    });
    registerQueryRoutes(shared, { storage, engine, config: config() });
    shared.post('/outside', async () => 'ok');
    try {
      const push = await shared.inject({ method: 'POST', url: '/api/v1/push', payload: Buffer.from([1, 2, 3]), headers: { 'content-type': 'application/x-protobuf' } });
      expect([push.statusCode, push.headers['x-len']]).toEqual([204, '3']);
      const q = await shared.inject({ method: 'POST', url: '/api/v1/labels', payload: 'match[]=up', headers: FORM });
      expect(q.json()).toEqual({ status: 'success', data: ['__name__', 'instance', 'job'] });
      // The form parser did not leak to the root context.
      const outside = await shared.inject({ method: 'POST', url: '/outside', payload: 'a=1', headers: FORM });
      expect(outside.statusCode).toBe(415);
    } finally {
      await shared.close();
    }
  });
});
