import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.js';
import type { Labels, SampleBatch } from '../../common/types.js';
import { MatchType } from '../../common/types.js';
import type { WriteRequestMsg, WriteResponseMsg } from '../../proto/index.js';
import type { Backend } from '../backend/backend.js';
import { MemoryBackend } from '../backend/memory.js';
import { SqliteBackend } from '../backend/sqlite/sqlite-backend.js';
import { createGrpcStorageClient } from '../client/client.js';
import type { StorageClient } from '../client/storage-client.js';
import { storageServiceDefinition as def } from '../rpc.js';
import { startStorageServer, type RunningStorageServer } from './main.js';

const T0 = 1_700_000_000_000;
const ALL = [{ type: MatchType.EQ, name: '__name__', value: 'm' }];

/** Series `m{i="<s>"}` for s in `ids`, one sample each at T0 + step·1000 with value s·1000 + step (misattribution shows). */
function batch(ids: readonly number[], step: number): SampleBatch {
  const series: Labels[] = ids.map((s) => ['__name__', 'm', 'i', String(s).padStart(4, '0')]);
  const sampleStart = new Uint32Array(ids.length + 1);
  const tsMs = new Float64Array(ids.length);
  const values = new Float64Array(ids.length);
  ids.forEach((s, k) => {
    tsMs[k] = T0 + step * 1000;
    values[k] = s * 1000 + step;
    sampleStart[k + 1] = k + 1;
  });
  return { series, sampleStart, tsMs, values };
}

const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);

/** Every series' samples as "i: v1,v2,…" lines, so a sample under the wrong series fails the comparison. */
async function dump(client: StorageClient, tenant: string): Promise<string[]> {
  const out = await client.select(tenant, ALL, 0, T0 * 2);
  return out.map((s) => `${s.labels[3]}: ${Array.from(s.values).join(',')}`);
}

function expected(ids: readonly number[], steps: (id: number) => number[]): string[] {
  return [...ids].sort((a, b) => a - b).map((s) => `${String(s).padStart(4, '0')}: ${steps(s).map((k) => s * 1000 + k).join(',')}`);
}

function rawWrite(raw: grpc.Client, req: Partial<WriteRequestMsg>): Promise<WriteResponseMsg> {
  const full: WriteRequestMsg = { tenant: 't', labelStrings: [], labelPairCounts: [], sampleCounts: [], timestamps: new Uint8Array(0), values: new Uint8Array(0), ...req };
  return new Promise((resolve, reject) => {
    raw.makeUnaryRequest(def.Write.path, def.Write.requestSerialize, def.Write.responseDeserialize, full, (err, res) => (err ? reject(err) : resolve(res as WriteResponseMsg)));
  });
}

