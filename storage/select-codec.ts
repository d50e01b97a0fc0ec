/**
 * Hand-written encoder of `SelectResponse` (proto/storage/v1/storage.proto), the message the
 * storage server streams for every query, used instead of protobufjs reflection: protobufjs's
 * writer builds an operation object per field (several per label and chunk), writes label strings
 * through a generic UTF-8 routine and copies everything once more in `finish()`. Here pass 1 sizes
 * the message, pass 2 writes it into one exact-size Buffer (proto/wire-writer.ts).
 * ```
 * SelectResponse  1 SelectedSeries (len, repeated)
 * SelectedSeries  1 Label (len, repeated: 1 name, 2 value)  2 Chunk (len, repeated)
 * Chunk           1 min_time_ms (int64)  2 max_time_ms (int64)  3 encoding (enum)  4 data (len)
 * ```
 * Output is proto3-canonical (ascending field numbers, defaults 0/''/empty left out): the bytes
 * protobufjs writes for the same message with its default fields absent.
 *
 * The server encodes straight from the backend's series (flat labels, `encodeSelectedSeries`), so
 * it builds no `Label` objects either. Series come sorted by labels and the backend interns label
 * strings, so most labels are the very strings of the previous series at the same position: their
 * UTF-8 length is taken from it and their bytes copied from it instead of measured and written
 * again.
 *
 * int64 times are JS numbers: any integer in [-2^63, 2^63) is written exactly (negative ones as
 * 10-byte two's-complement varints); anything else (fractional, NaN, out of range) throws internal
 * `storage-encode-out-of-range` instead of being wrapped as protobufjs does.
 */
import { AppError, ErrorKind } from '../common/errors.js';
import type { ChunkMsg, SelectResponseMsg } from '../proto/index.js';
import { finishWire, lenFieldSize, utf8Length, varintSize, WireWriter } from '../proto/wire-writer.js';

/** One series to encode: labels flat (name, value, …), as storage/backend's `SelectedSeries`. */
export interface FlatSelectedSeries {
  readonly labels: readonly string[];
  readonly chunks: readonly ChunkMsg[];
}

const TWO_63 = 2 ** 63;
const NO_LABELS: readonly string[] = [];

/** A value the field cannot carry exactly: a bug of the caller, reported rather than wrapped. */
function encodeError(detail: string): AppError {
  return new AppError(ErrorKind.Internal, 'storage-encode-out-of-range', `cannot encode SelectResponse: ${detail}`);
}

/** Size of a signed integer field (int64, enum) with a 1-byte tag; 0 for the default 0, left out. */
function intFieldSize(v: number, field: string, max: number): number {
  if (v === 0) return 0;
  if (!Number.isInteger(v) || v < -max || v >= max) throw encodeError(`${field} = ${v} is out of range`);
  return 1 + (v < 0 ? 10 : varintSize(v));
}

/** Size of a chunk's content (without its own tag and length); checks its numbers. */
function chunkSize(c: ChunkMsg): number {
  const len = c.data.byteLength;
  return (
    intFieldSize(c.minTimeMs, 'min_time_ms', TWO_63) +
    intFieldSize(c.maxTimeMs, 'max_time_ms', TWO_63) +
    intFieldSize(c.encoding, 'encoding', 2 ** 31) +
    (len === 0 ? 0 : lenFieldSize(len))
  );
}

/** Size of a string field of `len` UTF-8 bytes; 0 for '', left out. */
function strFieldSize(len: number): number {
  return len === 0 ? 0 : lenFieldSize(len);
}

/** Writes a signed integer field (int64, enum) unless it is the default 0; pass 1 checked it. */
function writeInt(w: WireWriter, tag: number, v: number): void {
  if (v === 0) return;
  w.buf[w.pos++] = tag;
  w.int64(v);
}

// Growable scratch, one slot per label string of the message: its UTF-8 length (pass 1) and, at a
// pair's name slot, where its Label field starts in the output (pass 2). Plus each series' size.
let strLens = new Int32Array(8192);
let labelPos = new Int32Array(8192);
let seriesLens = new Int32Array(1024);

/**
 * Encodes `series[start, end)` as one `SelectResponse` into an exact-size Buffer. Throws internal
 * `storage-encode-out-of-range` for a time or encoding the wire type cannot carry exactly.
 */
