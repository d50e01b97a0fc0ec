/**
 * Side-by-side benchmark entry (`node dist/load/bench/main.js`, see load/README.md): for each shape,
 * pre-encode one seeded workload, then run promstore, Prometheus and VictoriaMetrics one after
 * another on exactly those bodies, measure write throughput and latency, server CPU per sample,
 * peak RSS, disk bytes per sample and dashboard query medians, print the tables and write RESULTS.md.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { AppError } from '../../common/errors.js';
import { buildPayloads, type PayloadSet } from '../generator/payloads.js';
import { runLoad } from '../generator/run.js';
import { defaultStartMs, HISTOGRAM_FAMILY, METRIC_FAMILIES, Workload } from '../generator/workload.js';
import { BENCH_USAGE, parseBenchArgs, stepsOf, type BenchOptions, type Shape } from './options.js';
import { treeCpuSec, treeMemory, startPeakRss } from './proc-stats.js';
import { summariseProfiles } from './profile-summary.js';
import { countSamples, dashboardQueries, runQueries, SLOW_QUERY_MS } from './queries.js';
import { acceptanceLine, commitLine, fmt, medianOfRounds, memoryTable, queryAgreement, queryErrors, queryTable, roundLines, writeHalves, writeTable, halvesTable, type MemoryResult, type SystemResult, type WriteMark } from './report.js';
import { listFiles, startSystem, stopAll, versionOf, which, type SystemName } from './systems.js';

const PREFIX = 'bench_';
const TENANT = 'bench';
const HEADERS = { 'X-Scope-OrgID': TENANT };
/** Every metric name of the workload. */
const METRICS = [...METRIC_FAMILIES.map((f) => PREFIX + f.name), PREFIX + HISTOGRAM_FAMILY];
/** Repository root: dist/load/bench → ../../.. */
const REPO_ROOT = resolve(import.meta.dirname, '..', '..', '..');

