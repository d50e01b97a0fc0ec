/**
 * Service configuration: one typed Config, defaults ← YAML file (--config / CONFIG_FILE) ← flags
 * and environment variables. Only this module reads process.env.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parse as parseYaml } from 'yaml';
import { formatDurationMs, parseDurationMs } from './duration.js';
import { DEFAULT_LIMITS, checkLimits, parseLimitsBlock, type TenantLimits } from './limits.js';

export const MODES = ['all', 'ingest', 'query', 'storage'] as const;
export type Mode = (typeof MODES)[number];

/** Ingest (remote-write receiver) settings. */
export interface IngestConfig {
  /** Largest accepted compressed body, bytes. Larger → 413. */
  readonly maxBodyBytes: number;
  /** Largest accepted decompressed body (from the snappy length preamble), bytes. Larger → 413. */
  readonly maxDecompressedBytes: number;
  /** When true a request without X-Scope-OrgID is 401; when false it goes to `defaultTenant`. */
  readonly requireTenantHeader: boolean;
  /** Tenant used when the header is absent and not required. */
  readonly defaultTenant: string;
  /** Threads that decompress and decode bodies; 0 = on the HTTP thread. Default: see defaultDecodeThreads. */
  readonly decodeThreads: number;
}

/** Query (Prometheus HTTP API) settings. */
export interface QueryConfig {
  /** Lookback delta for instant-vector selection, ms (Prometheus --query.lookback-delta). */
  readonly lookbackDeltaMs: number;
  /** Maximum samples one query may hold in memory. Over it → 422 execution. */
  readonly maxSamples: number;
  /** Query timeout, ms. Over it → 503 timeout. */
  readonly timeoutMs: number;
  /** Default subquery resolution, ms (Prometheus global evaluation_interval). */
  readonly defaultEvalIntervalMs: number;
  readonly requireTenantHeader: boolean;
  readonly defaultTenant: string;
  /** Queries slower than this are logged with their cost (`slow query`), ms; 0 = off. */
  readonly slowQueryThresholdMs: number;
}

/** Storage service settings. */
export interface StorageConfig {
  /** Directory of the embedded backend's databases. */
  readonly dataDir: string;
  /** Deadline of every storage RPC made by ingest and query, ms. */
  readonly rpcTimeoutMs: number;
  /** Largest gRPC message in either direction, bytes. */
  readonly maxMessageBytes: number;
  /**
   * How long samples are kept, ms (Prometheus --storage.tsdb.retention.time): whole chunks older
   * than now − retention are deleted, series left without data dropped. 0 = keep forever.
   */
  readonly retentionMs: number;
  /** Interval between storage checkpoints (head snapshots, WAL truncation), ms. */
  readonly checkpointIntervalMs: number;
}

export interface Config {
  readonly mode: Mode;
  /** HTTP listen host. */
  readonly host: string;
  /** HTTP port (write and read API). */
  readonly port: number;
  /** Storage gRPC listen host (storage and all modes). */
  readonly grpcHost: string;
  /** Storage gRPC port. */
  readonly grpcPort: number;
  /** Where ingest and query find storage (`host:port`); in `all` mode the embedded one is used. */
  readonly storageAddress: string;
  readonly logLevel: string;
  readonly ingest: IngestConfig;
  readonly query: QueryConfig;
  readonly storage: StorageConfig;
  /** Default per-tenant limits (YAML `limits:` section of the config file, snake_case keys). */
  readonly limits: TenantLimits;
  /** Mimir-style runtime config with per-tenant `overrides`, reloaded on change and SIGHUP; '' = none. */
  readonly runtimeConfigFile: string;
  /** How often the runtime config and auth files are checked for changes, ms. */
  readonly runtimeConfigReloadMs: number;
  /** Auth file mapping tokens/users to tenants (common/auth.ts); '' = authentication off. */
  readonly authFile: string;
  /**
   * How far V8's old generation may grow over the live heap before a full GC, percent (V8's
   * --heap-growing-percent, set for every thread at start); 0 = V8's adaptive growth (up to 4×).
   * Default 100, the heap target Go's GOGC=100 gives Prometheus: V8's adaptive growth let the heap
   * reach 3-4× the live data while writes came in fast.
   */
  readonly heapGrowthPercent: number;
}

