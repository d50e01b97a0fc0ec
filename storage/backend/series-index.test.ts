import { describe, expect, it } from 'vitest';
import { labelsFromRecord } from '../../common/labels.js';
import { compileMatcher } from '../../common/matchers.js';
import { type Matcher, MatchType } from '../../common/types.js';
import { SeriesIndex } from './series-index.js';

const idx = new SeriesIndex();
const data: Record<number, Record<string, string>> = {
  1: { __name__: 'up', job: 'api', instance: 'a' },
  2: { __name__: 'up', job: 'api', instance: 'b' },
  3: { __name__: 'up', job: 'db' },
  4: { __name__: 'http_total', job: 'api', code: '200' },
  5: { __name__: 'http_total', job: 'api', code: '500' },
};
for (const [id, r] of Object.entries(data)) idx.add(Number(id), labelsFromRecord(r));

const m = (type: Matcher['type'], name: string, value: string) => compileMatcher({ type, name, value });

describe('SeriesIndex.resolve', () => {
  it.each([
    { name: 'no matchers → all', q: [], want: [1, 2, 3, 4, 5] },
    { name: 'equality', q: [m(MatchType.EQ, 'job', 'api')], want: [1, 2, 4, 5] },
    { name: 'equality on unknown name', q: [m(MatchType.EQ, 'zone', 'x')], want: [] },
    { name: 'two equalities', q: [m(MatchType.EQ, '__name__', 'up'), m(MatchType.EQ, 'job', 'api')], want: [1, 2] },
    { name: 'regex', q: [m(MatchType.RE, 'code', '5..')], want: [5] },
    { name: 'regex is anchored', q: [m(MatchType.RE, 'job', 'ap')], want: [] },
    { name: 'not-equal (matches absent)', q: [m(MatchType.NEQ, 'instance', 'a')], want: [2, 3, 4, 5] },
    { name: 'not-equal empty = has label', q: [m(MatchType.NEQ, 'instance', '')], want: [1, 2] },
    { name: 'equal empty = label absent', q: [m(MatchType.EQ, '__name__', 'up'), m(MatchType.EQ, 'instance', '')], want: [3] },
    { name: 'negative regex', q: [m(MatchType.EQ, '__name__', 'http_total'), m(MatchType.NRE, 'code', '2..')], want: [5] },
    { name: 'regex matching empty', q: [m(MatchType.RE, 'instance', 'a|')], want: [1, 3, 4, 5] },
    { name: 'regex .* on absent label', q: [m(MatchType.RE, 'nothing', '.*')], want: [1, 2, 3, 4, 5] },
    { name: 'negative regex on absent label', q: [m(MatchType.NRE, 'nothing', 'x')], want: [1, 2, 3, 4, 5] },
    { name: 'empty intersection short-circuits', q: [m(MatchType.EQ, 'job', 'db'), m(MatchType.EQ, 'code', '200')], want: [] },
  ])('$name', ({ q, want }) => {
    expect(Array.from(idx.resolve(q))).toEqual(want);
  });

  it('lists names, per-name ids and values', () => {
    expect([...idx.names()].sort()).toEqual(['__name__', 'code', 'instance', 'job']);
    expect(Array.from(idx.withName('code'))).toEqual([4, 5]);
    expect([...idx.values('job')].map(([v, p]) => [v, Array.from(p)])).toEqual([
      ['api', [1, 2, 4, 5]],
      ['db', [3]],
    ]);
    expect(idx.seriesCount).toBe(5);
  });
});

describe('SeriesIndex.add', () => {
  it('returns the labels as given, in an exact-size array of its own', () => {
    const idx = new SeriesIndex();
    const input = ['__name__', 'up', 'job', 'a'];
    const a = idx.add(1, input);
    const b = idx.add(2, ['__name__', 'up', 'job', 'b']);
    expect(a).toEqual(input);
    expect(a).not.toBe(input);
    expect(a.length).toBe(4);
    expect(b).toEqual(['__name__', 'up', 'job', 'b']);
    expect([...idx.withValue('job', 'a')]).toEqual([1]);
  });
});
