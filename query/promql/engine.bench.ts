import { bench, describe } from 'vitest';
import type { SeriesSamples } from '../../common/types.js';
import type { Queryable } from '../queryable.js';
import { Engine } from './engine.js';

// Fixture: 1000 counters (10 jobs × 100 instances) scraped every 15s for 1h, built once.
const SERIES = 1000;
const SCRAPE_MS = 15_000;
const HOUR_MS = 3_600_000;
const fixture: SeriesSamples[] = [];
for (let i = 0; i < SERIES; i++) {
  const n = HOUR_MS / SCRAPE_MS + 1;
  const tsMs = new Float64Array(n);
  const values = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    tsMs[j] = j * SCRAPE_MS;
    values[j] = j * (1 + (i % 7));
  }
  fixture.push({ labels: ['__name__', 'http_requests_total', 'instance', `i${String(i).padStart(4, '0')}`, 'job', `j${i % 10}`], tsMs, values });
}
const queryable: Queryable = { select: async () => fixture };
const engine = new Engine({ lookbackDeltaMs: 300_000, maxSamples: 0, timeoutMs: 0, defaultEvalIntervalMs: 60_000 });
const SAMPLES = SERIES * (HOUR_MS / SCRAPE_MS + 1);

describe(`range query over 1k series × 1h at 15s step (${SAMPLES} samples)`, () => {
  bench('sum by (job) (rate(http_requests_total[5m]))', async () => {
    await engine.rangeQuery(queryable, 'sum by (job) (rate(http_requests_total[5m]))', 0, HOUR_MS, SCRAPE_MS);
  });
  bench('http_requests_total', async () => {
    await engine.rangeQuery(queryable, 'http_requests_total', 0, HOUR_MS, SCRAPE_MS);
  });
  bench('http_requests_total / on(job, instance) http_requests_total', async () => {
    await engine.rangeQuery(queryable, 'http_requests_total / on(job, instance) http_requests_total', 0, HOUR_MS, SCRAPE_MS);
  });
});
