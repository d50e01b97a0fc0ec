import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/service.js';

// The restart-time tool (load/restart-time.ts) on a small workload: a child ingests, is closed or
// SIGKILLed after its last acknowledged append, and every reopening finds every sample of the probe
// metric. Its figures are timings (not checked here); the sample check is what makes it exit 0.
describe('load/restart-time', () => {
  it('finds every acknowledged sample after a graceful close and after kill -9', () => {
    const r = spawnSync(process.execPath, [join(REPO_ROOT, 'dist', 'load', 'restart-time.js'), '--series', '320', '--steps', '80', '--runs', '2'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // 320 series hold 20 of the probe metric (one in 16), 80 steps each.
    expect(r.stdout).toMatch(/probe bench_cpu_utilisation_ratio: 20 series, 1,600 samples/);
    expect(r.stdout).toMatch(/^graceful: 25,600 samples acknowledged .* then graceful close/m);
    expect(r.stdout).toMatch(/^kill: 25,600 samples acknowledged .* then SIGKILL after the last acknowledgement/m);
    const reopens = r.stdout.match(/reopen \d: open \+ first select [\d.]+ s; probe samples 1,600 \(all there\)/g) ?? [];
    expect(reopens).toHaveLength(4);
  });
});
