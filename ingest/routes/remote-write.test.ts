import snappy from 'snappyjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IngestConfig } from '../../common/config.js';
import { AppError, ErrorKind } from '../../common/errors.js';
import { MatchType, isStaleNaNAt, setStaleNaNAt, wordsOf, type SampleBatch, type SeriesSamples, type WriteResult } from '../../common/types.js';
import { encodeWriteRequest } from '../../proto/write-request-encoder.js';
import { MemoryBackend } from '../../storage/backend/memory.js';
import { createLocalStorageClient } from '../../storage/client/local.js';
import type { StorageClient } from '../../storage/client/index.js';
import { buildIngestServer } from '../server.js';
import type { FastifyInstance } from 'fastify';

const CONFIG: IngestConfig = { maxBodyBytes: 64 * 1024, maxDecompressedBytes: 256 * 1024, requireTenantHeader: false, defaultTenant: 'anonymous', decodeThreads: 0 };

/** Series as the sender spells them: raw label pairs (order and empties preserved) and [t, v] samples. */
type RawSeries = readonly [labels: string[], samples: ReadonlyArray<readonly [number, number]>];

function rawBatch(series: readonly RawSeries[]): SampleBatch {
  const starts = [0];
  const ts: number[] = [];
  const vs: number[] = [];
  for (const [, samples] of series) {
    for (const [t, v] of samples) {
      ts.push(t);
      vs.push(v);
    }
    starts.push(ts.length);
  }
  return { series: series.map(([l]) => l), sampleStart: new Uint32Array(starts), tsMs: new Float64Array(ts), values: new Float64Array(vs) };
}

function body(series: readonly RawSeries[]): Buffer {
  return Buffer.from(snappy.compress(encodeWriteRequest(rawBatch(series))));
}

const PROTO_HEADERS = { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy', 'x-prometheus-remote-write-version': '0.1.0' };

let backend: MemoryBackend;
let app: FastifyInstance;

function build(storage: StorageClient, config: IngestConfig = CONFIG): FastifyInstance {
  return buildIngestServer({ storage, config });
}

async function push(payload: Buffer | string, headers: Record<string, string | undefined> = {}, url = '/api/v1/push', server = app) {
  const merged: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...PROTO_HEADERS, ...headers })) if (v !== undefined) merged[k] = v;
  return server.inject({ method: 'POST', url, payload, headers: merged });
}

async function selectAll(tenant: string, name: string): Promise<SeriesSamples[]> {
  return createLocalStorageClient(backend).select(tenant, [{ type: MatchType.EQ, name: '__name__', value: name }], -1e15, 1e15);
}

beforeEach(async () => {
  backend = new MemoryBackend();
  app = build(createLocalStorageClient(backend));
  await app.ready();
});

afterEach(async () => {
  await app.close();
});

