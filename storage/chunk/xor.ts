/**
 * Gorilla-style XOR chunk codec (the float chunk format Prometheus's TSDB popularised; written
 * here from the published scheme, not copied).
 *
 * Layout (bits are written most-significant first; "|" separates fields, nothing is aligned
 * after the header except by accident):
 *
 * ```
 * byte 0      byte 1      byte 2 …
 * +-----------+-----------+------------------------------------------------------------------+
 * | count (uint16, big-endian) | sample 0 | sample 1 | sample 2 | … | zero padding to a byte |
 * +-----------+-----------+------------------------------------------------------------------+
 *
 * sample 0:  t0 as zigzag LEB128 varint (1–8 bytes) | value bits 63..0 raw (hi word, then lo word)
 * sample 1:  (t1 − t0) as unsigned LEB128 varint    | value as XOR (below)
 * sample n≥2: dod = (tn − tn−1) − (tn−1 − tn−2), then value as XOR:
 *     '0'                      dod == 0
 *     '10'   + 14-bit two's-complement dod   (−2^13 ≤ dod < 2^13)
 *     '110'  + 17-bit two's-complement dod   (−2^16 ≤ dod < 2^16)
 *     '1110' + 20-bit two's-complement dod   (−2^19 ≤ dod < 2^19)
 *     '1111' + 64-bit two's-complement dod
 *
 * value XOR (x = bits(v) ^ bits(previous v)):
 *     '0'                                   x == 0 (same bits as previous)
 *     '10' + meaningful bits                x fits in the previous leading/trailing-zero window:
 *                                           (64 − leading − trailing) bits of x >> trailing
 *     '11' + leading (5 bits, capped at 31) + sigbits (6 bits; 0 stands for 64)
 *          + sigbits bits of x >> trailing  a new window; trailing = 64 − leading − sigbits
 * ```
 *
 * Timestamps are integer ms in a JS number; every sample must be strictly newer than the previous
 * one. Values never pass through float arithmetic: they travel as two uint32 words (lo, hi, the
 * little-endian layout of a Float64Array viewed as Uint32Array), so NaN payloads such as the
 * staleness marker, ±Inf and −0 are preserved bit-exact.
 */
import { InvariantError } from '../../common/errors.js';
import type { ByteArena } from './byte-arena.js';
import { BitReader, BitWriter, PaddedBits, chunkCorrupt, peek32, peekHi, peekLo, shl64Hi, shl64Lo } from './bitstream.js';

/** Most samples one chunk can hold (the header is a uint16). */
export const XOR_MAX_SAMPLES = 0xffff;

const TWO_POW_32 = 4294967296;
/** Sentinel for "no leading/trailing window yet" (valid windows have leading ≤ 31). */
const NO_WINDOW = 0xff;

function ctz32(x: number): number {
  // Isolate the lowest set bit, then count the zeros above it.
  return 31 - Math.clz32(x & -x);
}

/**
 * Incremental XOR chunk encoder. Holds the whole chunk in a growable buffer; `bytes()` copies it.
 * It is its own bit writer (one object per open head instead of two: there is one per series), and
 * keeps the last value's words as int32 so they stay small integers rather than boxed numbers.
 * Monomorphic: all fields are set in the constructor.
 */
export class XorEncoder extends BitWriter {
  private _count = 0;
  private _minT = Infinity;
  private _t = -Infinity;
  private _tDelta = 0;
  private _vHi = 0;
  private _vLo = 0;
  private _leading = NO_WINDOW;
  private _trailing = 0;

  /**
   * Starts an empty chunk. `expectedBytes`: the likely final size (e.g. the previous chunk's of
   * the same series), so the buffer is allocated once instead of doubling its way up. `arena`:
   * where the buffer comes from (see BitWriter); the caller then releases it (finish or release).
   */
  constructor(expectedBytes = 32, arena: ByteArena | null = null) {
    super(expectedBytes, arena);
    this.writeBits(0, 16); // header placeholder, filled in by bytes() / finish()
  }

  /** Number of samples in the chunk. */
  get count(): number {
    return this._count;
  }

  /** Timestamp of the first sample; Infinity when empty. */
  get minTimeMs(): number {
    return this._minT;
  }

  /** Timestamp of the last sample; -Infinity when empty. */
  get maxTimeMs(): number {
    return this._t;
  }

