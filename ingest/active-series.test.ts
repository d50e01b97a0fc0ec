import { describe, expect, it } from 'vitest';
import { ManualClock } from '../common/clock.js';
import { DEFAULT_LIMITS, type TenantLimits } from '../common/limits.js';
import type { Labels } from '../common/types.js';
import { ActiveSeriesTracker, type ActiveRecord } from './active-series.js';
import { Rejections } from './validate.js';

const s = (name: string, job: string, instance: string): Labels => ['__name__', name, 'instance', instance, 'job', job];
const limits = (over: Partial<TenantLimits>): TenantLimits => ({ ...DEFAULT_LIMITS, activeSeriesIdleTimeoutMs: 60_000, ...over });

function admit(tr: ActiveSeriesTracker, l: TenantLimits, series: Labels[]): { keep: number[]; codes: string[] } {
  const rej = new Rejections();
  const r = tr.admit('t', series, () => 1, l, rej);
  return { keep: [...r.keep], codes: rej.list().map((x) => `${x.code}:${x.count}`) };
}

describe('ActiveSeriesTracker', () => {
  it.each<[string, Partial<TenantLimits>, Labels[], number[], string[]]>([
    ['per tenant', { maxSeriesPerTenant: 2 }, [s('a', 'j', '1'), s('b', 'j', '1'), s('c', 'j', '1')], [1, 1, 0], ['max-series-per-tenant:1']],
    ['per metric', { maxSeriesPerMetric: 1 }, [s('a', 'j', '1'), s('a', 'j', '2'), s('b', 'j', '1')], [1, 0, 1], ['max-series-per-metric:1']],
    ['targets', { targetLimit: 1 }, [s('a', 'j', '1'), s('b', 'j', '1'), s('a', 'j', '2')], [1, 1, 0], ['max-targets:1']],
  ])('%s limit refuses only new series', (_name, over, series, keep, codes) => {
    const tr = new ActiveSeriesTracker(new ManualClock());
    expect(admit(tr, limits(over), series)).toEqual({ keep, codes });
    // Known series keep working even at the limit.
    expect(admit(tr, limits(over), series.filter((_, i) => keep[i] === 1)).codes).toEqual([]);
  });

  it('idle series expire, freeing room (bounded memory)', () => {
    const clock = new ManualClock();
    const tr = new ActiveSeriesTracker(clock);
    const l = limits({ maxSeriesPerTenant: 1 });
    expect(admit(tr, l, [s('a', 'j', '1')]).keep).toEqual([1]);
    expect(admit(tr, l, [s('b', 'j', '1')]).keep).toEqual([0]);
    clock.advance(61_000);
    expect(admit(tr, l, [s('b', 'j', '1')]).keep).toEqual([1]);
    expect(tr.activeSeries('t')).toBe(1);
    clock.advance(61_000);
    tr.sweepAll(() => 60_000);
    expect(tr.tenants()).toEqual([]);
  });

  it('kept records skip the lookup while alive and are not trusted after a sweep', () => {
    const clock = new ManualClock();
    const tr = new ActiveSeriesTracker(clock);
    const l = limits({ maxSeriesPerTenant: 1 });
    const records: (ActiveRecord | null)[] = [null];
    tr.admit('t', [s('a', 'j', '1')], () => 1, l, new Rejections(), undefined, undefined, records);
    const first = records[0];
    expect(first?.alive).toBe(true);
    clock.advance(40_000);
    // Refreshed through the record: still active after the first write's idle window.
    tr.admit('t', [s('a', 'j', '1')], () => 1, l, new Rejections(), undefined, undefined, records);
    expect(records[0]).toBe(first);
    clock.advance(40_000);
    tr.sweepAll(() => 60_000);
    expect(tr.activeSeries('t')).toBe(1);
    clock.advance(61_000);
    tr.sweepAll(() => 60_000);
    expect(first?.alive).toBe(false);
    // Another series took the only slot; the stale record of "a" must not let it in.
    expect(admit(tr, l, [s('b', 'j', '1')]).keep).toEqual([1]);
    const rej = new Rejections();
    const r = tr.admit('t', [s('a', 'j', '1')], () => 1, l, rej, undefined, undefined, records);
    expect([...r.keep]).toEqual([0]);
    expect(rej.list().map((x) => x.code)).toEqual(['max-series-per-tenant']);
  });
});
