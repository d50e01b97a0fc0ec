/**
 * Snappy *block* format decompressor (the remote-write body encoding), written for speed and for
 * hostile input. snappyjs copies one byte per loop iteration through a helper call and trusts the
 * stream (a short one leaves a zero-filled tail, a long one is cut silently); this decoder copies
 * long runs with the engine's memmove (`set` / `copyWithin`) and checks every element, so it
 * either returns exactly the announced number of bytes or throws `bad-snappy`.
 *
 * Format: a varint preamble with the decompressed length, then elements whose tag byte's low two
 * bits give the kind: 0 literal (length in the tag, or in 1–4 following bytes), 1 copy with an
 * 11-bit offset and length 4–11, 2 copy with a 16-bit offset, 3 copy with a 32-bit offset (both
 * length 1–64). Copies reference the output already written; offset < length means the source
 * overlaps the destination and repeats the last `offset` bytes (run-length encoding).
 */
import { AppError, ErrorKind } from '../common/errors.js';

/** The `bad-snappy` error (400): the body is not a valid snappy block. */
function badSnappy(message: string): AppError {
  return new AppError(ErrorKind.BadData, 'bad-snappy', `invalid snappy body: ${message} [err-bad-snappy]`);
}

/**
 * Most output one input byte can yield: a 3-byte copy-2 element writes at most 64 bytes. An
 * announced length above `MAX_EXPANSION × body bytes` cannot be real, so it is refused before
 * allocating (a 10-byte body cannot make us allocate 4 GiB).
 */
const MAX_EXPANSION = 64 / 3;

/**
 * Runs are copied 4 bytes at a time through DataViews (int32 loads/stores: far fewer loop trips
 * than a byte loop, and integers carry any bit pattern unchanged), except long ones, which go to
 * the engine's memmove: `copyWithin` for back-references, `set` for literals (`set` costs more as
 * it needs a `subarray` view object). Thresholds picked with ingest/snappy.bench.ts.
 */
const LITERAL_SET_MIN = 128;
const COPY_WITHIN_MIN = 32;

/**
 * Reads the snappy block preamble: the decompressed length as a little-endian base-128 varint
 * of at most 5 bytes (≤ 2^32 − 1). Returns `[length, preambleBytes]`.
 */
export function snappyDecodedLength(block: Uint8Array): [number, number] {
  let result = 0;
  for (let i = 0; i < 5 && i < block.length; i++) {
    const b = block[i] as number;
    result += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) {
      if (result > 0xffffffff) break;
      return [result, i + 1];
    }
  }
  throw badSnappy('bad length preamble');
}

/**
 * Decodes the elements of `block` from byte `start` (just after the preamble) into a new
 * Uint8Array of exactly `length` bytes. The caller reads the preamble with snappyDecodedLength and
 * applies its own size limit first. Throws `bad-snappy` on any malformed or inconsistent input.
 * Literal lengths and offsets ≥ 2^31 are refused too (valid in the format, but far past any body
 * or output we would accept).
 */
export function decodeSnappyElements(block: Uint8Array, start: number, length: number): Uint8Array {
  const n = block.length;
  if (length > (n - start) * MAX_EXPANSION) throw badSnappy(`${n - start} bytes of elements cannot decode to the announced ${length} bytes`);
  const out = new Uint8Array(length);
  const outView = new DataView(out.buffer);
  const inView = new DataView(block.buffer, block.byteOffset, block.byteLength);
  let pos = start;
  let op = 0;
  while (pos < n) {
    const tag = block[pos++] as number;
    let len: number;
    if ((tag & 3) === 0) {
      len = (tag >>> 2) + 1;
      if (len > 60) {
        // Tags 60–63: the length − 1 follows in 1–4 little-endian bytes. Int32 math keeps `len` a
        // small integer for the optimizer; a 4-byte value ≥ 2^31 turns negative and is refused.
        const extra = len - 60;
        if (pos + extra > n) throw badSnappy('truncated literal length');
        len = block[pos] as number;
        if (extra > 1) len |= (block[pos + 1] as number) << 8;
        if (extra > 2) len |= (block[pos + 2] as number) << 16;
        if (extra > 3) len |= (block[pos + 3] as number) << 24;
        len += 1;
        pos += extra;
      }
      if (len <= 0 || len > n - pos) throw badSnappy('literal runs past the end of the body');
      if (len > length - op) throw badSnappy(`stream decodes to more than the announced ${length} bytes`);
      if (len >= LITERAL_SET_MIN) {
        out.set(block.subarray(pos, pos + len), op);
      } else {
        let k = 0;
        for (; k + 4 <= len; k += 4) outView.setInt32(op + k, inView.getInt32(pos + k, true), true);
        for (; k < len; k++) out[op + k] = block[pos + k] as number;
      }
      pos += len;
      op += len;
      continue;
    }
    let offset: number;
    if ((tag & 3) === 1) {
      if (pos + 1 > n) throw badSnappy('truncated copy');
      len = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | (block[pos] as number);
      pos += 1;
    } else if ((tag & 3) === 2) {
      if (pos + 2 > n) throw badSnappy('truncated copy');
      len = (tag >>> 2) + 1;
      offset = (block[pos] as number) | ((block[pos + 1] as number) << 8);
      pos += 2;
    } else {
      if (pos + 4 > n) throw badSnappy('truncated copy');
      len = (tag >>> 2) + 1;
      // An offset ≥ 2^31 comes out negative (int32 math, see above) and is refused as out of range.
      offset = (block[pos] as number) | ((block[pos + 1] as number) << 8) | ((block[pos + 2] as number) << 16) | ((block[pos + 3] as number) << 24);
      pos += 4;
    }
    if (offset <= 0 || offset > op) throw badSnappy('copy offset out of range');
    if (len > length - op) throw badSnappy(`stream decodes to more than the announced ${length} bytes`);
    const from = op - offset;
    if (offset >= len && len >= COPY_WITHIN_MIN) {
      out.copyWithin(op, from, from + len);
    } else {
      // Forward copy. When the ranges overlap (offset < len) it re-reads bytes it has just written,
      // which is the format's repeat-the-last-`offset`-bytes meaning (copyWithin is a memmove and
      // would not do that). A 4-byte step only reads finished bytes when offset ≥ 4.
      let k = 0;
      if (offset >= 4) for (; k + 4 <= len; k += 4) outView.setInt32(op + k, outView.getInt32(from + k, true), true);
      for (; k < len; k++) out[op + k] = out[from + k] as number;
    }
    op += len;
  }
  if (op !== length) throw badSnappy(`stream decodes to ${op} bytes, preamble announced ${length}`);
  return out;
}

/** Decompresses a whole snappy block (no size limit beyond the format's own 2^32 − 1). */
export function snappyUncompress(block: Uint8Array): Uint8Array {
  const [length, preamble] = snappyDecodedLength(block);
  return decodeSnappyElements(block, preamble, length);
}
