import { describe, expect, it } from 'vitest';
import { daysInMonth, goCivilOfValue } from './go-time.js';

// Expected values were read from Prometheus 2.42 (amd64): `year(vector(NaN))` and friends. NaN,
// ±Inf and out-of-range values become int64 -2^63 in Go; 9e18 wraps Go's absolute time.
const CASES: Array<[number, [number, number, number, number, number, number, number, number]]> = [
  // value: year month day_of_month day_of_week day_of_year days_in_month hour minute
  [NaN, [292277026596, 12, 4, 0, 339, 31, 15, 30]],
  [Infinity, [292277026596, 12, 4, 0, 339, 31, 15, 30]],
  [-Infinity, [292277026596, 12, 4, 0, 339, 31, 15, 30]],
  [1e13, [318857, 5, 20, 0, 140, 31, 17, 46]],
  [-1e13, [-314918, 8, 13, 0, 225, 31, 6, 13]],
  [9e18, [285198648531, 4, 21, 6, 111, 30, 16, 0]],
  [-62135596801, [0, 12, 31, 0, 366, 31, 23, 59]],
  [-1e12, [-29719, 4, 5, 2, 95, 30, 22, 13]],
  [253402300800, [10000, 1, 1, 6, 1, 31, 0, 0]],
  [1e16, [316889355, 1, 25, 6, 25, 31, 17, 46]],
  [-0.5, [1970, 1, 1, 4, 1, 31, 0, 0]],
  [-86400.5, [1969, 12, 31, 3, 365, 31, 0, 0]],
  [1709251200, [2024, 3, 1, 5, 61, 31, 0, 0]],
  [951782400, [2000, 2, 29, 2, 60, 29, 0, 0]],
];

describe('goCivilOfValue matches Prometheus date functions', () => {
  it.each(CASES)('%d', (v, want) => {
    const c = goCivilOfValue(v);
    expect([c.year, c.month, c.day, c.weekday, c.yday, daysInMonth(c.year, c.month), c.hour, c.minute]).toEqual(want);
  });
});
