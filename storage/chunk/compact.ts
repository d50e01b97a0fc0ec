/**
 * Compact chunk codec for *sealed* chunks: written once when a chunk is flushed, read many times.
 * Unlike the XOR codec it sees the whole chunk before writing a bit, so it picks per chunk the
 * cheapest of a few representations by computing their exact sizes (VictoriaMetrics' adaptive block
 * encoding idea, applied to bit-packed frames of reference instead of a general compressor).
 *
 * Layout (bits are written most-significant first after the 3-byte header; zero padding at the end):
 *
 * ```
 * byte 0: format version (1) | bytes 1–2: sample count n (uint16, big-endian) | timestamps | values
 *
 * timestamps: IntSeq over ts[0..n)                    (nothing when n = 0)
 * values:     mode (2 bits)
 *   0 CONST    64 raw bits (hi word, lo word), every sample has them
 *   1 DECIMAL  e (4 bits, 0..15) | IntSeq over m[0..n) | exceptions
 *              value i = m[i] / 10^e (m[i] itself when e = 0), except:
 *              exceptions = flag bit (1: count − 1 (U) | count × exception); exception = gap (U) |
 *              stale bit (1: the staleness marker; 0: hi 32 bits, lo 32 bits follow); index =
 *              previous index + 1 + gap (first: gap); those bits replace the value at that index.
 *              m carries the neighbouring value through exceptions so they cost nothing in the IntSeq.
 *   2 XOR      first value 64 raw bits | block code (2 bits, B = 8 << code) | per block of the
 *              n − 1 XORs x[i] = bits(v[i]) ^ bits(v[i−1]): W (7 bits, significant width 0..64),
 *              if W > 0: T (6 bits, shared trailing zeros) and W bits of x >> T per sample
 *
 * IntSeq over integers a[0..n) (each an integer-valued double):
 *   transform (2 bits)
 *   0 LINEAR   num (S) | FOR over r[i] = a[i] − floor(i·num / (n−1))   (num = 0: plain values)
 *   1 DELTA    a[0] (S) | FOR over a[i] − a[i−1], i ≥ 1
 *   2 DOD      a[0] (S) | a[1] − a[0] (S) | FOR over second differences, i ≥ 2
 *   3 VERBATIM n × (sign bit, 53-bit magnitude)
 *
 * FOR (frame of reference) over k integers:  g = min (S) | const bit (1: all equal g, done) |
 *   block code (2 bits, B = 8 << code) | mw (6 bits) |
 *   per block of B: width (bit 1: same w as the previous block; bit 0: w in 6 bits) |
 *                   blockMin − g (mw bits) | each item − blockMin (w bits)
 *
 * U = 6-bit length L then L bits (unsigned, L ≤ 54); S = sign bit then U of the magnitude.
 * ```
 *
 * Exactness: every transformed integer has magnitude ≤ 2^52, checked when encoding (a transform
 * that would leave that range is not used), so all sums and differences are exact in a double.
 * Values are never produced by float arithmetic except DECIMAL's `m / 10^e`, which the encoder
 * verifies with the same expression; everything else travels as uint32 words, so NaN payloads
 * (the staleness marker), ±Inf and −0 survive bit-exact.
 */
import { InvariantError } from '../../common/errors.js';
import { STALE_NAN_HI, STALE_NAN_LO } from '../../common/types.js';
import { PaddedBits, chunkCorrupt, peek32, peekHi, peekLo, shl64Hi, shl64Lo } from './bitstream.js';

/** Format version stored in byte 0; a later format gets a new number and can coexist. */
export const COMPACT_VERSION = 1;
/** Most samples one compact chunk can hold (the count is a uint16). */
export const COMPACT_MAX_SAMPLES = 0xffff;

const HEADER_BYTES = 3;
const TWO32 = 4294967296;
/** Bound on every transformed integer, so that all arithmetic on them stays exact. */
const LIMIT = 4503599627370496; // 2^52
/** Widest field a FOR block or U length may announce (ranges up to 2^53 + slack). */
const MAX_WIDTH = 54;
const MAX_EXP = 15;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** 10^e as literals: exact doubles, the same constants in encoder and decoder. */
const POW10 = new Float64Array([1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15]);

const T_LINEAR = 0;
const T_DELTA = 1;
const T_DOD = 2;
const T_VERBATIM = 3;

const V_CONST = 0;
const V_DECIMAL = 1;
const V_XOR = 2;

/** Bits needed for a non-negative integer-valued double x ≤ 2^54 (0 for 0). */
function bitsOf(x: number): number {
  if (x < TWO32) return 32 - Math.clz32(x);
  return 64 - Math.clz32(Math.floor(x / TWO32));
}

function uBits(x: number): number {
  return 6 + bitsOf(x);
}

function sBits(x: number): number {
  return 7 + bitsOf(x < 0 ? -x : x);
}

// ---------------------------------------------------------------------------------------------
// Encoder