  /** High (sign/exponent) uint32 word of the last value; 0 when empty. */
  get lastValueHi(): number {
    return this._vHi >>> 0;
  }

  /** Low uint32 word of the last value; 0 when empty. */
  get lastValueLo(): number {
    return this._vLo >>> 0;
  }

  /**
   * Appends a sample whose value is `valueWords[2i]` (lo) and `valueWords[2i + 1]` (hi).
   * `tMs` must be a safe integer strictly greater than the previous timestamp; callers enforce
   * this (breaking it is a bug, hence InvariantError).
   */
  append(tMs: number, valueWords: Uint32Array, i: number): void {
    const lo = valueWords[2 * i] as number;
    const hi = valueWords[2 * i + 1] as number;
    if (!Number.isSafeInteger(tMs)) throw new InvariantError(`xor chunk: timestamp ${tMs} is not a safe integer`);
    if (this._count >= XOR_MAX_SAMPLES) throw new InvariantError('xor chunk: sample count overflow');
    const w: BitWriter = this;
    if (this._count === 0) {
      w.writeVarint(tMs);
      w.writeBits(hi, 32);
      w.writeBits(lo, 32);
      this._minT = tMs;
    } else {
      if (tMs <= this._t) throw new InvariantError(`xor chunk: timestamp ${tMs} not after ${this._t}`);
      const delta = tMs - this._t;
      if (this._count === 1) {
        w.writeUvarint(delta);
      } else {
        this._writeDod(delta - this._tDelta);
      }
      this._tDelta = delta;
      this._writeValue(hi, lo);
    }
    this._t = tMs;
    this._vHi = hi | 0;
    this._vLo = lo | 0;
    this._count++;
  }

  /** A copy of the encoded chunk, header included. */
  override bytes(): Uint8Array {
    return this._withHeader(super.bytes());
  }

  /** The encoded chunk, header included, copied into `dest` at `at` (see BitWriter.bytesInto). */
  override bytesInto(dest: Uint8Array, at: number): Uint8Array {
    return this._withHeader(super.bytesInto(dest, at));
  }

  /**
   * The encoded chunk of an encoder that takes no more samples (a cut head): its buffer when
   * little of it is unused, else a copy (see BitWriter.finish).
   */
  override finish(): Uint8Array {
    return this._withHeader(super.finish());
  }

  private _withHeader(out: Uint8Array): Uint8Array {
    out[0] = this._count >>> 8;
    out[1] = this._count & 0xff;
    return out;
  }

  /**
   * An encoder that continues appending to an existing chunk (`data` is copied, not kept).
   * Throws `chunk-corrupt` if `data` does not decode.
   */
  static resume(data: Uint8Array, arena: ByteArena | null = null): XorEncoder {
    const it = new XorIterator();
    it.reset(data);
    while (it.next()) {
      /* decode to the end to recover the encoder state */
    }
    // Made only once `data` decoded: a throw above leaves no arena region behind.
    const enc = new XorEncoder(32, arena);
    if (it.count === 0) return enc;
    enc._count = it.count;
    enc._minT = it.firstT;
    enc._t = it.t;
    enc._tDelta = it.tDelta;
    enc._vHi = it.vHi | 0;
    enc._vLo = it.vLo | 0;
    enc._leading = it.leading;
    enc._trailing = it.trailing;
    // Continue at the exact bit after the last sample, not at the byte boundary: the padding of
    // the last byte belongs to the next sample.
    enc.resetFrom(data, it.bitPosition);
    return enc;
  }

  private _writeDod(dod: number): void {
    const w: BitWriter = this;
    if (dod === 0) {
      w.writeBit(0);
    } else if (dod >= -0x2000 && dod < 0x2000) {
      w.writeBits(0b10, 2);
      w.writeBits(dod & 0x3fff, 14);
    } else if (dod >= -0x10000 && dod < 0x10000) {
      w.writeBits(0b110, 3);
      w.writeBits(dod & 0x1ffff, 17);
    } else if (dod >= -0x80000 && dod < 0x80000) {
      w.writeBits(0b1110, 4);
      w.writeBits(dod & 0xfffff, 20);
    } else {
      w.writeBits(0b1111, 4);
      // Two's complement over 64 bits without BigInt: floor division gives the high word,
      // ToUint32 (>>> 0) the low word, both exact for safe integers.
      w.writeBits(Math.floor(dod / TWO_POW_32), 32);
      w.writeBits(dod >>> 0, 32);
    }
  }

