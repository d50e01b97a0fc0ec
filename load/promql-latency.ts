/**
 * PromQL latency comparison (`node dist/load/promql-latency.js`): loads the same counters (default
 * 10,000 series in 10 jobs, 1 h 5 m at 15 s) into our `all` service, a Prometheus 2.42 with the
 * remote-write receiver and, when installed, VictoriaMetrics; then times one range query (default
 * `sum by (job) (rate(x[5m]))` over the last hour at 15 s step) on each: one warm-up, then the
 * median of N runs, and prints a table. Processes run on 127.0.0.1, free ports, temporary dirs.
 *
 * Flags: --series N --jobs N --runs N --query Q --step S --keep-running (print URLs, wait for ^C)
 *        --no-prometheus --no-victoria --promstore-arg=--flag=value (repeatable, passed to our service)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import snappy from 'snappyjs';
import { labelsFromRecord } from '../common/labels.js';
import type { SampleBatch } from '../common/types.js';
import { encodeWriteRequest } from '../proto/write-request-encoder.js';

interface Options {
  series: number;
  jobs: number;
  runs: number;
  query: string;
  stepS: number;
  prometheus: boolean;
  victoria: boolean;
  keepRunning: boolean;
  promstoreArgs: string[];
}

function parseArgs(argv: string[]): Options {
  const o: Options = { series: 10_000, jobs: 10, runs: 10, query: 'sum by (job) (rate(x[5m]))', stepS: 15, prometheus: true, victoria: true, keepRunning: false, promstoreArgs: [] };
  for (const a of argv) {
    const [k, v = ''] = a.split(/=(.*)/s, 2) as [string, string?];
    switch (k) {
      case '--series': o.series = Number(v); break;
      case '--jobs': o.jobs = Number(v); break;
      case '--runs': o.runs = Number(v); break;
      case '--query': o.query = v; break;
      case '--step': o.stepS = Number(v); break;
      case '--no-prometheus': o.prometheus = false; break;
      case '--no-victoria': o.victoria = false; break;
      case '--keep-running': o.keepRunning = true; break;
      case '--promstore-arg': o.promstoreArgs.push(v); break;
      default: throw new Error(`unknown flag ${a}`);
    }
  }
  return o;
}

const STEP_MS = 15_000;
/** One hour of query range plus the 5 m window before its first step. */
const SPAN_MS = 65 * 60_000;
/** Samples per series per remote-write request; requests go out in time order. */
const SLICE = 10;

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

function which(bin: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : null;
}

/** A process we started, with its base URL and how to stop it. */
interface Target {
  readonly name: string;
  readonly url: string;
  readonly writePath: string;
  readonly proc: ChildProcess;
  readonly dir: string;
  /** Called after the data is written and before queries (flushes). */
  readonly afterWrite?: () => Promise<void>;
}

async function waitReady(name: string, url: string, proc: ChildProcess, out: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`${name} exited: ${out()}`);
    try {
      const r = await fetch(url);
      if (r.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} not ready after 60 s: ${out()}`);
}

function startProc(bin: string, args: string[]): { proc: ChildProcess; out: () => string } {
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer): void => {
    out = (out + d.toString()).slice(-20_000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  return { proc, out: () => out };
}

async function startPromstore(extra: string[]): Promise<Target> {
  const cli = resolve(import.meta.dirname, '..', 'bin', 'promstore.js');
  if (!existsSync(cli)) throw new Error(`${cli} missing: npm run build`);
  const dir = mkdtempSync(join(tmpdir(), 'promql-latency-ours-'));
  const port = await freePort();
  const grpcPort = await freePort();
  // The default ingestion rate limit would make loading take minutes: lift it for every tenant.
  const configFile = join(dir, 'config.yml');
  writeFileSync(configFile, 'limits:\n  ingestion_rate: 1000000000\n  ingestion_burst_size: 1000000000\n');
  const { proc, out } = startProc(process.execPath, [
    cli, 'all', '--host=127.0.0.1', `--port=${port}`, `--grpc-port=${grpcPort}`, `--data-dir=${join(dir, 'data')}`,
    `--config=${configFile}`, '--log.level=warn', ...extra,
  ]);
  const url = `http://127.0.0.1:${port}`;
  await waitReady('promstore', `${url}/-/ready`, proc, out);
  return { name: 'promstore (ours)', url, writePath: '/api/v1/push', proc, dir };
}