/**
 * MSB-first bit writer into one reused buffer sized for the worst case up front (so the hot path
 * has no capacity checks); `bytes()` copies the result out. An overrun is an encoder bug, caught
 * by the check in `bytes()` (typed-array stores past the end are dropped, never written).
 */
class Writer {
  buf = new Uint8Array(256);
  pos = 0;
  /** Pending bits not yet flushed (fewer than 8), right-aligned. */
  acc = 0;
  nacc = 0;

  reset(capacity: number): void {
    if (this.buf.length < capacity) this.buf = new Uint8Array(capacity * 2);
    this.pos = 0;
    this.acc = 0;
    this.nacc = 0;
  }

  /** Writes the low n bits of v (0 ≤ n ≤ 24; v must have no bits above n). */
  private _put(v: number, n: number): void {
    const acc = (this.acc << n) | v;
    let nacc = this.nacc + n;
    while (nacc >= 8) {
      nacc -= 8;
      this.buf[this.pos++] = acc >>> nacc;
    }
    this.acc = acc & ((1 << nacc) - 1);
    this.nacc = nacc;
  }

  writeBit(bit: number): void {
    this._put(bit, 1);
  }

  /** Writes the low n bits of v (0 ≤ n ≤ 32, v < 2^n as an unsigned number). */
  writeBits(v: number, n: number): void {
    if (n > 24) {
      this._put((v >>> 16) & ((1 << (n - 16)) - 1), n - 16);
      this._put(v & 0xffff, 16);
    } else if (n > 0) {
      this._put(v & ((1 << n) - 1), n);
    }
  }

  /** Writes the low n bits (0 ≤ n ≤ 64) of the 64-bit hi:lo. */
  writeBits64(hi: number, lo: number, n: number): void {
    if (n > 32) {
      this.writeBits(hi, n - 32);
      this.writeBits(lo, 32);
    } else {
      this.writeBits(lo, n);
    }
  }

  /** A copy of the written bytes, last byte zero-padded. */
  bytes(): Uint8Array {
    if (this.nacc > 0) this._put(0, 8 - this.nacc);
    if (this.pos > this.buf.length) throw new InvariantError('compact chunk: encoder buffer overrun');
    return this.buf.slice(0, this.pos);
  }
}

const writer = new Writer();

/** Writes `x` (0 ≤ x < 2^n, n ≤ 54) in n bits. */
function writeNum(w: Writer, x: number, n: number): void {
  if (n > 32) {
    w.writeBits(Math.floor(x / TWO32), n - 32);
    w.writeBits(x >>> 0, 32);
  } else {
    w.writeBits(x, n);
  }
}

function writeU(w: Writer, x: number): void {
  const n = bitsOf(x);
  w.writeBits(n, 6);
  writeNum(w, x, n);
}

function writeS(w: Writer, x: number): void {
  w.writeBit(x < 0 ? 1 : 0);
  writeU(w, x < 0 ? -x : x);
}

// Encoder scratch, grown on demand. Encoding is synchronous, so module-level buffers are safe.
let cap = 0;
let sMant = new Float64Array(0); // DECIMAL mantissas
let sLin = new Float64Array(0); // LINEAR residuals
let sDelta = new Float64Array(0); // first differences
let sDod = new Float64Array(0); // second differences
let bMin = new Float64Array(0); // per 8-item block min
let bMax = new Float64Array(0); // per 8-item block max
let bOrHi = new Int32Array(0); // per 8-item block OR of XOR words
let bOrLo = new Int32Array(0);
let sExc = new Int32Array(0); // DECIMAL exception indices

function ensureScratch(n: number): void {
  if (n <= cap) return;
  cap = Math.max(n, 128);
  sMant = new Float64Array(cap);
  sLin = new Float64Array(cap);
  sDelta = new Float64Array(cap);
  sDod = new Float64Array(cap);
  bMin = new Float64Array((cap >>> 3) + 1);
  bMax = new Float64Array((cap >>> 3) + 1);
  bOrHi = new Int32Array((cap >>> 3) + 1);
  bOrLo = new Int32Array((cap >>> 3) + 1);
  sExc = new Int32Array(cap);
}

/** Block code chosen by the last `forCost` call. */
let forCode = 0;

/**
 * Exact size in bits of FOR over a[off, off+m), for the best block size (left in `forCode`).
 * Items must be integers with |x| ≤ 2^52.
 */
