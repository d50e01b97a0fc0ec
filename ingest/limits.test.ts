import { describe, expect, it } from 'vitest';
import { ManualClock } from '../common/clock.js';
import { RateLimiter } from './limits.js';

describe('RateLimiter (token bucket)', () => {
  it('admits up to the burst, refills at the rate, and says how long to wait', () => {
    const clock = new ManualClock(1_000_000);
    const rl = new RateLimiter(clock);
    expect(rl.take('t', 100, 10, 100).ok).toBe(true); // full bucket at start
    const refused = rl.take('t', 5, 10, 100);
    expect(refused).toEqual({ ok: false, retryAfterMs: 500 });
    clock.advance(500);
    expect(rl.take('t', 5, 10, 100).ok).toBe(true);
    expect(rl.take('other', 100, 10, 100).ok).toBe(true); // buckets are per tenant
  });

  it('never admits a cost above the burst; rate 0 is unlimited', () => {
    const rl = new RateLimiter(new ManualClock());
    expect(rl.take('t', 101, 10, 100)).toEqual({ ok: false, retryAfterMs: Infinity });
    expect(rl.take('t', 1e9, 0, 0).ok).toBe(true);
  });

  it('sweep forgets buckets that refilled', () => {
    const clock = new ManualClock();
    const rl = new RateLimiter(clock);
    rl.take('t', 50, 10, 100);
    rl.sweep(() => ({ ratePerSec: 10, burst: 100 }));
    expect(rl.size).toBe(1);
    clock.advance(5000);
    rl.sweep(() => ({ ratePerSec: 10, burst: 100 }));
    expect(rl.size).toBe(0);
  });
});
