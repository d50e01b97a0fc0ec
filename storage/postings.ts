/**
 * Postings: strictly ascending lists of series ids held in Uint32Arrays. All functions treat
 * their inputs as read-only and return new arrays (or one of the inputs when the answer is
 * exactly that input, so callers must not mutate results).
 */

/** The empty postings list (shared; never mutate). */
export const EMPTY_POSTINGS: Uint32Array = new Uint32Array(0);

/** Ids present in both `a` and `b`. Empty inputs short-circuit; the shorter list gallops into the longer. */
export function intersect(a: Uint32Array, b: Uint32Array): Uint32Array {
  if (a.length === 0 || b.length === 0) return EMPTY_POSTINGS;
  if (a.length > b.length) {
    const t = a;
    a = b;
    b = t;
  }
  const out = new Uint32Array(a.length);
  let n = 0;
  let j = 0;
  for (let i = 0; i < a.length && j < b.length; i++) {
    const x = a[i] as number;
    j = seek(b, x, j);
    if (j < b.length && b[j] === x) out[n++] = x;
  }
  return out.subarray(0, n);
}

/** Intersection of many lists; smallest first so the work is bounded by the shortest. */
export function intersectAll(lists: readonly Uint32Array[]): Uint32Array {
  if (lists.length === 0) return EMPTY_POSTINGS;
  const sorted = lists.slice().sort((x, y) => x.length - y.length);
  let acc = sorted[0] as Uint32Array;
  for (let i = 1; i < sorted.length && acc.length > 0; i++) acc = intersect(acc, sorted[i] as Uint32Array);
  return acc;
}

/** Ids present in `a` or `b`. */
export function union(a: Uint32Array, b: Uint32Array): Uint32Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Uint32Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as number;
    const y = b[j] as number;
    if (x < y) {
      out[n++] = x;
      i++;
    } else if (y < x) {
      out[n++] = y;
      j++;
    } else {
      out[n++] = x;
      i++;
      j++;
    }
  }
  while (i < a.length) out[n++] = a[i++] as number;
  while (j < b.length) out[n++] = b[j++] as number;
  return out.subarray(0, n);
}

/** Union of many lists (pairwise, balanced, so k lists of total size N cost O(N log k)). */
export function unionAll(lists: readonly Uint32Array[]): Uint32Array {
  if (lists.length === 0) return EMPTY_POSTINGS;
  let level = lists.slice();
  while (level.length > 1) {
    const next: Uint32Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const a = level[i] as Uint32Array;
      const b = level[i + 1];
      next.push(b === undefined ? a : union(a, b));
    }
    level = next;
  }
  return level[0] as Uint32Array;
}

/** Ids in `a` that are not in `b`. */
export function without(a: Uint32Array, b: Uint32Array): Uint32Array {
  if (a.length === 0 || b.length === 0) return a;
  const out = new Uint32Array(a.length);
  let n = 0;
  let j = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    j = seek(b, x, j);
    if (j >= b.length || b[j] !== x) out[n++] = x;
  }
  return out.subarray(0, n);
}

/**
 * Index of the first element ≥ `x` in `list`, searching from `from`. Gallops (doubling steps) and
 * then binary-searches, so walking a long list with few hits costs O(k log n), not O(n).
 */
export function seek(list: Uint32Array, x: number, from: number): number {
  const n = list.length;
  if (from >= n || (list[from] as number) >= x) return from;
  let step = 1;
  let lo = from;
  let hi = from + 1;
  while (hi < n && (list[hi] as number) < x) {
    lo = hi;
    step *= 2;
    hi = lo + step;
  }
  if (hi > n) hi = n;
  // Invariant: list[lo] < x, and list[hi] ≥ x or hi == n.
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid] as number) < x) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * A growable postings list for ids appended in ascending order (ids are allocated increasing).
 * `view()` returns a subarray that stays valid until the next `push`.
 */
export class PostingsBuilder {
  private _buf: Uint32Array;
  private _len = 0;

  constructor(initial = 4) {
    this._buf = new Uint32Array(initial);
  }

  /** Number of ids. */
  get length(): number {
    return this._len;
  }

  /** Appends `id`, which must exceed the last id (ignored if equal, so re-adding is idempotent). */
  push(id: number): void {
    if (this._len > 0) {
      const last = this._buf[this._len - 1] as number;
      if (id === last) return;
      if (id < last) {
        this._insertSorted(id);
        return;
      }
    }
    if (this._len === this._buf.length) this._grow();
    this._buf[this._len++] = id;
  }

  /** The ids, ascending; a view valid until the next push. */
  view(): Uint32Array {
    return this._buf.subarray(0, this._len);
  }

  /** Removes every id of the ascending list `ids` that is present (in place; order is kept). */
  removeAll(ids: Uint32Array): void {
    if (ids.length === 0 || this._len === 0) return;
    const buf = this._buf;
    let n = 0;
    let j = 0;
    for (let i = 0; i < this._len; i++) {
      const x = buf[i] as number;
      j = seek(ids, x, j);
      if (j < ids.length && ids[j] === x) continue;
      buf[n++] = x;
    }
    this._len = n;
  }

  private _grow(): void {
    const next = new Uint32Array(this._buf.length * 2);
    next.set(this._buf);
    this._buf = next;
  }

  // Rare path (ids loaded out of order): keep the list sorted and unique.
  private _insertSorted(id: number): void {
    const pos = seek(this.view(), id, 0);
    if (this._buf[pos] === id) return;
    if (this._len === this._buf.length) this._grow();
    this._buf.copyWithin(pos + 1, pos, this._len);
    this._buf[pos] = id;
    this._len++;
  }
}
