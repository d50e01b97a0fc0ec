/**
 * Concurrent remote-write load with an acknowledgement ledger, for crash and shutdown tests.
 *
 * Series `s` of a plan is `<metric>{s="<s>"}`; its sample at step `k` has timestamp
 * `t0Ms + k·stepMs` and the value `sampleValue(s, k)`. Writer `w` owns the series with
 * `s % writers == w` and sends them strictly in order, one request at a time, so after any crash
 * the stored samples of a series must be a prefix 0..m of its steps with
 * `acked[s] ≤ m ≤ sent[s]`: everything acknowledged is there, nothing unacknowledged is torn.
 */
import http from 'node:http';
import type { SampleBatch } from '../../common/types.js';
import { encodeBody, queryApi } from './remote-write.js';

/** Shape of the load. */
export interface WritePlan {
  readonly metric: string;
  readonly series: number;
  readonly writers: number;
  /** Consecutive samples of each series per request. */
  readonly samplesPerSeries: number;
  readonly t0Ms: number;
  readonly stepMs: number;
  /** X-Scope-OrgID, if any. */
  readonly tenant?: string;
}

/** What happened to one request. */
export type Outcome = 'ok' | `status-${number}` | 'refused' | 'reset' | 'error';

/** Per-series bookkeeping; index = series number. Steps are -1 for "none". */
export class Ledger {
  /** Last step acknowledged with 2xx. */
  readonly acked: Int32Array;
  /** Last step ever sent (acknowledged or not): the most a crash may have stored. */
  readonly sent: Int32Array;
  /** Outcome counts over the ledger's lifetime. */
  readonly outcomes = new Map<Outcome, number>();
  /** Requests answered 2xx. */
  ackedRequests = 0;

  constructor(readonly plan: WritePlan) {
    this.acked = new Int32Array(plan.series).fill(-1);
    this.sent = new Int32Array(plan.series).fill(-1);
  }

  count(o: Outcome): void {
    this.outcomes.set(o, (this.outcomes.get(o) ?? 0) + 1);
  }

  /** Smallest acknowledged step over all series (-1 if one has none). */
  minAcked(): number {
    let m = Infinity;
    for (const a of this.acked) m = Math.min(m, a);
    return m;
  }
}

/** The exact value written for series `s` at step `k`: varied mantissas, so bit errors show. */
export function sampleValue(s: number, k: number): number {
  return Math.sqrt(k * 7 + s + 1) * 1000 + k;
}

/** Builds the request of `writer` carrying steps `from … from+n-1` of each of its series. */
function requestBatch(plan: WritePlan, writer: number, from: Int32Array): SampleBatch {
  const series: string[][] = [];
  const ts: number[] = [];
  const vs: number[] = [];
  const starts: number[] = [];
  for (let s = writer; s < plan.series; s += plan.writers) {
    series.push(['__name__', plan.metric, 's', String(s)]);
    starts.push(ts.length);
    for (let j = 0; j < plan.samplesPerSeries; j++) {
      const k = (from[s] as number) + j;
      ts.push(plan.t0Ms + k * plan.stepMs);
      vs.push(sampleValue(s, k));
    }
  }
  starts.push(ts.length);
  return { series, sampleStart: Uint32Array.from(starts), tsMs: Float64Array.from(ts), values: Float64Array.from(vs) };
}

/** POSTs one body with node:http (precise error codes) and classifies the outcome. */
function post(agent: http.Agent, url: URL, body: Uint8Array, tenant: string | undefined): Promise<Outcome> {
  return new Promise((resolve) => {
    const headers: http.OutgoingHttpHeaders = {
      'Content-Encoding': 'snappy',
      'Content-Type': 'application/x-protobuf',
      'X-Prometheus-Remote-Write-Version': '0.1.0',
      'Content-Length': body.length,
    };
    if (tenant !== undefined) headers['X-Scope-OrgID'] = tenant;
    const req = http.request(url, { method: 'POST', agent, headers }, (res) => {
      res.resume();
      res.on('end', () => {
        const st = res.statusCode ?? 0;
        resolve(st >= 200 && st < 300 ? 'ok' : `status-${st}`);
      });
      res.on('error', () => resolve('reset'));
    });
    req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
    req.on('error', (err: NodeJS.ErrnoException) => {
      resolve(err.code === 'ECONNREFUSED' ? 'refused' : err.code === 'ECONNRESET' || err.code === 'EPIPE' ? 'reset' : 'error');
    });
    req.end(body);
  });
}

/** Options of one write phase. */
export interface WriteOptions {
  /** Base URL of the write endpoint's server (`/api/v1/push` is appended). */
  readonly url: string;
  /** Called after every acknowledged request (e.g. to kill the server at a chosen point). */
  readonly onAck?: (ledger: Ledger) => void;
  /** Stop sending once this returns true (checked before each request). */
  readonly done: (ledger: Ledger) => boolean;
  /** Keep writing after a failed request instead of stopping that writer (shutdown test). */
  readonly continueOnError?: boolean;
  /** Upper bound on requests per writer (keeps loops bounded). */
  readonly maxRequestsPerWriter: number;
  /** Called with every request's outcome and the times (Date.now()) it was sent and completed. */
  readonly onOutcome?: (outcome: Outcome, sentAtMs: number, doneAtMs: number) => void;
}

