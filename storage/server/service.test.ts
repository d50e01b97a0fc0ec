import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError, ErrorKind } from '../../common/errors.js';
import { MatchType, setStaleNaNAt, wordsOf, type Labels, type Matcher, type SampleBatch } from '../../common/types.js';
import type { SelectResponseMsg, WriteRequestMsg } from '../../proto/index.js';
import type { Backend } from '../backend/backend.js';
import { MemoryBackend } from '../backend/memory.js';
import { SqliteBackend } from '../backend/sqlite/sqlite-backend.js';
import { createGrpcStorageClient } from '../client/client.js';
import type { StorageClient } from '../client/storage-client.js';
import { storageServiceDefinition as def } from '../rpc.js';
import { startStorageServer, type RunningStorageServer } from './main.js';
import { writeRequestToBatch, type ServiceLog } from './service.js';

const T0 = 1_700_000_000_000; // above 2^32: exercises int64 as number end to end
const opts = { startMs: 0, endMs: T0 * 2, limit: 0 };
const eq = (name: string, value: string): Matcher => ({ type: MatchType.EQ, name, value });

/** One batch with `nSeries` series `m{i="…"}` of `perSeries` samples each at T0 + k·15s. */
function makeBatch(nSeries: number, perSeries: number, value: (s: number, k: number) => number): SampleBatch {
  const series: Labels[] = [];
  const sampleStart = new Uint32Array(nSeries + 1);
  const tsMs = new Float64Array(nSeries * perSeries);
  const values = new Float64Array(nSeries * perSeries);
  for (let s = 0; s < nSeries; s++) {
    series.push(['__name__', 'm', 'i', String(s).padStart(4, '0')]);
    for (let k = 0; k < perSeries; k++) {
      tsMs[s * perSeries + k] = T0 + k * 15_000;
      values[s * perSeries + k] = value(s, k);
    }
    sampleStart[s + 1] = (s + 1) * perSeries;
  }
  return { series, sampleStart, tsMs, values };
}

/** A Backend whose every method rejects with `err` (or hangs when err is 'hang'). */
function failingBackend(err: unknown): Backend {
  const fail = (): Promise<never> => (err === 'hang' ? new Promise<never>(() => {}) : Promise.reject(err));
  return { append: fail, select: fail, labelNames: fail, labelValues: fail, series: fail, writeExtras: fail, metadata: fail, exemplars: fail, storageStats: fail, flush: fail, close: async () => {} };
}

