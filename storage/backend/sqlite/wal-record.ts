import { AppError, ErrorKind } from '../../../common/errors.js';
import { putUvarint } from '../../../proto/wire-writer.js';

/**
 * Binary layout of one WAL record, version 3 (written; integers little-endian, varints LEB128):
 *
 * ```
 * u32 version (= 3) | uvarint runCount | f64 baseT
 * runCount × run:
 *   zigzag-varint (seriesId − seriesId of the previous run, 0 before the first)
 *   uvarint n
 *   n × time:  zigzag-varint of d(i) − d(i−1), where d(i) = t(i) − t(i−1), t(−1) = baseT and
 *              d(−1) = 0; when that is not below 2^50 in magnitude, uvarint ESCAPE (2^51), f64 t(i),
 *              and d(i) counts as 0
 *   n × value: the first as raw words (u32 lo, u32 hi); each next one as x = its bits XOR the
 *              previous value's: one byte (L << 4 | T), L = leading and T = trailing zero bytes of
 *              x (0x80 when x = 0), then the 8 − L − T bytes between, most significant first
 * ```
 *
 * A run of a batch sender's samples (regular steps, slowly moving values) costs ~3–6 bytes per
 * sample instead of 11 in version 2, so a backfill fills the WAL (and triggers checkpoints) about
 * half as fast; the live shape (one sample per series per record) stays at ~11 bytes.
 *
 * Older versions are still decoded (records written before an upgrade):
 * - 2: as 3, but times are zigzag deltas to the previous sample of the run (to baseT for the
 *   first; escaped the same way) and every value is raw words.
 * - 1: `u32 version | u32 runCount`, runs of `u32 seriesId | u32 n | n × f64 t | n × (u32 lo, u32 hi)`.
 *
 * A run is consecutive accepted samples of one series; one series may have several runs in a
 * record (several batches in one group commit). Replay applies runs in order.
 */
const WAL_V1 = 1;
const WAL_V2 = 2;
const WAL_V3 = 3;
const TWO_50 = 2 ** 50;
const ESCAPE = 2 ** 51;

/** Error code for a WAL record that cannot be decoded. */
export const WAL_CORRUPT = 'wal-corrupt';

function walCorrupt(detail: string): AppError {
  return new AppError(ErrorKind.Internal, WAL_CORRUPT, `wal record corrupt: ${detail} [err-${WAL_CORRUPT}]`);
}

function zigzag(d: number): number {
  return d >= 0 ? 2 * d : -2 * d - 1;
}

/**
 * Encodes accepted samples into a WAL record (version 3). Run `r` covers samples
 * `[runStart[r], runStart[r + 1])` (the last run ends at `count`) of `ts` / `words` and belongs to
 * series `runSeriesId[r]`. Returns a fresh Buffer owned by the caller.
 */
export function encodeWalRecord(
  runSeriesId: readonly number[],
  runStart: readonly number[],
  count: number,
  ts: Float64Array,
  words: Uint32Array,
): Buffer {
  const runs = runSeriesId.length;
  // Worst case: 10-byte varints, escaped times (8 + 8 bytes), values of 9 bytes.
  const buf = Buffer.allocUnsafe(4 + 10 + 8 + runs * 20 + count * 25);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  dv.setUint32(0, WAL_V3, true);
  let off = putUvarint(buf, 4, runs);
  const baseT = count > 0 ? (ts[0] as number) : 0;
  dv.setFloat64(off, baseT, true);
  off += 8;
  let prevId = 0;
  for (let r = 0; r < runs; r++) {
    const start = runStart[r] as number;
    const end = r + 1 < runs ? (runStart[r + 1] as number) : count;
    const id = runSeriesId[r] as number;
    off = putUvarint(buf, off, zigzag(id - prevId));
    prevId = id;
    off = putUvarint(buf, off, end - start);
    let ref = baseT;
    let prevD = 0;
    for (let i = start; i < end; i++) {
      const t = ts[i] as number;
      const d = t - ref;
      const dd = d - prevD;
      if (dd < TWO_50 && dd > -TWO_50) {
        off = putUvarint(buf, off, zigzag(dd));
        prevD = d;
      } else {
        off = putUvarint(buf, off, ESCAPE);
        dv.setFloat64(off, t, true);
        off += 8;
        prevD = 0;
      }
      ref = t;
    }
    if (end === start) continue;
    let lo = words[2 * start] as number;
    let hi = words[2 * start + 1] as number;
    dv.setUint32(off, lo, true);
    dv.setUint32(off + 4, hi, true);
    off += 8;
    for (let i = start + 1; i < end; i++) {
      const nlo = words[2 * i] as number;
      const nhi = words[2 * i + 1] as number;
      off = putXor(buf, off, (nhi ^ hi) >>> 0, (nlo ^ lo) >>> 0);
      lo = nlo;
      hi = nhi;
    }
  }
  return buf.subarray(0, off);
}