export const DEFAULT_CONFIG: Config = {
  mode: 'all',
  host: '0.0.0.0',
  port: 9009,
  grpcHost: '127.0.0.1',
  grpcPort: 9095,
  storageAddress: '127.0.0.1:9095',
  logLevel: 'info',
  ingest: {
    maxBodyBytes: 10 * 1024 * 1024,
    maxDecompressedBytes: 64 * 1024 * 1024,
    requireTenantHeader: false,
    defaultTenant: 'anonymous',
    // Shown by --help; loadConfig replaces it with defaultDecodeThreads(mode) unless it is set.
    decodeThreads: defaultDecodeThreads('all'),
  },
  query: {
    lookbackDeltaMs: 5 * 60_000,
    maxSamples: 50_000_000,
    timeoutMs: 2 * 60_000,
    defaultEvalIntervalMs: 60_000,
    requireTenantHeader: false,
    defaultTenant: 'anonymous',
    slowQueryThresholdMs: 10_000,
  },
  storage: {
    dataDir: './data',
    rpcTimeoutMs: 30_000,
    maxMessageBytes: 64 * 1024 * 1024,
    retentionMs: 15 * 24 * 3600_000,
    checkpointIntervalMs: 60_000,
  },
  limits: DEFAULT_LIMITS,
  runtimeConfigFile: '',
  runtimeConfigReloadMs: 10_000,
  authFile: '',
  heapGrowthPercent: 100,
};

type OptionKind = 'string' | 'int' | 'bool' | 'duration' | 'bytes';

/** One command-line option: flag name, environment variable, YAML path, kind and help. */
export interface OptionSpec {
  readonly flag: string;
  readonly env: string;
  /** Dotted path in Config and (snake_case) in the YAML file. */
  readonly path: string;
  readonly kind: OptionKind;
  readonly help: string;
}

/** Every option. `--help` prints this table; README documents the same. */
export const OPTIONS: readonly OptionSpec[] = [
  { flag: 'port', env: 'PORT', path: 'port', kind: 'int', help: 'HTTP port serving the write and read APIs' },
  { flag: 'host', env: 'HOST', path: 'host', kind: 'string', help: 'HTTP listen address' },
  { flag: 'grpc-port', env: 'GRPC_PORT', path: 'grpcPort', kind: 'int', help: 'storage gRPC port (storage and all modes)' },
  { flag: 'grpc-host', env: 'GRPC_HOST', path: 'grpcHost', kind: 'string', help: 'storage gRPC listen address' },
  { flag: 'storage.address', env: 'STORAGE_ADDRESS', path: 'storageAddress', kind: 'string', help: 'host:port of the storage service (ingest and query modes)' },
  { flag: 'data-dir', env: 'DATA_DIR', path: 'storage.dataDir', kind: 'string', help: 'directory of the embedded storage' },
  { flag: 'retention', env: 'RETENTION', path: 'storage.retentionMs', kind: 'duration', help: 'how long samples are kept (like --storage.tsdb.retention.time; 0 = forever)' },
  { flag: 'storage.checkpoint-interval', env: 'STORAGE_CHECKPOINT_INTERVAL', path: 'storage.checkpointIntervalMs', kind: 'duration', help: 'interval between storage checkpoints (head snapshots, WAL truncation)' },
  { flag: 'log.level', env: 'LOG_LEVEL', path: 'logLevel', kind: 'string', help: 'log level: debug, info, warn, error' },
  { flag: 'ingest.max-body-bytes', env: 'INGEST_MAX_BODY_BYTES', path: 'ingest.maxBodyBytes', kind: 'bytes', help: 'largest compressed remote-write body (413 above)' },
  { flag: 'ingest.max-decompressed-bytes', env: 'INGEST_MAX_DECOMPRESSED_BYTES', path: 'ingest.maxDecompressedBytes', kind: 'bytes', help: 'largest decompressed remote-write body (413 above)' },
  { flag: 'ingest.decode-threads', env: 'INGEST_DECODE_THREADS', path: 'ingest.decodeThreads', kind: 'int', help: 'threads decompressing and decoding remote-write bodies (0 = on the HTTP thread; default: the cores left after the HTTP thread and, in all mode, the storage thread, at most 4)' },
  { flag: 'auth.require-tenant', env: 'REQUIRE_TENANT', path: 'requireTenant', kind: 'bool', help: 'reject requests without X-Scope-OrgID with 401 (else tenant "anonymous")' },
  { flag: 'query.lookback-delta', env: 'QUERY_LOOKBACK_DELTA', path: 'query.lookbackDeltaMs', kind: 'duration', help: 'lookback for instant-vector selection' },
  { flag: 'query.max-samples', env: 'QUERY_MAX_SAMPLES', path: 'query.maxSamples', kind: 'int', help: 'most samples one query may load (422 above)' },
  { flag: 'query.timeout', env: 'QUERY_TIMEOUT', path: 'query.timeoutMs', kind: 'duration', help: 'query timeout (503 timeout above)' },
  { flag: 'storage.rpc-timeout', env: 'STORAGE_RPC_TIMEOUT', path: 'storage.rpcTimeoutMs', kind: 'duration', help: 'deadline of each storage RPC' },
  { flag: 'query.slow-query-threshold', env: 'QUERY_SLOW_QUERY_THRESHOLD', path: 'query.slowQueryThresholdMs', kind: 'duration', help: 'log queries slower than this with their cost (0 = off)' },
  { flag: 'runtime-config.file', env: 'RUNTIME_CONFIG_FILE', path: 'runtimeConfigFile', kind: 'string', help: 'YAML file with per-tenant limit overrides (reloaded on change and SIGHUP)' },
  { flag: 'runtime-config.reload-period', env: 'RUNTIME_CONFIG_RELOAD_PERIOD', path: 'runtimeConfigReloadMs', kind: 'duration', help: 'how often the runtime config and auth files are checked for changes' },
  { flag: 'auth.file', env: 'AUTH_FILE', path: 'authFile', kind: 'string', help: 'YAML file of bearer tokens / basic-auth users and their tenants (authentication off when empty)' },
  {
    flag: 'heap-growth-percent',
    env: 'HEAP_GROWTH_PERCENT',
    path: 'heapGrowthPercent',
    kind: 'int',
    help: "how far the JS heap may grow over live data before a full GC, percent, like Go's GOGC (0 = V8's adaptive growth, up to 4x); lower trades query latency for peak memory",
  },
];