function forCost(a: Float64Array, off: number, m: number): number {
  if (m === 0) return 0;
  const nb8 = (m + 7) >>> 3;
  const end = off + m;
  let g = Infinity;
  let G = -Infinity;
  for (let k = 0; k < nb8; k++) {
    const s = off + k * 8;
    const e = s + 8 < end ? s + 8 : end;
    let lo = a[s] as number;
    let hi = lo;
    for (let i = s + 1; i < e; i++) {
      const v = a[i] as number;
      if (v < lo) lo = v;
      else if (v > hi) hi = v;
    }
    bMin[k] = lo;
    bMax[k] = hi;
    if (lo < g) g = lo;
    if (hi > G) G = hi;
  }
  const head = sBits(g) + 1;
  forCode = 0;
  if (g === G) return head;
  let best = Infinity;
  for (let code = 0; code < 4; code++) {
    const per = 1 << code; // 8-item blocks per block
    let bits = 0;
    let maxOff = 0;
    let nb = 0;
    let prevW = -1;
    for (let k = 0; k < nb8; k += per) {
      let lo = bMin[k] as number;
      let hi = bMax[k] as number;
      const ke = k + per < nb8 ? k + per : nb8;
      for (let j = k + 1; j < ke; j++) {
        const l = bMin[j] as number;
        const h = bMax[j] as number;
        if (l < lo) lo = l;
        if (h > hi) hi = h;
      }
      const cnt = (ke * 8 < m ? ke * 8 : m) - k * 8;
      const bw = bitsOf(hi - lo);
      bits += cnt * bw + (bw === prevW ? 1 : 7);
      prevW = bw;
      if (lo - g > maxOff) maxOff = lo - g;
      nb++;
    }
    const c = 2 + 6 + nb * bitsOf(maxOff) + bits;
    if (c < best) {
      best = c;
      forCode = code;
    }
  }
  return head + best;
}

function writeFor(w: Writer, a: Float64Array, off: number, m: number, code: number): void {
  if (m === 0) return;
  const end = off + m;
  let g = Infinity;
  let G = -Infinity;
  for (let i = off; i < end; i++) {
    const v = a[i] as number;
    if (v < g) g = v;
    if (v > G) G = v;
  }
  writeS(w, g);
  if (g === G) {
    w.writeBit(1);
    return;
  }
  w.writeBit(0);
  w.writeBits(code, 2);
  const B = 8 << code;
  let maxOff = 0;
  for (let s = off; s < end; s += B) {
    const e = s + B < end ? s + B : end;
    let lo = Infinity;
    for (let i = s; i < e; i++) if ((a[i] as number) < lo) lo = a[i] as number;
    if (lo - g > maxOff) maxOff = lo - g;
  }
  const mw = bitsOf(maxOff);
  w.writeBits(mw, 6);
  let prevW = -1;
  for (let s = off; s < end; s += B) {
    const e = s + B < end ? s + B : end;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = s; i < e; i++) {
      const v = a[i] as number;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const bw = bitsOf(hi - lo);
    if (bw === prevW) {
      w.writeBit(1);
    } else {
      w.writeBit(0);
      w.writeBits(bw, 6);
      prevW = bw;
    }
    writeNum(w, lo - g, mw);
    if (bw === 0) continue;
    for (let i = s; i < e; i++) writeNum(w, (a[i] as number) - lo, bw);
  }
}

/** Fills sLin with a[i] − floor(i·num / (n−1)); false when a residual leaves ±2^52. */
function linearResiduals(a: Float64Array, off: number, n: number, num: number): boolean {
  const den = n - 1;
  for (let i = 0; i < n; i++) {
    const r = (a[off + i] as number) - Math.floor((i * num) / den);
    if (r > LIMIT || r < -LIMIT) return false;
    sLin[i] = r;
  }
  return true;
}

// Plan chosen by the last `planInts` call.
let planT = 0;
let planNum = 0;
let planCode = 0;

/**
 * Exact size in bits of the cheapest IntSeq encoding of a[off, off+n) (safe integers), leaving the
 * choice in planT/planNum/planCode and the transformed items in sLin/sDelta/sDod.
 */