describe('remote write happy path', () => {
  it.each(['/api/v1/push', '/api/v1/write'])('%s stores samples and answers 204', async (url) => {
    const res = await push(body([[['__name__', 'up', 'job', 'api'], [[1000, 1], [2000, 0]]]]), {}, url);
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect(res.headers['x-prometheus-remote-write-samples-written']).toBe('2');
    const got = await selectAll('anonymous', 'up');
    expect(got.map((s) => s.labels)).toEqual([['__name__', 'up', 'job', 'api']]);
    expect(Array.from(got[0]?.tsMs ?? [])).toEqual([1000, 2000]);
    expect(Array.from(got[0]?.values ?? [])).toEqual([1, 0]);
  });

  it('sorts unsorted labels and drops empty values', async () => {
    const res = await push(body([[['zone', 'eu', 'job', 'api', '__name__', 'up', 'env', ''], [[1000, 1]]]]));
    expect(res.statusCode).toBe(204);
    expect((await selectAll('anonymous', 'up')).map((s) => s.labels)).toEqual([['__name__', 'up', 'job', 'api', 'zone', 'eu']]);
  });

  it('accepts missing content-type and content-encoding (old senders)', async () => {
    const res = await push(body([[['__name__', 'up'], [[1, 1]]]]), { 'content-type': undefined, 'content-encoding': undefined });
    expect(res.statusCode).toBe(204);
    expect(await selectAll('anonymous', 'up')).toHaveLength(1);
  });

  it('accepts the explicit v1 proto parameter', async () => {
    const res = await push(body([[['__name__', 'up'], [[1, 1]]]]), { 'content-type': 'application/x-protobuf;proto=prometheus.WriteRequest' });
    expect(res.statusCode).toBe(204);
  });

  it('keeps the staleness marker and NaN payloads bit-exact end to end', async () => {
    const batch = rawBatch([[['__name__', 'm'], [[1000, 1], [2000, 0], [3000, 0]]]]);
    setStaleNaNAt(batch.values, 1);
    const w = wordsOf(batch.values);
    w[4] = 1; // Prometheus's math.NaN(): 0x7ff8000000000001
    w[5] = 0x7ff80000;
    const res = await push(Buffer.from(snappy.compress(encodeWriteRequest(batch))));
    expect(res.statusCode).toBe(204);
    const [got] = await selectAll('anonymous', 'm');
    const words = wordsOf(got?.values ?? new Float64Array());
    expect(isStaleNaNAt(words, 1)).toBe(true);
    expect(isStaleNaNAt(words, 2)).toBe(false);
    expect([words[4], words[5]]).toEqual([1, 0x7ff80000]);
  });

  it('an empty request is 204 and writes nothing', async () => {
    const res = await push(body([]));
    expect(res.statusCode).toBe(204);
    expect(res.headers['x-prometheus-remote-write-samples-written']).toBe('0');
  });
});

describe('partial rejection', () => {
  it.each([
    { name: 'missing metric name', labels: ['job', 'api'], code: 'missing-metric-name' },
    { name: 'empty metric name', labels: ['__name__', '', 'job', 'api'], code: 'missing-metric-name' },
    { name: 'invalid metric name', labels: ['__name__', '1bad'], code: 'invalid-metric-name' },
    { name: 'invalid label name', labels: ['__name__', 'm', 'bad-name', 'x'], code: 'invalid-label-name' },
    { name: 'duplicate label names', labels: ['__name__', 'm', 'a', '1', 'a', '2'], code: 'duplicate-label-names' },
  ])('$name → 400 naming the code, valid series of the request still stored', async ({ labels, code }) => {
    const res = await push(body([[labels, [[1000, 5], [2000, 6]]], [['__name__', 'good', 'job', 'x'], [[1000, 1]]]]));
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toContain('2 samples rejected, 1 written');
    expect(res.body).toContain(`${code}: 2 rejected, e.g.`);
    expect(res.body).toContain(`[err-${code}]`);
    expect(res.headers['x-prometheus-remote-write-samples-written']).toBe('1');
    expect(await selectAll('anonymous', 'good')).toHaveLength(1);
  });

  it('out-of-order samples rejected by storage → 400 summary, the rest stored', async () => {
    expect((await push(body([[['__name__', 'm'], [[5000, 1]]]]))).statusCode).toBe(204);
    const res = await push(body([[['__name__', 'm'], [[4000, 1], [6000, 2]]], [['__name__', 'n'], [[1, 1]]]]));
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('sample-out-of-order: 1 rejected');
    expect(res.headers['x-prometheus-remote-write-samples-written']).toBe('2');
    expect(Array.from((await selectAll('anonymous', 'm'))[0]?.tsMs ?? [])).toEqual([5000, 6000]);
  });

  it('an identical re-send of the newest sample is accepted (Prometheus WAL replay)', async () => {
    const payload = body([[['__name__', 'm'], [[2000, 2]]]]);
    expect((await push(payload)).statusCode).toBe(204);
    const again = await push(payload);
    expect(again.statusCode).toBe(204);
    expect(again.headers['x-prometheus-remote-write-samples-written']).toBe('1');
  });

  it('summarises several codes with counts', async () => {
    const res = await push(
      body([
        [['job', 'a'], [[1, 1]]],
        [['job', 'b'], [[1, 1], [2, 2]]],
        [['__name__', '0x'], [[1, 1]]],
      ]),
    );
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('missing-metric-name: 3 rejected');
    expect(res.body).toContain('invalid-metric-name: 1 rejected');
  });
});