/**
 * Runs `plan.writers` concurrent writers, each resuming its series at `acked + 1` (so samples a
 * crash left unacknowledged are re-sent, as Prometheus retries them; identical duplicates are
 * accepted). A writer stops at `done`, at its request cap, or at its first failure unless
 * `continueOnError`. Resolves when all writers stopped.
 */
export async function writeLoad(ledger: Ledger, opts: WriteOptions): Promise<void> {
  const plan = ledger.plan;
  const url = new URL('/api/v1/push', opts.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: plan.writers });
  const next = new Int32Array(plan.series);
  for (let s = 0; s < plan.series; s++) next[s] = (ledger.acked[s] as number) + 1;
  const writer = async (w: number): Promise<void> => {
    for (let r = 0; r < opts.maxRequestsPerWriter && !opts.done(ledger); r++) {
      const body = encodeBody(requestBatch(plan, w, next));
      const last = new Int32Array(plan.series);
      for (let s = w; s < plan.series; s += plan.writers) {
        last[s] = (next[s] as number) + plan.samplesPerSeries - 1;
        ledger.sent[s] = Math.max(ledger.sent[s] as number, last[s] as number);
      }
      const sentAtMs = Date.now();
      const outcome = await post(agent, url, body, plan.tenant);
      ledger.count(outcome);
      opts.onOutcome?.(outcome, sentAtMs, Date.now());
      if (outcome === 'ok') {
        for (let s = w; s < plan.series; s += plan.writers) {
          ledger.acked[s] = last[s] as number;
          next[s] = (last[s] as number) + 1;
        }
        ledger.ackedRequests++;
        opts.onAck?.(ledger);
      } else if (opts.continueOnError !== true) {
        return;
      } else {
        // Unknown outcome: resend the same steps next time (a retry), after a short pause.
        await new Promise((res) => setTimeout(res, 20));
      }
    }
  };
  try {
    const all: Promise<void>[] = [];
    for (let w = 0; w < plan.writers; w++) all.push(writer(w));
    await Promise.all(all);
  } finally {
    agent.destroy();
  }
}

/** Result of checking a store against the ledger. */
export interface CheckResult {
  /** Problems found, one line each (empty = consistent). */
  readonly problems: string[];
  /** Samples stored in total. */
  readonly stored: number;
  /** Samples stored beyond what was acknowledged (sent but unacknowledged at the crash). */
  readonly unackedStored: number;
}

/**
 * Reads every series of the plan back as raw samples (instant query of `metric[range]`) and checks
 * the prefix property of the module comment, with exact values. Also moves `acked` up to what is
 * stored, so the next write phase continues from there.
 */
export async function checkStore(queryUrl: string, ledger: Ledger): Promise<CheckResult> {
  const plan = ledger.plan;
  let maxSent = 0;
  for (const s of ledger.sent) maxSent = Math.max(maxSent, s);
  const endMs = plan.t0Ms + (maxSent + 1) * plan.stepMs;
  const rangeSec = Math.ceil((endMs - plan.t0Ms) / 1000) + 1;
  const r = await queryApi(queryUrl, 'query', { query: `${plan.metric}[${rangeSec}s]`, time: String(endMs / 1000) }, plan.tenant);
  const problems: string[] = [];
  if (r.status !== 200 || r.body?.status !== 'success') return { problems: [`query failed: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`], stored: 0, unackedStored: 0 };
  const bySeries = new Map<number, Array<[number, string]>>();
  for (const el of r.body.data.result as Array<{ metric: Record<string, string>; values: Array<[number, string]> }>) {
    bySeries.set(Number(el.metric['s']), el.values);
  }
  let stored = 0;
  let unackedStored = 0;
  for (let s = 0; s < plan.series; s++) {
    const values = bySeries.get(s) ?? [];
    stored += values.length;
    const acked = ledger.acked[s] as number;
    const sent = ledger.sent[s] as number;
    const m = values.length - 1;
    if (m < acked) problems.push(`series ${s}: ${values.length} samples stored, ${acked + 1} acknowledged`);
    if (m > sent) problems.push(`series ${s}: ${values.length} samples stored, only ${sent + 1} ever sent`);
    for (let k = 0; k < values.length; k++) {
      const [tSec, v] = values[k] as [number, string];
      const wantT = (plan.t0Ms + k * plan.stepMs) / 1000;
      const want = sampleValue(s, k);
      if (tSec !== wantT || !Object.is(Number(v), want)) {
        problems.push(`series ${s} sample ${k}: got (${tSec}, ${v}), want (${wantT}, ${want})`);
        break;
      }
    }
    if (m > acked) {
      unackedStored += m - acked;
      if (problems.length === 0) ledger.acked[s] = m;
    }
  }
  return { problems: problems.slice(0, 20), stored, unackedStored };
}