function planInts(a: Float64Array, off: number, n: number): number {
  // VERBATIM always works.
  let best = 2 + n * 54;
  planT = T_VERBATIM;
  planNum = 0;
  planCode = 0;
  let rawOk = true;
  let deltaOk = n >= 1;
  let dodOk = n >= 3;
  let constDelta = true;
  for (let i = 0; i < n; i++) {
    const v = a[off + i] as number;
    if (v > LIMIT || v < -LIMIT) rawOk = false;
    if (i >= 1 && deltaOk) {
      const d = v - (a[off + i - 1] as number);
      if (d > LIMIT || d < -LIMIT) {
        deltaOk = false;
        dodOk = false;
        continue;
      }
      sDelta[i] = d;
      if (d !== sDelta[1]) constDelta = false;
      if (i >= 2) {
        const dd = d - (sDelta[i - 1] as number);
        if (dd > LIMIT || dd < -LIMIT) dodOk = false;
        sDod[i] = dd;
      }
    }
  }
  if (deltaOk && n >= 2 && constDelta) {
    // Evenly spaced (regular timestamps, constant values): DELTA with one constant is as small as
    // it gets, so skip the search.
    planT = T_DELTA;
    planCode = 0;
    return 2 + sBits(a[off] as number) + sBits(sDelta[1] as number) + 1;
  }
  if (rawOk) {
    const c = 2 + sBits(0) + forCost(a, off, n);
    if (c < best) {
      best = c;
      planT = T_LINEAR;
      planNum = 0;
      planCode = forCode;
    }
  }
  if (n >= 3 && rawOk) {
    // Linear candidates: the line through the end points and the least-squares line (a third,
    // the least-squares slope rounded to an integer, won too rarely to pay for its pass).
    const den = n - 1;
    const a0 = a[off] as number;
    let sx = 0;
    let sy = 0;
    let sxy = 0;
    let sxx = 0;
    for (let i = 0; i < n; i++) {
      const y = (a[off + i] as number) - a0;
      sx += i;
      sy += y;
      sxy += i * y;
      sxx += i * i;
    }
    const slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    const ends = (a[off + n - 1] as number) - a0;
    const ls = Math.round(slope * den);
    for (let c = 0; c < 2; c++) {
      const num = c === 0 ? ends : ls;
      if (num === 0 || !(num <= LIMIT && num >= -LIMIT) || (c === 1 && num === ends)) continue;
      if (!linearResiduals(a, off, n, num)) continue;
      const cost = 2 + sBits(num) + forCost(sLin, 0, n);
      if (cost < best) {
        best = cost;
        planT = T_LINEAR;
        planNum = num;
        planCode = forCode;
      }
    }
  }
  if (deltaOk) {
    const c = 2 + sBits(a[off] as number) + forCost(sDelta, 1, n - 1);
    if (c < best) {
      best = c;
      planT = T_DELTA;
      planCode = forCode;
    }
  }
  if (dodOk) {
    const c = 2 + sBits(a[off] as number) + sBits(sDelta[1] as number) + forCost(sDod, 2, n - 2);
    if (c < best) {
      best = c;
      planT = T_DOD;
      planCode = forCode;
    }
  }
  return best;
}

function writeInts(w: Writer, a: Float64Array, off: number, n: number): void {
  w.writeBits(planT, 2);
  switch (planT) {
    case T_LINEAR:
      writeS(w, planNum);
      if (planNum === 0) {
        writeFor(w, a, off, n, planCode);
      } else {
        linearResiduals(a, off, n, planNum);
        writeFor(w, sLin, 0, n, planCode);
      }
      break;
    case T_DELTA:
      writeS(w, a[off] as number);
      writeFor(w, sDelta, 1, n - 1, planCode);
      break;
    case T_DOD:
      writeS(w, a[off] as number);
      writeS(w, sDelta[1] as number);
      writeFor(w, sDod, 2, n - 2, planCode);
      break;
    default:
      for (let i = 0; i < n; i++) {
        const v = a[off + i] as number;
        w.writeBit(v < 0 ? 1 : 0);
        writeNum(w, v < 0 ? -v : v, 53);
      }
  }
}

/** The m with m / 10^e === v and |m| ≤ 2^52, or NaN (`v` finite, not −0). */
function decimalAt(v: number, e: number): number {
  const p = POW10[e] as number;
  const m = Math.round(v * p);
  if (m > LIMIT || m < -LIMIT) return NaN;
  // The decoder's exact expression: e = 0 takes m itself.
  return (e === 0 ? m : m / p) === v ? m : NaN;
}

/** Number of exceptions found by the last `planDecimal`. */
let decExc = 0;
let decE = 0;

/**
 * Fills sMant with the DECIMAL mantissas of values[from, from+n) and returns the size in bits of
 * the DECIMAL mode, or Infinity when it does not fit (too many exceptions).
 */
function planDecimal(values: Float64Array, words: Uint32Array, from: number, n: number): number {
  const maxExc = (n >>> 3) + 2;
  let e = 0;
  let exc = 0;
  // Pass 1: mantissas at the smallest e that fits every value that fits at all (NaN: exception).
  // Values before `stale` were computed at a smaller e than the final one.
  let stale = 0;
  for (let i = 0; i < n; i++) {
    const v = values[from + i] as number;
    let m = NaN;
    if (v === 0) {
      if ((words[2 * (from + i) + 1] as number) === 0) m = 0; // +0; −0 (sign bit set) is an exception
    } else if (v === v && v !== Infinity && v !== -Infinity) {
      m = decimalAt(v, e);
      for (let k = e + 1; m !== m && k <= MAX_EXP; k++) {
        m = decimalAt(v, k);
        if (m === m) {
          e = k;
          stale = i;
        }
      }
    }
    sMant[i] = m;
    if (m !== m && ++exc > maxExc) return Infinity;
  }
  // Values that fitted at a smaller e are normally exact at the final e too; verify anyway.
  for (let i = 0; i < stale; i++) {
    if (sMant[i] === sMant[i]) sMant[i] = decimalAt(values[from + i] as number, e);
  }
  // Pass 2: record exceptions; m carries the previous value through them so they cost no bits.
  exc = 0;
  let prev = NaN;
  for (let i = 0; i < n; i++) {
    const m = sMant[i] as number;
    if (m === m) {
      if (prev !== prev) for (let j = 0; j < i; j++) sMant[j] = m; // leading exceptions
      prev = m;
    } else {
      if (exc >= maxExc) return Infinity;
      sExc[exc++] = i;
      sMant[i] = prev;
    }
  }
  if (prev !== prev) return Infinity; // nothing but exceptions
  decExc = exc;
  decE = e;
  let bits = 2 + 4 + planInts(sMant, 0, n) + (exc === 0 ? 1 : 1 + uBits(exc - 1));
  let last = -1;
  for (let j = 0; j < exc; j++) {
    const idx = sExc[j] as number;
    const stale = words[2 * (from + idx) + 1] === STALE_NAN_HI && words[2 * (from + idx)] === STALE_NAN_LO;
    bits += uBits(idx - last - 1) + (stale ? 1 : 65);
    last = idx;
  }
  return bits;
}

