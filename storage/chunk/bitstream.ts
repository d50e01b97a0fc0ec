import { AppError, ErrorKind } from '../../common/errors.js';
import { MAX_REGION_BYTES, type ByteArena } from './byte-arena.js';

/** Error code for chunk bytes that cannot be decoded (truncated, bad header, impossible fields). */
export const CHUNK_CORRUPT = 'chunk-corrupt';

/** Builds the `chunk-corrupt` AppError (kind internal: stored data is damaged, not the caller's input). */
export function chunkCorrupt(detail: string): AppError {
  return new AppError(ErrorKind.Internal, CHUNK_CORRUPT, `chunk corrupt: ${detail} [err-${CHUNK_CORRUPT}]`);
}

/** Typed arrays up to this size live inside V8's heap (no separate buffer) until a view of them is made. */
const IN_HEAP_BYTES = 64;

/** An empty buffer for released writers. */
const NO_BYTES = new Uint8Array(0);

/**
 * Appends bits, most significant first, to a growable byte buffer: an array of its own, or a
 * region of a ByteArena page (many small writers, such as every series' head chunk, then share
 * pages instead of each paying for a typed array).
 * Bits gather in a 32-bit accumulator and reach the buffer four bytes at a time: writing a chunk
 * is the hot path of every ingested sample, and a byte-at-a-time loop cost about twice as much.
 * Invariant: `_buf[_base, _base + _flushed)` holds the first `8 × _flushed` bits; the low
 * `_accBits` (< 32) bits of `_acc` are the bits after them; `_cap` bytes from `_base` are ours.
 */
export class BitWriter {
  private _buf: Uint8Array;
  private _base = 0;
  private _cap: number;
  /** Page number of our region in `_arena`; -1 when `_buf` is our own array. */
  private _page = -1;
  private _flushed = 0;
  private _acc = 0;
  private _accBits = 0;

  /**
   * `initialBytes`: expected final size (a good guess saves regrowing the buffer). `arena`: where
   * to take the buffer from (small buffers only; larger ones still get their own array).
   */
  constructor(
    initialBytes = 32,
    private readonly _arena: ByteArena | null = null,
  ) {
    this._buf = NO_BYTES;
    this._cap = 0;
    this._reserve(Math.max(8, initialBytes));
  }

  /** Number of bits written so far. */
  get bitLength(): number {
    return this._flushed * 8 + this._accBits;
  }

  /** Number of bytes holding the written bits (the last one possibly partial, zero-padded). */
  get byteLength(): number {
    return (this.bitLength + 7) >>> 3;
  }

  /**
   * Replaces the content with the first `bitLen` bits of `data` (copied) so writing continues
   * right after them; padding bits beyond `bitLen` are dropped.
   */
  resetFrom(data: Uint8Array, bitLen: number): void {
    const whole = bitLen >>> 3;
    const rem = bitLen & 7;
    this.release();
    this._reserve(Math.max(32, whole * 2));
    this._buf.set(data.subarray(0, whole), this._base);
    this._flushed = whole;
    this._acc = rem === 0 ? 0 : (data[whole] as number) >>> (8 - rem);
    this._accBits = rem;
  }

  /** Writes one bit (0 or 1). */
  writeBit(bit: number): void {
    if (this._accBits < 31) {
      this._acc = (this._acc << 1) | (bit & 1);
      this._accBits++;
    } else {
      this.writeBits(bit, 1);
    }
  }

  /** Writes the low `n` bits of `v` (0 ≤ n ≤ 32), most significant first; higher bits of `v` are ignored. */
  writeBits(v: number, n: number): void {
    if (n === 0) return;
    const free = 32 - this._accBits;
    if (n < free) {
      this._acc = (this._acc << n) | (v & ((1 << n) - 1));
      this._accBits += n;
      return;
    }
    // Fill the accumulator to 32 bits, store it, keep the remaining `rest` (< 32) bits of v.
    const rest = n - free;
    const word = free === 32 ? v : (this._acc << free) | ((v >>> rest) & ((1 << free) - 1));
    this._store32(word);
    this._acc = rest === 0 ? 0 : v & ((1 << rest) - 1);
    this._accBits = rest;
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
    // slice, not set(subarray(…)): a subarray of a small typed array (≤ 64 bytes, which V8 keeps
    // inside the JS heap) moves its bytes to a separate off-heap buffer, ~200 bytes more per head.
    const len = this.byteLength;
    if (len > this._cap) this._grow(len);
    const out = this._buf.slice(this._base, this._base + len);
    this._tailInto(out);
    return out;
  }