  private _writeValue(hi: number, lo: number): void {
    const w: BitWriter = this;
    const xhi = (hi ^ this._vHi) >>> 0;
    const xlo = (lo ^ this._vLo) >>> 0;
    if (xhi === 0 && xlo === 0) {
      w.writeBit(0);
      return;
    }
    w.writeBit(1);
    let leading = xhi !== 0 ? Math.clz32(xhi) : 32 + Math.clz32(xlo);
    const trailing = xlo !== 0 ? ctz32(xlo) : 32 + ctz32(xhi);
    if (leading > 31) leading = 31; // the field is 5 bits wide
    if (this._leading !== NO_WINDOW && leading >= this._leading && trailing >= this._trailing) {
      w.writeBit(0);
      writeShifted(w, xhi, xlo, this._trailing, 64 - this._leading - this._trailing);
      return;
    }
    this._leading = leading;
    this._trailing = trailing;
    const sig = 64 - leading - trailing;
    w.writeBit(1);
    w.writeBits(leading, 5);
    w.writeBits(sig & 63, 6); // 64 wraps to 0
    writeShifted(w, xhi, xlo, trailing, sig);
  }
}

/** Writes the low `n` bits of (hi:lo >> shift), 0 ≤ shift < 64. */
function writeShifted(w: BitWriter, hi: number, lo: number, shift: number, n: number): void {
  let sh: number;
  let sl: number;
  if (shift === 0) {
    sh = hi;
    sl = lo;
  } else if (shift < 32) {
    sl = (lo >>> shift) | (hi << (32 - shift));
    sh = hi >>> shift;
  } else {
    sl = hi >>> (shift - 32);
    sh = 0;
  }
  w.writeBits64(sh, sl, n);
}

/**
 * Sequential reader of an XOR chunk. Reuse one instance via `reset(bytes)`. After `next()` returns
 * true, `t`, `vHi`, `vLo` hold the current sample. Every malformed input throws `chunk-corrupt`.
 */
export class XorIterator {
  private readonly _r = new BitReader();
  /** Samples announced by the header. */
  count = 0;
  /** Samples read so far. */
  read = 0;
  /** Timestamp of the first sample (valid once one sample was read). */
  firstT = 0;
  /** Current timestamp (ms). */
  t = 0;
  /** Previous timestamp delta. */
  tDelta = 0;
  /** Current value, high uint32 word. */
  vHi = 0;
  /** Current value, low uint32 word. */
  vLo = 0;
  /** Current leading-zero window (0xff: none yet). */
  leading = NO_WINDOW;
  /** Current trailing-zero window. */
  trailing = 0;

  /** Points the iterator at a chunk; throws `chunk-corrupt` if the header is missing. */
  reset(data: Uint8Array): void {
    if (data.length < 2) throw chunkCorrupt(`chunk of ${data.length} bytes has no header`);
    this.count = ((data[0] as number) << 8) | (data[1] as number);
    this._r.reset(data, 16);
    this.read = 0;
    this.firstT = 0;
    this.t = 0;
    this.tDelta = 0;
    this.vHi = 0;
    this.vLo = 0;
    this.leading = NO_WINDOW;
    this.trailing = 0;
  }

  /** Bit position right after the last sample read. */
  get bitPosition(): number {
    return this._r.position;
  }

  /** Advances to the next sample; false at the end of the chunk. */
  next(): boolean {
    if (this.read >= this.count) return false;
    const r = this._r;
    if (this.read === 0) {
      const t = r.readVarint();
      if (!Number.isSafeInteger(t)) throw chunkCorrupt('first timestamp out of range');
      this.t = t;
      this.firstT = t;
      this.vHi = r.readBits(32);
      this.vLo = r.readBits(32);
    } else {
      let delta: number;
      if (this.read === 1) {
        delta = r.readUvarint();
      } else {
        delta = this.tDelta + this._readDod();
      }
      const t = this.t + delta;
      if (delta <= 0 || !Number.isSafeInteger(t)) throw chunkCorrupt(`timestamps not increasing at sample ${this.read}`);
      this.t = t;
      this.tDelta = delta;
      this._readValue();
    }
    this.read++;
    return true;
  }

