/**
 * Sends pre-encoded remote-write bodies to an endpoint and measures throughput and latency.
 *
 * Bodies come in ordered streams. `concurrency` workers share a FIFO of idle streams: a worker takes
 * the stream at the head, sends its next body, and puts the stream back at the tail. So a stream never
 * has two requests in flight and is sent in order (every series reaches the receiver in timestamp
 * order), streams advance round-robin at the same pace, and all workers stay busy whenever there are
 * at least as many streams as workers. Connections are keep-alive, one socket per worker.
 *
 * The run stops when every stream is done, the duration has elapsed, or too many requests failed;
 * requests already in flight are allowed to finish (bounded by `timeoutMs`).
 */
import http from 'node:http';
import https from 'node:https';
import { badData, clip } from '../../common/errors.js';
import type { Payload } from './payloads.js';

/** Parameters of one measured run. */
export interface RunOptions {
  readonly url: URL;
  /** Sent as X-Scope-OrgID; empty = header omitted (Prometheus and VictoriaMetrics ignore it). */
  readonly tenant: string;
  /** Each stream is sent in order, one request at a time; different streams run concurrently. */
  readonly streams: readonly (readonly Payload[])[];
  /** Requests in flight at most (workers); effectively capped at the number of streams. */
  readonly concurrency: number;
  /** Stop starting new requests after this long, ms; 0 = until the streams are exhausted. */
  readonly durationMs: number;
  /** Per-request timeout, ms; a timed-out request counts as error `timeout`. */
  readonly timeoutMs: number;
  /** Stop once this many requests failed; 0 = never. */
  readonly maxErrors: number;
  /** Monotonic clock in ms, injectable for tests. */
  readonly now?: () => number;
  /**
   * Called after each request completes (successful or not), with the requests completed and the
   * samples acknowledged so far; lets a caller read the server's CPU part-way through (bench halves).
   */
  readonly onRequestDone?: (requestsDone: number, samplesOk: number) => void;
}

