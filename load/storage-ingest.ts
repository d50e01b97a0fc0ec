/**
 * Storage-only ingest benchmark (`node dist/load/storage-ingest.js`): drives the embedded SQLite
 * backend in this process with the load generator's batches, without HTTP, decoding or threads,
 * and reports the CPU it takes per million samples: appending (judge, WAL record, head chunks)
 * and the flush after it (checkpoint: compact rows, state rows, WAL deletion). The side-by-side
 * benchmark (load/bench/) measures the whole service; this isolates the storage thread's share,
 * which varies far less from run to run, so a storage change can be judged in a minute.
 *
 * Each run uses a fresh temporary directory (removed after). Run two builds in alternation when
 * comparing them: the machine's speed drifts over minutes.
 *
 * Flags: --series N (20000) --steps N (240) --samples-per-series N (40) --samples-per-request N (2000)
 *        --concurrency N (4 appends in flight) --runs N (3) --histograms=false
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SampleBatch } from '../common/types.js';
import { SqliteBackend } from '../storage/backend/sqlite/sqlite-backend.js';
import { Workload } from './generator/workload.js';

interface Options {
  series: number;
  steps: number;
  samplesPerSeries: number;
  samplesPerRequest: number;
  concurrency: number;
  runs: number;
  histograms: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  const o: Options = { series: 20_000, steps: 240, samplesPerSeries: 40, samplesPerRequest: 2000, concurrency: 4, runs: 3, histograms: true };
  const ints: Record<string, keyof Omit<Options, 'histograms'>> = {
    '--series': 'series',
    '--steps': 'steps',
    '--samples-per-series': 'samplesPerSeries',
    '--samples-per-request': 'samplesPerRequest',
    '--concurrency': 'concurrency',
    '--runs': 'runs',
  };
  for (const arg of argv) {
    const [k, v = ''] = arg.split(/=(.*)/s, 2) as [string, string?];
    const field = ints[k];
    if (field !== undefined) {
      const n = Number(v);
      if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${k}: expected an integer ≥ 1, got ${JSON.stringify(v)}`);
      o[field] = n;
    } else if (k === '--histograms') {
      o.histograms = v !== 'false';
    } else {
      throw new Error(`unknown flag ${k} (see the comment at the top of load/storage-ingest.ts)`);
    }
  }
  return o;
}

/** CPU seconds (user + system) of this process since `from`. */
function cpuSince(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1e6;
}

async function run(batches: readonly SampleBatch[], samples: number, concurrency: number): Promise<{ append: number; flush: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'promstore-storage-ingest-'));
  const backend = SqliteBackend.open({ dataDir: dir, checkpointIntervalMs: 0, retentionIntervalMs: 0 });
  try {
    const c0 = process.cpuUsage();
    for (let q = 0; q < batches.length; q += concurrency) {
      await Promise.all(batches.slice(q, q + concurrency).map((b) => backend.append('bench', b)));
    }
    const append = cpuSince(c0);
    await backend.flush();
    const total = cpuSince(c0);
    return { append: (append * 1e6) / samples, flush: ((total - append) * 1e6) / samples };
  } finally {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] as number;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const workload = new Workload({
    seed: 1,
    series: o.series,
    samplesPerRequest: o.samplesPerRequest,
    samplesPerSeries: o.samplesPerSeries,
    intervalMs: 15_000,
    startMs: Date.now() - o.steps * 15_000,
    metricPrefix: 'bench_',
    histograms: o.histograms,
  });
  const requests = workload.requestsPerRound * Math.ceil(o.steps / o.samplesPerSeries);
  const batches: SampleBatch[] = [];
  let samples = 0;
  for (let q = 0; q < requests; q++) {
    const b = workload.batch(q);
    batches.push(b);
    samples += b.tsMs.length;
  }
  process.stdout.write(`${o.series} series, ${requests} requests of ~${o.samplesPerRequest} samples (${o.samplesPerSeries}/series), ${samples.toLocaleString('en-US')} samples, ${o.concurrency} in flight\n`);
  const appends: number[] = [];
  const flushes: number[] = [];
  for (let r = 0; r < o.runs; r++) {
    const { append, flush } = await run(batches, samples, o.concurrency);
    appends.push(append);
    flushes.push(flush);
    process.stdout.write(`run ${r + 1}: CPU s per million samples: append ${append.toFixed(3)}, flush ${flush.toFixed(3)}, total ${(append + flush).toFixed(3)}\n`);
  }
  process.stdout.write(`median: append ${median(appends).toFixed(3)}, flush ${median(flushes).toFixed(3)} CPU s per million samples\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`storage-ingest: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