  private _readDod(): number {
    const r = this._r;
    if (r.readBit() === 0) return 0;
    if (r.readBit() === 0) return signExtend(r.readBits(14), 14);
    if (r.readBit() === 0) return signExtend(r.readBits(17), 17);
    if (r.readBit() === 0) return signExtend(r.readBits(20), 20);
    const hi = r.readBits(32) | 0;
    const lo = r.readBits(32);
    return hi * TWO_POW_32 + lo;
  }

  private _readValue(): void {
    const r = this._r;
    if (r.readBit() === 0) return; // same bits as previous
    if (r.readBit() === 1) {
      const leading = r.readBits(5);
      let sig = r.readBits(6);
      if (sig === 0) sig = 64;
      const trailing = 64 - leading - sig;
      if (trailing < 0) throw chunkCorrupt(`bad xor window at sample ${this.read}`);
      this.leading = leading;
      this.trailing = trailing;
    } else if (this.leading === NO_WINDOW) {
      throw chunkCorrupt(`xor window reused before being set at sample ${this.read}`);
    }
    const trailing = this.trailing;
    const sig = 64 - this.leading - trailing;
    let mhi = 0;
    let mlo: number;
    if (sig > 32) {
      mhi = r.readBits(sig - 32);
      mlo = r.readBits(32);
    } else {
      mlo = r.readBits(sig);
    }
    this.vHi = (this.vHi ^ shl64Hi(mhi, mlo, trailing)) >>> 0;
    this.vLo = (this.vLo ^ shl64Lo(mlo, trailing)) >>> 0;
  }
}

function signExtend(v: number, bits: number): number {
  const half = 2 ** (bits - 1);
  return v >= half ? v - 2 * half : v;
}

/** Number of samples in an XOR chunk, from its header; throws `chunk-corrupt` if there is none. */
export function xorChunkSampleCount(data: Uint8Array): number {
  if (data.length < 2) throw chunkCorrupt(`chunk of ${data.length} bytes has no header`);
  return ((data[0] as number) << 8) | (data[1] as number);
}

/**
 * Decodes every sample of an XOR chunk into `tsOut` / `valuesOut` starting at `outOffset`
 * (earlier elements are left untouched) and returns the number written. Values are written
 * bit-exact through a Uint32Array view of `valuesOut`. Throws `chunk-corrupt` on malformed data;
 * the outputs must have room for `xorChunkSampleCount(data)` samples after `outOffset`.
 */
export function decodeXorChunk(data: Uint8Array, tsOut: Float64Array, valuesOut: Float64Array, outOffset: number): number {
  const n = xorChunkSampleCount(data);
  if (outOffset < 0 || outOffset + n > tsOut.length || outOffset + n > valuesOut.length) {
    throw new InvariantError(`decodeXorChunk: output too small for ${n} samples at offset ${outOffset}`);
  }
  return decodeXorChunkRange(data, -Infinity, Infinity, tsOut, valuesOut, outOffset);
}

/**
 * Zero bytes after the chunk in the decode scratch buffer: more than one sample can read
 * (≤ 145 bits), so bounds are checked once per sample instead of once per field.
 */
const PAD_BYTES = 32;
/** Chunk bytes plus zero padding for the range decoder. */
const padded = new PaddedBits(PAD_BYTES);

/** Word view of the last output array (callers decode many chunks into one array in a row). */
let lastValues: Float64Array | null = null;
let lastWords: Uint32Array = new Uint32Array(0);
function wordsView(values: Float64Array): Uint32Array {
  if (values !== lastValues) {
    lastWords = new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
    lastValues = values;
  }
  return lastWords;
}

/** Reads an unsigned LEB128 varint (at most 8 bytes) at bit `pos`; the new position goes to `varintEnd`. */
let varintEnd = 0;
function readUvarintAt(buf: DataView, pos: number): number {
  let x = 0;
  let mul = 1;
  for (let i = 0; i < 8; i++) {
    const b = peek32(buf, pos) >>> 24;
    pos += 8;
    x += (b & 0x7f) * mul;
    if (b < 0x80) {
      varintEnd = pos;
      return x;
    }
    mul *= 0x80;
  }
  throw chunkCorrupt('varint too long');
}

