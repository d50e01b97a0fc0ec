import { describe, expect, it } from 'vitest';
import { createRegistry, EVENT_LOOP_SAMPLE_MS } from './metrics.js';

describe('createRegistry', () => {
  it('exports the default Node metrics, the event-loop delay with samples in it', async () => {
    const registry = createRegistry();
    try {
      // A few sampling periods, so the delay histogram has samples.
      await new Promise((resolve) => setTimeout(resolve, 4 * EVENT_LOOP_SAMPLE_MS));
      const text = await registry.metrics();
      expect(text).toContain('process_cpu_seconds_total');
      const p99 = /^nodejs_eventloop_lag_p99_seconds (\S+)$/m.exec(text);
      expect(p99).not.toBeNull();
      expect(Number(p99?.[1])).toBeGreaterThan(0);
    } finally {
      registry.clear();
    }
  });
});
