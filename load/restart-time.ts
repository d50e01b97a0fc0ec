/**
 * Restart-time benchmark (`node dist/load/restart-time.js`): how long the embedded SQLite backend
 * takes to come back with many series and 2 h of data, after a graceful shutdown and after
 * `kill -9`, and whether everything acknowledged is there.
 *
 * A child process ingests the load generator's workload (batch shape) into a fresh directory with
 * the server's defaults (checkpoint every 60 s and when the WAL passes 64 MiB). Once every append
 * has resolved (acknowledged), it either closes the backend (graceful: final checkpoint) or this
 * process SIGKILLs it (crash: what came after the last checkpoint is only in the WAL). This process
 * then opens the directory and times the open plus a first select, which opens the tenant's
 * database, reads one state row per series and replays the WAL; it repeats that `--runs` times
 * (each after a graceful close) and checks the sample count of one metric over the whole range.
 *
 * Flags (`--flag N` or `--flag=N`): --series N (100000) --steps N (480: 2 h at 15 s) --mode graceful|kill|both (both)
 *        --runs N (2 timed reopenings per mode)
 * Not part of `npm test`. Timings drift with the machine; compare builds in alternation.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MatchType } from '../common/types.js';
import { decodeSelectedSeries } from '../storage/client/decode.js';
import { SqliteBackend } from '../storage/backend/sqlite/sqlite-backend.js';
import { Workload } from './generator/workload.js';

const TENANT = 'restart';
const INTERVAL_MS = 15_000;
const SAMPLES_PER_SERIES = 40;
const IN_FLIGHT = 4;
/** A metric every workload has (one series in 16): the probe for counting samples after a restart. */
const PROBE = 'bench_cpu_utilisation_ratio';

type Mode = 'graceful' | 'kill';

interface Options {
  series: number;
  steps: number;
  modes: Mode[];
  runs: number;
}