describe('storage gRPC server + client over MemoryBackend', () => {
  const backend = new MemoryBackend();
  let server: RunningStorageServer;
  let client: StorageClient;
  let raw: grpc.Client;

  beforeAll(async () => {
    server = await startStorageServer({ backend, host: '127.0.0.1', port: 0, maxMessageBytes: 16 << 20, selectBatch: { maxSeries: 7, maxBytes: 1 << 20 } });
    client = createGrpcStorageClient({ address: `127.0.0.1:${server.port}`, timeoutMs: 5000, maxMessageBytes: 16 << 20 });
    raw = new grpc.Client(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
  });
  afterAll(async () => {
    client.close();
    raw.close();
    await server.close();
  });

  it('round trips values bit-exact, staleness marker and infinities included', async () => {
    const special = [Infinity, -Infinity, -0, Number.NaN, 1.5e-300, Number.MAX_VALUE];
    const b = makeBatch(2, 8, (s, k) => special[k] ?? s + k);
    setStaleNaNAt(b.values, 6);
    setStaleNaNAt(b.values, 15);
    expect(await client.write('bits', b)).toEqual({ samplesWritten: 16, rejected: [] });
    const got = await client.select('bits', [eq('__name__', 'm')], T0, T0 + 7 * 15_000);
    expect(got.map((s) => s.labels)).toEqual(b.series);
    expect(Array.from(got[0]!.tsMs)).toEqual(Array.from(b.tsMs.subarray(0, 8)));
    expect(Array.from(wordsOf(got[0]!.values))).toEqual(Array.from(wordsOf(b.values.subarray(0, 8))));
    expect(Array.from(wordsOf(got[1]!.values))).toEqual(Array.from(wordsOf(b.values.subarray(8, 16))));
  });

  it('flush reaches the backend and resolves', async () => {
    await expect(client.flush()).resolves.toBeUndefined();
  });

  it('reports per-sample rejections in the result', async () => {
    await client.write('rej', makeBatch(1, 3, () => 1));
    // Same newest sample again (no-op), one new sample, a changed value for it, and an older one.
    const again: SampleBatch = {
      series: [['__name__', 'm', 'i', '0000']],
      sampleStart: Uint32Array.from([0, 4]),
      tsMs: Float64Array.from([T0 + 30_000, T0 + 45_000, T0 + 45_000, T0]),
      values: Float64Array.from([1, 1, 9, 1]),
    };
    const res = await client.write('rej', again);
    expect(res.samplesWritten).toBe(2);
    expect(res.rejected).toEqual([
      { code: 'sample-duplicate-timestamp', count: 1, example: expect.stringContaining('m{i="0000"}') },
      { code: 'sample-out-of-order', count: 1, example: expect.stringContaining('m{i="0000"}') },
    ]);
  });

  it('streams many series in several batches and the client reassembles them in order', async () => {
    const b = makeBatch(50, 4, (s, k) => s * 10 + k);
    await client.write('many', b);
    const messages = await new Promise<SelectResponseMsg[]>((resolve, reject) => {
      const out: SelectResponseMsg[] = [];
      const call = raw.makeServerStreamRequest(def.Select.path, def.Select.requestSerialize, def.Select.responseDeserialize, {
        tenant: 'many',
        matchers: [{ type: MatchType.EQ, name: '__name__', value: 'm' }],
        startMs: 0,
        endMs: T0 * 2,
      });
      call.on('data', (m: SelectResponseMsg) => out.push(m));
      call.on('error', reject);
      call.on('end', () => resolve(out));
    });
    expect(messages.map((m) => m.series.length)).toEqual([7, 7, 7, 7, 7, 7, 7, 1]);
    const got = await client.select('many', [eq('__name__', 'm')], T0 + 15_000, T0 + 30_000);
    expect(got).toHaveLength(50);
    expect(got.map((s) => s.labels)).toEqual(b.series);
    expect(got.map((s) => Array.from(s.values))).toEqual(b.series.map((_l, s) => [s * 10 + 1, s * 10 + 2]));
  });

  it('streams a result larger than the transport window (backpressure) intact', async () => {
    const b = makeBatch(1500, 120, (s, k) => s + k / 1000);
    expect((await client.write('big', b)).samplesWritten).toBe(1500 * 120);
    const got = await client.select('big', [eq('__name__', 'm')], 0, T0 * 2);
    expect(got).toHaveLength(1500);
    let sum = 0;
    for (const s of got) for (const v of s.values) sum += v;
    let want = 0;
    for (const v of b.values) want += v;
    expect(sum).toBe(want);
  });

  it('answers label names, values and series with limits and matchers', async () => {
    await client.write('meta', makeBatch(3, 1, () => 1));
    expect(await client.labelNames('meta', [], opts)).toEqual(['__name__', 'i']);
    expect(await client.labelNames('meta', [], { ...opts, limit: 1 })).toEqual(['__name__']);
    expect(await client.labelValues('meta', 'i', [], opts)).toEqual(['0000', '0001', '0002']);
    expect(await client.labelValues('meta', 'i', [{ type: MatchType.NRE, name: 'i', value: '0001' }], { ...opts, limit: 1 })).toEqual(['0000']);
    expect(await client.series('meta', [eq('i', '0002')], opts)).toEqual([['__name__', 'm', 'i', '0002']]);
    expect(await client.series('meta', [eq('__name__', 'm')], { ...opts, limit: 2 })).toHaveLength(2);
    expect(await client.series('meta', [eq('__name__', 'none')], opts)).toEqual([]);
    expect(await client.ready()).toBe(true);
  });

  it('maps backend AppErrors raised in select (bad regex) to the same kind and code', async () => {
    await expect(client.select('meta', [{ type: MatchType.RE, name: 'i', value: '(' }], 0, 1)).rejects.toMatchObject({
      kind: ErrorKind.BadData,
      code: 'invalid-regex',
    });
  });

  it('rejects a malformed write request with bad_data', async () => {
    const req: WriteRequestMsg = { tenant: 't', labelStrings: ['a', '1'], labelPairCounts: [1], sampleCounts: [2], timestamps: new Uint8Array(8), values: new Uint8Array(8) };
    const err = await new Promise<grpc.ServiceError>((resolve) => {
      raw.makeUnaryRequest(def.Write.path, def.Write.requestSerialize, def.Write.responseDeserialize, req, (e) => resolve(e as grpc.ServiceError));
    });
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.metadata.get('x-error-code')).toEqual(['write-request-malformed']);
  });

  it('leaves the backend open when the server closes', async () => {
    const other = await startStorageServer({ backend, host: '127.0.0.1', port: 0, maxMessageBytes: 1 << 20 });
    await other.close();
    expect(await backend.labelNames('meta', [], opts)).toEqual(['__name__', 'i']);
  });
});

