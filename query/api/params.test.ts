import { describe, expect, it } from 'vitest';
import { AppError } from '../../common/errors.js';
import {
  MAX_TIME_MS,
  MIN_TIME_MS,
  RequestParams,
  limitParam,
  parseDurationParamMs,
  parseTimeMs,
  rangeParams,
  timeParam,
  unescapeLabelName,
} from './params.js';

function params(query: string, body?: string): RequestParams {
  return new RequestParams(new URLSearchParams(query), body === undefined ? null : new URLSearchParams(body));
}

function errorOf(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected a throw');
}

describe('parseTimeMs', () => {
  it.each<[string, number | null]>([
    ['0', 0],
    ['1435781451.781', 1435781451781],
    ['1435781451', 1435781451000],
    ['1435781451.7815', 1435781451782],
    ['1435781451.7814', 1435781451781],
    ['1.0005', 1000], // 1.0005 is 1.000499999… as a float64: Go rounds the fraction down too
    ['-1.5', -1500],
    ['-0.0005', -1],
    ['+4', 4000],
    ['4.', 4000],
    ['.5', 500],
    ['1e3', 1_000_000],
    ['2015-07-01T20:10:51.781Z', 1435781451781],
    ['2015-07-01T20:10:51Z', 1435781451000],
    ['2015-07-01T20:10:51.781999999Z', 1435781451781],
    ['2015-07-01T20:10:51.7Z', 1435781451700],
    ['2015-07-01T22:10:51+02:00', 1435781451000],
    ['2015-07-01T18:40:51-01:30', 1435781451000],
    ['1970-01-01T00:00:00Z', 0],
    ['1969-12-31T23:59:59Z', -1000],
    ['2000-02-29T00:00:00Z', 951782400000],
    ['0001-01-01T00:00:00Z', -62135596800000],
    ['-292273086-05-16T16:47:06Z', MIN_TIME_MS],
    ['292277025-08-18T07:12:54.999999999Z', MAX_TIME_MS],
    ['1600096945479000', MAX_TIME_MS], // ms where seconds are expected, clamped
    ['', null],
    ['x', null],
    ['0x10', null],
    ['1_000', null],
    ['Infinity', null],
    ['NaN', null],
    [' 1', null],
    ['2015-07-01 20:10:51Z', null],
    ['2015-07-01T20:10:51', null],
    ['2015-02-29T00:00:00Z', null],
    ['2015-13-01T00:00:00Z', null],
    ['2015-07-01T24:00:00Z', null],
    ['2015-07-01T20:10:60Z', null],
  ])('%j → %s', (text, want) => {
    expect(parseTimeMs(text)).toBe(want);
  });
});

describe('parseDurationParamMs', () => {
  it.each<[string, number | null]>([
    ['15', 15_000],
    ['0.5', 500],
    ['0', 0],
    ['-1', -1000],
    ['0.0001', 0],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1m0s', 60_000],
    ['2d', 172_800_000],
    ['100ms', 100],
    ['', null],
    ['5x', null],
    ['m5', null],
    ['1e400', null],
  ])('%j → %s', (text, want) => {
    expect(parseDurationParamMs(text)).toBe(want);
  });
});

describe('RequestParams (Go FormValue semantics)', () => {
  it('prefers the body and lists body values first', () => {
    const p = params('query=fromurl&match[]=u1&only=url', 'query=frombody&match[]=b1&match[]=b2');
    expect(p.get('query')).toBe('frombody');
    expect(p.get('only')).toBe('url');
    expect(p.get('missing')).toBeUndefined();
    expect(p.getAll('match[]')).toEqual(['b1', 'b2', 'u1']);
  });

  it('builds from a raw URL and a body', () => {
    const p = RequestParams.from('/api/v1/query?query=up%7Bjob%3D%22a%22%7D&time=1+2', new URLSearchParams('x=1'));
    expect(p.get('query')).toBe('up{job="a"}');
    expect(p.get('time')).toBe('1 2');
    expect(p.get('x')).toBe('1');
    expect(RequestParams.from('/api/v1/labels', undefined).getAll('match[]')).toEqual([]);
    expect(RequestParams.from('/x', { 'match[]': ['a', 'b'], q: 'z' }).getAll('match[]')).toEqual(['a', 'b']);
  });
});