/** Writes the 64-bit XOR xh:xl as a (lead << 4 | trail) byte and the bytes between; returns the new offset. */
function putXor(buf: Uint8Array, off: number, xh: number, xl: number): number {
  if (xh === 0 && xl === 0) {
    buf[off] = 0x80;
    return off + 1;
  }
  const lead = xh !== 0 ? Math.clz32(xh) >>> 3 : 4 + (Math.clz32(xl) >>> 3);
  const trail = xl !== 0 ? ctz32(xl) >>> 3 : 4 + (ctz32(xh) >>> 3);
  buf[off++] = (lead << 4) | trail;
  // Byte j of x holds bits 8j..8j+7; j = 7 is the most significant.
  for (let j = 7 - lead; j >= trail; j--) buf[off++] = j >= 4 ? (xh >>> (8 * (j - 4))) & 255 : (xl >>> (8 * j)) & 255;
  return off;
}

function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/** Decoded WAL record: flat columns plus run boundaries. Arrays are fresh per call. */
export interface WalRecord {
  readonly runSeriesId: Uint32Array;
  /** `runStart.length === runSeriesId.length + 1`; the last element is the sample count. */
  readonly runStart: Uint32Array;
  readonly ts: Float64Array;
  /** Value words, (lo, hi) per sample. */
  readonly words: Uint32Array;
}

/** Decodes a WAL record (version 1 or 2); throws `wal-corrupt` on malformed input (never reads out of bounds). */
export function decodeWalRecord(data: Uint8Array): WalRecord {
  if (data.length < 8) throw walCorrupt(`record of ${data.length} bytes`);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const version = dv.getUint32(0, true);
  if (version === WAL_V3 || version === WAL_V2) return decodeRuns(data, dv, version);
  if (version !== WAL_V1) throw walCorrupt(`unknown version ${version}`);
  const runs = dv.getUint32(4, true);
  // First pass: validate sizes and count samples.
  let off = 8;
  let total = 0;
  for (let r = 0; r < runs; r++) {
    if (off + 8 > data.length) throw walCorrupt('truncated run header');
    const n = dv.getUint32(off + 4, true);
    off += 8 + n * 16;
    if (off > data.length) throw walCorrupt('truncated run');
    total += n;
  }
  if (off !== data.length) throw walCorrupt('trailing bytes');
  const runSeriesId = new Uint32Array(runs);
  const runStart = new Uint32Array(runs + 1);
  const ts = new Float64Array(total);
  const words = new Uint32Array(total * 2);
  off = 8;
  let k = 0;
  for (let r = 0; r < runs; r++) {
    runSeriesId[r] = dv.getUint32(off, true);
    const n = dv.getUint32(off + 4, true);
    runStart[r] = k;
    off += 8;
    for (let i = 0; i < n; i++, off += 8) ts[k + i] = dv.getFloat64(off, true);
    for (let i = 0; i < n; i++, off += 8) {
      words[2 * (k + i)] = dv.getUint32(off, true);
      words[2 * (k + i) + 1] = dv.getUint32(off + 4, true);
    }
    k += n;
  }
  runStart[runs] = k;
  return { runSeriesId, runStart, ts, words };
}

/** A bounds-checked LEB128 reader over one record. */
class VarintReader {
  off: number;
  constructor(
    private readonly _data: Uint8Array,
    off: number,
  ) {
    this.off = off;
  }

  uvarint(): number {
    const data = this._data;
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      if (this.off >= data.length) throw walCorrupt('truncated varint');
      const b = data[this.off++] as number;
      v += (b & 127) * mul;
      if (b < 128) return v;
      mul *= 128;
    }
    throw walCorrupt('varint too long');
  }

  zigzag(): number {
    const z = this.uvarint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }
}