describe('errors across the wire', () => {
  const logged: string[] = [];
  const log: ServiceLog = (_level, msg, fields) => logged.push(`${msg} ${String(fields.rpc)}`);

  async function withServer(backend: Backend, timeoutMs: number, fn: (c: StorageClient) => Promise<void>): Promise<void> {
    const srv = await startStorageServer({ backend, host: '127.0.0.1', port: 0, maxMessageBytes: 1 << 20, log, shutdownTimeoutMs: 200 });
    const c = createGrpcStorageClient({ address: `127.0.0.1:${srv.port}`, timeoutMs, maxMessageBytes: 1 << 20 });
    try {
      await fn(c);
    } finally {
      c.close();
      await srv.close();
    }
  }

  it.each([
    ['tenant_limit', new AppError(ErrorKind.TenantLimit, 'max-series-per-user', 'too many series [err-max-series-per-user]')],
    ['unavailable', new AppError(ErrorKind.Unavailable, 'storage-closed', 'storage backend is closed')],
    ['rate_limited', new AppError(ErrorKind.RateLimited, 'storage-busy', 'busy')],
  ])('an AppError of kind %s arrives as the same kind, code and message on every RPC', async (_k, appErr) => {
    await withServer(failingBackend(appErr), 5000, async (c) => {
      const want = { kind: appErr.kind, code: appErr.code, message: appErr.message };
      await expect(c.write('t', makeBatch(1, 1, () => 1))).rejects.toMatchObject(want);
      await expect(c.select('t', [eq('a', 'b')], 0, 1)).rejects.toMatchObject(want);
      await expect(c.labelNames('t', [], opts)).rejects.toMatchObject(want);
      await expect(c.labelValues('t', 'a', [], opts)).rejects.toMatchObject(want);
      await expect(c.series('t', [], opts)).rejects.toMatchObject(want);
      await expect(c.flush()).rejects.toMatchObject(want);
    });
  });

  it('turns unknown errors into internal and logs them', async () => {
    logged.length = 0;
    await withServer(failingBackend(new TypeError('boom')), 5000, async (c) => {
      await expect(c.labelNames('t', [], opts)).rejects.toMatchObject({ kind: ErrorKind.Internal, message: 'boom' });
      await expect(c.select('t', [eq('a', 'b')], 0, 1)).rejects.toMatchObject({ kind: ErrorKind.Internal });
      expect(await c.ready()).toBe(false);
    });
    expect(logged).toContain('storage rpc failed LabelNames');
    expect(logged).toContain('storage rpc failed Select');
  });

  it('gives kind timeout when the deadline passes', async () => {
    await withServer(failingBackend('hang'), 150, async (c) => {
      const t = Date.now();
      await expect(c.labelNames('t', [], opts)).rejects.toMatchObject({ kind: ErrorKind.Timeout });
      await expect(c.select('t', [eq('a', 'b')], 0, 1)).rejects.toMatchObject({ kind: ErrorKind.Timeout });
      expect(Date.now() - t).toBeLessThan(2000);
    });
  });

  it('cancels a call when its AbortSignal fires', async () => {
    await withServer(failingBackend('hang'), 5000, async (c) => {
      const ac = new AbortController();
      const pending = c.select('t', [eq('a', 'b')], 0, 1, ac.signal);
      setTimeout(() => ac.abort(), 30);
      await expect(pending).rejects.toMatchObject({ kind: ErrorKind.Canceled });
      const ac2 = new AbortController();
      ac2.abort();
      await expect(c.series('t', [], { ...opts, signal: ac2.signal })).rejects.toMatchObject({ kind: ErrorKind.Canceled });
    });
  });
});