/**
 * Decodes the samples of an XOR chunk with `startMs ≤ t ≤ endMs` into `tsOut` / `valuesOut` from
 * `outOffset` on and returns how many were written. Decoding stops at the first sample after
 * `endMs` (the rest of the chunk is not read); earlier samples are decoded but not stored. The
 * outputs must have room for every sample of the chunk in range. Values are copied bit-exact as
 * uint32 words. Throws `chunk-corrupt` on malformed data (as XorIterator does).
 *
 * Same format as XorIterator, read a 32-bit window at a time from a zero-padded copy of the chunk
 * instead of bit by bit: several times faster, which matters since queries decode every chunk.
 */
export function decodeXorChunkRange(data: Uint8Array, startMs: number, endMs: number, tsOut: Float64Array, valuesOut: Float64Array, outOffset: number): number {
  const count = xorChunkSampleCount(data);
  if (count === 0) return 0;
  const buf = padded.load(data);
  const limit = data.length * 8;
  const words = wordsView(valuesOut);
  let k = outOffset;
  const pos = readFirstSample(buf, limit);
  const t = firstT;
  const vHi = firstHi;
  const vLo = firstLo;
  if (t > endMs) return 0;
  if (t >= startMs) {
    tsOut[k] = t;
    words[2 * k] = vLo;
    words[2 * k + 1] = vHi;
    k++;
  }
  return decodeXorFrom(buf, limit, count, 1, pos, t, 0, vHi, vLo, NO_WINDOW, 0, startMs, endMs, tsOut, words, k) - outOffset;
}

/** Sample 0 of the chunk readFirstSample last read: time and value words. */
let firstT = 0;
let firstHi = 0;
let firstLo = 0;

/** Reads sample 0 (zigzag varint time, raw value) into firstT/firstHi/firstLo; returns the bit position after it. */
function readFirstSample(buf: DataView, limit: number): number {
  const z = readUvarintAt(buf, 16);
  const pos = varintEnd;
  firstT = z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  if (!Number.isSafeInteger(firstT)) throw chunkCorrupt('first timestamp out of range');
  firstHi = peek32(buf, pos) >>> 0;
  firstLo = peek32(buf, pos + 32) >>> 0;
  if (pos + 64 > limit) throw chunkCorrupt('unexpected end of data');
  return pos + 64;
}

/**
 * Where an XOR decoder stands after a sample: enough to go on decoding from there without the
 * bits before it (see XOR_RESUME in proto/storage/v1/storage.proto). `read` is the index of the
 * next sample, `bitPos` where it starts (header included).
 */
export interface XorResumePoint {
  readonly read: number;
  readonly bitPos: number;
  readonly t: number;
  readonly delta: number;
  readonly vHi: number;
  readonly vLo: number;
  readonly leading: number;
  readonly trailing: number;
}

/** The state decodeXorFrom stopped in (its last sample before `startMs` when it stored nothing). */
let stoppedAt: XorResumePoint = { read: 0, bitPos: 0, t: 0, delta: 0, vHi: 0, vLo: 0, leading: NO_WINDOW, trailing: 0 };
/** Time of the sample after `stoppedAt` (the first at or after `startMs`), or NaN when there is none. */
let stoppedBefore = NaN;

/**
 * The decode loop of samples `read`… of a chunk (`buf` zero-padded, `limit` its length in bits),
 * from the decoder state after sample `read − 1`. Stores samples with startMs ≤ t ≤ endMs at `k`…
 * and returns the next free index. Leaves in `stoppedAt` the state after the last sample before
 * `startMs` it passed (for a resume point).
 */
