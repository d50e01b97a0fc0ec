/**
 * Speed of the hand-written Write codec (storage/write-codec.ts) against protobufjs reflection
 * (proto/index.ts) on the three message shapes that matter:
 *   live     WriteRequest, 2,000 series by ref × 1 sample (steady-state ingest)
 *   batch    WriteRequest, 50 series × 40 samples, labels sent (first sight / backfill)
 *   response WriteResponse with 2,000 series_refs
 *
 * Full report (medians of timed rounds after warm-up): build, then compile this file (the build
 * config skips benches), then run it:
 *   npx tsc -p tsconfig.json --noEmit false --outDir dist/bench && \
 *   node dist/bench/storage/write-codec.bench.js
 * Under `vitest bench` it registers the same cases as vitest benchmarks.
 */
import {
  decodeWriteRequest,
  decodeWriteResponse,
  encodeWriteRequest,
  encodeWriteResponse,
  type WriteRequestMsg,
  type WriteResponseMsg,
} from '../proto/index.js';
import { decodeWriteRequestMsg, decodeWriteResponseMsg, encodeWriteRequestMsg, encodeWriteResponseMsg } from './write-codec.js';
import { runCodecPairs, type CodecPair } from './codec-bench-harness.js';

const T0 = 1_700_000_000_000;

function floatBytes(values: number[]): Uint8Array {
  return new Uint8Array(Float64Array.from(values).buffer);
}

/** Deterministic pseudo-random series refs (SQLite series ids: up to a few million). */
function refs(n: number): number[] {
  const out: number[] = [];
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out.push(1 + (x % 3_000_000));
  }
  return out;
}

function liveRequest(): WriteRequestMsg {
  const n = 2000;
  return {
    tenant: 'tenant-1',
    labelStrings: [],
    labelPairCounts: new Array<number>(n).fill(0),
    sampleCounts: new Array<number>(n).fill(1),
    timestamps: floatBytes(new Array<number>(n).fill(T0)),
    values: floatBytes(Array.from({ length: n }, (_, i) => i * 1.5)),
    seriesRefs: refs(n),
    refsInstance: '0f6c2a9e-6a39-4a8f-9a3e-1d2b3c4d5e6f',
    wantRefs: true,
  };
}

/** `offset` varies the instance label, so that requests differ from one another. */
function batchRequest(offset = 0): WriteRequestMsg {
  const nSeries = 50;
  const perSeries = 40;
  const labelStrings: string[] = [];
  for (let s = 0; s < nSeries; s++) {
    labelStrings.push(
      '__name__', `node_cpu_seconds_total`,
      'cpu', String(s % 8),
      'env', 'production',
      'instance', `node-${offset + s}.example.internal:9100`,
      'job', 'node-exporter',
      'mode', ['idle', 'user', 'system', 'iowait'][s % 4] as string,
    );
  }
  const ts: number[] = [];
  const vs: number[] = [];
  for (let s = 0; s < nSeries; s++) for (let k = 0; k < perSeries; k++) (ts.push(T0 + k * 15_000), vs.push(s * 1000 + k * 0.25));
  return {
    tenant: 'tenant-1',
    labelStrings,
    labelPairCounts: new Array<number>(nSeries).fill(6),
    sampleCounts: new Array<number>(nSeries).fill(perSeries),
    timestamps: floatBytes(ts),
    values: floatBytes(vs),
    seriesRefs: new Array<number>(nSeries).fill(0),
    refsInstance: '',
    wantRefs: true,
  };
}

function response(): WriteResponseMsg {
  return {
    samplesWritten: 2000,
    rejected: [{ code: 'sample-out-of-order', count: 3, example: 'out of order sample for series {__name__="up", job="x"}' }],
    seriesRefs: refs(2000),
    refsInstance: '0f6c2a9e-6a39-4a8f-9a3e-1d2b3c4d5e6f',
    unknownRefSeries: [],
  };
}

function pairs(): CodecPair[] {
  const live = liveRequest();
  const batch = batchRequest();
  const res = response();
  // Decoders get a Buffer, as grpc-js hands them one.
  const lb = Buffer.from(encodeWriteRequest(live));
  const bb = Buffer.from(encodeWriteRequest(batch));
  const rb = Buffer.from(encodeWriteResponse(res));
  // 64 requests from different instances, in turn: the decoder's string cache misses on values.
  const varied = Array.from({ length: 64 }, (_, k) => Buffer.from(encodeWriteRequest(batchRequest(1000 + k * 50))));
  let vi = 0;
  let vj = 0;
  return [
    { name: 'live request encode', protobufjs: () => encodeWriteRequest(live), ours: () => encodeWriteRequestMsg(live) },
    { name: 'live request decode', protobufjs: () => decodeWriteRequest(lb), ours: () => decodeWriteRequestMsg(lb) },
    { name: 'batch request encode', protobufjs: () => encodeWriteRequest(batch), ours: () => encodeWriteRequestMsg(batch) },
    { name: 'batch request decode', protobufjs: () => decodeWriteRequest(bb), ours: () => decodeWriteRequestMsg(bb) },
    {
      name: 'batch decode, 64 senders',
      protobufjs: () => decodeWriteRequest(varied[vi++ & 63] as Buffer),
      ours: () => decodeWriteRequestMsg(varied[vj++ & 63] as Buffer),
    },
    { name: 'response encode', protobufjs: () => encodeWriteResponse(res), ours: () => encodeWriteResponseMsg(res) },
    { name: 'response decode', protobufjs: () => decodeWriteResponse(rb), ours: () => decodeWriteResponseMsg(rb) },
  ];
}

if (process.env['VITEST'] === undefined) console.log(`sizes: live ${encodeWriteRequest(liveRequest()).length} B, batch ${encodeWriteRequest(batchRequest()).length} B, response ${encodeWriteResponse(response()).length} B`);
await runCodecPairs('Write codec', pairs(), { warm: 2000, iters: 100 });
