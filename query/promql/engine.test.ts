import { describe, expect, it } from 'vitest';
import { AppError } from '../../common/errors.js';
import { setStaleNaNAt, type Matcher, type SeriesSamples } from '../../common/types.js';
import type { Queryable } from '../queryable.js';
import type { Expr } from './ast.js';
import { Engine, checkSupported, type EngineOptions } from './engine.js';
import { rejection } from '../../test/helpers/errors.js';

const OPTS: EngineOptions = { lookbackDeltaMs: 300_000, maxSamples: 1_000_000, timeoutMs: 5_000, defaultEvalIntervalMs: 60_000 };

/** A Queryable over fixed series that records every select call. */
interface SelectCall {
  matchers: readonly Matcher[];
  startMs: number;
  endMs: number;
  newestOnly: boolean;
}

function arrayQueryable(series: SeriesSamples[]): Queryable & { calls: SelectCall[] } {
  const calls: SelectCall[] = [];
  return {
    calls,
    async select(matchers, startMs, endMs, _signal, hints) {
      calls.push({ matchers, startMs, endMs, newestOnly: hints?.newestOnly === true });
      const name = matchers.find((m) => m.name === '__name__')?.value;
      return series.filter((s) => s.labels[1] === name);
    },
  };
}

/** A Queryable whose select only settles when its signal aborts. */
const hanging: Queryable = {
  select(_m, _s, _e, signal) {
    return new Promise((_resolve, reject) => {
      signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
    });
  },
};

function series(name: string, ts: number[], vs: number[]): SeriesSamples {
  return { labels: ['__name__', name], tsMs: Float64Array.from(ts), values: Float64Array.from(vs) };
}

const failure = rejection;

describe('Engine lifecycle', () => {
  it('times out a query whose storage never answers', async () => {
    const err = await failure(new Engine({ ...OPTS, timeoutMs: 30 }).instantQuery(hanging, 'up', 0));
    expect(err.kind).toBe('timeout');
  });

  it('cancels a query when the caller aborts', async () => {
    const ac = new AbortController();
    const p = new Engine(OPTS).instantQuery(hanging, 'up', 0, { signal: ac.signal });
    ac.abort();
    expect((await failure(p)).kind).toBe('canceled');
  });

  it('rejects an already-aborted signal before any I/O', async () => {
    const q = arrayQueryable([]);
    const ac = new AbortController();
    ac.abort();
    expect((await failure(new Engine(OPTS).instantQuery(q, 'up', 0, { signal: ac.signal }))).kind).toBe('canceled');
    expect(q.calls).toHaveLength(0);
  });

  it.each([
    ['loaded samples', 'up', 5],
    ['output points', 'up', 11],
  ])('enforces the sample budget (%s)', async (_name, query, max) => {
    const q = arrayQueryable([series('up', [0, 60_000, 120_000, 180_000, 240_000, 300_000], [1, 1, 1, 1, 1, 1])]);
    const err = await failure(new Engine({ ...OPTS, maxSamples: max }).rangeQuery(q, query, 0, 300_000, 60_000));
    expect(err.kind).toBe('execution');
    expect(err.code).toBe('query-too-many-samples');
    expect(err.message).toBe('query processing would load too many samples into memory in query execution');
  });

  it('rejects functions it does not implement, naming them', () => {
    // The parser only accepts implemented functions today, so build the node by hand.
    const pos = { start: 0, end: 0 };
    const call: Expr = { kind: 'Call', func: 'histogram_count', args: [{ kind: 'VectorSelector', name: 'up', matchers: [], offsetMs: 0, at: null, pos }], pos };
    let caught: unknown = null;
    try {
      checkSupported({ kind: 'AggregateExpr', op: 'sum', expr: call, param: null, grouping: [], without: false, pos });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AppError);
    expect((caught as AppError).code).toBe('promql-unsupported');
    expect((caught as AppError).kind).toBe('bad_data');
    expect((caught as AppError).message).toBe('function "histogram_count" is not supported yet');
  });

  it('fails parse errors before any I/O', async () => {
    const q = arrayQueryable([]);
    const err = await failure(new Engine(OPTS).instantQuery(q, 'sum(up', 0));
    expect(err.kind).toBe('bad_data');
    expect(q.calls).toHaveLength(0);
  });

  it.each([
    ['zero step', 0, 60_000, 0],
    ['end before start', 60_000, 0, 1_000],
  ])('rejects a bad range (%s)', async (_name, start, end, step) => {
    const err = await failure(new Engine(OPTS).rangeQuery(arrayQueryable([]), 'up', start, end, step));
    expect(err.kind).toBe('bad_data');
  });
});

