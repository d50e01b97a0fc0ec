import { AppError, ErrorKind } from '../../common/errors.js';

/** Error code for chunk bytes that cannot be decoded (truncated, bad header, impossible fields). */
export const CHUNK_CORRUPT = 'chunk-corrupt';

/** Builds the `chunk-corrupt` AppError (kind internal: stored data is damaged, not the caller's input). */
export function chunkCorrupt(detail: string): AppError {
  return new AppError(ErrorKind.Internal, CHUNK_CORRUPT, `chunk corrupt: ${detail} [err-${CHUNK_CORRUPT}]`);
}

/**
 * Appends bits, most significant first, to a growable byte buffer.
 * Invariant: every bit at or after `bitLength` is zero, so writes can OR into the last byte.
 */
export class BitWriter {
  private _buf: Uint8Array;
  private _bitLen: number;

  constructor(initialBytes = 32) {
    this._buf = new Uint8Array(Math.max(1, initialBytes));
    this._bitLen = 0;
  }

  /** Number of bits written so far. */
  get bitLength(): number {
    return this._bitLen;
  }

  /** Number of bytes holding the written bits (the last one possibly partial, zero-padded). */
  get byteLength(): number {
    return (this._bitLen + 7) >>> 3;
  }

  /**
   * Replaces the content with the first `bitLen` bits of `data` (copied) so writing continues
   * right after them; padding bits beyond `bitLen` are cleared.
   */
  resetFrom(data: Uint8Array, bitLen: number): void {
    const bytes = (bitLen + 7) >>> 3;
    const buf = new Uint8Array(Math.max(32, bytes * 2));
    buf.set(data.subarray(0, bytes));
    const rem = bitLen & 7;
    if (rem !== 0) buf[bytes - 1] = (buf[bytes - 1] as number) & (0xff << (8 - rem));
    this._buf = buf;
    this._bitLen = bitLen;
  }

  /** Overwrites byte `i` (already written) — used for the sample-count header. */
  setByte(i: number, v: number): void {
    this._buf[i] = v;
  }

  /** Writes one bit (0 or 1). */
  writeBit(bit: number): void {
    const byteIdx = this._bitLen >>> 3;
    if (byteIdx >= this._buf.length) this._grow(byteIdx + 1);
    if (bit !== 0) this._buf[byteIdx] = (this._buf[byteIdx] as number) | (0x80 >>> (this._bitLen & 7));
    this._bitLen++;
  }

  /** Writes the low `n` bits of `v` (0 ≤ n ≤ 32), most significant first. */
  writeBits(v: number, n: number): void {
    if (n === 0) return;
    const lastByte = (this._bitLen + n - 1) >>> 3;
    if (lastByte >= this._buf.length) this._grow(lastByte + 1);
    const buf = this._buf;
    while (n > 0) {
      const byteIdx = this._bitLen >>> 3;
      const free = 8 - (this._bitLen & 7);
      const take = free < n ? free : n;
      const bits = (v >>> (n - take)) & ((1 << take) - 1);
      buf[byteIdx] = (buf[byteIdx] as number) | (bits << (free - take));
      this._bitLen += take;
      n -= take;
    }
  }

  /** Writes the low `n` bits (0 ≤ n ≤ 64) of the 64-bit value `hi:lo`. */
  writeBits64(hi: number, lo: number, n: number): void {
    if (n > 32) {
      this.writeBits(hi, n - 32);
      this.writeBits(lo, 32);
    } else {
      this.writeBits(lo, n);
    }
  }

  /** Writes a byte-aligned-or-not unsigned LEB128 varint of a non-negative safe integer. */
  writeUvarint(x: number): void {
    // Division instead of shifts: values may exceed 32 bits.
    while (x >= 0x80) {
      this.writeBits((x % 0x80) | 0x80, 8);
      x = Math.floor(x / 0x80);
    }
    this.writeBits(x, 8);
  }

  /** Writes a zigzag-encoded signed varint of a safe integer. */
  writeVarint(x: number): void {
    this.writeUvarint(x >= 0 ? x * 2 : -x * 2 - 1);
  }

  /** A copy of the written bytes (zero-padded last byte). */
  bytes(): Uint8Array {
    return this._buf.slice(0, this.byteLength);
  }

  private _grow(minBytes: number): void {
    let cap = this._buf.length * 2;
    while (cap < minBytes) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this._buf);
    this._buf = next;
  }
}

/**
 * Reads bits, most significant first, from a byte array. Every read is bounds-checked and throws
 * `chunk-corrupt` past the end, so malformed input can neither hang nor read out of bounds.
 * `reset` lets one reader be reused across chunks.
 */
