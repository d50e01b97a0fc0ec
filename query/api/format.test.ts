import { describe, expect, it } from 'vitest';
import { setStaleNaNAt } from '../../common/types.js';
import {
  formatLabelsJson,
  formatQueryData,
  formatSeriesJson,
  formatStringArrayJson,
  formatTimestamp,
  formatValue,
  jsonString,
} from './format.js';

function staleNaN(): number {
  const a = new Float64Array(1);
  setStaleNaNAt(a, 0);
  return a[0] as number;
}

describe('formatValue (Go strconv.AppendFloat with Prometheus thresholds)', () => {
  it.each<[number, string]>([
    [0, '0'],
    [-0, '-0'],
    [1, '1'],
    [-1, '-1'],
    [0.5, '0.5'],
    [0.1, '0.1'],
    [0.1 + 0.2, '0.30000000000000004'],
    [1 / 3, '0.3333333333333333'],
    [-123.456, '-123.456'],
    [3.14159, '3.14159'],
    [4.35, '4.35'],
    [1.0000000000000002, '1.0000000000000002'],
    [100, '100'],
    [123456789, '123456789'],
    [1e15, '1000000000000000'],
    [9007199254740992, '9007199254740992'],
    [1e20, '100000000000000000000'],
    [123456789012345680000, '123456789012345680000'],
    [999999999999999900000, '999999999999999900000'],
    [1e21, '1e+21'],
    [1.5e21, '1.5e+21'],
    [-1.5e21, '-1.5e+21'],
    [1e22, '1e+22'],
    [1.5e300, '1.5e+300'],
    [1e100, '1e+100'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
    [0.000123, '0.000123'],
    [1e-5, '0.00001'],
    [1e-6, '0.000001'],
    [-1e-6, '-0.000001'],
    [1.5e-6, '0.0000015'],
    [9.999999999999997e-7, '9.999999999999997e-07'], // the float just below 1e-6,
    [1e-7, '1e-07'],
    [-1e-7, '-1e-07'],
    [1.5e-7, '1.5e-07'],
    [1e-9, '1e-09'],
    [1.2345e-10, '1.2345e-10'],
    [1.23e-100, '1.23e-100'],
    [2.2250738585072014e-308, '2.2250738585072014e-308'],
    [5e-324, '5e-324'],
    [NaN, 'NaN'],
    [staleNaN(), 'NaN'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
  ])('%s → %s', (v, want) => {
    expect(formatValue(v)).toBe(want);
  });
});

describe('formatTimestamp', () => {
  it.each<[number, string]>([
    [0, '0'],
    [1, '0.001'],
    [10, '0.010'],
    [999, '0.999'],
    [1000, '1'],
    [1435781430000, '1435781430'],
    [1435781430500, '1435781430.500'],
    [1435781430050, '1435781430.050'],
    [1435781430005, '1435781430.005'],
    [1435781451781, '1435781451.781'],
    [-500, '-0.500'],
    [-1000, '-1'],
    [-1500, '-1.500'],
    [-1005, '-1.005'],
    [8.64e15, '8640000000000'],
  ])('%s ms → %s', (ms, want) => {
    expect(formatTimestamp(ms)).toBe(want);
  });
});

describe('JSON strings', () => {
  it.each<[string, string]>([
    ['plain', '"plain"'],
    ['quote"back\\slash', '"quote\\"back\\\\slash"'],
    ['line\nbreak\ttab', '"line\\nbreak\\ttab"'],
    ['ctrl\u0001', '"ctrl\\u0001"'],
    ['<a&b>', '"\\u003ca\\u0026b\\u003e"'],
    ['sep\u2028\u2029', '"sep\\u2028\\u2029"'],
    ['ünïcödé ✓', '"ünïcödé ✓"'],
    ['', '""'],
    ['del\u007f', '"del\u007f"'],
  ])('%j', (s, want) => {
    expect(jsonString(s)).toBe(want);
    expect(JSON.parse(jsonString(s))).toBe(s);
  });

  it('escapes every UTF-16 code unit as Go does, whichever path it takes', () => {
    const go: Record<string, string> = { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029' };
    for (let c = 0; c < 0x10000; c++) {
      const s = `a${String.fromCharCode(c)}b`;
      const want = JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (ch) => go[ch] as string);
      if (jsonString(s) !== want) expect([c, jsonString(s)]).toEqual([c, want]);
    }
  });

  it('renders label sets, series and string arrays', () => {
    expect(formatLabelsJson([])).toBe('{}');
    expect(formatLabelsJson(['__name__', 'up', 'job', 'a"b'])).toBe('{"__name__":"up","job":"a\\"b"}');
    expect(formatSeriesJson([])).toBe('[]');
    expect(formatSeriesJson([['a', '1'], ['a', '2']])).toBe('[{"a":"1"},{"a":"2"}]');
    expect(formatStringArrayJson([])).toBe('[]');
    expect(formatStringArrayJson(['x', 'y<'])).toBe('["x","y\\u003c"]');
  });
});

describe('formatQueryData', () => {
  it('vector', () => {
    const data = formatQueryData({
      type: 'vector',
      timeMs: 1435781451781,
      elements: [
        { labels: ['__name__', 'up', 'job', 'x'], value: 1 },
        { labels: [], value: -Infinity },
      ],
    });
    expect(data).toBe(
      '{"resultType":"vector","result":[{"metric":{"__name__":"up","job":"x"},"value":[1435781451.781,"1"]},' +
        '{"metric":{},"value":[1435781451.781,"-Inf"]}]}',
    );
  });

  it('empty vector and matrix', () => {
    expect(formatQueryData({ type: 'vector', timeMs: 0, elements: [] })).toBe('{"resultType":"vector","result":[]}');
    expect(formatQueryData({ type: 'matrix', series: [] })).toBe('{"resultType":"matrix","result":[]}');
  });

  it('matrix', () => {
    const data = formatQueryData({
      type: 'matrix',
      series: [
        { labels: ['a', 'b'], tsMs: new Float64Array([1435781430781, 1435781445000]), values: new Float64Array([1, 1e-7]) },
        { labels: [], tsMs: new Float64Array([5]), values: new Float64Array([NaN]) },
      ],
    });
    expect(data).toBe(
      '{"resultType":"matrix","result":[{"metric":{"a":"b"},"values":[[1435781430.781,"1"],[1435781445,"1e-07"]]},' +
        '{"metric":{},"values":[[0.005,"NaN"]]}]}',
    );
    expect(JSON.parse(data)).toBeTruthy();
  });

  it('matrix series on different grids (timestamp cache must not leak between them)', () => {
    const data = formatQueryData({
      type: 'matrix',
      series: [
        { labels: ['a', '1'], tsMs: new Float64Array([0, 15000]), values: new Float64Array([1, 2]) },
        { labels: ['a', '2'], tsMs: new Float64Array([15000, 30500]), values: new Float64Array([3, 4]) },
        { labels: ['a', '3'], tsMs: new Float64Array([15000, 30500, 45000]), values: new Float64Array([5, 6, 7]) },
      ],
    });
    expect(data).toBe(
      '{"resultType":"matrix","result":[{"metric":{"a":"1"},"values":[[0,"1"],[15,"2"]]},' +
        '{"metric":{"a":"2"},"values":[[15,"3"],[30.500,"4"]]},{"metric":{"a":"3"},"values":[[15,"5"],[30.500,"6"],[45,"7"]]}]}',
    );
  });

  it('scalar and string', () => {
    expect(formatQueryData({ type: 'scalar', timeMs: 4000, value: 2 })).toBe('{"resultType":"scalar","result":[4,"2"]}');
    expect(formatQueryData({ type: 'string', timeMs: 4500, value: 'he said "hi"' })).toBe(
      '{"resultType":"string","result":[4.500,"he said \\"hi\\""]}',
    );
  });
});