function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/** Leading + trailing zero counts of the 64-bit hi:lo (64 when zero). */
function sigWidth(hi: number, lo: number): number {
  if (hi === 0 && lo === 0) return 0;
  const lead = hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo);
  const trail = lo !== 0 ? ctz32(lo) : 32 + ctz32(hi);
  return 64 - lead - trail;
}

let xorCode = 0;

/** Size in bits of the XOR mode (block code left in `xorCode`). */
function planXor(words: Uint32Array, from: number, n: number): number {
  const m = n - 1;
  if (m <= 0) return 2 + 64;
  const nb8 = (m + 7) >>> 3;
  for (let k = 0; k < nb8; k++) {
    let oh = 0;
    let ol = 0;
    const s = from + 1 + k * 8;
    const e = Math.min(s + 8, from + n);
    for (let i = s; i < e; i++) {
      oh |= (words[2 * i + 1] as number) ^ (words[2 * i - 1] as number);
      ol |= (words[2 * i] as number) ^ (words[2 * i - 2] as number);
    }
    bOrHi[k] = oh;
    bOrLo[k] = ol;
  }
  let best = Infinity;
  for (let code = 0; code < 4; code++) {
    const per = 1 << code;
    let bits = 0;
    for (let k = 0; k < nb8; k += per) {
      let oh = 0;
      let ol = 0;
      const ke = k + per < nb8 ? k + per : nb8;
      for (let j = k; j < ke; j++) {
        oh |= bOrHi[j] as number;
        ol |= bOrLo[j] as number;
      }
      const W = sigWidth(oh >>> 0, ol >>> 0);
      const cnt = (ke * 8 < m ? ke * 8 : m) - k * 8;
      bits += W === 0 ? 7 : 13 + cnt * W;
    }
    if (bits < best) {
      best = bits;
      xorCode = code;
    }
  }
  return 2 + 64 + 2 + best;
}

function writeXor(w: Writer, words: Uint32Array, from: number, n: number, code: number): void {
  w.writeBits(words[2 * from + 1] as number, 32);
  w.writeBits(words[2 * from] as number, 32);
  const m = n - 1;
  if (m <= 0) return;
  w.writeBits(code, 2);
  const B = 8 << code;
  for (let s = from + 1; s < from + n; s += B) {
    const e = Math.min(s + B, from + n);
    let oh = 0;
    let ol = 0;
    for (let i = s; i < e; i++) {
      oh |= (words[2 * i + 1] as number) ^ (words[2 * i - 1] as number);
      ol |= (words[2 * i] as number) ^ (words[2 * i - 2] as number);
    }
    oh >>>= 0;
    ol >>>= 0;
    const W = sigWidth(oh, ol);
    w.writeBits(W, 7);
    if (W === 0) continue;
    const T = ol !== 0 ? ctz32(ol) : 32 + ctz32(oh);
    w.writeBits(T, 6);
    for (let i = s; i < e; i++) {
      let xh = ((words[2 * i + 1] as number) ^ (words[2 * i - 1] as number)) >>> 0;
      let xl = ((words[2 * i] as number) ^ (words[2 * i - 2] as number)) >>> 0;
      if (T >= 32) {
        xl = xh >>> (T - 32);
        xh = 0;
      } else if (T > 0) {
        xl = ((xl >>> T) | (xh << (32 - T))) >>> 0;
        xh = xh >>> T;
      }
      w.writeBits64(xh, xl, W);
    }
  }
}

/** Index of the first timestamp that is not a safe integer above its predecessor, or −1. */
function badTimestamp(ts: Float64Array, start: number, end: number): number {
  let prev = -Infinity;
  for (let i = start; i < end; i++) {
    const t = ts[i] as number;
    if (!(t <= MAX_SAFE && t >= -MAX_SAFE && t > prev) || Math.floor(t) !== t) return i;
    prev = t;
  }
  return -1;
}

/**
 * Encodes samples [start, end) of `ts`/`values` (ts: integer ms, strictly increasing) into one
 * compact chunk, choosing the smallest representation for timestamps and for values. Returns a new
 * buffer the caller owns. Breaking the input contract (unsafe or non-increasing timestamps, bad
 * range, more than 65535 samples) is a caller bug: InvariantError.
 */