/** Decodes a version 2 or 3 record (same frame, see the layout at the top). */
function decodeRuns(data: Uint8Array, dv: DataView, version: number): WalRecord {
  const rd = new VarintReader(data, 4);
  const runs = rd.uvarint();
  if (rd.off + 8 > data.length) throw walCorrupt('truncated header');
  const baseT = dv.getFloat64(rd.off, true);
  rd.off += 8;
  // Each run takes ≥ 2 bytes, each sample ≥ 2: bound the allocations by the record size.
  if (runs > data.length / 2) throw walCorrupt('run count beyond data');
  const runSeriesId = new Uint32Array(runs);
  const runStart = new Uint32Array(runs + 1);
  let cap = Math.max(16, runs);
  let ts = new Float64Array(cap);
  let words = new Uint32Array(cap * 2);
  let k = 0;
  let prevId = 0;
  const dod = version === WAL_V3;
  for (let r = 0; r < runs; r++) {
    const id = prevId + rd.zigzag();
    if (!(id >= 0 && id <= 0xffffffff)) throw walCorrupt(`series id ${id}`);
    runSeriesId[r] = id;
    prevId = id;
    const n = rd.uvarint();
    if (n * (dod ? 2 : 9) > data.length - rd.off) throw walCorrupt('sample count beyond data');
    runStart[r] = k;
    if (k + n > cap) {
      while (k + n > cap) cap *= 2;
      const t2 = new Float64Array(cap);
      t2.set(ts.subarray(0, k));
      const w2 = new Uint32Array(cap * 2);
      w2.set(words.subarray(0, 2 * k));
      ts = t2;
      words = w2;
    }
    let ref = baseT;
    let prevD = 0;
    for (let i = 0; i < n; i++) {
      const z = rd.uvarint();
      let t: number;
      if (z === ESCAPE) {
        if (rd.off + 8 > data.length) throw walCorrupt('truncated timestamp');
        t = dv.getFloat64(rd.off, true);
        rd.off += 8;
        prevD = 0;
      } else if (dod) {
        const d = prevD + (z % 2 === 0 ? z / 2 : -(z + 1) / 2);
        t = ref + d;
        prevD = d;
      } else t = ref + (z % 2 === 0 ? z / 2 : -(z + 1) / 2);
      ts[k + i] = t;
      ref = t;
    }
    if (!dod) {
      if (rd.off + n * 8 > data.length) throw walCorrupt('truncated run');
      for (let i = 0; i < n; i++, rd.off += 8) {
        words[2 * (k + i)] = dv.getUint32(rd.off, true);
        words[2 * (k + i) + 1] = dv.getUint32(rd.off + 4, true);
      }
    } else if (n > 0) {
      rd.off = readXorValues(data, dv, rd.off, words, k, n);
    }
    k += n;
  }
  if (rd.off !== data.length) throw walCorrupt('trailing bytes');
  runStart[runs] = k;
  return { runSeriesId, runStart, ts: ts.subarray(0, k), words: words.subarray(0, 2 * k) };
}

/** Reads the n values of a version 3 run into words[2k..]; returns the offset after them. */
function readXorValues(data: Uint8Array, dv: DataView, off: number, words: Uint32Array, k: number, n: number): number {
  if (off + 8 > data.length) throw walCorrupt('truncated values');
  let lo = dv.getUint32(off, true);
  let hi = dv.getUint32(off + 4, true);
  off += 8;
  words[2 * k] = lo;
  words[2 * k + 1] = hi;
  for (let i = 1; i < n; i++) {
    if (off >= data.length) throw walCorrupt('truncated values');
    const c = data[off++] as number;
    const lead = c >>> 4;
    const trail = c & 15;
    if (lead + trail > 8 || (lead + trail === 8 && c !== 0x80)) throw walCorrupt(`value control byte ${c}`);
    if (off + 8 - lead - trail > data.length) throw walCorrupt('truncated values');
    let xh = 0;
    let xl = 0;
    for (let j = 7 - lead; j >= trail; j--) {
      const b = data[off++] as number;
      if (j >= 4) xh |= b << (8 * (j - 4));
      else xl |= b << (8 * j);
    }
    lo = (lo ^ xl) >>> 0;
    hi = (hi ^ xh) >>> 0;
    words[2 * (k + i)] = lo;
    words[2 * (k + i) + 1] = hi;
  }
  return off;
}