describe('bad bodies', () => {
  const tooBigPreamble = Buffer.from([0x80, 0x80, 0x80, 0x80, 0x04, 0x00]); // claims 1 GiB
  it.each([
    { name: 'corrupt snappy', payload: Buffer.from([0x10, 0xff, 0xff, 0xff]), status: 400, text: 'invalid snappy body' },
    { name: 'framed snappy', payload: Buffer.from('ff060000734e61507059000a0000', 'hex'), status: 400, text: 'framed snappy' },
    { name: 'truncated protobuf', payload: Buffer.from(snappy.compress(Buffer.from('0a0a0a03', 'hex'))), status: 400, text: '[err-bad-protobuf]' },
    { name: 'empty body', payload: Buffer.alloc(0), status: 400, text: '[err-bad-snappy]' },
    { name: 'decompressed length over limit', payload: tooBigPreamble, status: 413, text: '1073741824 bytes, limit 262144' },
    { name: 'compressed body over limit', payload: Buffer.alloc(CONFIG.maxBodyBytes + 1), status: 413, text: '[err-body-too-large]' },
  ])('$name → $status', async ({ payload, status, text }) => {
    const res = await push(payload);
    expect(res.statusCode).toBe(status);
    expect(res.body).toContain(text);
    expect(res.headers['x-prometheus-remote-write-samples-written']).toBe('0');
  });

  it.each([
    { name: 'gzip encoding', headers: { 'content-encoding': 'gzip' }, code: 'unsupported-content-encoding' },
    { name: 'json content type', headers: { 'content-type': 'application/json' }, code: 'unsupported-content-type' },
    { name: 'unknown proto', headers: { 'content-type': 'application/x-protobuf;proto=foo.Bar' }, code: 'unsupported-content-type' },
    { name: 'remote write 2.0', headers: { 'content-type': 'application/x-protobuf;proto=io.prometheus.write.v2.Request' }, code: 'remote-write-v2-unsupported' },
  ])('$name → 415', async ({ headers, code }) => {
    const res = await push(body([[['__name__', 'up'], [[1, 1]]]]), headers);
    expect(res.statusCode).toBe(415);
    expect(res.body).toContain(`[err-${code}]`);
    expect(await selectAll('anonymous', 'up')).toHaveLength(0);
  });

  it('v2 415 message says remote write 2.0 is not supported yet', async () => {
    const res = await push(body([]), { 'content-type': 'application/x-protobuf;proto=io.prometheus.write.v2.Request' });
    expect(res.body).toMatch(/remote write 2\.0 .*not supported yet/);
  });

  it('random bodies never crash the server', async () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
    for (let i = 0; i < 200; i++) {
      const payload = Buffer.alloc(1 + Math.floor(rand() * 200));
      for (let j = 0; j < payload.length; j++) payload[j] = Math.floor(rand() * 256);
      const res = await push(payload);
      expect([204, 400, 413]).toContain(res.statusCode);
    }
  });

  it('the route’s raw parser does not leak to routes registered outside it', async () => {
    const other = build(createLocalStorageClient(backend));
    other.post('/echo', async (req) => ({ got: req.body }));
    const res = await other.inject({ method: 'POST', url: '/echo', payload: { a: 1 } });
    expect(res.json()).toEqual({ got: { a: 1 } });
    await other.close();
  });
});

