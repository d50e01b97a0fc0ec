import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bench, describe } from 'vitest';
import type { Labels, SampleBatch } from '../../../common/types.js';
import { SqliteBackend } from './sqlite-backend.js';

// Fixture built once: 1000 series × 10 samples = 10k samples per batch; each run appends the next
// 10 timestamps so every sample is a real append (no duplicate short-circuit).
const SERIES = 1000;
const PER_SERIES = 10;
const labels: Labels[] = Array.from({ length: SERIES }, (_, i) => ['__name__', 'bench_metric', 'instance', `host-${i}`, 'job', 'node']);
const sampleStart = new Uint32Array(SERIES + 1);
for (let i = 0; i <= SERIES; i++) sampleStart[i] = i * PER_SERIES;
const tsMs = new Float64Array(SERIES * PER_SERIES);
const values = new Float64Array(SERIES * PER_SERIES);
for (let i = 0; i < values.length; i++) values[i] = Math.sin(i) * 100;
const batch: SampleBatch = { series: labels, sampleStart, tsMs, values };

const backend = SqliteBackend.open({ dataDir: mkdtempSync(join(tmpdir(), 'promstore-bench-')), checkpointIntervalMs: 0 });
let round = 0;

describe('sqlite backend', () => {
  bench('append 10k samples (1000 series × 10) per op', async () => {
    const base = round++ * PER_SERIES * 15_000;
    for (let s = 0; s < SERIES; s++) {
      for (let j = 0; j < PER_SERIES; j++) tsMs[s * PER_SERIES + j] = base + j * 15_000;
    }
    await backend.append('bench', batch);
  });
});
