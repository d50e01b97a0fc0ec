/**
 * A real Prometheus that only receives remote write (`--web.enable-remote-write-receiver`) and
 * answers queries: no scrapes, no remote_write of its own. Used by the PromQL differential test and
 * the latency comparison.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './net.js';
import { waitFor } from './poll.js';
import type { RunningPrometheus } from './prometheus.js';
import { tempDir } from './service.js';

/** Starts Prometheus on a free loopback port with the remote-write receiver on; waits until ready. */
export async function startPrometheusReceiver(binary: string, extraArgs: string[] = []): Promise<RunningPrometheus> {
  const dir = tempDir('prometheus-rx');
  const port = await freePort();
  writeFileSync(join(dir.dir, 'prometheus.yml'), 'global:\n  scrape_interval: 1m\nscrape_configs: []\n');
  const proc = spawn(binary, [
    `--config.file=${join(dir.dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir.dir, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--web.enable-remote-write-receiver',
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