export function encodeCompactChunk(ts: Float64Array, values: Float64Array, start: number, end: number): Uint8Array {
  const n = end - start;
  if (!(start >= 0 && n >= 0 && end <= ts.length && end <= values.length)) {
    throw new InvariantError(`compact chunk: range [${start}, ${end}) outside arrays`);
  }
  if (n > COMPACT_MAX_SAMPLES) throw new InvariantError(`compact chunk: ${n} samples exceed ${COMPACT_MAX_SAMPLES}`);
  const bad = badTimestamp(ts, start, end);
  if (bad >= 0) throw new InvariantError(`compact chunk: timestamp ${ts[bad]} at ${bad} is not a safe integer after ${ts[bad - 1]}`);
  ensureScratch(n);
  // Worst case: VERBATIM timestamps (54 bits each) and XOR values (64 bits + block headers each).
  const w = writer;
  w.reset(64 + n * 16);
  w.writeBits(COMPACT_VERSION, 8);
  w.writeBits(n, 16);
  if (n === 0) return w.bytes();

  planInts(ts, start, n);
  writeInts(w, ts, start, n);

  const words = new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
  const hi0 = words[2 * start + 1] as number;
  const lo0 = words[2 * start] as number;
  let constant = true;
  for (let i = start + 1; i < end; i++) {
    if (words[2 * i] !== lo0 || words[2 * i + 1] !== hi0) {
      constant = false;
      break;
    }
  }
  const decBits = planDecimal(values, words, start, n);
  const xorBits = planXor(words, start, n);
  if (constant && 2 + 64 <= decBits) {
    w.writeBits(V_CONST, 2);
    w.writeBits(hi0, 32);
    w.writeBits(lo0, 32);
  } else if (decBits <= xorBits) {
    // planDecimal left sMant, the IntSeq plan and the exception list in place.
    w.writeBits(V_DECIMAL, 2);
    w.writeBits(decE, 4);
    writeInts(w, sMant, 0, n);
    w.writeBit(decExc === 0 ? 0 : 1);
    if (decExc > 0) writeU(w, decExc - 1);
    let last = -1;
    for (let j = 0; j < decExc; j++) {
      const idx = sExc[j] as number;
      writeU(w, idx - last - 1);
      const hi = words[2 * (start + idx) + 1] as number;
      const lo = words[2 * (start + idx)] as number;
      if (hi === STALE_NAN_HI && lo === STALE_NAN_LO) {
        w.writeBit(1);
      } else {
        w.writeBit(0);
        w.writeBits(hi, 32);
        w.writeBits(lo, 32);
      }
      last = idx;
    }
  } else {
    w.writeBits(V_XOR, 2);
    writeXor(w, words, start, n, xorCode);
  }
  return w.bytes();
}

// ---------------------------------------------------------------------------------------------
// Decoder

/**
 * Bounds-checked MSB-first bit reader specialised for the decoder's hot loops (reads up to 5 bytes
 * at once instead of bit by bit). Every read past the end throws `chunk-corrupt`.
 */
class Reader {
  buf: Uint8Array = new Uint8Array(0);
  pos = 0;
  limit = 0;
  private _view: DataView | null = null;

  reset(buf: Uint8Array, startBit: number): void {
    this.buf = buf;
    this.pos = startBit;
    this.limit = buf.length * 8;
    this._view = null;
  }

  /**
   * The chunk's bytes zero-padded, for loops that read whole words with one bounds check per
   * block (peek32); copied at most once per chunk.
   */
  view(): DataView {
    this._view ??= padded.load(this.buf);
    return this._view;
  }

  /** Reads n bits, 0 ≤ n ≤ 32, unsigned. */
  bits(n: number): number {
    const pos = this.pos;
    const end = pos + n;
    if (end > this.limit) throw chunkCorrupt('unexpected end of data');
    if (n === 0) return 0;
    const buf = this.buf;
    const i = pos >>> 3;
    const off = pos & 7;
    this.pos = end;
    if (i + 4 < buf.length) {
      const word = ((buf[i] as number) << 24) | ((buf[i + 1] as number) << 16) | ((buf[i + 2] as number) << 8) | (buf[i + 3] as number);
      if (off + n <= 32) return ((word << off) >>> (32 - n)) >>> 0;
      return (((word << off) >>> (32 - n)) | ((buf[i + 4] as number) >>> (40 - off - n))) >>> 0;
    }
    // Near the end: byte by byte.
    let v = 0;
    let p = pos;
    let left = n;
    while (left > 0) {
      const avail = 8 - (p & 7);
      const take = avail < left ? avail : left;
      v = v * (1 << take) + (((buf[p >>> 3] as number) >>> (avail - take)) & ((1 << take) - 1));
      p += take;
      left -= take;
    }
    return v;
  }

  /** Reads n bits, 0 ≤ n ≤ 54, as an exact unsigned number. */
  num(n: number): number {
    if (n <= 32) return this.bits(n);
    const hi = this.bits(n - 32);
    return hi * TWO32 + this.bits(32);
  }

