import { describe, expect, it } from 'vitest';
import { POOLED_BUFFER_SAMPLES, PooledSampleBuffers, pooledBufferCount } from './sample-buffers.js';

/** Empties the module's pool so each test starts from a known state. */
function drain(): void {
  const l = new PooledSampleBuffers();
  while (pooledBufferCount() > 0) l.take(1);
}

const FULL = POOLED_BUFFER_SAMPLES;

describe('PooledSampleBuffers', () => {
  it('hands the buffers of a released lease to the next lease, not before', () => {
    drain();
    const a = new PooledSampleBuffers();
    const first = a.take(FULL);
    expect(first.ts.length).toBe(FULL);
    const b = new PooledSampleBuffers();
    expect(b.take(FULL).ts).not.toBe(first.ts); // a still owns it
    a.release();
    // A pooled pair serves any size up to the pooled one.
    expect(new PooledSampleBuffers().take(10).ts).toBe(first.ts);
  });

  it('gives small requests small arrays while the pool is empty, and does not pool them', () => {
    drain();
    const a = new PooledSampleBuffers();
    const small = a.take(1000);
    expect(small.ts.length).toBe(1000);
    expect(small.values.length).toBe(1000);
    a.release();
    expect(pooledBufferCount()).toBe(0);
  });

  it('keeps buffers out of the pool while a decoder holds the lease', () => {
    drain();
    const a = new PooledSampleBuffers();
    const done = a.hold();
    const taken = a.take(FULL);
    a.release();
    expect(pooledBufferCount()).toBe(0);
    // Asked for after the release: a plain array, never one that goes back to the pool.
    const late = a.take(FULL);
    expect(late.ts).not.toBe(taken.ts);
    done();
    done(); // idempotent
    expect(pooledBufferCount()).toBe(1);
    const next = new PooledSampleBuffers().take(1);
    expect(next.ts).toBe(taken.ts);
    expect(next.ts).not.toBe(late.ts);
  });

  it('gives requests beyond a pooled buffer their own arrays', () => {
    drain();
    const a = new PooledSampleBuffers();
    const big = a.take(FULL + 1);
    expect(big.ts.length).toBe(FULL + 1);
    a.release();
    expect(pooledBufferCount()).toBe(0);
  });
});