/** Latency summary, ms, over all completed requests (successful or not, network errors excluded). */
export interface LatencySummary {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** Why the run ended. */
export type StopReason = 'payloads-exhausted' | 'duration' | 'max-errors';

/** Result of a run; `--json` prints it as one line. */
export interface RunReport {
  readonly url: string;
  /** Workers actually used: min(concurrency, non-empty streams). */
  readonly concurrency: number;
  readonly stopReason: StopReason;
  readonly elapsedMs: number;
  /** Requests sent and completed (any outcome). */
  readonly requests: number;
  /** Requests answered 2xx. */
  readonly okRequests: number;
  /** Samples in 2xx requests. */
  readonly samplesOk: number;
  /** Compressed bytes of all completed requests. */
  readonly bytesSent: number;
  readonly samplesPerSec: number;
  readonly requestsPerSec: number;
  readonly latencyMs: LatencySummary;
  /** Failures by HTTP status (`"400"`, `"503"`) or network error (`"ECONNREFUSED"`, `"timeout"`). */
  readonly errors: Record<string, number>;
  /** First response body (or error message) seen per error key, cut to 200 chars. */
  readonly errorExamples: Record<string, string>;
}

/** Outcome of one HTTP request: a status, or a network error key. */
interface Outcome {
  status: number;
  errorKey: string;
  detail: string;
}

/** Growable Float64Array of latencies; avoids one boxed number per request in a JS array. */
class LatencyLog {
  private _buf = new Float64Array(1024);
  length = 0;
  push(ms: number): void {
    if (this.length === this._buf.length) {
      const next = new Float64Array(this._buf.length * 2);
      next.set(this._buf);
      this._buf = next;
    }
    this._buf[this.length++] = ms;
  }
  summary(): LatencySummary {
    const n = this.length;
    if (n === 0) return { p50: 0, p90: 0, p99: 0, max: 0, mean: 0 };
    const sorted = this._buf.slice(0, n).sort();
    let sum = 0;
    for (let i = 0; i < n; i++) sum += sorted[i] as number;
    return {
      p50: nearestRank(sorted, 0.5),
      p90: nearestRank(sorted, 0.9),
      p99: nearestRank(sorted, 0.99),
      max: sorted[n - 1] as number,
      mean: sum / n,
    };
  }
}

/** Nearest-rank percentile of an ascending, non-empty array. */
export function nearestRank(sorted: Float64Array, p: number): number {
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[idx] as number;
}

/** Headers of every remote-write 1.0 request (spec: snappy block + protobuf, version 0.1.0). */
function baseHeaders(tenant: string): http.OutgoingHttpHeaders {
  const headers: http.OutgoingHttpHeaders = {
    'Content-Encoding': 'snappy',
    'Content-Type': 'application/x-protobuf',
    'X-Prometheus-Remote-Write-Version': '0.1.0',
    'User-Agent': 'promstore-load/0.1.0',
  };
  if (tenant !== '') headers['X-Scope-OrgID'] = tenant;
  return headers;
}

/**
 * Sends all streams as described in the module comment and returns the report. Throws a bad-data
 * AppError only for an unusable URL; every request failure is counted, never thrown.
 */
export async function runLoad(opts: RunOptions): Promise<RunReport> {
  const isHttps = opts.url.protocol === 'https:';
  if (!isHttps && opts.url.protocol !== 'http:') {
    throw badData('bad-load-option', `url must be http or https, got ${clip(opts.url.protocol)} [err-bad-load-option]`);
  }
  const now = opts.now ?? (() => performance.now());
  // Idle streams, FIFO; `next[s]` is the index of stream s's next body.
  const idle: number[] = [];
  for (let st = 0; st < opts.streams.length; st++) if ((opts.streams[st]?.length ?? 0) > 0) idle.push(st);
  const next = new Uint32Array(opts.streams.length);
  const usable = Math.min(opts.concurrency, idle.length);
  const workers = Math.max(1, usable);
  const agentOptions = { keepAlive: true, maxSockets: workers };
  const agent = isHttps ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  const send = isHttps ? https.request : http.request;
  const headers = baseHeaders(opts.tenant);

  const latencies = new LatencyLog();
  const errors: Record<string, number> = {};
  const errorExamples: Record<string, string> = {};
  let requests = 0;
  let okRequests = 0;
  let failed = 0;
  let samplesOk = 0;
  let bytesSent = 0;
  let stopReason: StopReason = 'payloads-exhausted';
  let stopping = false;

  const start = now();
  const deadline = opts.durationMs > 0 ? start + opts.durationMs : Infinity;

  const post = (body: Uint8Array): Promise<Outcome> =>
    new Promise<Outcome>((resolve) => {
      const req = send(opts.url, { method: 'POST', agent, headers: { ...headers, 'Content-Length': body.length } }, (res) => {
        const status = res.statusCode ?? 0;
        const ok = status >= 200 && status < 300;
        // Keep only the start of an error body for the report; drain everything else.
        let detail = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (!ok && detail.length < 200) detail += chunk;
        });
        res.on('end', () => resolve({ status, errorKey: '', detail }));
        res.on('error', (err) => resolve({ status: 0, errorKey: errorKeyOf(err), detail: err.message }));
      });
      req.setTimeout(opts.timeoutMs, () => req.destroy(new TimeoutError()));
      req.on('error', (err) => resolve({ status: 0, errorKey: errorKeyOf(err), detail: err.message }));
      req.end(body);
    });

  const worker = async (): Promise<void> => {
    for (;;) {
      if (stopping) return;
      const st = idle.shift();
      if (st === undefined) return;
      if (now() >= deadline) {
        stopping = true;
        stopReason = 'duration';
        return;
      }
      const stream = opts.streams[st] as readonly Payload[];
      const payload = stream[next[st] as number] as Payload;
      next[st] = (next[st] as number) + 1;
      const t0 = now();
      const outcome = await post(payload.body);
      const t1 = now();
      if ((next[st] as number) < stream.length) idle.push(st);
      requests++;
      bytesSent += payload.body.length;
      if (outcome.status >= 200 && outcome.status < 300) {
        okRequests++;
        samplesOk += payload.samples;
        latencies.push(t1 - t0);
        opts.onRequestDone?.(requests, samplesOk);
        continue;
      }
      const key = outcome.status !== 0 ? String(outcome.status) : outcome.errorKey;
      if (outcome.status !== 0) latencies.push(t1 - t0);
      errors[key] = (errors[key] ?? 0) + 1;
      if (errorExamples[key] === undefined) errorExamples[key] = clip(outcome.detail.trim());
      failed++;
      if (opts.maxErrors > 0 && failed >= opts.maxErrors && !stopping) {
        stopping = true;
        stopReason = 'max-errors';
      }
      opts.onRequestDone?.(requests, samplesOk);
    }
  };

  try {
    const running: Promise<void>[] = [];
    for (let w = 0; w < workers; w++) running.push(worker());
    await Promise.all(running);
  } finally {
    agent.destroy();
  }
  const elapsedMs = now() - start;
  const secs = elapsedMs / 1000;
  return {
    url: opts.url.toString(),
    concurrency: usable,
    stopReason,
    elapsedMs,
    requests,
    okRequests,
    samplesOk,
    bytesSent,
    samplesPerSec: secs > 0 ? samplesOk / secs : 0,
    requestsPerSec: secs > 0 ? requests / secs : 0,
    latencyMs: latencies.summary(),
    errors,
    errorExamples,
  };
}

/** Marks a request destroyed by our own timeout. */
class TimeoutError extends Error {
  constructor() {
    super('request timed out');
    this.name = 'TimeoutError';
  }
}

/** Short key for a network error: `timeout`, the errno code (`ECONNREFUSED`), or `network`. */
function errorKeyOf(err: Error): string {
  if (err instanceof TimeoutError) return 'timeout';
  const code = (err as NodeJS.ErrnoException).code;
  return typeof code === 'string' && code !== '' ? code : 'network';
}