function parseArgs(argv: readonly string[]): Options {
  const o: Options = { series: 100_000, steps: 480, modes: ['graceful', 'kill'], runs: 2 };
  for (let i = 0; i < argv.length; i++) {
    // --flag=value or --flag value
    let [k, v] = (argv[i] as string).split(/=(.*)/s, 2) as [string, string | undefined];
    if (v === undefined) v = argv[++i] ?? '';
    if (k === '--series' || k === '--steps' || k === '--runs') {
      const n = Number(v);
      if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${k}: expected an integer ≥ 1, got ${JSON.stringify(v)}`);
      o[k.slice(2) as 'series' | 'steps' | 'runs'] = n;
    } else if (k === '--mode') {
      if (v !== 'graceful' && v !== 'kill' && v !== 'both') throw new Error(`--mode: expected graceful, kill or both, got ${JSON.stringify(v)}`);
      o.modes = v === 'both' ? ['graceful', 'kill'] : [v];
    } else {
      throw new Error(`unknown flag ${k} (see the comment at the top of load/restart-time.ts)`);
    }
  }
  return o;
}

/** The workload both processes build alike: data ending `steps` steps after `startMs`. */
function workloadOf(series: number, startMs: number): Workload {
  return new Workload({ seed: 1, series, samplesPerRequest: 2000, samplesPerSeries: SAMPLES_PER_SERIES, intervalMs: INTERVAL_MS, startMs, metricPrefix: 'bench_', histograms: true });
}

/** Child: ingests everything, reports `acked <samples>`, then closes (graceful) or waits for SIGKILL. */
async function child(dir: string, series: number, steps: number, startMs: number, mode: Mode): Promise<void> {
  const w = workloadOf(series, startMs);
  const requests = w.requestsPerRound * Math.ceil(steps / SAMPLES_PER_SERIES);
  const backend = SqliteBackend.open({ dataDir: dir, retentionIntervalMs: 0 });
  let acked = 0;
  for (let q = 0; q < requests; q += IN_FLIGHT) {
    const results = await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, requests - q) }, (_, k) => backend.append(TENANT, w.batch(q + k))));
    for (const r of results) acked += r.samplesWritten;
  }
  process.stdout.write(`acked ${acked}\n`);
  if (mode === 'kill') {
    setInterval(() => {}, 1000); // stay up until killed
    return;
  }
  const t0 = performance.now();
  await backend.close();
  process.stdout.write(`closed ${((performance.now() - t0) / 1000).toFixed(2)}\n`);
}

/** Runs the child for `mode` and resolves with what it reported once it is gone. */
function ingest(dir: string, o: Options, startMs: number, mode: Mode): Promise<{ acked: number; closeSec: number }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', dir, String(o.series), String(o.steps), String(startMs), mode], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let acked = -1;
    let closeSec = NaN;
    p.stdout.setEncoding('utf8');
    p.stdout.on('data', (chunk: string) => {
      out += chunk;
      const a = /acked (\d+)/.exec(out);
      if (a !== null && acked < 0) {
        acked = Number(a[1]);
        if (mode === 'kill') p.kill('SIGKILL');
      }
      const c = /closed ([\d.]+)/.exec(out);
      if (c !== null) closeSec = Number(c[1]);
    });
    p.on('error', reject);
    p.on('exit', (code, signal) => {
      if (acked < 0) reject(new Error(`ingesting child ended (${code ?? signal}) before acknowledging everything`));
      else if (mode === 'graceful' && code !== 0) reject(new Error(`ingesting child exited with ${code ?? signal}`));
      else resolve({ acked, closeSec });
    });
  });
}

/** Opens `dir`, selects the probe metric over all the data and counts its samples; seconds until the answer. */
async function reopen(dir: string, startMs: number, endMs: number): Promise<{ seconds: number; probeSamples: number; closeSec: number }> {
  const t0 = performance.now();
  const backend = SqliteBackend.open({ dataDir: dir, checkpointIntervalMs: 0, retentionIntervalMs: 0 });
  const selected = await backend.select(TENANT, [{ type: MatchType.EQ, name: '__name__', value: PROBE }], startMs, endMs);
  const seconds = (performance.now() - t0) / 1000;
  let probeSamples = 0;
  for (const s of decodeSelectedSeries(selected, startMs, endMs)) probeSamples += s.tsMs.length;
  const t1 = performance.now();
  await backend.close();
  return { seconds, probeSamples, closeSec: (performance.now() - t1) / 1000 };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    const [dir, series, steps, startMs, mode] = argv.slice(1);
    await child(dir as string, Number(series), Number(steps), Number(startMs), mode as Mode);
    return;
  }
  const o = parseArgs(argv);
  // Data ends now, as a live Prometheus's would; whole steps so both processes build the same workload.
  const startMs = Math.floor(Date.now() / INTERVAL_MS) * INTERVAL_MS - o.steps * INTERVAL_MS;
  const w = workloadOf(o.series, startMs);
  const requests = w.requestsPerRound * Math.ceil(o.steps / SAMPLES_PER_SERIES);
  const steps = w.stepsFor(requests);
  const endMs = startMs + (steps - 1) * INTERVAL_MS;
  let probeSeries = 0;
  for (const labels of w.labels) {
    // Flat name/value pairs.
    for (let k = 0; k + 1 < labels.length; k += 2) if (labels[k] === '__name__' && labels[k + 1] === PROBE) probeSeries++;
  }
  const want = probeSeries * steps;
  process.stdout.write(`${o.series.toLocaleString('en-US')} series, ${steps} steps at 15 s, ${requests} requests of 2,000 samples; probe ${PROBE}: ${probeSeries} series, ${want.toLocaleString('en-US')} samples\n`);
  for (const mode of o.modes) {
    const dir = mkdtempSync(join(tmpdir(), 'promstore-restart-'));
    try {
      const t0 = performance.now();
      const { acked, closeSec } = await ingest(dir, o, startMs, mode);
      const how = mode === 'kill' ? 'SIGKILL after the last acknowledgement' : `graceful close ${closeSec.toFixed(2)} s`;
      process.stdout.write(`${mode}: ${acked.toLocaleString('en-US')} samples acknowledged in ${((performance.now() - t0) / 1000).toFixed(1)} s, then ${how}\n`);
      for (let r = 0; r < o.runs; r++) {
        const got = await reopen(dir, startMs, endMs);
        const check = got.probeSamples === want ? 'all there' : `MISSING ${want - got.probeSamples}`;
        process.stdout.write(`  reopen ${r + 1}: open + first select ${got.seconds.toFixed(2)} s; probe samples ${got.probeSamples.toLocaleString('en-US')} (${check}); close ${got.closeSec.toFixed(2)} s\n`);
        if (got.probeSamples !== want) process.exitCode = 1;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`restart-time: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
