import { describe, expect, it } from 'vitest';
import { intersect, intersectAll, PostingsBuilder, seek, union, unionAll, without } from './postings.js';

const P = (...ids: number[]): Uint32Array => Uint32Array.from(ids);
const arr = (p: Uint32Array): number[] => Array.from(p);
const range = (from: number, to: number, step = 1): number[] => {
  const out: number[] = [];
  for (let i = from; i < to; i += step) out.push(i);
  return out;
};

describe('postings set operations', () => {
  it.each([
    { a: [], b: [1, 2], and: [], or: [1, 2], minus: [] },
    { a: [1, 2, 3], b: [], and: [], or: [1, 2, 3], minus: [1, 2, 3] },
    { a: [1, 3, 5, 7], b: [2, 3, 4, 7, 9], and: [3, 7], or: [1, 2, 3, 4, 5, 7, 9], minus: [1, 5] },
    { a: [5], b: range(0, 1000), and: [5], or: range(0, 1000), minus: [] },
    { a: range(0, 1000, 3), b: range(0, 1000, 5), and: range(0, 1000, 15), or: [...new Set([...range(0, 1000, 3), ...range(0, 1000, 5)])].sort((x, y) => x - y), minus: range(0, 1000, 3).filter((x) => x % 5 !== 0) },
    { a: [0, 4294967295], b: [4294967295], and: [4294967295], or: [0, 4294967295], minus: [0] },
  ])('a=$a.length ids, b=$b.length ids', ({ a, b, and, or, minus }) => {
    expect(arr(intersect(P(...a), P(...b)))).toEqual(and);
    expect(arr(intersect(P(...b), P(...a)))).toEqual(and);
    expect(arr(union(P(...a), P(...b)))).toEqual(or);
    expect(arr(without(P(...a), P(...b)))).toEqual(minus);
  });

  it('combines many lists', () => {
    const lists = [P(1, 2, 3, 4, 5, 6), P(2, 4, 6, 8), P(4, 6, 10)];
    expect(arr(intersectAll(lists))).toEqual([4, 6]);
    expect(arr(unionAll(lists))).toEqual([1, 2, 3, 4, 5, 6, 8, 10]);
    expect(arr(intersectAll([]))).toEqual([]);
    expect(arr(intersectAll([P(1), P()]))).toEqual([]);
  });

  it.each([
    { list: [1, 3, 5, 7, 9], x: 0, from: 0, want: 0 },
    { list: [1, 3, 5, 7, 9], x: 6, from: 0, want: 3 },
    { list: [1, 3, 5, 7, 9], x: 7, from: 2, want: 3 },
    { list: [1, 3, 5, 7, 9], x: 10, from: 1, want: 5 },
    { list: [1, 3, 5, 7, 9], x: 2, from: 4, want: 4 }, // never moves backwards
    { list: range(0, 100_000), x: 77_777, from: 3, want: 77_777 },
  ])('seek($x) from $from', ({ list, x, from, want }) => {
    expect(seek(P(...list), x, from)).toBe(want);
  });
});

describe('PostingsBuilder', () => {
  it('appends, ignores repeats and keeps out-of-order inserts sorted', () => {
    const b = new PostingsBuilder(1);
    for (const id of [1, 2, 2, 5, 9, 3, 5, 0]) b.push(id);
    expect(arr(b.view())).toEqual([0, 1, 2, 3, 5, 9]);
    expect(b.length).toBe(6);
  });
});
