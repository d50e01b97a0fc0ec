import snappy from 'snappyjs';
import { labelsFromRecord } from '../../common/labels.js';
import type { SampleBatch } from '../../common/types.js';
import { encodeWriteRequest } from '../../proto/write-request-encoder.js';

/** One series to send: labels and [timestampMs, value] pairs. */
export interface TestSeries {
  readonly labels: Record<string, string>;
  readonly samples: ReadonlyArray<readonly [number, number]>;
}

/** Builds a columnar batch from readable test data. */
export function batchOf(series: readonly TestSeries[]): SampleBatch {
  const total = series.reduce((n, s) => n + s.samples.length, 0);
  const sampleStart = new Uint32Array(series.length + 1);
  const tsMs = new Float64Array(total);
  const values = new Float64Array(total);
  let k = 0;
  series.forEach((s, i) => {
    sampleStart[i] = k;
    for (const [t, v] of s.samples) {
      tsMs[k] = t;
      values[k] = v;
      k++;
    }
  });
  sampleStart[series.length] = k;
  return { series: series.map((s) => labelsFromRecord(s.labels)), sampleStart, tsMs, values };
}

/** snappy(protobuf(WriteRequest)) of the batch. */
export function encodeBody(batch: SampleBatch): Uint8Array {
  return snappy.compress(encodeWriteRequest(batch));
}

/** POSTs a remote-write body with the standard headers; returns the response. */
export async function pushBody(url: string, body: Uint8Array, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/api/v1/push`, {
    method: 'POST',
    body,
    headers: {
      'Content-Encoding': 'snappy',
      'Content-Type': 'application/x-protobuf',
      'X-Prometheus-Remote-Write-Version': '0.1.0',
      ...headers,
    },
  });
}

/** Encodes and pushes series; returns the response. */
export async function pushSeries(url: string, series: readonly TestSeries[], tenant?: string): Promise<Response> {
  return pushBody(url, encodeBody(batchOf(series)), tenant === undefined ? {} : { 'X-Scope-OrgID': tenant });
}

/** GET /api/v1/<path>?params and parse the JSON envelope. */
export async function queryApi(url: string, path: string, params: Record<string, string>, tenant?: string): Promise<{ status: number; body: any }> {
  const qs = new URLSearchParams(params).toString();
  const res = await fetch(`${url}/api/v1/${path}?${qs}`, { headers: tenant === undefined ? {} : { 'X-Scope-OrgID': tenant } });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body };
}