function log(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

/** A pre-encoded workload of one shape, with where its data starts and ends. */
interface Prepared {
  readonly shape: Shape;
  readonly workload: Workload;
  readonly set: PayloadSet;
  readonly startMs: number;
  readonly endMs: number;
  readonly description: string;
}

/** Builds the workload of `shape` ending at the current time and pre-encodes all of its requests. */
function prepare(shape: Shape, opts: BenchOptions, series: number, steps: number): Prepared {
  const sps = shape === 'batch' ? Math.min(opts.batchSamplesPerSeries, steps) : 1;
  const base = {
    seed: opts.seed,
    series,
    samplesPerRequest: opts.samplesPerRequest,
    samplesPerSeries: sps,
    intervalMs: opts.intervalMs,
    metricPrefix: PREFIX,
    histograms: true,
    churnSteps: shape === 'churn' ? opts.churnSteps : 0,
  };
  const probe = new Workload({ ...base, startMs: 0 });
  const requests = probe.requestsPerRound * Math.ceil(steps / sps);
  const coveredSteps = probe.stepsFor(requests);
  const startMs = defaultStartMs(Date.now(), coveredSteps, opts.intervalMs);
  const workload = new Workload({ ...base, startMs });
  const t0 = performance.now();
  const set = buildPayloads(workload, {
    maxRequests: requests,
    maxBytes: Infinity,
    onProgress: (n) => {
      if (n % 2000 === 0) log(`  ${n}/${requests} requests encoded`);
    },
  });
  log(`${shape}: ${set.requests} requests, ${fmt(set.samples)} samples, ${fmt(set.compressedBytes / 1048576, 1)} MiB snappy, encoded in ${fmt((performance.now() - t0) / 1000, 1)} s`);
  const endMs = startMs + (coveredSteps - 1) * opts.intervalMs;
  const description =
    `${fmt(series)} series (4 plain families + a 12-bucket classic histogram per 16 series), ${coveredSteps} steps at ${opts.intervalMs / 1000} s ` +
    `(${fmt((coveredSteps * opts.intervalMs) / 3600_000, 2)} h), ${workload.seriesPerRequest * sps} samples/request (${sps}/series)` +
    (shape === 'churn' ? `, every series replaced every ${opts.churnSteps} steps (${fmt(series * (1 + coveredSteps / opts.churnSteps))} series in total)` : '') +
    `, ${fmt(set.samples)} samples, ${set.requests} requests, ${fmt(set.compressedBytes / set.samples, 2)} snappy bytes/sample on the wire`;
  return { shape, workload, set, startMs, endMs, description };
}

/** Runs one system through write → flush → count → queries → disk on a prepared workload. */
async function runSystem(name: SystemName, p: Prepared, opts: BenchOptions): Promise<SystemResult> {
  const nodeFlags = name === 'promstore' && opts.cpuProfDir !== '' ? ['--cpu-prof', `--cpu-prof-dir=${resolve(opts.cpuProfDir, p.shape)}`] : [];
  const sys = await startSystem(name, { repoRoot: REPO_ROOT, nodeFlags });
  try {
    const peak = startPeakRss(sys.pid);
    const mark = (samples: number): WriteMark => ({ ms: performance.now(), cpuSec: treeCpuSec(sys.pid), samples });
    const half = Math.ceil(p.set.requests / 2);
    let mid: WriteMark | null = null;
    log(`${name}/${p.shape}: writing …`);
    const start = mark(0);
    const report = await runLoad({
      url: sys.writeUrl,
      tenant: TENANT,
      streams: p.set.streams,
      concurrency: opts.concurrency,
      durationMs: 0,
      timeoutMs: opts.timeoutMs,
      maxErrors: 1000,
      onRequestDone: (n, samples) => {
        if (n === half) mid = mark(samples);
      },
    });
    const end = mark(report.samplesOk);
    await sys.flush();
    const flushed = mark(report.samplesOk);
    const cpuSec = flushed.cpuSec - start.cpuSec;
    log(`${name}/${p.shape}: ${fmt(report.samplesPerSec)} samples/s, ${fmt(cpuSec, 1)} CPU s, errors ${JSON.stringify(report.errors)}`);
    const endSec = p.endMs / 1000;
    const rangeSec = Math.ceil((p.endMs - p.startMs) / 1000) + 60;
    const stored = await countSamples(sys.queryBase, METRICS, endSec, rangeSec, HEADERS);
    log(`${name}/${p.shape}: ${fmt(stored)} samples stored; running queries …`);
    // Two passes over the same list: first contact with each query path, then a warm process.
    const list = dashboardQueries(PREFIX);
    const queries = await runQueries(sys.queryBase, list, endSec, opts.queryRuns, HEADERS);
    const warmQueries = await runQueries(sys.queryBase, list, endSec, opts.queryRuns, HEADERS);
    const peakRssBytes = peak.stop();
    const disk = await sys.measureDisk();
    return {
      system: name,
      samplesSent: p.set.samples,
      samplesAcked: report.samplesOk,
      samplesStored: stored,
      samplesPerSec: report.samplesPerSec,
      writeP50Ms: report.latencyMs.p50,
      writeP99Ms: report.latencyMs.p99,
      errors: report.errors,
      cpuSecPerMSamples: report.samplesOk > 0 ? cpuSec / (report.samplesOk / 1e6) : NaN,
      peakRssBytes,
      diskBytes: disk.bytes,
      diskCompactedBytes: disk.compactedBytes,
      diskNote: disk.note,
      halves: writeHalves(start, mid, end),
      flushCpuSec: flushed.cpuSec - end.cpuSec,
      compactionCpuSec: disk.compactionCpuSec,
      queries,
      warmQueries,
    };
  } catch (err) {
    log(`${name}/${p.shape} failed: ${String(err)}\n${sys.logTail()}`);
    throw err;
  } finally {
    await sys.cleanup();
  }
}

/** Memory per active series: ingest a few samples of `series` series and read the peak RSS. */
async function runMemory(name: SystemName, series: number, opts: BenchOptions): Promise<MemoryResult> {
  const steps = opts.memorySamplesPerSeries;
  const p = prepare('live', opts, series, steps);
  const sys = await startSystem(name, { repoRoot: REPO_ROOT });
  try {
    const idleRssBytes = treeMemory(sys.pid).rssBytes;
    const peak = startPeakRss(sys.pid);
    const t0 = performance.now();
    const report = await runLoad({ url: sys.writeUrl, tenant: TENANT, streams: p.set.streams, concurrency: opts.concurrency, durationMs: 0, timeoutMs: opts.timeoutMs, maxErrors: 100 });
    await sys.flush();
    const seconds = (performance.now() - t0) / 1000;
    // A moment for background work that follows the writes (VictoriaMetrics merges, our flushes).
    await new Promise((r) => setTimeout(r, 2000));
    const peakRssBytes = peak.stop();
    const errs = Object.entries(report.errors).map(([k, v]) => `${k}×${v}`).join(' ');
    log(`memory ${name} ${fmt(series)} series: peak ${fmt(peakRssBytes / 1048576)} MiB in ${fmt(seconds, 1)} s ${errs}`);
    return { system: name, series, samplesAcked: report.samplesOk, peakRssBytes, idleRssBytes, seconds, error: errs };
  } finally {
    await sys.cleanup();
  }
}

function machineLines(): string[] {
  const sh = (cmd: string): string => spawnSync('sh', ['-c', cmd], { encoding: 'utf8' }).stdout.trim();
  const model = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? 'unknown';
  return [
    `- CPU: ${model}, \`nproc\` = ${sh('nproc')}`,
    `- memory: ${fmt(totalmem() / 1024 ** 3, 1)} GiB; \`free -g\`:`,
    '```',
    sh('free -g'),
    '```',
    `- load average at start (other work on the machine skews absolute figures): \`${readFileSync('/proc/loadavg', 'utf8').trim()}\``,
    // git runs in the working directory: the compiled tree may be a snapshot copy (see load/README.md).
    commitLine(process.version, sh('git rev-parse --short HEAD'), sh('git status --porcelain')),
  ];
}

async function main(argv: readonly string[]): Promise<number> {
  let opts: BenchOptions;
  try {
    opts = parseBenchArgs(argv);
  } catch (err) {
    log(err instanceof AppError ? err.message : String(err));
    return 2;
  }
  if (opts.help) {
    process.stdout.write(BENCH_USAGE);
    return 0;
  }
  const missing = opts.systems.filter((s) => s !== 'promstore' && which(s === 'prometheus' ? 'prometheus' : 'victoria-metrics') === null);
  if (missing.length > 0) {
    log(`not on PATH: ${missing.join(', ')} (apt-get install prometheus victoria-metrics, or pass --systems)`);
    return 2;
  }
  const started = Date.now();
  const md: string[] = [
    '# Benchmark results',
    '',
    `Written by \`node dist/load/bench/main.js\` on ${new Date().toISOString()}. Absolute figures drift on a shared machine; compare ratios within one run.`,
    '',
    '## Machine and versions',
    '',
    ...machineLines(),
    ...opts.systems.map((s) => `- ${versionOf(s, process.cwd())}`),
    '',
    '## Command',
    '',
    '```sh',
    `node dist/load/bench/main.js ${argv.map((a) => (/^[\w=,./:-]+$/.test(a) ? a : JSON.stringify(a))).join(' ')}`.trim(),
    '```',
    '',
    '## How it measures',
    '',
    '- One pre-encoded, seeded workload per shape (load/generator), sent to each system in turn by the same Node client',
    `  on the same 2 cores (${opts.concurrency} writers, each series strictly in time order; the data ends at the current time so Prometheus`,
    '  accepts it all). *samples/s* counts samples of 2xx requests over the wall time of the write phase.',
    '- promstore runs with its per-tenant limits lifted (ingestion rate, series and query limits), as the others have none.',
    '- *CPU s / M samples*: utime+stime of the server process (all threads) from before the first write to after the',
    '  last write and a flush (promstore `/ingester/flush`: every tenant checkpointed; VictoriaMetrics `/internal/force_flush`;',
    '  Prometheus has none), per million acknowledged samples. Queries therefore run after that background work.',
    '- *by halves*: the same readings taken also when the middle request completes and when the last one does, so the',
    '  first half (series creation, heap growth, and for promstore V8 compiling its hot paths) and the second (a warm,',
    '  steady process) show apart; samples/s and CPU s / M of each half exclude the flush, whose CPU is its own column.',
    '  Prometheus compacts its head into a block only later (2 h), outside every CPU figure above; *snapshot* is the CPU',
    '  of `/api/v1/admin/tsdb/snapshot` (taken after the queries), which writes the head as such a block.',
    '- *peak RSS*: the larger of polled VmRSS (every 200 ms) and VmHWM, from start through writes and queries.',
    '- *disk bytes/sample*: promstore: data dir after SIGTERM; Prometheus: TSDB dir after SIGTERM (WAL + head chunks, not',
    '  yet compacted: a 2 h head is compacted only later), and *compacted* = the block written by `/api/v1/admin/tsdb/snapshot`;',
    '  VictoriaMetrics: data dir after `/internal/force_flush` (background merges may shrink it later).',
    `- queries: ${opts.queryRuns} timed runs after 1 warm-up (1 run when the warm-up took over ${SLOW_QUERY_MS / 1000} s), median, through \`/api/v1/query(_range)\` (POST form); range`,
    '  queries cover the last hour of the data at 15 s step unless stated; VictoriaMetrics runs with `-search.disableCache`',
    '  so repeated queries are computed each time, as the others are. *acked / stored*: stored is `sum(count_over_time(…))` over the whole data range.',
    '- *second pass*: the whole query list again, same procedure, right after the first. The first pass meets each query',
    '  path for the first time since the start, which for promstore means before V8 has compiled it.',
    '',
    '### Queries',
    '',
    ...dashboardQueries(PREFIX).map((q) => `- \`${q.name}\` (${q.kind}${q.kind === 'range' ? ` ${q.rangeSec / 3600} h, step ${q.stepSec} s` : ''}): \`${q.expr}\``),
    '',
  ];
  const steps = stepsOf(opts);
  for (const shape of opts.shapes) {
    const p = prepare(shape, opts, opts.series, steps);
    // Round r starts with the r-th system, so no system always runs in the same phase of a machine
    // whose speed drifts; each figure is then the median over the rounds.
    const byRound: SystemResult[][] = [];
    for (let r = 0; r < opts.rounds; r++) {
      const order = opts.systems.map((_, i) => opts.systems[(i + r) % opts.systems.length] as SystemName);
      const round: SystemResult[] = [];
      for (const name of order) round.push(await runSystem(name, p, opts));
      byRound.push(opts.systems.map((name) => round.find((x) => x.system === name) as SystemResult));
    }
    const results = opts.systems.map((_, i) => medianOfRounds(byRound.map((round) => round[i] as SystemResult)));
    const roundsNote =
      opts.rounds > 1
        ? [`Median of ${opts.rounds} rounds; each round ran every system once, starting with the next system in turn:`, '', ...roundLines(byRound).map((l) => `- ${l}`), '']
        : [];
    const section = [
      `## Shape \`${shape}\``,
      '',
      p.description + '.',
      '',
      ...roundsNote,
      acceptanceLine(results),
      '',
      writeTable(results),
      '',
      'The same write phase by halves (each half a share of the requests; the flush excluded, shown on its own):',
      '',
      halvesTable(results),
      '',
      'Median query latency, ms:',
      '',
      queryTable(results),
      '',
      'The same queries again, second pass (every query has run once; what a dashboard that refreshes sees), ms:',
      '',
      queryTable(results, (r) => r.warmQueries),
      '',
      ...queryAgreement(results).map((l) => `- ${l}`),
      ...queryErrors(results).map((l) => `- query error: ${l}`),
      '',
    ];
    process.stdout.write(`${section.join('\n')}\n`);
    md.push(...section);
  }
  if (opts.memorySeries.length > 0) {
    const mem: MemoryResult[] = [];
    for (const n of opts.memorySeries) {
      for (const name of opts.systems) {
        try {
          mem.push(await runMemory(name, n, opts));
        } catch (err) {
          mem.push({ system: name, series: n, samplesAcked: 0, peakRssBytes: NaN, idleRssBytes: NaN, seconds: NaN, error: String(err) });
        }
      }
    }
    const section = [
      '## Memory per active series',
      '',
      `Each system ingests ${opts.memorySamplesPerSeries} samples of every series (live shape), then peak RSS is divided by the series count.`,
      '',
      memoryTable(mem),
      '',
    ];
    process.stdout.write(`${section.join('\n')}\n`);
    md.push(...section);
  }
  if (opts.cpuProfDir !== '') {
    const files = opts.shapes.flatMap((s) => listFiles(resolve(opts.cpuProfDir, s)).filter((f) => f.endsWith('.cpuprofile')));
    const section = ['## CPU profile of promstore (whole run of each shape, all threads)', '', ...summariseProfiles(files, 25), ''];
    process.stdout.write(`${section.join('\n')}\n`);
    md.push(...section);
  }
  md.push(`Load average at the end: \`${readFileSync('/proc/loadavg', 'utf8').trim()}\`.`, '');
  md.push(`Total benchmark time ${fmt((Date.now() - started) / 1000, 0)} s.`, '');
  if (opts.resultsFile !== '') {
    const file = resolve(opts.resultsFile);
    mkdirSync(resolve(file, '..'), { recursive: true });
    writeFileSync(file, md.join('\n'));
    log(`wrote ${file}`);
  }
  return 0;
}

// An interrupted run stops the servers it started (they would otherwise outlive it).
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping servers`);
    void stopAll().finally(() => process.exit(130));
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    log(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exitCode = 1;
  },
);
