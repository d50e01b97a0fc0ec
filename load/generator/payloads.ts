/**
 * Pre-encodes workload requests into remote-write bodies (protobuf `WriteRequest`, snappy block
 * format) before any load is sent, so the measured phase does nothing but HTTP.
 */
import { compress } from 'snappyjs';
import type { SampleBatch } from '../../common/types.js';
import { encodeWriteRequest } from '../../proto/write-request-encoder.js';
import type { Workload } from './workload.js';

/** One ready-to-send request body. */
export interface Payload {
  /** Snappy-compressed protobuf WriteRequest. */
  readonly body: Uint8Array;
  /** Samples in the request (what a successful write stores). */
  readonly samples: number;
}

/** Pre-encoded requests, grouped into ordered streams (one per workload slice). */
export interface PayloadSet {
  /** `streams[s]` lists the requests of slice s in send order. */
  readonly streams: Payload[][];
  readonly requests: number;
  readonly samples: number;
  /** Encoded protobuf bytes before compression, summed. */
  readonly rawBytes: number;
  /** Compressed bytes (what goes on the wire), summed. */
  readonly compressedBytes: number;
  /** Wall time spent encoding and compressing, ms. */
  readonly encodeMs: number;
}

/** Options of buildPayloads. */
export interface BuildOptions {
  /** Most requests to build. */
  readonly maxRequests: number;
  /** Stop once this many compressed bytes are held (at least one request is always built). */
  readonly maxBytes: number;
  /** Encoder, injectable for tests; defaults to proto/write-request-encoder.ts. */
  readonly encode?: (batch: SampleBatch) => Uint8Array;
  /** Called every 1000 requests with the count so far (progress for long builds). */
  readonly onProgress?: (requests: number) => void;
}

/**
 * Encodes requests 0, 1, 2, … of `workload` until `maxRequests` or `maxBytes` is reached, appending
 * each to stream `workload.streamOf(q)`.
 */
export function buildPayloads(workload: Workload, opts: BuildOptions): PayloadSet {
  const encode = opts.encode ?? encodeWriteRequest;
  const streams: Payload[][] = [];
  for (let l = 0; l < workload.requestsPerRound; l++) streams.push([]);
  const t0 = performance.now();
  let rawBytes = 0;
  let compressedBytes = 0;
  let samples = 0;
  let q = 0;
  while (q < opts.maxRequests && (q === 0 || compressedBytes < opts.maxBytes)) {
    const batch = workload.batch(q);
    const raw = encode(batch);
    const body = compress(raw);
    const n = batch.tsMs.length;
    (streams[workload.streamOf(q)] as Payload[]).push({ body, samples: n });
    rawBytes += raw.length;
    compressedBytes += body.length;
    samples += n;
    q++;
    if (opts.onProgress !== undefined && q % 1000 === 0) opts.onProgress(q);
  }
  return { streams, requests: q, samples, rawBytes, compressedBytes, encodeMs: performance.now() - t0 };
}

/** Format tag of manifest.json; bump when the layout changes. */
export const MANIFEST_FORMAT = 'promstore-load-payloads/1';

/** One request in manifest.json, in global send order. */
export interface ManifestEntry {
  /** File name inside the payload directory (snappy-compressed WriteRequest). */
  readonly file: string;
  /** Ordering stream: requests of one stream must be sent one after another, in this order. */
  readonly stream: number;
  readonly samples: number;
}

/** manifest.json of a payload directory, read by load/k6/remote-write.js. */
export interface Manifest {
  readonly format: typeof MANIFEST_FORMAT;
  readonly streams: number;
  readonly samples: number;
  readonly compressedBytes: number;
  /** Free-form description of the workload (flags, start time). */
  readonly workload: Record<string, unknown>;
  readonly requests: readonly ManifestEntry[];
}

/**
 * Lays a PayloadSet out as files in send order: request `q` is the `floor(q / streams)`-th body of
 * stream `q % streams` (buildPayloads appends round-robin). Returns the manifest and the bodies by
 * file name; writing them is the caller's job, so this stays pure.
 */
export function payloadFiles(set: PayloadSet, workload: Record<string, unknown>): { manifest: Manifest; files: Map<string, Uint8Array> } {
  const n = set.streams.length;
  const requests: ManifestEntry[] = [];
  const files = new Map<string, Uint8Array>();
  for (let q = 0; q < set.requests; q++) {
    const stream = q % n;
    const p = set.streams[stream]?.[Math.floor(q / n)];
    if (p === undefined) break;
    const file = `${String(q).padStart(7, '0')}.bin`;
    files.set(file, p.body);
    requests.push({ file, stream, samples: p.samples });
  }
  return { manifest: { format: MANIFEST_FORMAT, streams: n, samples: set.samples, compressedBytes: set.compressedBytes, workload, requests }, files };
}