describe('series refs over gRPC', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const f of cleanup.reverse()) await f();
    cleanup.length = 0;
  });

  async function serve(backend: Backend, port = 0): Promise<RunningStorageServer> {
    const server = await startStorageServer({ backend, host: '127.0.0.1', port, maxMessageBytes: 16 << 20, log: () => {} });
    return server;
  }

  it('sends known series by ref and survives a storage restart without losing or misattributing samples', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'refs-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    let backend = SqliteBackend.open({ dataDir: dir, checkpointIntervalMs: 0, retentionIntervalMs: 0 });
    let server = await serve(backend);
    const port = server.port;
    const client = createGrpcStorageClient({ address: `127.0.0.1:${port}`, timeoutMs: 5000, maxMessageBytes: 16 << 20 });
    cleanup.push(async () => {
      client.close();
      await server.close();
      await backend.close();
    });

    // Two tenants with the same label sets: refs must never cross tenants.
    for (const tenant of ['a', 'b']) {
      const first = await client.write(tenant, batch(tenant === 'a' ? range(50) : range(50).reverse(), 1));
      expect(first).toEqual({ samplesWritten: 50, rejected: [] });
    }
    // Step 2: all by ref (mixed with 10 new series, in shuffled order).
    const mixed = [...range(10, 50), ...range(50)].sort((x, y) => ((x * 7919) % 61) - ((y * 7919) % 61));
    expect(await client.write('a', batch(mixed, 2))).toEqual({ samplesWritten: 60, rejected: [] });
    expect(await client.write('b', batch(range(50), 2))).toEqual({ samplesWritten: 50, rejected: [] });
    // A re-send of the same samples by ref: identical → counted as written; changed → duplicate.
    const dupe = batch(range(3), 2);
    expect(await client.write('b', dupe)).toEqual({ samplesWritten: 3, rejected: [] });
    dupe.values[1] = 42;
    const r = await client.write('b', dupe);
    expect(r.samplesWritten).toBe(2);
    expect(r.rejected.map((x) => [x.code, x.count])).toEqual([['sample-duplicate-timestamp', 1]]);

    // Restart storage on the same port and data dir: the client still holds old-instance refs.
    await server.close();
    await backend.close();
    backend = SqliteBackend.open({ dataDir: dir, checkpointIntervalMs: 0, retentionIntervalMs: 0 });
    server = await serve(backend, port);
    expect(await client.write('a', batch([...range(60), 60], 3))).toEqual({ samplesWritten: 61, rejected: [] });
    expect(await client.write('b', batch(range(50), 3))).toEqual({ samplesWritten: 50, rejected: [] });
    // And by (new) ref again.
    expect(await client.write('a', batch(range(61), 4))).toEqual({ samplesWritten: 61, rejected: [] });

    expect(await dump(client, 'a')).toEqual(
      expected(range(61), (s) => (s < 50 ? [1, 2, 3, 4] : s < 60 ? [2, 3, 4] : [3, 4])),
    );
    expect(await dump(client, 'b')).toEqual(expected(range(50), () => [1, 2, 3]));
  });

  it('answers unknown refs (foreign instance, unknown id) as unknown and writes nothing of them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'refs-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const backend = SqliteBackend.open({ dataDir: dir, checkpointIntervalMs: 0, retentionIntervalMs: 0 });
    const server = await serve(backend);
    const raw = new grpc.Client(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
    cleanup.push(async () => {
      raw.close();
      await server.close();
      await backend.close();
    });
    const ts = (n: number): Uint8Array => new Uint8Array(new Float64Array(Array.from({ length: n }, (_, k) => T0 + k)).buffer);
    const first = await rawWrite(raw, { labelStrings: ['__name__', 'm', 'i', '1'], labelPairCounts: [2], sampleCounts: [1], timestamps: ts(1), values: ts(1), wantRefs: true });
    expect(first.samplesWritten).toBe(1);
    const ref = first.seriesRefs?.[0] ?? 0;
    expect(ref).toBeGreaterThan(0);
    const inst = first.refsInstance ?? '';
    expect(inst).not.toBe('');
    const cases: [string, Partial<WriteRequestMsg>, number, number[]][] = [
      ['foreign instance', { seriesRefs: [ref], refsInstance: 'other' }, 0, [0]],
      ['no instance', { seriesRefs: [ref] }, 0, [0]],
      ['unknown id', { seriesRefs: [ref + 1000], refsInstance: inst }, 0, [0]],
      ['known', { seriesRefs: [ref], refsInstance: inst }, 1, []],
    ];
    let k = 1;
    for (const [name, req, written, unknown] of cases) {
      const t = new Float64Array([T0 + 10 * k++]);
      const bytes = new Uint8Array(t.buffer);
      const res = await rawWrite(raw, { labelPairCounts: [0], sampleCounts: [1], timestamps: bytes, values: bytes, wantRefs: true, ...req });
      expect([name, res.samplesWritten, res.unknownRefSeries, res.rejected]).toEqual([name, written, unknown, []]);
    }
    // Both a ref and labels for one series is malformed.
    await expect(rawWrite(raw, { labelStrings: ['__name__', 'm'], labelPairCounts: [1], sampleCounts: [1], timestamps: ts(1), values: ts(1), seriesRefs: [ref], refsInstance: inst })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
  });

  it('resends series whose ref retention dropped; they come back as new series with only the new samples', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'refs-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const clock = new ManualClock(0);
    const retentionMs = 60_000;
    const backend = SqliteBackend.open({ dataDir: dir, checkpointIntervalMs: 0, retentionIntervalMs: 0, retentionMs, clock });
    const server = await serve(backend);
    const client = createGrpcStorageClient({ address: `127.0.0.1:${server.port}`, timeoutMs: 5000, maxMessageBytes: 16 << 20 });
    cleanup.push(async () => {
      client.close();
      await server.close();
      await backend.close();
    });
    await client.write('a', batch(range(10), 1)); // refs learned for 0..9
    await client.write('a', batch(range(5), 2)); // by ref; 5..9 stay at step 1
    // Retention drops series 5..9 (all data before the cutoff); 0..4 keep their head whole.
    clock.set(T0 + 2000 + retentionMs);
    backend.enforceRetention();
    await backend.idle();
    expect((await dump(client, 'a')).length).toBe(5);
    expect(await client.write('a', batch(range(10), 3))).toEqual({ samplesWritten: 10, rejected: [] });
    expect(await dump(client, 'a')).toEqual(expected(range(10), (s) => (s < 5 ? [1, 2, 3] : [3])));
  });

  it('works against a backend without refs (labels always sent)', async () => {
    const backend = new MemoryBackend();
    const server = await serve(backend);
    const client = createGrpcStorageClient({ address: `127.0.0.1:${server.port}`, timeoutMs: 5000, maxMessageBytes: 16 << 20 });
    cleanup.push(async () => {
      client.close();
      await server.close();
    });
    for (let step = 1; step <= 3; step++) expect(await client.write('a', batch(range(20), step))).toEqual({ samplesWritten: 20, rejected: [] });
    expect(await dump(client, 'a')).toEqual(expected(range(20), () => [1, 2, 3]));
  });
});
