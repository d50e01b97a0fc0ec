import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './net.js';
import { waitFor } from './poll.js';

/** Root of the repository (test/helpers/ → ../..). */
export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
/** The compiled CLI; `npm test` builds it first (pretest). */
export const CLI = join(REPO_ROOT, 'dist', 'bin', 'promstore.js');

/** A promstore process started by a test. */
export interface RunningService {
  readonly proc: ChildProcess;
  /** http://127.0.0.1:<port> for HTTP modes. */
  readonly url: string;
  readonly port: number;
  readonly grpcPort: number;
  /** Everything the process wrote to stderr and stdout so far. */
  output(): string;
  /** SIGTERM, wait for exit (bounded), SIGKILL if needed. Resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
}

/** Makes a fresh temporary directory and returns it with a remover. */
export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `promstore-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Starts `node dist/bin/promstore.js <mode> …args` on free loopback ports and waits until it is
 * ready: HTTP modes answer 200 on /-/ready; storage mode logs "storage listening".
 */
export async function startService(mode: 'all' | 'storage' | 'ingest' | 'query', args: string[] = [], env: Record<string, string> = {}): Promise<RunningService> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const port = await freePort();
  const grpcPort = await freePort();
  // --retention=0: tests write fixed timestamps from the past, which the default 15d retention
  // would delete while the test runs; a later --retention in `args` wins.
  const fullArgs = [CLI, mode, '--host=127.0.0.1', `--port=${port}`, '--grpc-host=127.0.0.1', `--grpc-port=${grpcPort}`, '--log.level=warn', '--retention=0', ...args];
  const proc = spawn(process.execPath, fullArgs, { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
  let exitCode: number | null | undefined;
  void exited.then((c) => (exitCode = c));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${mode} to be ready`, async () => {
    if (exitCode !== undefined) throw new Error(`exited with ${exitCode}: ${out}`);
    if (mode === 'storage') return out.includes('storage listening') ? true : undefined;
    const res = await fetch(`${url}/-/ready`);
    return res.status === 200 ? true : undefined;
  });
  return {
    proc,
    url,
    port,
    grpcPort,
    output: () => out,
    async stop() {
      if (exitCode !== undefined) return exitCode;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    async kill() {
      if (exitCode !== undefined) return;
      proc.kill('SIGKILL');
      await exited;
    },
  };
}
