/**
 * Load generator entry (`npm run load -- …`, compiled to dist/load/generator/main.js): parse flags,
 * pre-encode the workload, send it, print the report. See load/README.md.
 */
import { AppError } from '../../common/errors.js';
import { parseGeneratorArgs, USAGE, type GeneratorOptions } from './options.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildPayloads, payloadFiles, type PayloadSet } from './payloads.js';
import { runLoad, type RunReport } from './run.js';
import { defaultStartMs, Workload, type WorkloadOptions } from './workload.js';

/** Safety cap on pre-built requests when only the memory budget bounds the build. */
const MAX_PREBUILT_REQUESTS = 1_000_000;

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/**
 * How many requests to pre-build: exactly --requests, else as many as fit the memory budget,
 * estimated from the compressed size of request 0 (sizes barely vary between requests).
 */
function requestsToBuild(opts: GeneratorOptions, probe: Workload): number {
  if (opts.requests > 0) return opts.requests;
  const sample = buildPayloads(probe, { maxRequests: 1, maxBytes: Infinity });
  const perRequest = Math.max(1, sample.compressedBytes);
  return Math.max(1, Math.min(MAX_PREBUILT_REQUESTS, Math.floor(opts.maxPayloadBytes / perRequest)));
}

function printHuman(opts: GeneratorOptions, workload: Workload, set: PayloadSet, report: RunReport): void {
  const lat = report.latencyMs;
  const lines = [
    `target      ${report.url}${opts.tenant === '' ? '' : ` (X-Scope-OrgID: ${opts.tenant})`}`,
    `workload    ${opts.series} series, ${workload.seriesPerRequest * opts.samplesPerSeries} samples/request (${opts.samplesPerSeries}/series), ${workload.requestsPerRound} requests/round, interval ${opts.intervalMs} ms, seed ${opts.seed}`,
    `prebuilt    ${set.requests} requests, ${set.samples} samples, ${mib(set.compressedBytes)} compressed (${mib(set.rawBytes)} raw) in ${(set.encodeMs / 1000).toFixed(1)} s`,
    `run         concurrency ${report.concurrency}, ${(report.elapsedMs / 1000).toFixed(2)} s, stopped: ${report.stopReason}`,
    `requests    ${report.requests} sent, ${report.okRequests} ok, ${report.requestsPerSec.toFixed(1)} req/s`,
    `samples     ${report.samplesOk} accepted, ${report.samplesPerSec.toFixed(0)} samples/s`,
    `throughput  ${mib(report.bytesSent / Math.max(report.elapsedMs / 1000, 1e-9))}/s compressed`,
    `latency     p50 ${lat.p50.toFixed(2)} ms, p90 ${lat.p90.toFixed(2)} ms, p99 ${lat.p99.toFixed(2)} ms, max ${lat.max.toFixed(2)} ms, mean ${lat.mean.toFixed(2)} ms`,
  ];
  const errorKeys = Object.keys(report.errors);
  if (errorKeys.length === 0) lines.push('errors      none');
  for (const key of errorKeys) {
    lines.push(`errors      ${key}: ${report.errors[key]} (first: ${JSON.stringify(report.errorExamples[key] ?? '')})`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main(argv: readonly string[]): Promise<number> {
  let opts: GeneratorOptions;
  try {
    opts = parseGeneratorArgs(argv);
  } catch (err) {
    log(err instanceof AppError ? err.message : String(err));
    log('run with --help for usage');
    return 2;
  }
  if (opts.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const base: Omit<WorkloadOptions, 'startMs'> = {
    seed: opts.seed,
    series: opts.series,
    samplesPerRequest: opts.samplesPerRequest,
    samplesPerSeries: opts.samplesPerSeries,
    intervalMs: opts.intervalMs,
    metricPrefix: opts.metricPrefix,
    histograms: opts.histograms,
    churnSteps: opts.churnSteps,
  };
  const probe = new Workload({ ...base, startMs: opts.startMs ?? Date.now() });
  const count = requestsToBuild(opts, probe);
  // Timestamps are baked into the bodies, so the start must be fixed before encoding.
  const startMs = opts.startMs ?? defaultStartMs(Date.now(), probe.stepsFor(count), opts.intervalMs);
  const workload = new Workload({ ...base, startMs });
  log(`pre-encoding up to ${count} requests (${workload.requestsPerRound} per round, first sample at ${new Date(startMs).toISOString()}) …`);
  const set = buildPayloads(workload, {
    maxRequests: count,
    maxBytes: opts.maxPayloadBytes,
    onProgress: (n) => {
      if (n % 10_000 === 0) log(`  ${n} requests encoded`);
    },
  });
  if (opts.writePayloads !== '') {
    // k6 replays these files (load/k6/remote-write.js); nothing is sent here.
    const { manifest, files } = payloadFiles(set, { ...base, startMs, tenant: opts.tenant, argv: argv.join(' ') });
    mkdirSync(opts.writePayloads, { recursive: true });
    for (const [name, body] of files) writeFileSync(join(opts.writePayloads, name), body);
    writeFileSync(join(opts.writePayloads, 'manifest.json'), `${JSON.stringify(manifest)}\n`);
    log(`wrote ${files.size} payload files (${mib(set.compressedBytes)}) and manifest.json to ${opts.writePayloads}`);
    return 0;
  }
  log(`pre-encoded ${set.requests} requests (${mib(set.compressedBytes)}) in ${(set.encodeMs / 1000).toFixed(1)} s; sending …`);
  const report = await runLoad({
    url: opts.url,
    tenant: opts.tenant,
    streams: set.streams,
    concurrency: opts.concurrency,
    durationMs: opts.durationSec * 1000,
    timeoutMs: opts.timeoutMs,
    maxErrors: opts.maxErrors,
  });
  if (opts.json) {
    const line = {
      ...report,
      workload: {
        series: opts.series,
        samplesPerRequest: workload.seriesPerRequest * opts.samplesPerSeries,
        samplesPerSeries: opts.samplesPerSeries,
        intervalMs: opts.intervalMs,
        seed: opts.seed,
        startMs,
        metricPrefix: opts.metricPrefix,
        tenant: opts.tenant,
      },
      prebuilt: {
        requests: set.requests,
        samples: set.samples,
        rawBytes: set.rawBytes,
        compressedBytes: set.compressedBytes,
        encodeMs: set.encodeMs,
      },
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  } else {
    printHuman(opts, workload, set, report);
  }
  // Non-zero when anything failed, so scripts notice a misconfigured target.
  return report.requests === report.okRequests && report.requests > 0 ? 0 : 1;
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
