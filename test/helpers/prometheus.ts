import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './net.js';
import { waitFor } from './poll.js';
import { tempDir } from './service.js';

/** Path of a `prometheus` binary on PATH, or null. */
export function findPrometheus(): string | null {
  const r = spawnSync('sh', ['-c', 'command -v prometheus'], { encoding: 'utf8' });
  const path = r.stdout.trim();
  return r.status === 0 && path !== '' ? path : null;
}

/** A real Prometheus started by a test. */
export interface RunningPrometheus {
  readonly url: string;
  readonly proc: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts Prometheus on a free loopback port with the configuration that `configFor(port)` returns
 * (it may mention its own port, e.g. to scrape itself) and extra flags; waits until it is ready
 * (bounded). `stop()` terminates it and removes its temporary directory.
 */
export async function launchPrometheus(binary: string, configFor: (port: number) => string, extraArgs: string[] = []): Promise<RunningPrometheus> {
  const dir = tempDir('prometheus');
  const port = await freePort();
  writeFileSync(join(dir.dir, 'prometheus.yml'), configFor(port));
  const proc = spawn(binary, [
    `--config.file=${join(dir.dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir.dir, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
    ...extraArgs,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((res) => proc.once('exit', () => res()));
  const url = `http://127.0.0.1:${port}`;
  await waitFor('prometheus to be ready', async () => {
    if (proc.exitCode !== null) throw new Error(`prometheus exited: ${out}`);
    const res = await fetch(`${url}/-/ready`);
    return res.status === 200 ? true : undefined;
  }, 30_000);
  return {
    url,
    proc,
    output: () => out,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      dir.remove();
    },
  };
}

/**
 * Starts Prometheus scraping itself every second and remote-writing to `remoteWriteUrl`.
 *
 * No tenant header is configured: Debian's prometheus 2.42.0+ds accepts `remote_write.headers` but
 * does not send them (seen here with a header-dumping server), so the data lands in the default
 * tenant. Tenant headers are covered by our own e2e tests.
 */
export async function startPrometheus(binary: string, remoteWriteUrl: string): Promise<RunningPrometheus> {
  return launchPrometheus(binary, (port) => `
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ['127.0.0.1:${port}']
remote_write:
  - url: ${remoteWriteUrl}
    queue_config:
      batch_send_deadline: 500ms
      min_backoff: 50ms
      max_backoff: 1s
`);
}