export function encodeSelectedSeries(series: readonly FlatSelectedSeries[], start = 0, end = series.length): Buffer {
  const n = end - start;
  if (seriesLens.length < n) seriesLens = new Int32Array(n * 2);
  let strings = 0;
  for (let i = start; i < end; i++) strings += (series[i] as FlatSelectedSeries).labels.length;
  if (strLens.length < strings) {
    strLens = new Int32Array(strings * 2);
    labelPos = new Int32Array(strings * 2);
  }
  const lens = strLens;
  const sLens = seriesLens;

  // Pass 1: sizes. `k` is the first string slot of the series, `kp` that of the previous one.
  let size = 0;
  let prev = NO_LABELS;
  for (let i = start, k = 0, kp = 0; i < end; i++) {
    const s = series[i] as FlatSelectedSeries;
    const labels = s.labels;
    let sSize = 0;
    for (let j = 0; j < labels.length; j += 2) {
      const name = labels[j] as string;
      const value = labels[j + 1] as string;
      const nl = j < prev.length && name === prev[j] ? (lens[kp + j] as number) : utf8Length(name);
      const vl = j + 1 < prev.length && value === prev[j + 1] ? (lens[kp + j + 1] as number) : utf8Length(value);
      lens[k + j] = nl;
      lens[k + j + 1] = vl;
      sSize += lenFieldSize(strFieldSize(nl) + strFieldSize(vl));
    }
    for (let j = 0; j < s.chunks.length; j++) sSize += lenFieldSize(chunkSize(s.chunks[j] as ChunkMsg));
    sLens[i - start] = sSize;
    size += lenFieldSize(sSize);
    prev = labels;
    kp = k;
    k += labels.length;
  }

  // Pass 2: bytes.
  const w = new WireWriter(Buffer.allocUnsafe(size));
  const buf = w.buf;
  const pos = labelPos;
  prev = NO_LABELS;
  for (let i = start, k = 0, kp = 0; i < end; i++) {
    const s = series[i] as FlatSelectedSeries;
    buf[w.pos++] = 0x0a;
    w.varint(sLens[i - start] as number);
    const labels = s.labels;
    for (let j = 0; j < labels.length; j += 2) {
      const name = labels[j] as string;
      const value = labels[j + 1] as string;
      const nl = lens[k + j] as number;
      const vl = lens[k + j + 1] as number;
      const from = pos[kp + j] as number;
      pos[k + j] = w.pos;
      if (j + 1 < prev.length && name === prev[j] && value === prev[j + 1]) {
        // The same label as the previous series': copy its encoded field (short: a byte loop
        // beats copyWithin's call overhead).
        const len = lenFieldSize(strFieldSize(nl) + strFieldSize(vl));
        let p = w.pos;
        for (let b = 0; b < len; b++) buf[p++] = buf[from + b] as number;
        w.pos = p;
        continue;
      }
      buf[w.pos++] = 0x0a;
      w.varint(strFieldSize(nl) + strFieldSize(vl));
      if (nl !== 0) {
        buf[w.pos++] = 0x0a;
        w.string(name, nl);
      }
      if (vl !== 0) {
        buf[w.pos++] = 0x12;
        w.string(value, vl);
      }
    }
    for (let j = 0; j < s.chunks.length; j++) {
      const c = s.chunks[j] as ChunkMsg;
      buf[w.pos++] = 0x12;
      w.varint(chunkSize(c));
      writeInt(w, 0x08, c.minTimeMs);
      writeInt(w, 0x10, c.maxTimeMs);
      writeInt(w, 0x18, c.encoding);
      if (c.data.byteLength !== 0) {
        buf[w.pos++] = 0x22;
        w.bytes(c.data);
      }
    }
    prev = labels;
    kp = k;
    k += labels.length;
  }
  return finishWire(w, size, 'select codec');
}

/**
 * Encodes a `SelectResponse` message object (storage/rpc.ts's serializer for messages not encoded
 * already). Its labels are flattened first: the server's hot path calls `encodeSelectedSeries`.
 */
export function encodeSelectResponseMsg(m: SelectResponseMsg): Buffer {
  const flat = m.series.map((s) => ({ labels: s.labels.flatMap((l) => [l.name, l.value]), chunks: s.chunks }));
  return encodeSelectedSeries(flat);
}