  u(): number {
    const n = this.bits(6);
    if (n > MAX_WIDTH) throw chunkCorrupt(`field width ${n} too large`);
    return this.num(n);
  }

  s(): number {
    const neg = this.bits(1);
    const x = this.u();
    return neg === 1 ? -x : x;
  }
}

const reader = new Reader();

/** Decodes FOR over m items into out[o, o+m). */
function readFor(r: Reader, out: Float64Array, o: number, m: number): void {
  if (m === 0) return;
  const g = r.s();
  if (r.bits(1) === 1) {
    out.fill(g, o, o + m);
    return;
  }
  const B = 8 << r.bits(2);
  const mw = r.bits(6);
  if (mw > MAX_WIDTH) throw chunkCorrupt(`block offset width ${mw} too large`);
  const end = o + m;
  let bw = -1;
  for (let s = o; s < end; s += B) {
    if (r.bits(1) === 0) bw = r.bits(6);
    else if (bw < 0) throw chunkCorrupt('first block repeats a width');
    if (bw > MAX_WIDTH) throw chunkCorrupt(`block width ${bw} too large`);
    const base = g + r.num(mw);
    const e = s + B < end ? s + B : end;
    if (bw === 0) {
      out.fill(base, s, e);
    } else if (bw <= 32) {
      // The whole block's bits are checked once; then each item is one word read.
      if (r.pos + (e - s) * bw > r.limit) throw chunkCorrupt('unexpected end of data');
      const dv = r.view();
      const shift = 32 - bw;
      let pos = r.pos;
      for (let i = s; i < e; i++) {
        out[i] = base + (peek32(dv, pos) >>> shift);
        pos += bw;
      }
      r.pos = pos;
    } else {
      for (let i = s; i < e; i++) out[i] = base + r.num(bw);
    }
  }
}

/** Decodes an IntSeq of n ≥ 1 items into out[o, o+n). */
function readInts(r: Reader, out: Float64Array, o: number, n: number): void {
  const t = r.bits(2);
  switch (t) {
    case T_LINEAR: {
      const num = r.s();
      readFor(r, out, o, n);
      if (num !== 0) {
        if (n < 2) throw chunkCorrupt('linear slope on a single sample');
        const den = n - 1;
        for (let i = 0; i < n; i++) out[o + i] = (out[o + i] as number) + Math.floor((i * num) / den);
      }
      break;
    }
    case T_DELTA: {
      const v0 = r.s();
      readFor(r, out, o + 1, n - 1);
      out[o] = v0;
      let v = v0;
      for (let i = o + 1; i < o + n; i++) {
        v += out[i] as number;
        out[i] = v;
      }
      break;
    }
    case T_DOD: {
      if (n < 2) throw chunkCorrupt('second differences on a single sample');
      const v0 = r.s();
      let d = r.s();
      readFor(r, out, o + 2, n - 2);
      out[o] = v0;
      let v = v0 + d;
      out[o + 1] = v;
      for (let i = o + 2; i < o + n; i++) {
        d += out[i] as number;
        v += d;
        out[i] = v;
      }
      break;
    }
    default:
      for (let i = o; i < o + n; i++) {
        const neg = r.bits(1);
        const x = r.num(53);
        out[i] = neg === 1 ? -x : x;
      }
  }
}

/** Chunk bytes plus zero padding for the XOR value mode's word reads. */
const padded = new PaddedBits(16);

/**
 * XOR value mode. The noisy-gauge case it exists for reads 40–64 bits per sample, so it reads
 * whole words from a padded copy with one bounds check per block instead of per field.
 */
function readXor(r: Reader, words: Uint32Array, o: number, n: number): void {
  let vh = r.bits(32);
  let vl = r.bits(32);
  words[2 * o] = vl;
  words[2 * o + 1] = vh;
  if (n <= 1) return;
  const B = 8 << r.bits(2);
  const end = o + n;
  const dv = r.view();
  const limit = r.limit;
  let pos = r.pos;
  for (let s = o + 1; s < end; s += B) {
    const e = s + B < end ? s + B : end;
    if (pos + 7 > limit) throw chunkCorrupt('unexpected end of data');
    const W = peek32(dv, pos) >>> 25;
    pos += 7;
    if (W === 0) {
      for (let i = s; i < e; i++) {
        words[2 * i] = vl;
        words[2 * i + 1] = vh;
      }
      continue;
    }
    if (pos + 6 > limit) throw chunkCorrupt('unexpected end of data');
    const T = peek32(dv, pos) >>> 26;
    pos += 6;
    if (W + T > 64) throw chunkCorrupt(`xor block width ${W} + ${T} exceeds 64 bits`);
    if (pos + (e - s) * W > limit) throw chunkCorrupt('unexpected end of data');
    if (T === 0 && W <= 32) {
      // No shared trailing zeros and at most 32 significant bits (close values): one read, low word only.
      const sh = 32 - W;
      for (let i = s; i < e; i++) {
        vl = (vl ^ (peek32(dv, pos) >>> sh)) >>> 0;
        pos += W;
        words[2 * i] = vl;
        words[2 * i + 1] = vh;
      }
    } else if (T === 0) {
      // Noisy values: both words, no shift (the common case for gauges with full-precision values).
      const sh = 64 - W;
      for (let i = s; i < e; i++) {
        vh = (vh ^ (peek32(dv, pos) >>> sh)) >>> 0;
        vl = (vl ^ peek32(dv, pos + W - 32)) >>> 0;
        pos += W;
        words[2 * i] = vl;
        words[2 * i + 1] = vh;
      }
    } else {
      for (let i = s; i < e; i++) {
        const mh = peekHi(dv, pos, W);
        const ml = peekLo(dv, pos, W);
        pos += W;
        vh = (vh ^ shl64Hi(mh, ml, T)) >>> 0;
        vl = (vl ^ shl64Lo(ml, T)) >>> 0;
        words[2 * i] = vl;
        words[2 * i + 1] = vh;
      }
    }
  }
  r.pos = pos;
}