/** A configuration problem; loadConfig collects all of them before failing. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

function parseValue(kind: OptionKind, raw: unknown, where: string, problems: string[]): unknown {
  const text = String(raw).trim();
  switch (kind) {
    case 'string':
      return text;
    case 'int':
    case 'bytes': {
      const n = Number(text);
      if (!Number.isSafeInteger(n) || n < 0) problems.push(`${where}: expected a non-negative integer, got ${JSON.stringify(text)}`);
      return n;
    }
    case 'bool':
      if (['true', '1', 'yes'].includes(text)) return true;
      if (['false', '0', 'no', ''].includes(text)) return false;
      problems.push(`${where}: expected true or false, got ${JSON.stringify(text)}`);
      return false;
    case 'duration': {
      if (typeof raw === 'number') return raw * 1000;
      const ms = parseDurationMs(text);
      if (ms === null) problems.push(`${where}: expected a duration like 30s or 5m, got ${JSON.stringify(text)}`);
      return ms ?? 0;
    }
  }
}

/**
 * The YAML key path of an option: the Config path in snake_case, without the unit suffix `Ms` of
 * durations (YAML takes `lookback_delta: 5m`, like Prometheus's own files).
 */
function yamlPath(opt: OptionSpec): string {
  const path = opt.kind === 'duration' ? opt.path.replace(/Ms$/, '') : opt.path;
  return snakeCase(path);
}

