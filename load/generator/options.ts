/**
 * Command line of the load generator: flags, defaults, validation and the loopback guard.
 */
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { badData, clip } from '../../common/errors.js';

/** Validated generator settings. */
export interface GeneratorOptions {
  readonly url: URL;
  readonly series: number;
  readonly samplesPerRequest: number;
  readonly samplesPerSeries: number;
  readonly concurrency: number;
  /** Seconds of load; 0 = no time limit (then `requests` bounds the run). */
  readonly durationSec: number;
  /** Requests to pre-build and send; 0 = as many as fit in `maxPayloadBytes` (then `durationSec` bounds the run). */
  readonly requests: number;
  readonly intervalMs: number;
  /** X-Scope-OrgID; empty = header omitted. */
  readonly tenant: string;
  readonly seed: number;
  /** Timestamp of the first sample, ms; undefined = chosen so the data ends at the current time. */
  readonly startMs: number | undefined;
  readonly metricPrefix: string;
  readonly timeoutMs: number;
  /** Memory budget for pre-encoded bodies, bytes. */
  readonly maxPayloadBytes: number;
  /** Stop after this many failed requests; 0 = never. */
  readonly maxErrors: number;
  readonly json: boolean;
  readonly allowRemote: boolean;
  /** Add a classic histogram family (see workload.ts). */
  readonly histograms: boolean;
  /** Replace each series every this many steps; 0 = no churn. */
  readonly churnSteps: number;
  /** Write the pre-encoded bodies and a manifest.json to this directory instead of sending (k6 replays them); '' = send. */
  readonly writePayloads: string;
  readonly help: boolean;
}

/** Duration used when neither --duration nor --requests is given, seconds. */
export const DEFAULT_DURATION_SEC = 30;

/** The `--help` text. */
export const USAGE = `usage: npm run load -- [flags]

Sends a deterministic remote-write workload to one endpoint and reports throughput and latency.
Payloads are encoded before the clock starts; the run stops after --duration or --requests.

  --url URL                   endpoint (default http://127.0.0.1:9009/api/v1/push)
                              Prometheus: http://127.0.0.1:9090/api/v1/write (needs --web.enable-remote-write-receiver)
                              VictoriaMetrics: http://127.0.0.1:8428/api/v1/write
  --series N                  distinct series (default 10000)
  --samples-per-request N     samples per request (default 2000)
  --samples-per-series N      consecutive samples of one series in a request (default 1)
  --concurrency N             parallel connections; each sends its own slices in order (default 4)
  --duration SECONDS          stop starting requests after this long (default ${DEFAULT_DURATION_SEC} unless --requests)
  --requests N                pre-build and send exactly N requests
  --interval-ms MS            distance between a series' samples (default 15000)
  --start-ms MS               timestamp of the first sample (default: data ends at the current time)
  --tenant ID                 X-Scope-OrgID header (default "load"; "" omits it)
  --seed N                    workload seed (default 1)
  --metric-prefix P           prefix of metric names (default "load_"); change it to write new series
  --timeout-ms MS             per-request timeout (default 30000)
  --max-payload-mb MB         memory budget for pre-encoded bodies (default 64)
  --max-errors N              stop after N failed requests, 0 = never (default 1000)
  --histograms                add a 12-bucket classic histogram family (histogram_quantile dashboards)
  --churn-steps N             replace every series by a new one every N steps (default 0 = no churn)
  --write-payloads DIR        write the pre-encoded bodies and DIR/manifest.json for load/k6/remote-write.js, then exit
  --json                      print the report as one JSON line
  --allow-remote              allow a non-loopback URL (refused by default)
  --help                      this text
`;