function decodeXorFrom(
  buf: DataView,
  limit: number,
  count: number,
  read: number,
  pos: number,
  t: number,
  delta: number,
  vHi: number,
  vLo: number,
  leading: number,
  trailing: number,
  startMs: number,
  endMs: number,
  tsOut: Float64Array | null,
  words: Uint32Array | null,
  k: number,
): number {
  // Only a resume-point search (no outputs) tracks the state before startMs: in locals, made into
  // one object at the end (not one per sample passed).
  const search = tsOut === null && t < startMs;
  let bRead = read;
  let bPos = pos;
  let bT = t;
  let bDelta = delta;
  let bHi = vHi;
  let bLo = vLo;
  let bLeading = leading;
  let bTrailing = trailing;
  for (; read < count; read++) {
    let d: number;
    if (read === 1) {
      d = readUvarintAt(buf, pos);
      pos = varintEnd;
    } else {
      // Delta-of-delta: '0' | '10'+14 | '110'+17 | '1110'+20 | '1111'+64 bits.
      const w = peek32(buf, pos);
      if (w >= 0) {
        d = delta;
        pos += 1;
      } else if ((w & 0x40000000) === 0) {
        d = delta + ((w << 2) >> 18);
        pos += 16;
      } else if ((w & 0x20000000) === 0) {
        d = delta + ((w << 3) >> 15);
        pos += 20;
      } else if ((w & 0x10000000) === 0) {
        d = delta + ((w << 4) >> 12);
        pos += 24;
      } else {
        const hi = peek32(buf, pos + 4);
        const lo = peek32(buf, pos + 36) >>> 0;
        d = delta + (hi * TWO_POW_32 + lo);
        pos += 68;
      }
    }
    t += d;
    if (d <= 0 || !Number.isSafeInteger(t)) throw chunkCorrupt(`timestamps not increasing at sample ${read}`);
    delta = d;
    // Value: '0' same | '10' + bits in the current window | '11' + 5-bit leading + 6-bit sig + bits.
    const c = peek32(buf, pos);
    if (c >= 0) {
      pos += 1;
    } else {
      if ((c & 0x40000000) !== 0) {
        leading = (c >>> 25) & 31;
        let sig = (c >>> 19) & 63;
        if (sig === 0) sig = 64;
        trailing = 64 - leading - sig;
        if (trailing < 0) throw chunkCorrupt(`bad xor window at sample ${read}`);
        pos += 13;
      } else {
        if (leading === NO_WINDOW) throw chunkCorrupt(`xor window reused before being set at sample ${read}`);
        pos += 2;
      }
      const sig = 64 - leading - trailing;
      const mhi = peekHi(buf, pos, sig);
      const mlo = peekLo(buf, pos, sig);
      pos += sig;
      vHi = (vHi ^ shl64Hi(mhi, mlo, trailing)) >>> 0;
      vLo = (vLo ^ shl64Lo(mlo, trailing)) >>> 0;
    }
    if (pos > limit) throw chunkCorrupt('unexpected end of data');
    if (t > endMs) break;
    if (t >= startMs) {
      if (tsOut === null) {
        stoppedBefore = t; // resume-point search: the state before startMs is known
        break;
      }
      tsOut[k] = t;
      (words as Uint32Array)[2 * k] = vLo;
      (words as Uint32Array)[2 * k + 1] = vHi;
      k++;
    } else if (search) {
      bRead = read + 1;
      bPos = pos;
      bT = t;
      bDelta = delta;
      bHi = vHi;
      bLo = vLo;
      bLeading = leading;
      bTrailing = trailing;
    }
  }
  if (search) stoppedAt = { read: bRead, bitPos: bPos, t: bT, delta: bDelta, vHi: bHi, vLo: bLo, leading: bLeading, trailing: bTrailing };
  return k;
}

/** Bytes of the decoder state in front of an XOR_RESUME chunk (the XOR chunk follows whole). */
export const XOR_RESUME_HEADER_BYTES = 40;

/**
 * The decoder state of `data` (an XOR chunk) after its last sample before `beforeMs`, or null
 * when its first sample is not before `beforeMs`. `from`, a point of the same chunk (a prefix of
 * the same head: appends never change earlier bits), saves decoding from the start when it is
 * itself before `beforeMs`.
 */
export function xorResumePoint(data: Uint8Array, beforeMs: number, from: XorResumePoint | null): XorResumePoint | null {
  stoppedBefore = NaN;
  const count = xorChunkSampleCount(data);
  if (count === 0) return null;
  const buf = padded.load(data);
  const limit = data.length * 8;
  if (from !== null && from.t < beforeMs && from.read <= count && from.bitPos <= limit) {
    stoppedAt = from;
    decodeXorFrom(buf, limit, count, from.read, from.bitPos, from.t, from.delta, from.vHi, from.vLo, from.leading, from.trailing, beforeMs, Infinity, null, null, 0);
    return stoppedAt;
  }
  const pos = readFirstSample(buf, limit);
  if (firstT >= beforeMs) return null;
  decodeXorFrom(buf, limit, count, 1, pos, firstT, 0, firstHi, firstLo, NO_WINDOW, 0, beforeMs, Infinity, null, null, 0);
  return stoppedAt;
}