describe('Engine data loading', () => {
  it('selects each selector once over the whole range, widened by lookback, range and offset', async () => {
    const q = arrayQueryable([]);
    await new Engine(OPTS).rangeQuery(q, 'up + rate(req[2m] offset 1m) + up @ 50', 600_000, 1_200_000, 60_000);
    expect(q.calls.map((c) => [c.startMs, c.endMs])).toEqual([
      [300_000, 1_200_000],
      [420_000, 1_140_000],
      [-250_000, 50_000],
    ]);
  });

  it('hints newestOnly only for instant vector selectors evaluated at a single time', async () => {
    const hinted = async (run: (e: Engine, q: Queryable) => Promise<unknown>): Promise<boolean[]> => {
      const q = arrayQueryable([]);
      await run(new Engine(OPTS), q);
      return q.calls.map((c) => c.newestOnly);
    };
    expect(await hinted((e, q) => e.instantQuery(q, 'count by (job) (up) + rate(req[5m])', 600_000))).toEqual([true, false]);
    expect(await hinted((e, q) => e.instantQuery(q, 'max_over_time(up[10m:1m])', 600_000))).toEqual([false]);
    expect(await hinted((e, q) => e.rangeQuery(q, 'up + up @ 50', 600_000, 1_200_000, 60_000))).toEqual([false, true]);
  });

  it('uses the per-query lookback override', async () => {
    const q = arrayQueryable([series('up', [0], [7])]);
    const engine = new Engine(OPTS);
    const wide = await engine.instantQuery(q, 'up', 400_000, { lookbackDeltaMs: 600_000 });
    expect(wide.value.type === 'vector' && wide.value.elements.map((e) => e.value)).toEqual([7]);
    const narrow = await engine.instantQuery(q, 'up', 400_000);
    expect(narrow.value.type === 'vector' && narrow.value.elements).toEqual([]);
  });
});

describe('Engine result shapes', () => {
  it('returns scalars of instant queries with the evaluation time', async () => {
    const res = await new Engine(OPTS).instantQuery(arrayQueryable([]), '1 + 1', 42_000);
    expect(res.value).toEqual({ type: 'scalar', timeMs: 42_000, value: 2 });
  });

  it('returns string literals', async () => {
    const res = await new Engine(OPTS).instantQuery(arrayQueryable([]), '"hello"', 0);
    expect(res.value).toEqual({ type: 'string', timeMs: 0, value: 'hello' });
  });

  it('never returns staleness markers in raw range-vector results', async () => {
    const s = series('up', [0, 60_000, 120_000], [1, 0, 3]);
    setStaleNaNAt(s.values as Float64Array, 1);
    const res = await new Engine(OPTS).instantQuery(arrayQueryable([s]), 'up[5m]', 120_000);
    expect(res.value.type).toBe('matrix');
    if (res.value.type !== 'matrix') return;
    expect([...(res.value.series[0]?.tsMs ?? [])]).toEqual([0, 120_000]);
    expect([...(res.value.series[0]?.values ?? [])]).toEqual([1, 3]);
  });

  it('turns a scalar range query into one unlabeled series', async () => {
    const res = await new Engine(OPTS).rangeQuery(arrayQueryable([]), 'time()', 0, 120_000, 60_000);
    expect(res.value.type).toBe('matrix');
    if (res.value.type !== 'matrix') return;
    expect(res.value.series).toHaveLength(1);
    expect(res.value.series[0]?.labels).toEqual([]);
    expect([...(res.value.series[0]?.values ?? [])]).toEqual([0, 60, 120]);
  });

  it('sorts instant vectors by labels', async () => {
    const q = arrayQueryable([
      { labels: ['__name__', 'up', 'i', 'b'], tsMs: Float64Array.of(0), values: Float64Array.of(1) },
      { labels: ['__name__', 'up', 'i', 'a'], tsMs: Float64Array.of(0), values: Float64Array.of(2) },
    ]);
    const res = await new Engine(OPTS).instantQuery(q, 'up', 0);
    expect(res.value.type === 'vector' && res.value.elements.map((e) => e.labels[3])).toEqual(['a', 'b']);
  });
});