describe('timeParam / limitParam', () => {
  it('uses the fallback only when absent or empty', () => {
    expect(timeParam(params(''), 'time', 42)).toBe(42);
    expect(timeParam(params('time='), 'time', 42)).toBe(42);
    expect(timeParam(params('time=4'), 'time', 42)).toBe(4000);
  });

  it.each<[string, string]>([
    ['start=x', 'invalid parameter "start": cannot parse "x" to a valid timestamp'],
    ['', 'invalid parameter "start": cannot parse "" to a valid timestamp'],
  ])('%j fails: %s', (q, msg) => {
    const err = errorOf(() => timeParam(params(q), 'start'));
    expect(err.kind).toBe('bad_data');
    expect(err.message).toBe(msg);
  });

  it.each<[string, number | string]>([
    ['', 0],
    ['limit=0', 0],
    ['limit=5', 5],
    ['limit=-1', 'invalid parameter "limit": limit must be non-negative'],
    ['limit=abc', 'invalid parameter "limit": cannot parse "abc" to a valid limit'],
    ['limit=1.5', 'invalid parameter "limit": cannot parse "1.5" to a valid limit'],
  ])('limit %j → %s', (q, want) => {
    if (typeof want === 'number') expect(limitParam(params(q))).toBe(want);
    else expect(errorOf(() => limitParam(params(q))).message).toBe(want);
  });
});

describe('rangeParams', () => {
  it('accepts a valid window', () => {
    expect(rangeParams(params('start=0&end=3600&step=15s'))).toEqual({ startMs: 0, endMs: 3_600_000, stepMs: 15_000 });
    expect(rangeParams(params('start=10&end=10&step=0.5'))).toEqual({ startMs: 10_000, endMs: 10_000, stepMs: 500 });
    // exactly 11,000 steps is still fine
    expect(rangeParams(params('start=0&end=11000&step=1')).endMs).toBe(11_000_000);
  });

  it.each<[string, string]>([
    ['end=10&step=1', 'invalid parameter "start": cannot parse "" to a valid timestamp'],
    ['start=0&end=bad&step=1', 'invalid parameter "end": cannot parse "bad" to a valid timestamp'],
    ['start=10&end=5&step=1', 'end timestamp must not be before start time'],
    ['start=10&end=5&step=x', 'end timestamp must not be before start time'],
    ['start=0&end=10', 'invalid parameter "step": cannot parse "" to a valid duration'],
    ['start=0&end=10&step=1q', 'invalid parameter "step": cannot parse "1q" to a valid duration'],
    ['start=0&end=10&step=0', 'zero or negative query resolution step widths are not accepted. Try a positive integer'],
    ['start=0&end=10&step=-5', 'zero or negative query resolution step widths are not accepted. Try a positive integer'],
    ['start=0&end=11001&step=1', 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)'],
    ['start=0&end=1100.1&step=0.1', 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)'],
  ])('%j fails: %s', (q, msg) => {
    const err = errorOf(() => rangeParams(params(q)));
    expect(err.kind).toBe('bad_data');
    expect(err.message).toBe(msg);
  });
});

describe('unescapeLabelName', () => {
  it.each<[string, string]>([
    ['job', 'job'],
    ['__name__', '__name__'],
    ['U__http_2e_status__code', 'http.status_code'],
    // http-api.md's example forgets to double the `_`; Prometheus then keeps the name as is
    ['U__http_2e_status_code', 'U__http_2e_status_code'],
    ['U__a__b', 'a_b'],
    ['U__a_2f_b', 'a/b'],
    ['U___1f600_', '😀'],
    ['U__foo:bar', 'foo:bar'],
    ['U__', ''],
    ['U__a_2e', 'U__a_2e'],
    ['U__a_zz_', 'U__a_zz_'],
    ['U__a_d800_', 'U__a_d800_'],
    ['U__a.b', 'U__a.b'],
  ])('%j → %j', (name, want) => {
    expect(unescapeLabelName(name)).toBe(want);
  });
});