describe('tenants', () => {
  it('isolates tenants and uses the default tenant without a header', async () => {
    expect((await push(body([[['__name__', 'up', 'who', 'a'], [[1, 1]]]]), { 'x-scope-orgid': 'team-a' })).statusCode).toBe(204);
    expect((await push(body([[['__name__', 'up', 'who', 'b'], [[1, 1]]]]), { 'x-scope-orgid': 'team-b' })).statusCode).toBe(204);
    expect((await push(body([[['__name__', 'up', 'who', 'anon'], [[1, 1]]]]))).statusCode).toBe(204);
    expect((await selectAll('team-a', 'up')).map((s) => s.labels)).toEqual([['__name__', 'up', 'who', 'a']]);
    expect((await selectAll('team-b', 'up')).map((s) => s.labels)).toEqual([['__name__', 'up', 'who', 'b']]);
    expect((await selectAll('anonymous', 'up')).map((s) => s.labels)).toEqual([['__name__', 'up', 'who', 'anon']]);
  });

  it('requires the header when configured: 401 no org id', async () => {
    const strict = build(createLocalStorageClient(backend), { ...CONFIG, requireTenantHeader: true });
    const res = await push(body([[['__name__', 'up'], [[1, 1]]]]), {}, '/api/v1/push', strict);
    expect(res.statusCode).toBe(401);
    expect(res.body).toMatch(/^no org id/);
    expect((await push(body([[['__name__', 'up'], [[1, 1]]]]), { 'x-scope-orgid': 't1' }, '/api/v1/push', strict)).statusCode).toBe(204);
    await strict.close();
  });

  it.each([
    { name: 'unsupported character', id: 'a/b', text: "contains unsupported character '/'" },
    { name: 'too long', id: 'x'.repeat(151), text: 'tenant ID is too long: max 150 characters' },
    { name: 'dot', id: '..', text: "tenant ID is '.' or '..'" },
    { name: 'multi-tenant', id: 'a|b', text: 'writes take exactly one' },
  ])('invalid tenant ($name) → 400', async ({ id, text }) => {
    const res = await push(body([[['__name__', 'up'], [[1, 1]]]]), { 'x-scope-orgid': id });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain(text);
  });
});

describe('storage failures', () => {
  function failingStorage(err: Error): StorageClient {
    const base = createLocalStorageClient(backend);
    return { ...base, write: async (): Promise<WriteResult> => Promise.reject(err) };
  }

  it.each([
    { name: 'unavailable → 503 with Retry-After', err: new AppError(ErrorKind.Unavailable, 'storage-unavailable', 'storage unavailable: down'), status: 503, retryAfter: true },
    { name: 'rate limited → 429 with Retry-After', err: new AppError(ErrorKind.RateLimited, 'storage-overloaded', 'storage: overloaded'), status: 429, retryAfter: true },
    { name: 'timeout → 503', err: new AppError(ErrorKind.Timeout, 'storage-timeout', 'storage: deadline'), status: 503, retryAfter: true },
    { name: 'unknown error → 500', err: new Error('boom'), status: 500, retryAfter: false },
  ])('$name', async ({ err, status, retryAfter }) => {
    const server = build(failingStorage(err));
    const res = await push(body([[['__name__', 'up'], [[1, 1]]]]), {}, '/api/v1/push', server);
    expect(res.statusCode).toBe(status);
    expect(res.body).toContain(err.message);
    if (retryAfter) expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    else expect(res.headers['retry-after']).toBeUndefined();
    await server.close();
  });
});

describe('metrics', () => {
  it('counts requests, samples and discards by reason', async () => {
    const { Registry } = await import('prom-client');
    const { IngestMetrics } = await import('../metrics.js');
    const registry = new Registry();
    const server = buildIngestServer({ storage: createLocalStorageClient(backend), config: CONFIG, metrics: new IngestMetrics(registry) });
    await push(body([[['__name__', 'up'], [[1, 1], [2, 1]]], [['job', 'x'], [[1, 1]]]]), { 'x-scope-orgid': 't1' }, '/api/v1/push', server);
    await push(Buffer.from('garbage'), { 'x-scope-orgid': 't1' }, '/api/v1/push', server);
    const text = await registry.metrics();
    expect(text).toContain('promstore_ingest_samples_received_total{tenant="t1"} 3');
    expect(text).toContain('promstore_ingest_samples_written_total{tenant="t1"} 2');
    expect(text).toContain('promstore_ingest_discarded_samples_total{tenant="t1",reason="missing-metric-name"} 1');
    expect(text).toContain('promstore_ingest_requests_total{tenant="t1",status_class="4xx"} 2');
    expect(text).toMatch(/promstore_ingest_request_duration_seconds_count\{route="\/api\/v1\/push",status_class="4xx"\} 2/);
    await server.close();
  });
});
