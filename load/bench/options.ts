/**
 * Command line of the side-by-side benchmark (`node dist/load/bench/main.js`): flags, defaults and
 * validation. Pure, so it is unit-tested.
 */
import { parseArgs } from 'node:util';
import { formatDurationMs, parseDurationMs } from '../../common/duration.js';
import { badData, clip } from '../../common/errors.js';
import { SYSTEM_NAMES, type SystemName } from './systems.js';

/** Workload shapes. */
export const SHAPES = ['batch', 'live', 'churn'] as const;

/**
 * - `batch`: many consecutive samples of each series per request (backfill, or a remote-write queue
 *   that fell behind);
 * - `live`: one sample per series per request, as a live Prometheus sends;
 * - `churn`: `live`, with every series replaced by a new one every `churnSteps` steps.
 */
export type Shape = (typeof SHAPES)[number];

/** Validated benchmark settings. */
export interface BenchOptions {
  readonly systems: readonly SystemName[];
  readonly shapes: readonly Shape[];
  readonly series: number;
  /** Time span of the data, ms; the data ends at the current time. */
  readonly dataDurationMs: number;
  readonly intervalMs: number;
  readonly samplesPerRequest: number;
  /** Samples of one series per request in the `batch` shape. */
  readonly batchSamplesPerSeries: number;
  /** Steps between a series' replacements in the `churn` shape. */
  readonly churnSteps: number;
  readonly concurrency: number;
  /** Timed runs per query, after one warm-up run. */
  readonly queryRuns: number;
  /** Times each shape runs through all systems (order rotated each round); figures are medians. */
  readonly rounds: number;
  /** Series counts of the memory-per-active-series scenario; empty = skip. */
  readonly memorySeries: readonly number[];
  /** Samples per series written in the memory scenario. */
  readonly memorySamplesPerSeries: number;
  readonly seed: number;
  /** Where RESULTS.md goes; empty = do not write. */
  readonly resultsFile: string;
  /** Directory for `node --cpu-prof` profiles of our server during the write phase; empty = off. */
  readonly cpuProfDir: string;
  /** Per-request timeout, ms. */
  readonly timeoutMs: number;
  readonly help: boolean;
}

/** The `--help` text. */
export const BENCH_USAGE = `usage: node dist/load/bench/main.js [flags]

Runs promstore, Prometheus 2.42 and VictoriaMetrics one after another on the same pre-encoded,
seeded workload and prints one table per shape (ratios against promstore), then writes RESULTS.md.

  --systems LIST              comma list of ${SYSTEM_NAMES.join(', ')} (default all)
  --shape LIST                comma list of ${SHAPES.join(', ')} (default batch,live; "" = only the memory figure)
  --series N                  active series (default 20000)
  --data-duration D           time span of the data, ending now (default 2h)
  --interval D                scrape interval of the data (default 15s)
  --samples-per-request N     samples per request (default 2000)
  --batch-samples-per-series N  samples of one series per request in the batch shape (default 40)
  --churn-steps N             steps between series replacements in the churn shape (default 40)
  --concurrency N             parallel writers (default 4)
  --query-runs N              timed runs per query after one warm-up (default 7)
  --rounds N                  run each shape N times through all systems, rotating their order, and
                              report each figure's median (default 1); evens out a machine whose speed drifts
  --memory-series LIST        series counts for the memory-per-series figure, e.g. 100000,1000000 ("" = skip; default 100000)
  --memory-samples N          samples per series in the memory scenario (default 4)
  --seed N                    workload seed (default 1)
  --results FILE              write the results there (default load/RESULTS.md; "" = do not write)
  --cpu-prof DIR              run our server under node --cpu-prof and keep the profiles in DIR
  --timeout-ms MS             per-request timeout (default 60000)
  --help                      this text
`;

function bad(message: string): never {
  throw badData('bad-bench-option', `${message} [err-bad-bench-option]`);
}

