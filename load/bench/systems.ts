/**
 * Starting, flushing and stopping the three systems the benchmark compares, each as a child
 * process on 127.0.0.1 with a fresh temporary data directory:
 *
 * - `promstore`: `node dist/bin/promstore.js all` (storage in a worker thread of the same pid);
 * - `prometheus`: Prometheus 2.42 with `--web.enable-remote-write-receiver` and no scrape targets;
 * - `victoriametrics`: single-node VictoriaMetrics with its rollup result cache disabled, so
 *   repeated dashboard queries are computed each time, as ours and Prometheus's are, and with no
 *   latency offset, so the newest samples are visible to queries as soon as they are flushed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { dirBytes, treeCpuSec } from './proc-stats.js';

/** Names of the systems, in the order a run visits them. */
export const SYSTEM_NAMES = ['promstore', 'prometheus', 'victoriametrics'] as const;

/** One of SYSTEM_NAMES. */
export type SystemName = (typeof SYSTEM_NAMES)[number];

/** How the on-disk size was taken, for the report. */
export interface DiskReading {
  /** Bytes under the data directory at the moment described by `note`. */
  readonly bytes: number;
  /** Bytes of a compacted form when the system can produce one cheaply (Prometheus snapshot), else null. */
  readonly compactedBytes: number | null;
  /** Server CPU seconds of producing the compacted form (Prometheus snapshot: its head written as a block), else null. */
  readonly compactionCpuSec: number | null;
  readonly note: string;
}

/** A started system. */
export interface RunningSystem {
  readonly name: SystemName;
  readonly pid: number;
  /** Remote-write 1.0 endpoint. */
  readonly writeUrl: URL;
  /** Base URL of the Prometheus query API (`/api/v1/query…` appended). */
  readonly queryBase: string;
  readonly dataDir: string;
  /** Makes everything written so far visible to queries (VictoriaMetrics buffers); no-op elsewhere. */
  flush(): Promise<void>;
  /** Takes the disk reading this system's row reports; stops the process where that is part of it. */
  measureDisk(): Promise<DiskReading>;
  /** SIGTERM, wait (bounded, then SIGKILL); resolves with the exit code. Idempotent. */
  stop(): Promise<number | null>;
  /** Stops if needed and deletes the data directory. */
  cleanup(): Promise<void>;
  /** Last lines the process logged (for errors). */
  logTail(): string;
}