/** Time of the first sample after the point the last xorResumePoint call returned; NaN when none. */
export function xorResumeNextTime(): number {
  return stoppedBefore;
}

/** Writes `p` as the XOR_RESUME header at `dest[at…]`; the XOR chunk goes right after it. */
export function writeXorResumeHeader(dest: Uint8Array, at: number, p: XorResumePoint): void {
  const v = new DataView(dest.buffer, dest.byteOffset + at, XOR_RESUME_HEADER_BYTES);
  v.setUint32(0, p.read, true);
  v.setUint32(4, p.bitPos, true);
  v.setFloat64(8, p.t, true);
  v.setFloat64(16, p.delta, true);
  v.setUint32(24, p.vHi, true);
  v.setUint32(28, p.vLo, true);
  v.setUint8(32, p.leading);
  v.setUint8(33, p.trailing);
  for (let i = 34; i < XOR_RESUME_HEADER_BYTES; i++) v.setUint8(i, 0);
}

/** The resume point and the XOR chunk of an XOR_RESUME chunk; throws `chunk-corrupt` when they do not fit together. */
function readXorResume(data: Uint8Array): { point: XorResumePoint; chunk: Uint8Array } {
  if (data.length < XOR_RESUME_HEADER_BYTES + 2) throw chunkCorrupt(`resume chunk of ${data.length} bytes is too short`);
  const v = new DataView(data.buffer, data.byteOffset, XOR_RESUME_HEADER_BYTES);
  const chunk = data.subarray(XOR_RESUME_HEADER_BYTES);
  const point: XorResumePoint = {
    read: v.getUint32(0, true),
    bitPos: v.getUint32(4, true),
    t: v.getFloat64(8, true),
    delta: v.getFloat64(16, true),
    vHi: v.getUint32(24, true),
    vLo: v.getUint32(28, true),
    leading: v.getUint8(32),
    trailing: v.getUint8(33),
  };
  const count = xorChunkSampleCount(chunk);
  const ok =
    point.read >= 1 &&
    point.read <= count &&
    point.bitPos >= 16 &&
    point.bitPos <= chunk.length * 8 &&
    Number.isSafeInteger(point.t) &&
    Number.isSafeInteger(point.delta) &&
    point.delta >= 0 &&
    (point.leading === NO_WINDOW || point.leading <= 31) &&
    point.trailing <= 64;
  if (!ok) throw chunkCorrupt('resume state does not fit its chunk');
  return { point, chunk };
}

/**
 * Samples an XOR_RESUME chunk holds (those after its resume point). Reads only the two counts
 * (it runs before every decode, which checks the whole state).
 */
export function xorResumeSampleCount(data: Uint8Array): number {
  if (data.length < XOR_RESUME_HEADER_BYTES + 2) throw chunkCorrupt(`resume chunk of ${data.length} bytes is too short`);
  const read = ((data[0] as number) | ((data[1] as number) << 8) | ((data[2] as number) << 16) | ((data[3] as number) << 24)) >>> 0;
  const count = ((data[XOR_RESUME_HEADER_BYTES] as number) << 8) | (data[XOR_RESUME_HEADER_BYTES + 1] as number);
  if (read < 1 || read > count) throw chunkCorrupt('resume state does not fit its chunk');
  return count - read;
}

/** decodeXorChunkRange for an XOR_RESUME chunk: decodes from its resume point on. */
export function decodeXorResumeRange(data: Uint8Array, startMs: number, endMs: number, tsOut: Float64Array, valuesOut: Float64Array, outOffset: number): number {
  const { point: p, chunk } = readXorResume(data);
  const buf = padded.load(chunk);
  const words = wordsView(valuesOut);
  const count = xorChunkSampleCount(chunk);
  return decodeXorFrom(buf, chunk.length * 8, count, p.read, p.bitPos, p.t, p.delta, p.vHi, p.vLo, p.leading, p.trailing, startMs, endMs, tsOut, words, outOffset) - outOffset;
}
