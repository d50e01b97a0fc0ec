/**
 * Fast encoder of remote-write 1.0 `prometheus.WriteRequest` messages from a columnar SampleBatch.
 * Used by tests, end-to-end tests and the load generator; the service itself only decodes.
 *
 * Two passes, no per-sample objects: pass 1 sizes every series, pass 2 writes into one exact-size
 * buffer. Output per series (field numbers from proto/prometheus/*.proto):
 * ```
 * 0x0a len TimeSeries
 *   0x0a len Label   { 0x0a len name   0x12 len value }     per label pair, empty strings omitted
 *   0x12 len Sample  { 0x09 <8 raw value bytes, LE>   0x10 <int64 varint timestamp> }   per sample
 * ```
 * Values are copied as raw bytes, so NaN payloads (the staleness marker) survive bit-exact.
 */
import { InvariantError } from '../common/errors.js';
import { wordsOf, type Labels, type SampleBatch } from '../common/types.js';

const TWO_32 = 4294967296;

function varint32Size(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** Bytes of `ts` as a protobuf int64 varint (10 for any negative value). */
function int64Size(ts: number): number {
  if (ts < 0) return 10;
  let n = 1;
  let v = ts;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** UTF-8 length of `s`, without Buffer.byteLength's call overhead for pure-ASCII strings. */
function utf8Length(s: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, 'utf8');
  return n;
}

function labelSize(name: string, value: string): number {
  const n = utf8Length(name);
  const v = utf8Length(value);
  return (n > 0 ? 1 + varint32Size(n) + n : 0) + (v > 0 ? 1 + varint32Size(v) + v : 0);
}

/**
 * Encoded label block of a series (every `0x0a len Label{…}` of its TimeSeries), cached per label
 * array: load generators and tests reuse the same arrays for many requests, and labels are most of
 * the bytes. Keyed weakly, so arrays that are dropped take their entry with them. Sound because
 * `Labels` is readonly: callers must not mutate an array after passing it in.
 */
const labelBlocks = new WeakMap<Labels, Uint8Array>();

/** Returns the encoded label block of `labels`, from the cache or freshly built (then cached). */
function labelBlockOf(labels: Labels): Uint8Array {
  const hit = labelBlocks.get(labels);
  if (hit !== undefined) return hit;
  let size = 0;
  for (let j = 0; j + 1 < labels.length; j += 2) {
    const l = labelSize(labels[j] as string, labels[j + 1] as string);
    size += 1 + varint32Size(l) + l;
  }
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  const putVarint32 = (v: number): void => {
    while (v >= 0x80) {
      out[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    out[pos++] = v;
  };
  const putString = (field: number, s: string): void => {
    if (s === '') return;
    out[pos++] = (field << 3) | 2;
    putVarint32(utf8Length(s));
    pos += out.write(s, pos, 'utf8');
  };
  for (let j = 0; j + 1 < labels.length; j += 2) {
    const name = labels[j] as string;
    const value = labels[j + 1] as string;
    out[pos++] = 0x0a;
    putVarint32(labelSize(name, value));
    putString(1, name);
    putString(2, value);
  }
  if (pos !== size) throw new InvariantError(`encoded ${pos} label bytes, sized ${size}`);
  labelBlocks.set(labels, out);
  return out;
}

/** Sample message body size: value field (1 + 8) + timestamp field (1 + varint). */
function sampleSize(ts: number): number {
  return 9 + 1 + int64Size(ts);
}

function checkBatch(batch: SampleBatch): void {
  if (batch.sampleStart.length !== batch.series.length + 1) {
    throw new InvariantError(`sampleStart has ${batch.sampleStart.length} entries for ${batch.series.length} series`);
  }
  if (batch.tsMs.length !== batch.values.length) throw new InvariantError('tsMs and values differ in length');
}

/**
 * Encodes a batch as a serialized `prometheus.WriteRequest` (uncompressed). Labels are written in
 * the order given (callers wanting spec-conformant requests pass sorted labels); timestamps must be
 * integers. Returns a fresh buffer owned by the caller.
 */
export function encodeWriteRequest(batch: SampleBatch): Uint8Array {
  checkBatch(batch);
  const nSeries = batch.series.length;
  const seriesSizes = new Float64Array(nSeries);
  const { sampleStart, tsMs } = batch;
  let total = 0;
  for (let i = 0; i < nSeries; i++) {
    let size = labelBlockOf(batch.series[i] as Labels).length;
    const end = sampleStart[i + 1] as number;
    for (let k = sampleStart[i] as number; k < end; k++) {
      const sz = sampleSize(tsMs[k] as number);
      size += 1 + varint32Size(sz) + sz;
    }
    seriesSizes[i] = size;
    total += 1 + varint32Size(size) + size;
  }

  const out = Buffer.allocUnsafe(total);
  const words = wordsOf(batch.values);
  let pos = 0;

  const putVarint32 = (v: number): void => {
    while (v >= 0x80) {
      out[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    out[pos++] = v;
  };
  const putInt64 = (v: number): void => {
    // Split into two's-complement 32-bit halves; floor keeps negatives right (-1 → hi = -1).
    let hi = Math.floor(v / TWO_32);
    let lo = (v - hi * TWO_32) >>> 0;
    hi >>>= 0;
    while (hi !== 0) {
      out[pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    while (lo >= 0x80) {
      out[pos++] = (lo & 0x7f) | 0x80;
      lo >>>= 7;
    }
    out[pos++] = lo;
  };

  for (let i = 0; i < nSeries; i++) {
    out[pos++] = 0x0a;
    putVarint32(seriesSizes[i] as number);
    // Second lookup hits the entry made in pass 1.
    const block = labelBlockOf(batch.series[i] as Labels);
    out.set(block, pos);
    pos += block.length;
    const end = sampleStart[i + 1] as number;
    for (let k = sampleStart[i] as number; k < end; k++) {
      const ts = tsMs[k] as number;
      out[pos++] = 0x12;
      putVarint32(sampleSize(ts));
      out[pos++] = 0x09;
      const lo = words[2 * k] as number;
      const hi = words[2 * k + 1] as number;
      out[pos++] = lo & 0xff;
      out[pos++] = (lo >>> 8) & 0xff;
      out[pos++] = (lo >>> 16) & 0xff;
      out[pos++] = lo >>> 24;
      out[pos++] = hi & 0xff;
      out[pos++] = (hi >>> 8) & 0xff;
      out[pos++] = (hi >>> 16) & 0xff;
      out[pos++] = hi >>> 24;
      out[pos++] = 0x10;
      putInt64(ts);
    }
  }
  if (pos !== total) throw new InvariantError(`encoded ${pos} bytes, sized ${total}`);
  return out;
}