function int(flag: string, raw: string | undefined, def: number, min: number): number {
  if (raw === undefined) return def;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isSafeInteger(n) || n < min) bad(`--${flag}: expected an integer ≥ ${min}, got ${JSON.stringify(clip(raw))}`);
  return n;
}

function duration(flag: string, raw: string | undefined, defMs: number): number {
  if (raw === undefined) return defMs;
  const ms = /^\d+$/.test(raw) ? Number(raw) * 1000 : parseDurationMs(raw);
  if (ms === null || !(ms > 0)) bad(`--${flag}: expected a duration such as 2h or 15s, got ${JSON.stringify(clip(raw))}`);
  return ms;
}

function list<T extends string>(flag: string, raw: string | undefined, allowed: readonly T[], def: readonly T[], allowEmpty = false): T[] {
  if (raw === undefined) return [...def];
  const items = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0 && !allowEmpty) bad(`--${flag}: empty list`);
  for (const it of items) if (!(allowed as readonly string[]).includes(it)) bad(`--${flag}: unknown ${JSON.stringify(clip(it))}, expected one of ${allowed.join(', ')}`);
  return [...new Set(items)] as T[];
}

/** Parses and validates the benchmark flags; throws a bad-data AppError (`bad-bench-option`). */
export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        systems: { type: 'string' },
        shape: { type: 'string' },
        series: { type: 'string' },
        'data-duration': { type: 'string' },
        interval: { type: 'string' },
        'samples-per-request': { type: 'string' },
        'batch-samples-per-series': { type: 'string' },
        'churn-steps': { type: 'string' },
        concurrency: { type: 'string' },
        'query-runs': { type: 'string' },
        rounds: { type: 'string' },
        'memory-series': { type: 'string' },
        'memory-samples': { type: 'string' },
        seed: { type: 'string' },
        results: { type: 'string' },
        'cpu-prof': { type: 'string' },
        'timeout-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    bad((err as Error).message.toLowerCase());
  }
  const str = (name: string): string | undefined => {
    const v = values[name];
    return typeof v === 'string' ? v : undefined;
  };
  const dataDurationMs = duration('data-duration', str('data-duration'), 2 * 3600_000);
  const intervalMs = duration('interval', str('interval'), 15_000);
  if (dataDurationMs < intervalMs) bad(`--data-duration ${formatDurationMs(dataDurationMs)} is shorter than --interval ${formatDurationMs(intervalMs)}`);
  const memRaw = str('memory-series');
  const memorySeries = memRaw === undefined ? [100_000] : memRaw.trim() === '' ? [] : memRaw.split(',').map((s) => int('memory-series', s.trim(), 0, 1));
  return {
    systems: list('systems', str('systems'), SYSTEM_NAMES, SYSTEM_NAMES),
    shapes: list('shape', str('shape'), SHAPES, ['batch', 'live'], true),
    series: int('series', str('series'), 20_000, 1),
    dataDurationMs,
    intervalMs,
    samplesPerRequest: int('samples-per-request', str('samples-per-request'), 2000, 1),
    batchSamplesPerSeries: int('batch-samples-per-series', str('batch-samples-per-series'), 40, 1),
    churnSteps: int('churn-steps', str('churn-steps'), 40, 1),
    concurrency: int('concurrency', str('concurrency'), 4, 1),
    queryRuns: int('query-runs', str('query-runs'), 7, 1),
    rounds: int('rounds', str('rounds'), 1, 1),
    memorySeries,
    memorySamplesPerSeries: int('memory-samples', str('memory-samples'), 4, 1),
    seed: int('seed', str('seed'), 1, 0),
    resultsFile: str('results') ?? 'load/RESULTS.md',
    cpuProfDir: str('cpu-prof') ?? '',
    timeoutMs: int('timeout-ms', str('timeout-ms'), 60_000, 1),
    help: values['help'] === true,
  };
}

/** Steps (distinct timestamps) of the data: one per interval over the duration. */
export function stepsOf(opts: Pick<BenchOptions, 'dataDurationMs' | 'intervalMs'>): number {
  return Math.max(1, Math.floor(opts.dataDurationMs / opts.intervalMs));
}