/** Options shared by every system. */
export interface StartOptions {
  /** Repository root (for dist/bin/promstore.js). */
  readonly repoRoot: string;
  /** Extra node flags for our server, e.g. ['--cpu-prof', '--cpu-prof-dir=…']. */
  readonly nodeFlags?: readonly string[];
  /** Where to put the temporary data directories; default os.tmpdir(). */
  readonly tmpRoot?: string;
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

/** Path of `binary` on PATH, or null. */
export function which(binary: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' });
  const path = r.stdout.trim();
  return r.status === 0 && path !== '' ? path : null;
}

/** Version line of a system's binary, for the results file. */
export function versionOf(name: SystemName, repoRoot: string): string {
  const run = (cmd: string, args: string[]): string => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    return `${r.stdout}${r.stderr}`.split('\n').find((l) => l.trim() !== '')?.trim() ?? 'unknown';
  };
  if (name === 'prometheus') return run('prometheus', ['--version']);
  if (name === 'victoriametrics') {
    const v = run('dpkg-query', ['-W', '-f=${Version}', 'victoria-metrics']);
    return `victoria-metrics ${v}`;
  }
  const r = spawnSync('git', ['-C', repoRoot, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  const commit = r.status === 0 ? r.stdout.trim() : '';
  return `promstore ${commit === '' ? '(commit unknown: not a git checkout)' : commit}`;
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Child process plumbing shared by all three: log capture, exit tracking, bounded stop. */
class Child {
  readonly exited: Promise<number | null>;
  exitCode: number | null | undefined;
  private _tail: string[] = [];

  constructor(readonly proc: ChildProcess, logFile: string) {
    const log = createWriteStream(logFile);
    const keep = (d: Buffer): void => {
      log.write(d);
      this._tail.push(d.toString());
      if (this._tail.length > 40) this._tail.shift();
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    this.exited = new Promise((res) =>
      proc.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal === null ? null : -1);
        log.end();
        res(this.exitCode);
      }),
    );
  }

  tail(): string {
    return this._tail.join('').split('\n').slice(-20).join('\n');
  }

  async waitReady(what: string, url: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.exitCode !== undefined) throw new Error(`${what} exited with ${this.exitCode} before it was ready:\n${this.tail()}`);
      try {
        const res = await fetch(url);
        await res.arrayBuffer();
        if (res.status === 200) return;
      } catch {
        // Not listening yet.
      }
      await sleep(100);
    }
    throw new Error(`${what} not ready after ${timeoutMs} ms:\n${this.tail()}`);
  }

  async stop(timeoutMs = 60_000): Promise<number | null> {
    if (this.exitCode !== undefined) return this.exitCode;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

/**
 * Per-tenant limits lifted for the benchmark tenant, as Prometheus and VictoriaMetrics have none
 * (our defaults follow Mimir: 10k samples/s, 150k series per tenant, …). Only keys the built
 * service knows are written (read from dist/common/limits.js), so the file also loads on builds
 * from before a limit existed.
 */
export function benchConfigYaml(repoRoot: string): string {
  const wanted: Record<string, number> = {
    ingestion_rate: 1e12,
    ingestion_burst_size: 1e12,
    sample_limit: 0,
    max_global_series_per_user: 0,
    max_global_series_per_metric: 0,
    max_fetched_series_per_query: 0,
    max_fetched_samples_per_query: 0,
  };
  let known = '';
  try {
    known = readFileSync(join(repoRoot, 'dist', 'common', 'limits.js'), 'utf8');
  } catch {
    return '';
  }
  const lines = Object.entries(wanted).filter(([k]) => known.includes(`'${k}'`)).map(([k, v]) => `  ${k}: ${v}`);
  return lines.length === 0 ? '' : `limits:\n${lines.join('\n')}\n`;
}

/** Systems started and not yet cleaned up, so an interrupted run can stop them (see stopAll). */
const live = new Set<RunningSystem>();

/** Stops and removes every system still running (for SIGINT/SIGTERM of the benchmark). */
export async function stopAll(): Promise<void> {
  for (const sys of [...live]) await sys.cleanup();
}

/** Starts `name` with an empty data directory and waits until it answers its readiness endpoint. */
export async function startSystem(name: SystemName, opts: StartOptions): Promise<RunningSystem> {
  const root = mkdtempSync(join(opts.tmpRoot ?? tmpdir(), `bench-${name}-`));
  const dataDir = join(root, 'data');
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let child: Child;
  let writePath: string;
  let readyPath: string;
  if (name === 'promstore') {
    const cli = resolve(opts.repoRoot, 'dist', 'bin', 'promstore.js');
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`);
    const grpcPort = await freePort();
    const args = [...(opts.nodeFlags ?? []), cli, 'all', '--host=127.0.0.1', `--port=${port}`, '--grpc-host=127.0.0.1', `--grpc-port=${grpcPort}`, `--data-dir=${dataDir}`, '--log.level=warn'];
    const yaml = benchConfigYaml(opts.repoRoot);
    if (yaml !== '') {
      writeFileSync(join(root, 'promstore.yml'), yaml);
      args.push(`--config=${join(root, 'promstore.yml')}`);
    }
    child = new Child(spawn(process.execPath, args, { cwd: opts.repoRoot, stdio: ['ignore', 'pipe', 'pipe'] }), join(root, 'server.log'));
    writePath = '/api/v1/push';
    readyPath = '/-/ready';
  } else if (name === 'prometheus') {
    // No scrape targets: the TSDB holds only what the benchmark writes.
    writeFileSync(join(root, 'prometheus.yml'), 'global:\n  scrape_interval: 15s\nscrape_configs: []\n');
    const args = [
      `--config.file=${join(root, 'prometheus.yml')}`,
      `--storage.tsdb.path=${dataDir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-remote-write-receiver',
      '--web.enable-admin-api',
      '--log.level=warn',
    ];
    child = new Child(spawn('prometheus', args, { stdio: ['ignore', 'pipe', 'pipe'] }), join(root, 'server.log'));
    writePath = '/api/v1/write';
    readyPath = '/-/ready';
  } else {
    const args = [`-httpListenAddr=127.0.0.1:${port}`, `-storageDataPath=${dataDir}`, '-search.disableCache', '-search.latencyOffset=0s', '-loggerLevel=WARN'];
    child = new Child(spawn('victoria-metrics', args, { stdio: ['ignore', 'pipe', 'pipe'] }), join(root, 'server.log'));
    writePath = '/api/v1/write';
    readyPath = '/health';
  }
  await child.waitReady(name, base + readyPath);
  const pid = child.proc.pid as number;

  // VictoriaMetrics: in-memory parts to disk. promstore: every tenant checkpointed (its WAL records
  // become chunk rows), so that work is counted in the write phase and does not run during queries
  // (builds from before /ingester/flush answer 404 and are measured as they are). Prometheus has no
  // equivalent short of a snapshot: its head stays in memory and WAL until the 2 h compaction.
  const flush = async (): Promise<void> => {
    if (name === 'prometheus') return;
    const url = name === 'victoriametrics' ? `${base}/internal/force_flush` : `${base}/ingester/flush`;
    const res = await fetch(url, { method: name === 'victoriametrics' ? 'GET' : 'POST' });
    await res.arrayBuffer();
    const ok = res.status === 200 || res.status === 204 || (name === 'promstore' && res.status === 404);
    if (!ok) throw new Error(`${name} ${url} answered ${res.status}`);
  };

  const measureDisk = async (): Promise<DiskReading> => {
    if (name === 'victoriametrics') {
      await flush();
      return { bytes: dirBytes(dataDir), compactedBytes: null, compactionCpuSec: null, note: 'after /internal/force_flush, process running' };
    }
    if (name === 'prometheus') {
      // A snapshot writes the head as a compacted block: the figure Prometheus reaches after its
      // 2 h head compaction. The TSDB dir after SIGTERM holds the WAL and mmapped head chunks.
      // Its CPU is the work that compaction will do, which the write phase's figure never sees.
      let compactedBytes: number | null = null;
      let compactionCpuSec: number | null = null;
      try {
        const cpu0 = treeCpuSec(pid);
        const res = await fetch(`${base}/api/v1/admin/tsdb/snapshot`, { method: 'POST' });
        const body = (await res.json()) as { data?: { name?: string } };
        const snap = body.data?.name;
        if (res.status === 200 && snap !== undefined) {
          compactionCpuSec = treeCpuSec(pid) - cpu0;
          compactedBytes = dirBytes(join(dataDir, 'snapshots', snap));
        }
      } catch {
        compactedBytes = null;
      }
      rmSync(join(dataDir, 'snapshots'), { recursive: true, force: true });
      await child.stop();
      return { bytes: dirBytes(dataDir), compactedBytes, compactionCpuSec, note: 'TSDB dir after SIGTERM (WAL + head chunks); compacted = snapshot block' };
    }
    const code = await child.stop();
    if (code !== 0) throw new Error(`promstore exited with ${code} on SIGTERM:\n${child.tail()}`);
    return { bytes: dirBytes(dataDir), compactedBytes: null, compactionCpuSec: null, note: 'data dir after SIGTERM' };
  };

  const sys: RunningSystem = {
    name,
    pid,
    writeUrl: new URL(base + writePath),
    queryBase: base,
    dataDir,
    flush,
    measureDisk,
    stop: () => child.stop(),
    async cleanup() {
      await child.stop();
      rmSync(root, { recursive: true, force: true });
      live.delete(sys);
    },
    logTail: () => child.tail(),
  };
  live.add(sys);
  return sys;
}

/** Lists files in `dir` (for the CPU profiles our server wrote). */
export function listFiles(dir: string): string[] {
  try {
    return readdirSync(dir).map((f) => join(dir, f));
  } catch {
    return [];
  }
}