async function startPrometheus(bin: string): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'promql-latency-prom-'));
  const port = await freePort();
  writeFileSync(join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 1m\nscrape_configs: []\n');
  const { proc, out } = startProc(bin, [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--web.enable-remote-write-receiver',
    '--log.level=warn',
  ]);
  const url = `http://127.0.0.1:${port}`;
  await waitReady('prometheus', `${url}/-/ready`, proc, out);
  return { name: 'Prometheus', url, writePath: '/api/v1/write', proc, dir };
}

async function startVictoria(bin: string): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'promql-latency-vm-'));
  const port = await freePort();
  // The response cache would turn repeated runs into cache hits; we want evaluation time.
  const { proc, out } = startProc(bin, [`-httpListenAddr=127.0.0.1:${port}`, `-storageDataPath=${dir}`, '-search.disableCache', '-loggerLevel=ERROR']);
  const url = `http://127.0.0.1:${port}`;
  await waitReady('victoria-metrics', `${url}/health`, proc, out);
  const afterWrite = async (): Promise<void> => {
    await fetch(`${url}/internal/force_flush`);
  };
  return { name: 'VictoriaMetrics', url, writePath: '/api/v1/write', proc, dir, afterWrite };
}

async function stop(t: Target): Promise<void> {
  if (t.proc.exitCode === null) {
    const exited = new Promise<void>((r) => t.proc.once('exit', () => r()));
    t.proc.kill('SIGTERM');
    const timer = setTimeout(() => t.proc.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
  rmSync(t.dir, { recursive: true, force: true });
}

/** Deterministic counter increments: a stateless hash of (series, step). */
function inc(series: number, step: number): number {
  let h = Math.imul(series ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(step + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x45d9f3b);
  h ^= h >>> 16;
  return (h >>> 0) % 100;
}

/** Encoded requests: slices of SLICE consecutive samples of every series, in time order. */
function buildBodies(o: Options, startMs: number, steps: number): Uint8Array[] {
  const labels = [];
  for (let s = 0; s < o.series; s++) labels.push(labelsFromRecord({ __name__: 'x', job: `job-${s % o.jobs}`, instance: `inst-${s}` }));
  const value = new Float64Array(o.series);
  const bodies: Uint8Array[] = [];
  for (let first = 0; first < steps; first += SLICE) {
    const k = Math.min(SLICE, steps - first);
    const sampleStart = new Uint32Array(o.series + 1);
    const tsMs = new Float64Array(o.series * k);
    const values = new Float64Array(o.series * k);
    for (let s = 0; s < o.series; s++) {
      sampleStart[s] = s * k;
      for (let j = 0; j < k; j++) {
        const step = first + j;
        value[s] = (value[s] as number) + inc(s, step);
        tsMs[s * k + j] = startMs + step * STEP_MS;
        values[s * k + j] = value[s] as number;
      }
    }
    sampleStart[o.series] = o.series * k;
    const batch: SampleBatch = { series: labels, sampleStart, tsMs, values };
    bodies.push(snappy.compress(encodeWriteRequest(batch)));
  }
  return bodies;
}

async function write(t: Target, bodies: Uint8Array[]): Promise<void> {
  const headers = { 'Content-Encoding': 'snappy', 'Content-Type': 'application/x-protobuf', 'X-Prometheus-Remote-Write-Version': '0.1.0' };
  for (const body of bodies) {
    // 429 (a tenant rate limit still in force) is retried after a pause, up to 10 minutes per body.
    for (let attempt = 0; ; attempt++) {
      const r = await fetch(`${t.url}${t.writePath}`, { method: 'POST', body, headers });
      if (r.status < 300) break;
      const text = await r.text();
      if (r.status !== 429 || attempt >= 600) throw new Error(`${t.name}: write answered ${r.status}: ${text}`);
      if (attempt === 0) log(`${t.name}: rate limited, retrying (${text.trim().slice(0, 120)})`);
      await new Promise((res) => setTimeout(res, 1000));
    }
  }
  await t.afterWrite?.();
}

interface Timing {
  name: string;
  runsMs: number[];
  series: number;
  points: number;
  result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }>;
}

async function time(t: Target, o: Options, startS: number, endS: number): Promise<Timing> {
  const params = new URLSearchParams({ query: o.query, start: String(startS), end: String(endS), step: String(o.stepS) });
  const url = `${t.url}/api/v1/query_range?${params.toString()}`;
  const once = async (): Promise<{ ms: number; body: any }> => {
    const t0 = performance.now();
    const r = await fetch(url);
    const text = await r.text();
    const ms = performance.now() - t0;
    const body = JSON.parse(text);
    if (body.status !== 'success') throw new Error(`${t.name}: ${text.slice(0, 500)}`);
    return { ms, body };
  };
  const warm = await once();
  const runsMs: number[] = [];
  for (let i = 0; i < o.runs; i++) runsMs.push((await once()).ms);
  const result = warm.body.data.result as Timing['result'];
  return { name: t.name, runsMs, series: result.length, points: result.reduce((n, s) => n + s.values.length, 0), result };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Largest relative difference between two results with the same series (a sanity check, not a test). */
function maxRelDiff(a: Timing['result'], b: Timing['result']): number {
  const key = (m: Record<string, string>): string => JSON.stringify(Object.entries(m).sort());
  const mb = new Map(b.map((s) => [key(s.metric), s.values]));
  let worst = 0;
  for (const s of a) {
    const vb = mb.get(key(s.metric));
    if (vb === undefined || vb.length !== s.values.length) return Infinity;
    s.values.forEach(([, v], i) => {
      const x = Number(v);
      const y = Number(vb[i]![1]);
      const d = Math.abs(x - y) / Math.max(Math.abs(x), Math.abs(y), 1e-300);
      if (d > worst) worst = d;
    });
  }
  return worst;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const endMs = Math.floor((Date.now() - 60_000) / STEP_MS) * STEP_MS;
  const startMs = endMs - SPAN_MS;
  const steps = SPAN_MS / STEP_MS + 1;
  log(`building ${o.series} series x ${steps} samples ...`);
  const bodies = buildBodies(o, startMs, steps);

  const targets: Target[] = [];
  try {
    targets.push(await startPromstore(o.promstoreArgs));
    const prom = o.prometheus ? which('prometheus') : null;
    if (prom !== null) targets.push(await startPrometheus(prom));
    else if (o.prometheus) log('prometheus not on PATH: skipped');
    const vm = o.victoria ? (which('victoria-metrics') ?? (existsSync('/usr/bin/victoria-metrics') ? '/usr/bin/victoria-metrics' : null)) : null;
    if (vm !== null) targets.push(await startVictoria(vm));
    else if (o.victoria) log('victoria-metrics not installed: skipped');

    for (const t of targets) {
      const t0 = performance.now();
      await write(t, bodies);
      log(`${t.name}: wrote ${o.series * steps} samples in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
    if (o.keepRunning) {
      for (const t of targets) log(`${t.name}: ${t.url}`);
      log('running; ^C to stop');
      await new Promise<void>((r) => process.once('SIGINT', () => r()));
    }
    const queryEndS = endMs / 1000;
    const queryStartS = queryEndS - 3600;
    const timings: Timing[] = [];
    for (const t of targets) timings.push(await time(t, o, queryStartS, queryEndS));

    const ours = timings[0] as Timing;
    const lines = [
      `query: ${o.query}, range 1 h, step ${o.stepS} s; ${o.series} series x ${steps} samples; median of ${o.runs} runs after 1 warm-up`,
      `machine: ${cpus()[0]?.model ?? '?'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB; node ${process.version}`,
      '',
      '| system | median ms | min ms | max ms | series x points | max rel. diff vs ours |',
      '|---|---:|---:|---:|---:|---:|',
      ...timings.map((t) => `| ${t.name} | ${median(t.runsMs).toFixed(1)} | ${Math.min(...t.runsMs).toFixed(1)} | ${Math.max(...t.runsMs).toFixed(1)} | ${t.series} x ${t.points / Math.max(1, t.series)} | ${t === ours ? '-' : maxRelDiff(ours.result, t.result).toExponential(1)} |`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    for (const t of targets) await stop(t);
  }
}

main().catch((err: unknown) => {
  log(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
