import { MessageChannel } from 'node:worker_threads';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError, ErrorKind } from '../../common/errors.js';
import { MatchType, setStaleNaNAt, wordsOf, type Labels, type Matcher, type SampleBatch } from '../../common/types.js';
import type { Backend } from '../backend/backend.js';
import { MemoryBackend } from '../backend/memory.js';
import { createGrpcStorageClient } from '../client/client.js';
import type { StorageClient } from '../client/storage-client.js';
import { storageServiceDefinition } from '../rpc.js';
import { createStorageService } from '../server/service.js';
import { sampleBatch } from '../../test/helpers/chunks.js';
import { PortTransport, servePort } from './port-transport.js';

const T0 = 1_700_000_000_000;
const ALL = { startMs: 0, endMs: T0 * 2, limit: 0 };
const eq = (name: string, value: string): Matcher => ({ type: MatchType.EQ, name, value });

/** `nSeries` series `m{i="…"}` of `perSeries` samples each at T0 + k·15s. */
function makeBatch(nSeries: number, perSeries: number): SampleBatch {
  const ts = Array.from({ length: perSeries }, (_, k) => T0 + k * 15_000);
  return sampleBatch(...Array.from({ length: nSeries }, (_, s): [Labels, number[], number[]] => [['__name__', 'm', 'i', String(s).padStart(4, '0')], ts, ts.map((_t, k) => s * 100 + k + 0.5)]));
}

/** A Backend whose every method rejects with `err`, or never settles for 'hang'. */
function failingBackend(err: unknown): Backend {
  const fail = (): Promise<never> => (err === 'hang' ? new Promise<never>(() => {}) : Promise.reject(err));
  return { append: fail, select: fail, labelNames: fail, labelValues: fail, series: fail, writeExtras: fail, metadata: fail, exemplars: fail, storageStats: fail, flush: fail, close: async () => {} };
}

const open: { client: StorageClient; transport: PortTransport }[] = [];

/** The storage client over a MessageChannel to the service on `backend` (both ends in this thread). */
function connect(backend: Backend, timeoutMs = 5000): { client: StorageClient; transport: PortTransport } {
  const { port1, port2 } = new MessageChannel();
  servePort(port2, storageServiceDefinition, createStorageService({ backend, log: () => {}, selectBatch: { maxSeries: 7, maxBytes: 1 << 20 } }));
  const transport = new PortTransport(port1);
  const client = createGrpcStorageClient({ address: 'in-process', timeoutMs, maxMessageBytes: 64 << 20, transport });
  // The serving end must not keep the test process alive.
  port2.unref();
  const c = { client, transport };
  open.push(c);
  return c;
}

afterEach(() => {
  for (const c of open.splice(0)) c.client.close();
});

describe('storage service over a MessagePort', () => {
  it('writes and streams a many-series select back bit-exact', async () => {
    const { client } = connect(new MemoryBackend());
    const b = makeBatch(50, 4);
    setStaleNaNAt(b.values, 9);
    expect(await client.write('t', b)).toEqual({ samplesWritten: 200, rejected: [] });
    // 50 series in Select messages of at most 7: several stream messages, reassembled in order.
    const got = await client.select('t', [eq('__name__', 'm')], T0, T0 + 45_000);
    expect(got.map((s) => s.labels)).toEqual(b.series);
    expect(got.flatMap((s) => Array.from(wordsOf(s.values)))).toEqual(Array.from(wordsOf(b.values)));
    expect(await client.labelValues('t', 'i', [], ALL)).toHaveLength(50);
    await expect(client.flush()).resolves.toBeUndefined();
  });

  it('matches many concurrent calls to their own answers', async () => {
    const { client } = connect(new MemoryBackend());
    await client.write('t', makeBatch(20, 1));
    const answers = await Promise.all(Array.from({ length: 300 }, (_, k) => client.labelValues('t', 'i', [eq('i', String(k % 20).padStart(4, '0'))], ALL)));
    answers.forEach((values, k) => expect(values).toEqual([String(k % 20).padStart(4, '0')]));
  });

  it('delivers a backend AppError with the same kind, code and message on every method', async () => {
    const appErr = new AppError(ErrorKind.TenantLimit, 'max-series-per-user', 'too many series [err-max-series-per-user]');
    const { client } = connect(failingBackend(appErr));
    const want = { kind: appErr.kind, code: appErr.code, message: appErr.message };
    await expect(client.write('t', makeBatch(1, 1))).rejects.toMatchObject(want);
    await expect(client.select('t', [eq('a', 'b')], 0, 1)).rejects.toMatchObject(want);
    await expect(client.labelNames('t', [], ALL)).rejects.toMatchObject(want);
    await expect(client.flush()).rejects.toMatchObject(want);
  });

  it('gives kind timeout at the deadline and canceled on abort', async () => {
    const { client } = connect(failingBackend('hang'), 100);
    await expect(client.labelNames('t', [], ALL)).rejects.toMatchObject({ kind: ErrorKind.Timeout });
    await expect(client.select('t', [eq('a', 'b')], 0, 1)).rejects.toMatchObject({ kind: ErrorKind.Timeout });
    const slow = connect(failingBackend('hang'), 60_000).client;
    const ac = new AbortController();
    const pending = slow.select('t', [eq('a', 'b')], 0, 1, ac.signal);
    setTimeout(() => ac.abort(), 20);
    await expect(pending).rejects.toMatchObject({ kind: ErrorKind.Canceled });
  });

  it('ends a call with INTERNAL when a reply does not decode, unary and streaming alike', async () => {
    const { client, transport } = connect(new MemoryBackend());
    await client.write('t', makeBatch(3, 2));
    const broken = (): never => {
      throw new Error('garbled');
    };
    const names = storageServiceDefinition['LabelNames'];
    const select = storageServiceDefinition['Select'];
    if (names === undefined || select === undefined) throw new Error('service definition lacks LabelNames or Select');
    const unary = await new Promise<unknown>((resolve) => {
      transport.makeUnaryRequest(names.path, names.requestSerialize, broken, { tenant: 't', matchers: [], startMs: 0, endMs: T0 * 2, limit: 0 }, new grpc.Metadata(), {}, (err) => resolve(err));
    });
    expect(unary).toMatchObject({ code: grpc.status.INTERNAL, details: expect.stringContaining('response decode failed: Error: garbled') });
    const stream = transport.makeServerStreamRequest(select.path, select.requestSerialize, broken, { tenant: 't', matchers: [{ type: MatchType.EQ, name: '__name__', value: 'm' }], startMs: 0, endMs: T0 * 2 }, new grpc.Metadata(), {});
    const streamed = await new Promise<unknown>((resolve) => {
      stream.on('data', () => resolve('data'));
      stream.on('error', resolve);
    });
    expect(streamed).toMatchObject({ code: grpc.status.INTERNAL, details: expect.stringContaining('response decode failed') });
  });

  it('fails calls in flight and later ones as unavailable once the storage side is gone', async () => {
    const { client, transport } = connect(failingBackend('hang'), 60_000);
    const pending = client.labelNames('t', [], ALL);
    transport.fail('storage worker exited with code 1');
    await expect(pending).rejects.toMatchObject({ kind: ErrorKind.Unavailable });
    await expect(client.series('t', [], ALL)).rejects.toMatchObject({ kind: ErrorKind.Unavailable, message: expect.stringContaining('storage worker exited') });
    expect(await client.ready()).toBe(false);
  });
});