/** Whether `hostname` (as in URL.hostname, IPv6 in brackets) is a loopback name or address. No DNS lookup. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  const lower = host.toLowerCase();
  if (lower === 'localhost' || lower.endsWith('.localhost')) return true;
  const family = isIP(lower);
  if (family === 4) return lower.startsWith('127.');
  if (family === 6) {
    if (lower === '::1') return true;
    // IPv4-mapped loopback; URL normalises ::ffff:127.0.0.1 to ::ffff:7f00:1.
    const mapped = /^::ffff:(?:127\.|7f[0-9a-f]{2}:)/.exec(lower);
    return mapped !== null;
  }
  return false;
}

function bad(message: string): never {
  throw badData('bad-load-option', `${message} [err-bad-load-option]`);
}

function int(flag: string, raw: string | undefined, def: number, min: number): number {
  if (raw === undefined) return def;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isSafeInteger(n) || n < min) bad(`--${flag}: expected an integer ≥ ${min}, got ${JSON.stringify(clip(raw))}`);
  return n;
}

/**
 * Parses and validates the generator's flags. Throws a bad-data AppError (`bad-load-option`) for
 * unknown flags, bad numbers, and non-loopback URLs without --allow-remote.
 */
export function parseGeneratorArgs(argv: readonly string[]): GeneratorOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        url: { type: 'string' },
        series: { type: 'string' },
        'samples-per-request': { type: 'string' },
        'samples-per-series': { type: 'string' },
        concurrency: { type: 'string' },
        duration: { type: 'string' },
        requests: { type: 'string' },
        'interval-ms': { type: 'string' },
        'start-ms': { type: 'string' },
        tenant: { type: 'string' },
        seed: { type: 'string' },
        'metric-prefix': { type: 'string' },
        'timeout-ms': { type: 'string' },
        'max-payload-mb': { type: 'string' },
        'max-errors': { type: 'string' },
        json: { type: 'boolean' },
        'allow-remote': { type: 'boolean' },
        histograms: { type: 'boolean' },
        'churn-steps': { type: 'string' },
        'write-payloads': { type: 'string' },
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
  const rawUrl = str('url') ?? 'http://127.0.0.1:9009/api/v1/push';
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    bad(`--url: not a URL: ${JSON.stringify(clip(rawUrl))}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') bad(`--url: expected http or https, got ${JSON.stringify(url.protocol)}`);
  const allowRemote = values['allow-remote'] === true;
  if (!allowRemote && !isLoopbackHost(url.hostname)) {
    bad(`--url: ${JSON.stringify(url.hostname)} is not a loopback address; pass --allow-remote to load another host`);
  }
  const requests = int('requests', str('requests'), 0, 1);
  const durationSec = int('duration', str('duration'), requests > 0 ? 0 : DEFAULT_DURATION_SEC, 1);
  const startRaw = str('start-ms');
  const metricPrefix = str('metric-prefix') ?? 'load_';
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(metricPrefix)) bad(`--metric-prefix: ${JSON.stringify(clip(metricPrefix))} is not a valid metric name prefix`);
  return {
    url,
    series: int('series', str('series'), 10_000, 1),
    samplesPerRequest: int('samples-per-request', str('samples-per-request'), 2000, 1),
    samplesPerSeries: int('samples-per-series', str('samples-per-series'), 1, 1),
    concurrency: int('concurrency', str('concurrency'), 4, 1),
    durationSec,
    requests,
    intervalMs: int('interval-ms', str('interval-ms'), 15_000, 1),
    tenant: str('tenant') ?? 'load',
    seed: int('seed', str('seed'), 1, 0),
    startMs: startRaw === undefined ? undefined : int('start-ms', startRaw, 0, 0),
    metricPrefix,
    timeoutMs: int('timeout-ms', str('timeout-ms'), 30_000, 1),
    maxPayloadBytes: int('max-payload-mb', str('max-payload-mb'), 64, 1) * 1024 * 1024,
    maxErrors: int('max-errors', str('max-errors'), 1000, 0),
    json: values['json'] === true,
    allowRemote,
    histograms: values['histograms'] === true,
    churnSteps: int('churn-steps', str('churn-steps'), 0, 0),
    writePayloads: str('write-payloads') ?? '',
    help: values['help'] === true,
  };
}