  /**
   * Copies the written bytes (zero-padded last byte) into `dest` at `at` and returns that part of
   * `dest` (a view): many writers' bytes in one buffer cost one allocation instead of one each.
   * `dest` must have `byteLength` bytes of room at `at`.
   */
  bytesInto(dest: Uint8Array, at: number): Uint8Array {
    const len = this.byteLength;
    const src = this._buf;
    const from = this._base;
    // A small own array lives in the JS heap, where a subarray would move its bytes out (see bytes()).
    if (this._page >= 0 && len > 64) dest.set(src.subarray(from, from + this._flushed), at);
    else for (let i = 0; i < this._flushed; i++) dest[at + i] = src[from + i] as number;
    const out = dest.subarray(at, at + len);
    this._tailInto(out);
    return out;
  }

  /**
   * The written bytes, for a writer that is done (no more writes): for a writer with its own
   * array, that array itself when its unused room is small, else a copy, so a finished chunk does
   * not pin much spare memory. An arena writer's region goes back to the arena.
   */
  finish(): Uint8Array {
    if (this._page >= 0) {
      const out = this.bytes();
      this.release();
      return out;
    }
    const len = this.byteLength;
    if (this._buf.length <= IN_HEAP_BYTES || len + (len >>> 2) < this._buf.length) return this.bytes();
    if (len > this._cap) this._grow(len);
    this._tailInto(this._buf);
    return this._buf.subarray(0, len);
  }

  /** Gives an arena region back (the writer holds no bytes afterwards); a no-op for own arrays. */
  release(): void {
    if (this._page >= 0) (this._arena as ByteArena).free(this._page, this._base, this._cap);
    this._buf = NO_BYTES;
    this._page = -1;
    this._base = 0;
    this._cap = 0;
  }

  /** Writes the accumulator's bits, left-aligned and zero-padded, after the first `_flushed` bytes of `out` (a whole-chunk copy). */
  private _tailInto(out: Uint8Array): void {
    const n = this._accBits;
    if (n === 0) return;
    const left = this._acc << (32 - n);
    let at = this._flushed;
    for (let shift = 24, bits = n; bits > 0; shift -= 8, bits -= 8) out[at++] = (left >>> shift) & 0xff;
  }

  private _store32(word: number): void {
    const at = this._flushed;
    if (at + 4 > this._cap) this._grow(at + 4);
    const buf = this._buf;
    const p = this._base + at;
    buf[p] = word >>> 24;
    buf[p + 1] = (word >>> 16) & 0xff;
    buf[p + 2] = (word >>> 8) & 0xff;
    buf[p + 3] = word & 0xff;
    this._flushed = at + 4;
  }

  /** Takes a fresh buffer of at least `bytes` (contents undefined; the caller copies what it keeps). */
  private _reserve(bytes: number): void {
    const arena = this._arena;
    if (arena !== null && bytes <= MAX_REGION_BYTES) {
      this._cap = arena.alloc(bytes);
      this._page = arena.allocPage;
      this._base = arena.allocOffset;
      this._buf = arena.pages[this._page] as Uint8Array;
    } else {
      this._buf = new Uint8Array(bytes);
      this._cap = bytes;
      this._page = -1;
      this._base = 0;
    }
  }

  private _grow(minBytes: number): void {
    let cap = Math.max(8, this._cap * 2);
    while (cap < minBytes) cap *= 2;
    const old = this._buf;
    const oldBase = this._base;
    const oldPage = this._page;
    const oldCap = this._cap;
    this._reserve(cap);
    if (oldPage < 0 && this._page < 0) this._buf.set(old);
    else this._buf.set(old.subarray(oldBase, oldBase + this._flushed), this._base);
    if (oldPage >= 0) (this._arena as ByteArena).free(oldPage, oldBase, oldCap);
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