describe('Engine subquery budget', () => {
  it('refuses a subquery whose inner steps alone exceed the sample budget', async () => {
    const err = await failure(new Engine({ ...OPTS, maxSamples: 1000 }).instantQuery(arrayQueryable([]), 'max_over_time(up[1d:1s])', 86_400_000));
    expect(err.code).toBe('query-too-many-samples');
  });
});

describe('Engine step blocks', () => {
  // 200 series, one sample a minute for 10 hours; a range query over all of it at 1 m steps.
  const many = Array.from({ length: 200 }, (_, k) => {
    const ts = Array.from({ length: 600 }, (_, i) => i * 60_000);
    return { labels: ['__name__', 'up', 'k', String(k).padStart(3, '0')], tsMs: Float64Array.from(ts), values: Float64Array.from(ts, (t) => (t / 1000) % (k + 7)) };
  });

  /** setImmediate callbacks that ran while `run` was in flight. */
  async function ticksDuring(run: () => Promise<unknown>): Promise<number> {
    let ticks = 0;
    let done = false;
    const loop = (): void => {
      if (done) return;
      ticks++;
      setImmediate(loop);
    };
    setImmediate(loop);
    await run();
    done = true;
    return ticks;
  }

  it('gives the same result in blocks and in one piece, and yields to the event loop between blocks', async () => {
    const q = arrayQueryable(many);
    const query = 'sum by (k) (rate(up[5m])) > 0.001';
    const one = new Engine({ ...OPTS, evalBlockWork: Infinity });
    const blocks = new Engine({ ...OPTS, evalBlockWork: 1 });
    const [a, b] = [await one.rangeQuery(q, query, 0, 599 * 60_000, 300_000), await blocks.rangeQuery(q, query, 0, 599 * 60_000, 300_000)];
    expect(b).toEqual(a);
    expect(a.value.type === 'matrix' && a.value.series.length).toBeGreaterThan(100);
    const quiet = await ticksDuring(() => one.rangeQuery(q, query, 0, 599 * 60_000, 300_000));
    const yielding = await ticksDuring(() => blocks.rangeQuery(q, query, 0, 599 * 60_000, 300_000));
    // One step per block: the loop gets a turn after nearly every one of the 120 steps.
    expect(yielding).toBeGreaterThan(quiet + 100);
  });

  it('times out between blocks', async () => {
    const slow: Queryable = arrayQueryable(many);
    const engine = new Engine({ ...OPTS, evalBlockWork: 1, timeoutMs: 5 });
    const err = await failure(engine.rangeQuery(slow, 'sum(rate(up[5m]))', 0, 599 * 60_000, 60_000));
    expect(err.kind).toBe('timeout');
  });
});

describe('Engine range functions over many steps', () => {
  // A counter scraped every 15 s for 2 h with resets (and a staleness marker, and one plain NaN)
  // only in the second hour, so the first windows of a range query see none.
  const ts: number[] = [];
  const vs: number[] = [];
  let v = 0;
  for (let i = 0; i < 480; i++) {
    v = i === 300 || i === 377 || i === 410 ? 3 : v + ((i * 7) % 5);
    ts.push(i * 15_000 + (i % 3) * 100);
    vs.push(i === 350 ? NaN : v);
  }
  const counter = series('c', ts, vs);
  setStaleNaNAt(counter.values, 200);

  it.each(['rate(c[5m])', 'increase(c[2m])', 'delta(c[5m])', 'irate(c[1m])', 'resets(c[10m])', 'avg_over_time(c[5m])'])(
    '%s at each step of a range query equals an instant query at that time',
    async (query) => {
      const engine = new Engine(OPTS);
      const q = arrayQueryable([counter]);
      const [start, end, step] = [60_000, 7_200_000, 30_000];
      const range = await engine.rangeQuery(q, query, start, end, step);
      if (range.value.type !== 'matrix') throw new Error('expected a matrix');
      const got = range.value.series[0];
      let compared = 0;
      for (let t = start; t <= end; t += step) {
        const inst = await engine.instantQuery(q, query, t);
        if (inst.value.type !== 'vector') throw new Error('expected a vector');
        const want = inst.value.elements[0]?.value;
        const at = got === undefined ? -1 : Array.from(got.tsMs).indexOf(t);
        if (want === undefined) {
          expect(at).toBe(-1);
          continue;
        }
        expect(Object.is(got?.values[at], want) || got?.values[at] === want, `${query} at ${t}`).toBe(true);
        compared++;
      }
      expect(compared).toBeGreaterThan(200);
    },
  );
});
