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
import { finishWire, lenFieldSize, utf8Length, varintSize, WireWriter } from './wire-writer.js';

/** Bytes of `ts` as a protobuf int64 varint (10 for any negative value). */
function int64Size(ts: number): number {
  return ts < 0 ? 10 : varintSize(ts);
}

/** Body size of a Label message; empty strings are omitted, as proto3 does. */
function labelSize(name: string, value: string): number {
  const n = utf8Length(name);
  const v = utf8Length(value);
  return (n > 0 ? lenFieldSize(n) : 0) + (v > 0 ? lenFieldSize(v) : 0);
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
  for (let j = 0; j + 1 < labels.length; j += 2) size += lenFieldSize(labelSize(labels[j] as string, labels[j + 1] as string));
  const w = new WireWriter(Buffer.allocUnsafe(size));
  const putString = (tag: number, s: string): void => {
    if (s === '') return;
    w.buf[w.pos++] = tag;
    w.string(s, utf8Length(s));
  };
  for (let j = 0; j + 1 < labels.length; j += 2) {
    const name = labels[j] as string;
    const value = labels[j + 1] as string;
    w.buf[w.pos++] = 0x0a;
    w.varint(labelSize(name, value));
    putString(0x0a, name);
    putString(0x12, value);
  }
  const out = finishWire(w, size, 'label block');
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
    for (let k = sampleStart[i] as number; k < end; k++) size += lenFieldSize(sampleSize(tsMs[k] as number));
    seriesSizes[i] = size;
    total += lenFieldSize(size);
  }

  const w = new WireWriter(Buffer.allocUnsafe(total));
  const out = w.buf;
  const words = wordsOf(batch.values);
  for (let i = 0; i < nSeries; i++) {
    out[w.pos++] = 0x0a;
    w.varint(seriesSizes[i] as number);
    // Second lookup hits the entry made in pass 1.
    const block = labelBlockOf(batch.series[i] as Labels);
    out.set(block, w.pos);
    w.pos += block.length;
    const end = sampleStart[i + 1] as number;
    for (let k = sampleStart[i] as number; k < end; k++) {
      const ts = tsMs[k] as number;
      out[w.pos++] = 0x12;
      w.varint(sampleSize(ts));
      out[w.pos++] = 0x09;
      // Raw little-endian words: the value's bits exactly, NaN payloads included.
      out.writeUInt32LE(words[2 * k] as number, w.pos);
      out.writeUInt32LE(words[2 * k + 1] as number, w.pos + 4);
      w.pos += 8;
      out[w.pos++] = 0x10;
      w.int64(ts);
    }
  }
  return finishWire(w, total, 'write request');
}