export class BitReader {
  private _buf: Uint8Array;
  private _pos: number;
  private _limit: number;

  constructor(data: Uint8Array = new Uint8Array(0), startBit = 0) {
    this._buf = data;
    this._pos = startBit;
    this._limit = data.length * 8;
  }

  /** Points the reader at `data`, starting at bit `startBit`. */
  reset(data: Uint8Array, startBit: number): void {
    this._buf = data;
    this._pos = startBit;
    this._limit = data.length * 8;
  }

  /** Bit position of the next read. */
  get position(): number {
    return this._pos;
  }

  /** Reads one bit. */
  readBit(): number {
    if (this._pos >= this._limit) throw chunkCorrupt('unexpected end of data');
    const b = ((this._buf[this._pos >>> 3] as number) >>> (7 - (this._pos & 7))) & 1;
    this._pos++;
    return b;
  }

  /** Reads `n` bits (0 ≤ n ≤ 32) as an unsigned number. */
  readBits(n: number): number {
    if (this._pos + n > this._limit) throw chunkCorrupt('unexpected end of data');
    let v = 0;
    const buf = this._buf;
    while (n > 0) {
      const avail = 8 - (this._pos & 7);
      const take = avail < n ? avail : n;
      const bits = ((buf[this._pos >>> 3] as number) >>> (avail - take)) & ((1 << take) - 1);
      // Multiply instead of `<<`: keeps 32-bit results unsigned.
      v = v * (1 << take) + bits;
      this._pos += take;
      n -= take;
    }
    return v;
  }

  /** Reads an unsigned LEB128 varint (at most 8 bytes, i.e. below 2^56; enough for ms timestamps). */
  readUvarint(): number {
    let x = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.readBits(8);
      x += (b & 0x7f) * mul;
      if (b < 0x80) return x;
      mul *= 0x80;
    }
    throw chunkCorrupt('varint too long');
  }

  /** Reads a zigzag-encoded signed varint. */
  readVarint(): number {
    const z = this.readUvarint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }
}

/**
 * A zero-padded copy of a chunk for fast decoders: reads whole 32-bit words at any bit position
 * without a bounds check per field (the padding absorbs reads past the last byte; callers check
 * bounds once per sample or block). Each codec keeps one instance: decoding is synchronous.
 */
export class PaddedBits {
  private _buf: Uint8Array;
  private _view: DataView;

  constructor(private readonly _padBytes: number) {
    this._buf = new Uint8Array(4096);
    this._view = new DataView(this._buf.buffer);
  }

  /** Copies `data` in (zero padding after it) and returns the view to read with `peek32`. */
  load(data: Uint8Array): DataView {
    const len = data.length;
    if (this._buf.length < len + this._padBytes) {
      this._buf = new Uint8Array(Math.max(len + this._padBytes, this._buf.length * 2));
      this._view = new DataView(this._buf.buffer);
    }
    this._buf.set(data);
    this._buf.fill(0, len, len + this._padBytes);
    return this._view;
  }
}

/**
 * High and low word of the 64-bit value hi:lo shifted left by `n` (0 ≤ n < 64): how the XOR codecs
 * put a value's meaningful bits back above its trailing zeros. Two functions rather than one
 * returning a pair, so the hot decode loops allocate nothing (V8 inlines both).
 */
export function shl64Hi(hi: number, lo: number, n: number): number {
  if (n === 0) return hi;
  return n < 32 ? (hi << n) | (lo >>> (32 - n)) : lo << (n - 32);
}

/** Low word of hi:lo << n (see shl64Hi). */
export function shl64Lo(lo: number, n: number): number {
  if (n === 0) return lo;
  return n < 32 ? lo << n : 0;
}

/** High word of the `n` bits (1 ≤ n ≤ 64) starting at bit `pos` of a padded view, as an unsigned number. */
export function peekHi(dv: DataView, pos: number, n: number): number {
  return n > 32 ? peek32(dv, pos) >>> (64 - n) : 0;
}

/** Low word of the `n` bits (1 ≤ n ≤ 64) starting at bit `pos` of a padded view (see peekHi). */
export function peekLo(dv: DataView, pos: number, n: number): number {
  return n > 32 ? peek32(dv, pos + n - 32) >>> 0 : peek32(dv, pos) >>> (32 - n);
}

/** The 32 bits starting at bit `pos` of a padded view, MSB first, as an int32 (`>>> 0` for unsigned). */
export function peek32(dv: DataView, pos: number): number {
  const b = pos >>> 3;
  const s = pos & 7;
  const w = dv.getInt32(b);
  return s === 0 ? w : (w << s) | (dv.getUint8(b + 4) >>> (8 - s));
}
