/**
 * Low-level protobuf wire writing shared by the hand-written codecs (storage/write-codec.ts,
 * storage/select-codec.ts, and ingest/series-key.ts for its label keys). The codecs all work in two passes: pass 1 sizes the message with
 * `varintSize`/`utf8Length`/`lenFieldSize`, pass 2 writes it with a `WireWriter` into one
 * exact-size Buffer, and `finishWire` checks the two passes agree. No operation object per field,
 * no growing buffer, no final copy (protobufjs's Writer does all three).
 */
import { InvariantError } from '../common/errors.js';

const TWO_32 = 4294967296;

/** Bytes of the varint of a non-negative integer `v` (any size up to 2^64). */
export function varintSize(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  let n = 5;
  for (let x = Math.floor(v / 0x800000000); x > 0; x = Math.floor(x / 128)) n++;
  return n;
}

/** UTF-8 length of `s`; pure ASCII (every label in practice) without a native call. */
export function utf8Length(s: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, 'utf8');
  return n;
}

/** Writes the varint of `v` (a non-negative safe integer) at `off` of `buf`; returns the offset after it. */
export function putUvarint(buf: Uint8Array, off: number, v: number): number {
  while (v >= TWO_32) {
    buf[off++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  while (v >= 0x80) {
    buf[off++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[off++] = v;
  return off;
}

/** Size of a length-delimited field with a 1-byte tag and `len` bytes of content. */
export function lenFieldSize(len: number): number {
  return 1 + varintSize(len) + len;
}

/** Cursor over the output buffer of pass 2. */
export class WireWriter {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  /** A varint of a non-negative integer below 2^64 (exact up to 2^53, beyond as exact as the double). */
  varint(v: number): void {
    if (v >= TWO_32) {
      // Split into 32-bit words (both exact) so the loop runs on int32 arithmetic.
      const lo = v >>> 0;
      this.varint64(lo, (v - lo) / TWO_32);
      return;
    }
    const buf = this.buf;
    while (v >= 0x80) {
      buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[this.pos++] = v;
  }

  /**
   * The varint of a signed integer `v` in [-2^63, 2^63) (int64, int32, enum): negative ones as the
   * 10-byte two's complement over 64 bits, as proto requires.
   */
  int64(v: number): void {
    if (v >= 0) return this.varint(v);
    // Two's complement of |v| as two 32-bit words: invert, add one with carry.
    const a = -v;
    const alo = a >>> 0;
    let lo = ~alo >>> 0;
    let hi = ~((a - alo) / TWO_32) >>> 0;
    lo = (lo + 1) >>> 0;
    if (lo === 0) hi = (hi + 1) >>> 0;
    this.varint64(lo, hi);
  }

  /** The varint of the 64-bit value `hi · 2^32 + lo` (both uint32). */
  varint64(lo: number, hi: number): void {
    const buf = this.buf;
    let p = this.pos;
    while (hi !== 0) {
      buf[p++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    while (lo >= 0x80) {
      buf[p++] = (lo & 0x7f) | 0x80;
      lo >>>= 7;
    }
    buf[p++] = lo;
    this.pos = p;
  }

  /** A string of `len` UTF-8 bytes (`len === s.length` means ASCII). */
  string(s: string, len: number): void {
    this.varint(len);
    if (len === s.length && len <= 32) {
      // Short ASCII: a byte loop beats the native write's call overhead.
      const buf = this.buf;
      let p = this.pos;
      for (let i = 0; i < len; i++) buf[p++] = s.charCodeAt(i);
      this.pos = p;
    } else this.pos += this.buf.write(s, this.pos, len, len === s.length ? 'latin1' : 'utf8');
  }

  /** A bytes field's length and content (the only copy of the content). */
  bytes(b: Uint8Array): void {
    this.varint(b.byteLength);
    this.buf.set(b, this.pos);
    this.pos += b.byteLength;
  }

  /** A packed field; the hot loop, so the cursor lives in a local and the varint is inline. */
  packed(tag: number, list: readonly number[], size: number): void {
    if (list.length === 0) return;
    this.buf[this.pos++] = tag;
    this.varint(size);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < list.length; i++) {
      const v = list[i] as number;
      if (v < 0x80) buf[p++] = v;
      else p = putUvarint(buf, p, v);
    }
    this.pos = p;
  }
}

/** The written buffer, after checking pass 2 wrote exactly the `size` pass 1 computed. */
export function finishWire(w: WireWriter, size: number, what: string): Buffer {
  if (w.pos !== size) throw new InvariantError(`${what} wrote ${w.pos} bytes, sized ${size}`);
  return w.buf;
}