describe('writeRequestToBatch', () => {
  it('reads float64 columns from unaligned bytes bit-exact', () => {
    const vs = Float64Array.from([1, 0]);
    setStaleNaNAt(vs, 1);
    const buf = new Uint8Array(33);
    buf.set(new Uint8Array(Float64Array.from([10, 20]).buffer), 1);
    buf.set(new Uint8Array(vs.buffer), 17);
    const b = writeRequestToBatch({
      tenant: 't',
      labelStrings: ['a', '1', 'b', '2', 'c', '3'],
      labelPairCounts: [2, 1],
      sampleCounts: [1, 1],
      timestamps: buf.subarray(1, 17),
      values: buf.subarray(17, 33),
    });
    expect(b.series).toEqual([['a', '1', 'b', '2'], ['c', '3']]);
    expect(Array.from(b.sampleStart)).toEqual([0, 1, 2]);
    expect(Array.from(b.tsMs)).toEqual([10, 20]);
    expect(Array.from(wordsOf(b.values))).toEqual(Array.from(wordsOf(vs)));
  });

  it.each([
    ['counts disagree', { labelPairCounts: [1], sampleCounts: [] }],
    ['label strings left over', { labelStrings: ['a', '1', 'b'] }],
    ['too few label strings', { labelPairCounts: [2] }],
    ['bytes do not match sample count', { sampleCounts: [2] }],
  ])('rejects %s', (_name, patch) => {
    const base: WriteRequestMsg = { tenant: 't', labelStrings: ['a', '1'], labelPairCounts: [1], sampleCounts: [1], timestamps: new Uint8Array(8), values: new Uint8Array(8) };
    expect(() => writeRequestToBatch({ ...base, ...patch })).toThrow(expect.objectContaining({ kind: ErrorKind.BadData, code: 'write-request-malformed' }));
  });
});

describe('storage gRPC server over SqliteBackend (select read in slices)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'promstore-service-'));
  const backend = SqliteBackend.open({ dataDir: dir, checkpointIntervalMs: 0 });
  let server: RunningStorageServer;
  let client: StorageClient;

  beforeAll(async () => {
    // Slices of 7 series, and a transport window the result overflows: slices wait for drain.
    server = await startStorageServer({ backend, host: '127.0.0.1', port: 0, maxMessageBytes: 16 << 20, selectBatch: { maxSeries: 7, maxBytes: 1 << 20 } });
    client = createGrpcStorageClient({ address: `127.0.0.1:${server.port}`, timeoutMs: 10_000, maxMessageBytes: 16 << 20 });
  });
  afterAll(async () => {
    client.close();
    await server.close();
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('streams every series of a select read slice by slice, in label order, with every sample', async () => {
    const b = makeBatch(1500, 120, (s, k) => s * 1000 + k);
    expect((await client.write('big', b)).samplesWritten).toBe(1500 * 120);
    backend.checkpoint();
    // More samples after the checkpoint: each series has persisted rows and a head.
    const later = makeBatch(1500, 10, (s, k) => s * 1000 + 120 + k);
    for (let i = 0; i < later.tsMs.length; i++) later.tsMs[i] = (later.tsMs[i] as number) + 120 * 15_000;
    expect((await client.write('big', later)).samplesWritten).toBe(1500 * 10);
    const got = await client.select('big', [eq('__name__', 'm')], 0, T0 * 2);
    expect(got.map((s) => s.labels)).toEqual(b.series);
    for (let s = 0; s < got.length; s++) {
      const x = got[s]!;
      expect(x.values.length).toBe(130);
      expect(x.values[0]).toBe(s * 1000);
      expect(x.values[129]).toBe(s * 1000 + 129);
    }
  });
});