/** Number of samples in a compact chunk (header only); throws `chunk-corrupt` on a bad header. */
export function compactChunkSampleCount(data: Uint8Array): number {
  if (data.length < HEADER_BYTES) throw chunkCorrupt(`compact chunk of ${data.length} bytes has no header`);
  if (data[0] !== COMPACT_VERSION) throw chunkCorrupt(`unknown compact chunk version ${data[0]}`);
  return ((data[1] as number) << 8) | (data[2] as number);
}

/**
 * Decodes every sample of a compact chunk into `tsOut` / `valuesOut` starting at `outOffset`
 * (earlier elements are left untouched) and returns the number written. Values are written
 * bit-exact (raw words through a Uint32Array view). Throws `chunk-corrupt` on malformed or
 * truncated data, never reads out of bounds and never loops beyond the announced count; the
 * outputs must have room for `compactChunkSampleCount(data)` samples after `outOffset`
 * (InvariantError otherwise).
 */
export function decodeCompactChunk(data: Uint8Array, tsOut: Float64Array, valuesOut: Float64Array, outOffset: number): number {
  const n = compactChunkSampleCount(data);
  if (!(outOffset >= 0) || outOffset + n > tsOut.length || outOffset + n > valuesOut.length) {
    throw new InvariantError(`decodeCompactChunk: output too small for ${n} samples at offset ${outOffset}`);
  }
  if (n === 0) return 0;
  const r = reader;
  r.reset(data, HEADER_BYTES * 8);
  const o = outOffset;
  readInts(r, tsOut, o, n);
  // Timestamps must be safe integers, strictly increasing: catches most damage to the stream.
  let prev = tsOut[o] as number;
  if (!Number.isSafeInteger(prev)) throw chunkCorrupt('first timestamp out of range');
  for (let i = o + 1; i < o + n; i++) {
    const t = tsOut[i] as number;
    if (!(t > prev) || !Number.isSafeInteger(t)) throw chunkCorrupt(`timestamps not increasing at sample ${i - o}`);
    prev = t;
  }
  const mode = r.bits(2);
  if (mode === V_CONST) {
    const hi = r.bits(32);
    const lo = r.bits(32);
    const words = new Uint32Array(valuesOut.buffer, valuesOut.byteOffset, valuesOut.length * 2);
    for (let i = o; i < o + n; i++) {
      words[2 * i] = lo;
      words[2 * i + 1] = hi;
    }
  } else if (mode === V_DECIMAL) {
    const e = r.bits(4);
    if (e > MAX_EXP) throw chunkCorrupt(`decimal exponent ${e} too large`);
    readInts(r, valuesOut, o, n);
    if (e !== 0) {
      const p = POW10[e] as number;
      for (let i = o; i < o + n; i++) valuesOut[i] = (valuesOut[i] as number) / p;
    }
    const exc = r.bits(1) === 0 ? 0 : r.u() + 1;
    if (exc > n) throw chunkCorrupt(`${exc} exceptions in ${n} samples`);
    if (exc > 0) {
      const words = new Uint32Array(valuesOut.buffer, valuesOut.byteOffset, valuesOut.length * 2);
      let idx = -1;
      for (let j = 0; j < exc; j++) {
        idx += r.u() + 1;
        if (idx >= n) throw chunkCorrupt(`exception index ${idx} beyond ${n} samples`);
        if (r.bits(1) === 1) {
          words[2 * (o + idx) + 1] = STALE_NAN_HI;
          words[2 * (o + idx)] = STALE_NAN_LO;
        } else {
          words[2 * (o + idx) + 1] = r.bits(32);
          words[2 * (o + idx)] = r.bits(32);
        }
      }
    }
  } else if (mode === V_XOR) {
    readXor(r, new Uint32Array(valuesOut.buffer, valuesOut.byteOffset, valuesOut.length * 2), o, n);
  } else {
    throw chunkCorrupt(`unknown value mode ${mode}`);
  }
  return n;
}