function snakeCase(path: string): string {
  return path.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function lookupYaml(doc: unknown, path: string): unknown {
  let cur: unknown = doc;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Parsed command line: the mode and raw flag values. */
export interface CommandLine {
  readonly mode: Mode;
  readonly flags: ReadonlyMap<string, string>;
  readonly help: boolean;
}

/** Parses `[mode] [--flag=value | --flag value]…`. Unknown flags and modes are errors. */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  const problems: string[] = [];
  const flags = new Map<string, string>();
  let mode: Mode = 'all';
  let help = false;
  const known = new Set([...OPTIONS.map((o) => o.flag), 'config']);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h' || arg === 'help') {
      help = true;
    } else if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      let value: string | undefined = eq >= 0 ? arg.slice(eq + 1) : undefined;
      if (!known.has(name)) {
        problems.push(`unknown flag --${name}`);
        continue;
      }
      if (value === undefined) {
        const next = argv[i + 1];
        const opt = OPTIONS.find((o) => o.flag === name);
        if (opt?.kind === 'bool' && (next === undefined || next.startsWith('--'))) value = 'true';
        else if (next === undefined) {
          problems.push(`flag --${name} needs a value`);
          continue;
        } else {
          value = next;
          i++;
        }
      }
      flags.set(name, value);
    } else if ((MODES as readonly string[]).includes(arg)) {
      mode = arg as Mode;
    } else {
      problems.push(`unknown argument ${JSON.stringify(arg)} (modes: ${MODES.join(', ')})`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { mode, flags, help };
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur = target;
  for (const p of parts.slice(0, -1)) cur = cur[p] as Record<string, unknown>;
  cur[parts[parts.length - 1] as string] = value;
}

function deepFreeze<T>(obj: T): T {
  if (obj !== null && typeof obj === 'object') {
    for (const v of Object.values(obj)) deepFreeze(v);
    Object.freeze(obj);
  }
  return obj;
}

/**
 * Decode threads unless configured: one per core left once the HTTP thread and, in all mode, the
 * storage thread have theirs, at most 4 (beyond that decoding is no longer the bottleneck). A
 * decode thread on a core those threads already fill only adds the hand-off: on 2 cores in all
 * mode, decoding on the HTTP thread measured ~8 % less CPU per sample (load/RESULTS.md).
 */
export function defaultDecodeThreads(mode: Mode, cores = availableParallelism()): number {
  const taken = mode === 'all' ? 2 : 1;
  return Math.max(0, Math.min(4, cores - taken));
}

/**
 * Builds the effective Config: defaults, then the YAML file, then environment variables, then flags
 * (most specific wins). Throws ConfigError listing every problem.
 */
export function loadConfig(cmd: CommandLine, env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const cfg = structuredClone(DEFAULT_CONFIG) as unknown as Record<string, unknown>;
  cfg['mode'] = cmd.mode;
  const configFile = cmd.flags.get('config') ?? env['CONFIG_FILE'];
  let yamlDoc: unknown = undefined;
  if (configFile !== undefined && configFile !== '') {
    try {
      yamlDoc = parseYaml(readFileSync(configFile, 'utf8'));
    } catch (err) {
      problems.push(`config file ${configFile}: ${(err as Error).message}`);
    }
  }
  const given = new Set<string>();
  for (const opt of OPTIONS) {
    let raw: unknown;
    let where = '';
    const fromFlag = cmd.flags.get(opt.flag);
    const fromEnv = env[opt.env];
    const fromYaml = yamlDoc === undefined ? undefined : lookupYaml(yamlDoc, yamlPath(opt));
    if (fromFlag !== undefined) [raw, where] = [fromFlag, `--${opt.flag}`];
    else if (fromEnv !== undefined && fromEnv !== '') [raw, where] = [fromEnv, opt.env];
    else if (fromYaml !== undefined && fromYaml !== null) [raw, where] = [fromYaml, `${configFile}: ${yamlPath(opt)}`];
    else continue;
    const value = parseValue(opt.kind, raw, where, problems);
    given.add(opt.path);
    if (opt.path === 'requireTenant') {
      setPath(cfg, 'ingest.requireTenantHeader', value);
      setPath(cfg, 'query.requireTenantHeader', value);
    } else {
      setPath(cfg, opt.path, value);
    }
  }
  if (yamlDoc !== null && typeof yamlDoc === 'object' && 'limits' in yamlDoc) {
    const block = parseLimitsBlock((yamlDoc as Record<string, unknown>)['limits'], `${configFile}: limits`, problems);
    cfg['limits'] = { ...DEFAULT_LIMITS, ...block };
  }
  if (!given.has('ingest.decodeThreads')) setPath(cfg, 'ingest.decodeThreads', defaultDecodeThreads(cmd.mode));
  const c = cfg as unknown as Config;
  checkLimits(c.limits, 'limits', problems);
  if (c.runtimeConfigReloadMs <= 0) problems.push('--runtime-config.reload-period must be positive');
  for (const [name, port] of [['port', c.port], ['grpc-port', c.grpcPort]] as const) {
    // A non-number was already reported by parseValue.
    if (Number.isSafeInteger(port) && port > 65535) problems.push(`--${name}: ${port} is not a TCP port`);
  }
  if (!/^[^:]+:\d+$/.test(c.storageAddress)) problems.push(`--storage.address: expected host:port, got ${JSON.stringify(c.storageAddress)}`);
  if (c.query.lookbackDeltaMs <= 0) problems.push('--query.lookback-delta must be positive');
  if (c.storage.checkpointIntervalMs <= 0) problems.push('--storage.checkpoint-interval must be positive');
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(c);
}

/** The `--help` text: usage, modes and every option with its environment variable and default. */
export function helpText(): string {
  const lines = [
    'usage: promstore [all|ingest|query|storage] [--flag=value …]',
    '',
    'modes:',
    '  all      (default) storage (embedded SQLite, in a worker thread) + write and read APIs on one HTTP port',
    '  storage  the gRPC storage service only (proto/storage/v1/storage.proto)',
    '  ingest   remote-write receiver; reaches storage at --storage.address',
    '  query    Prometheus HTTP API and PromQL; reaches storage at --storage.address',
    '',
    'options (flag / environment variable, default):',
    `  --config / CONFIG_FILE  YAML file with the same settings in snake_case (e.g. query: {lookback_delta: 5m}; durations as Prometheus durations or seconds)`,
  ];
  for (const o of OPTIONS) {
    const def = o.path === 'requireTenant' ? false : o.path.split('.').reduce<unknown>((acc, p) => (acc as Record<string, unknown>)[p], DEFAULT_CONFIG);
    const shown = o.kind === 'duration' && typeof def === 'number' ? formatDurationMs(def) : JSON.stringify(def);
    lines.push(`  --${o.flag} / ${o.env}  ${o.help} (default ${shown})`);
  }
  return lines.join('\n');
}
