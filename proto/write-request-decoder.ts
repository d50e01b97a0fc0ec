/**
 * Fast decoder of remote-write 1.0 `prometheus.WriteRequest` messages (proto/prometheus/remote.proto)
 * straight into columnar arrays. It walks the wire format with the protobufjs `Reader` and a few
 * hand-written helpers instead of building one JS object per sample as generated code would.
 *
 * Wire layout handled (field numbers from proto/prometheus/*.proto):
 * ```
 * WriteRequest   1: TimeSeries (repeated, len)   3: MetricMetadata (repeated, len)
 * TimeSeries     1: Label (len)   2: Sample (len)   3: Exemplar (len)   4: Histogram (len; counted)
 * Label          1: name (string)   2: value (string)
 * Sample         1: value (double, fixed64 LE)   2: timestamp (int64 varint, ms)
 * Exemplar       1: Label (len, repeated)   2: value (double)   3: timestamp (int64 varint, ms)
 * MetricMetadata 1: type (enum varint)   2: metric_family_name (string)   4: help (string)   5: unit (string)
 * ```
 * Float samples go to columns (no object per sample); exemplars and metadata, which are rare,
 * become one small object each.
 * Anything else is skipped by wire type (forward compatibility). A known field number arriving with
 * an unexpected wire type is also skipped, as generic proto3 decoders treat it as an unknown field.
 */
import protobuf from 'protobufjs/minimal.js';
import { AppError, ErrorKind } from '../common/errors.js';
import type { Labels, MetricMetadata } from '../common/types.js';

/** An exemplar as received; `seriesIndex` points into DecodedWriteRequest.series. */
export interface DecodedExemplar {
  readonly seriesIndex: number;
  /** The exemplar's own labels, flat pairs as received. */
  readonly labels: Labels;
  readonly value: number;
  readonly tsMs: number;
}

/** `MetricMetadata.MetricType` numbers → Prometheus API spelling. */
export const METRIC_TYPE_NAMES: readonly string[] = ['unknown', 'counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'info', 'stateset'];

/**
 * The decoded request, column-wise and structurally a `SampleBatch` (common/types.ts).
 * `series[i]` holds the labels exactly as received: flat pairs, possibly unsorted, possibly with
 * empty values or duplicate names (ingest/validate.ts normalises them). Samples of series `i` sit
 * at `[sampleStart[i], sampleStart[i + 1])` of `tsMs` and `values`. All arrays are freshly
 * allocated per call and owned by the caller; they do not alias the input buffer.
 */
export interface DecodedWriteRequest<T extends KnownLabels = KnownLabels> {
  readonly series: Labels[];
  readonly sampleStart: Uint32Array;
  readonly tsMs: Float64Array;
  /** Bit-exact copies of the wire bytes; NaN payloads (staleness marker) preserved. */
  readonly values: Float64Array;
  /** Exemplars seen across all series (= exemplars.length). */
  readonly exemplarCount: number;
  /** Decoded exemplars in request order. */
  readonly exemplars: DecodedExemplar[];
  /** Decoded metric metadata in request order. */
  readonly metadata: MetricMetadata[];
  /** Native histogram samples seen across all series (not decoded). */
  readonly histogramCount: number;
  /** MetricMetadata entries seen (= metadata.length). */
  readonly metadataCount: number;
  /**
   * Only when a RawLabelsLookup was given: per series, the raw-labels key (latin1 string of the
   * bytes of its Label submessages) or undefined when its labels were not one contiguous run.
   */
  readonly rawLabels?: (string | undefined)[];
  /** Only when a RawLabelsLookup was given: per series, the lookup's hit (then `series[i]` is `hit.labels`). */
  readonly known?: (T | undefined)[];
}

/** What a RawLabelsLookup hands back for a known series: at least the labels to put in `series`. */
export interface KnownLabels {
  readonly labels: Labels;
}

/**
 * Series known by the exact bytes of their labels. `raw` is the latin1 decoding of the bytes of a
 * TimeSeries' consecutive Label submessages (a 1:1 byte→char mapping, far cheaper than UTF-8
 * decoding each label). On a hit the decoder skips the labels and uses `hit.labels`.
 */
export interface RawLabelsLookup<T extends KnownLabels> {
  get(raw: string): T | undefined;
  /**
   * The same lookup when the caller already has `labelRunHash` of the bytes (computed on a decode
   * thread by decodeWriteRequestColumns): it saves hashing `raw` again on the calling thread.
   */
  getHashed?(hash: number, raw: string): T | undefined;
}

/**
 * 32-bit hash of bytes [start, end) of `view`: the key of a series' raw label bytes. It takes four
 * bytes (little-endian, counted from `start`) per multiply rather than one as FNV-1a does, in two
 * independent lanes of 8 bytes so the multiplies overlap: a Prometheus sender repeats every
 * series' ~100 label bytes in every request, and hashing them byte by byte was ~15 % of the
 * receiving thread's CPU on that shape (this: ~10x faster per series). A murmur3 finaliser mixes
 * the result, as the map keys use only its low bits. Equal to `labelStringHash` of the bytes'
 * latin1 string, so either side may compute it.
 */
export function labelRunHash(view: DataView, start: number, end: number): number {
  let h = (HASH_SEED_A ^ (end - start)) | 0;
  let h2 = HASH_SEED_B;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    h = Math.imul(h ^ view.getInt32(i, true), HASH_PRIME);
    h2 = Math.imul(h2 ^ view.getInt32(i + 4, true), HASH_PRIME);
    h ^= h >>> 15;
    h2 ^= h2 >>> 15;
  }
  h ^= Math.imul(h2, HASH_LANE_MIX);
  if (i + 4 <= end) {
    h = Math.imul(h ^ view.getInt32(i, true), HASH_PRIME);
    i += 4;
  }
  for (; i < end; i++) h = Math.imul(h ^ view.getUint8(i), HASH_PRIME);
  return finishHash(h);
}

/** labelRunHash of the bytes a latin1 string stands for (char codes 0–255). */
export function labelStringHash(raw: string): number {
  const end = raw.length;
  const word = (at: number): number => raw.charCodeAt(at) | (raw.charCodeAt(at + 1) << 8) | (raw.charCodeAt(at + 2) << 16) | (raw.charCodeAt(at + 3) << 24);
  let h = (HASH_SEED_A ^ end) | 0;
  let h2 = HASH_SEED_B;
  let i = 0;
  for (; i + 8 <= end; i += 8) {
    h = Math.imul(h ^ word(i), HASH_PRIME);
    h2 = Math.imul(h2 ^ word(i + 4), HASH_PRIME);
    h ^= h >>> 15;
    h2 ^= h2 >>> 15;
  }
  h ^= Math.imul(h2, HASH_LANE_MIX);
  if (i + 4 <= end) {
    h = Math.imul(h ^ word(i), HASH_PRIME);
    i += 4;
  }
  for (; i < end; i++) h = Math.imul(h ^ raw.charCodeAt(i), HASH_PRIME);
  return finishHash(h);
}

/** FNV's offset basis and prime, a second seed, and the golden-ratio constant that folds the lanes. */
const HASH_SEED_A = 0x811c9dc5;
const HASH_SEED_B = 0x2545f491;
const HASH_PRIME = 0x01000193;
const HASH_LANE_MIX = 0x9e3779b1;

/** murmur3's 32-bit finaliser: every input bit reaches every output bit. */
function finishHash(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;

/** Text decoder for non-Buffer input (Buffer input uses the faster `utf8Slice`). */
const textDecoder = new TextDecoder('utf-8');

function malformed(message: string, cause?: unknown): AppError {
  return new AppError(ErrorKind.BadData, 'bad-protobuf', `invalid protobuf WriteRequest: ${message} [err-bad-protobuf]`, { cause });
}

/**
 * Growable column storage for one decode call. Capacity doubles; `words` aliases `values` so value
 * bits are written as two u32 words and never pass through a JS number (which could canonicalise NaN).
 */
class Columns {
  tsMs: Float64Array;
  values: Float64Array;
  words: Uint32Array;
  n = 0;

  constructor(capacity: number) {
    this.tsMs = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
    this.words = new Uint32Array(this.values.buffer);
  }

  grow(): void {
    const cap = this.tsMs.length * 2;
    const ts = new Float64Array(cap);
    ts.set(this.tsMs);
    // Copy value bits via the word view: a byte copy, not a number round trip.
    const words = new Uint32Array(cap * 2);
    words.set(this.words);
    this.tsMs = ts;
    this.words = words;
    this.values = new Float64Array(words.buffer);
  }
}

/** Decoding state shared by the helpers below; one per call (no module-level mutable state). */
interface State {
  readonly r: protobuf.Reader;
  readonly buf: Uint8Array;
  /** The same bytes, for word reads (canonicalSample). */
  readonly view: DataView;
  readonly utf8: ((start: number, end: number) => string) | null;
  readonly cols: Columns;
  readonly intern: InternTable;
  exemplars: DecodedExemplar[];
  histograms: number;
  /** Index the current TimeSeries will get in `series`. */
  seriesIndex: number;
  readonly latin1: ((start: number, end: number) => string) | null;
  readonly lookup: RawLabelsLookup<KnownLabels> | undefined;
  /** Set by decodeTimeSeries when a lookup is given: raw key and hit of the series just decoded. */
  raw: string | undefined;
  hit: KnownLabels | undefined;
  /** Columns-only mode (decodeWriteRequestColumns): labels are skipped; their byte run is recorded here. */
  runs: LabelRuns | null;
}

/** Growable [start, end) pairs of every series' label run (columns-only mode). */
class LabelRuns {
  pairs = new Uint32Array(128);
  n = 0;
  /** False once some series had a Label field after a non-label field. */
  contiguous = true;

  /** labelRunHash of every run, in order. */
  hashes(view: DataView): Uint32Array {
    const out = new Uint32Array(this.n);
    for (let i = 0; i < this.n; i++) out[i] = labelRunHash(view, this.pairs[2 * i] as number, this.pairs[2 * i + 1] as number);
    return out;
  }

  push(start: number, end: number): void {
    if (2 * this.n + 2 > this.pairs.length) {
      const next = new Uint32Array(this.pairs.length * 2);
      next.set(this.pairs);
      this.pairs = next;
    }
    this.pairs[2 * this.n] = start;
    this.pairs[2 * this.n + 1] = end;
    this.n++;
  }
}

/** Reads a length prefix and returns the end offset of the delimited payload, checked against `limit`. */
function readEnd(s: State, limit: number): number {
  const len = s.r.uint32();
  const end = s.r.pos + len;
  if (end > limit) throw malformed(`length ${len} at offset ${s.r.pos} runs past the end of its enclosing message`);
  return end;
}

/** Reads a varint-encoded int64 as a number (two's complement for negatives; exact below 2^53). */
function readInt64(s: State, limit: number): number {
  const buf = s.buf;
  let pos = s.r.pos;
  let lo = 0;
  let hi = 0;
  let b = 0;
  let done = false;
  for (let shift = 0; shift < 28; shift += 7) {
    if (pos >= limit) throw malformed('truncated varint');
    b = buf[pos++] as number;
    lo |= (b & 0x7f) << shift;
    if (b < 0x80) {
      s.r.pos = pos;
      return lo >>> 0;
    }
  }
  if (pos >= limit) throw malformed('truncated varint');
  b = buf[pos++] as number;
  lo |= (b & 0x7f) << 28;
  hi = (b & 0x7f) >>> 4;
  done = b < 0x80;
  for (let shift = 3; !done && shift < 32; shift += 7) {
    if (pos >= limit) throw malformed('truncated varint');
    b = buf[pos++] as number;
    hi |= (b & 0x7f) << shift;
    done = b < 0x80;
  }
  if (!done) throw malformed('varint longer than 10 bytes');
  s.r.pos = pos;
  if (hi >>> 31 !== 0) {
    // Negative: value = -(~bits + 1), computed on the two halves as LongBits.toNumber does.
    let nlo = (~lo + 1) >>> 0;
    let nhi = ~hi >>> 0;
    if (nlo === 0) nhi = (nhi + 1) >>> 0;
    return -(nlo + nhi * 4294967296);
  }
  return (lo >>> 0) + (hi >>> 0) * 4294967296;
}

/** Strings up to this many bytes go through the per-call intern table. */
const INTERN_MAX_BYTES = 48;
const INTERN_SLOTS = 4096;

/**
 * Per-call intern table for short strings: label names and most values repeat across series of
 * one request, so returning the same string instance saves allocations and lets V8 reuse its
 * cached hash in later Map lookups. Slot = FNV-1a of the bytes; a hit is verified byte by byte.
 */
class InternTable {
  readonly strings: (string | undefined)[] = new Array<string | undefined>(INTERN_SLOTS);
  readonly bytes: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(INTERN_SLOTS);
}

function readString(s: State, limit: number): string {
  const end = readEnd(s, limit);
  const start = s.r.pos;
  s.r.pos = end;
  const n = end - start;
  if (n === 0) return '';
  if (n > INTERN_MAX_BYTES) return s.utf8 !== null ? s.utf8(start, end) : textDecoder.decode(s.buf.subarray(start, end));
  const buf = s.buf;
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ (buf[i] as number), 0x01000193);
  const slot = (h >>> 0) & (INTERN_SLOTS - 1);
  const t = s.intern;
  const cached = t.bytes[slot];
  if (cached !== undefined && cached.length === n) {
    let same = true;
    for (let i = 0; i < n; i++) {
      if (cached[i] !== buf[start + i]) {
        same = false;
        break;
      }
    }
    if (same) return t.strings[slot] as string;
  }
  const str = s.utf8 !== null ? s.utf8(start, end) : textDecoder.decode(buf.subarray(start, end));
  t.bytes[slot] = buf.subarray(start, end); // a view: the table lives only as long as this call
  t.strings[slot] = str;
  return str;
}

function skipField(s: State, wireType: number, limit: number): void {
  s.r.skipType(wireType);
  if (s.r.pos > limit) throw malformed('field runs past the end of its enclosing message');
}

function readTag(s: State): number {
  const tag = s.r.uint32();
  if (tag >>> 3 === 0) throw malformed(`invalid field number 0 at offset ${s.r.pos}`);
  return tag;
}

function decodeLabel(s: State, end: number, out: string[]): void {
  let name = '';
  let value = '';
  const r = s.r;
  while (r.pos < end) {
    const tag = readTag(s);
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === 1 && wt === WIRE_LEN) name = readString(s, end);
    else if (field === 2 && wt === WIRE_LEN) value = readString(s, end);
    else skipField(s, wt, end);
  }
  out.push(name, value);
}

function decodeSample(s: State, end: number): void {
  const r = s.r;
  const cols = s.cols;
  if (cols.n === cols.tsMs.length) cols.grow();
  const i = cols.n;
  // Absent fields take proto3 defaults (0); the last occurrence of a field wins.
  let ts = 0;
  let lo = 0;
  let hi = 0;
  const buf = s.buf;
  while (r.pos < end) {
    const tag = readTag(s);
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === 1 && wt === WIRE_FIXED64) {
      const p = r.pos;
      if (p + 8 > end) throw malformed('truncated double');
      lo = ((buf[p] as number) | ((buf[p + 1] as number) << 8) | ((buf[p + 2] as number) << 16) | ((buf[p + 3] as number) << 24)) >>> 0;
      hi = ((buf[p + 4] as number) | ((buf[p + 5] as number) << 8) | ((buf[p + 6] as number) << 16) | ((buf[p + 7] as number) << 24)) >>> 0;
      r.pos = p + 8;
    } else if (field === 2 && wt === WIRE_VARINT) {
      ts = readInt64(s, end);
    } else {
      skipField(s, wt, end);
    }
  }
  cols.tsMs[i] = ts;
  // Little-endian word order, as everywhere in common/types.ts.
  cols.words[2 * i] = lo;
  cols.words[2 * i + 1] = hi;
  cols.n = i + 1;
}

/** Tag byte of TimeSeries field 2 (samples), wire type LEN. */
const SAMPLE_TAG = (2 << 3) | WIRE_LEN;
/** Tag bytes of Sample's value (field 1, fixed64) and timestamp (field 2, varint). */
const SAMPLE_VALUE_TAG = (1 << 3) | WIRE_FIXED64;
const SAMPLE_TS_TAG = (2 << 3) | WIRE_VARINT;

/**
 * Decodes the Sample field at the reader's position when it has the layout every sender writes:
 * a one-byte length, the value, then a timestamp of 1 to 7 varint bytes (0 ≤ t < 2^49 ms) ending
 * exactly at the end of the field. Returns false, reading nothing, for anything else (other field
 * order, negative or huge timestamps, extra fields), which decodeSample then handles in full.
 * Half the cost of a sample at batch sizes went into the general path's per-field calls.
 */
function canonicalSample(s: State, end: number): boolean {
  const buf = s.buf;
  const p = s.r.pos;
  if (p + 1 >= end) return false;
  const len = buf[p + 1] as number;
  // 1 + 8 value bytes, 1 timestamp tag byte, 1–7 timestamp bytes.
  if (len < 11 || len > 17 || p + 2 + len > end) return false;
  const q = p + 2;
  if (buf[q] !== SAMPLE_VALUE_TAG || buf[q + 9] !== SAMPLE_TS_TAG) return false;
  const last = q + len - 1;
  let t = 0;
  let mul = 1;
  for (let i = q + 10; i < last; i++) {
    const b = buf[i] as number;
    if (b < 0x80) return false; // the varint ends before the field does
    t += (b & 0x7f) * mul;
    mul *= 128;
  }
  const b = buf[last] as number;
  if (b >= 0x80) return false;
  t += b * mul;
  const cols = s.cols;
  if (cols.n === cols.tsMs.length) cols.grow();
  const i = cols.n;
  cols.tsMs[i] = t;
  cols.words[2 * i] = s.view.getUint32(q + 1, true);
  cols.words[2 * i + 1] = s.view.getUint32(q + 5, true);
  cols.n = i + 1;
  s.r.pos = q + len;
  return true;
}

/** Reads a fixed64 double at the reader's position (little-endian), bounds-checked against `end`. */
function readDouble(s: State, end: number): number {
  const p = s.r.pos;
  if (p + 8 > end) throw malformed('truncated double');
  const v = Buffer.from(s.buf.buffer, s.buf.byteOffset + p, 8).readDoubleLE(0);
  s.r.pos = p + 8;
  return v;
}

function decodeExemplar(s: State, end: number): void {
  const labels: string[] = [];
  let value = 0;
  let ts = 0;
  const r = s.r;
  while (r.pos < end) {
    const tag = readTag(s);
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === 1 && wt === WIRE_LEN) {
      const subEnd = readEnd(s, end);
      decodeLabel(s, subEnd, labels);
      if (r.pos !== subEnd) throw malformed('embedded message overran its length');
    } else if (field === 2 && wt === WIRE_FIXED64) value = readDouble(s, end);
    else if (field === 3 && wt === WIRE_VARINT) ts = readInt64(s, end);
    else skipField(s, wt, end);
  }
  s.exemplars.push({ seriesIndex: s.seriesIndex, labels, value, tsMs: ts });
}

function decodeMetadata(s: State, end: number): MetricMetadata {
  let type = 0;
  let metric = '';
  let help = '';
  let unit = '';
  const r = s.r;
  while (r.pos < end) {
    const tag = readTag(s);
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === 1 && wt === WIRE_VARINT) type = r.uint32();
    else if (field === 2 && wt === WIRE_LEN) metric = readString(s, end);
    else if (field === 4 && wt === WIRE_LEN) help = readString(s, end);
    else if (field === 5 && wt === WIRE_LEN) unit = readString(s, end);
    else skipField(s, wt, end);
  }
  if (r.pos > end) throw malformed('embedded message overran its length');
  return { metric, type: METRIC_TYPE_NAMES[type] ?? 'unknown', help, unit };
}

/** Decodes the consecutive Label fields in bytes [start, end) into `out` (the reader is left at `end`). */
function decodeLabelRun(s: State, start: number, end: number, out: string[]): void {
  const r = s.r;
  r.pos = start;
  while (r.pos < end) {
    readTag(s);
    const e = readEnd(s, end);
    decodeLabel(s, e, out);
    if (r.pos !== e) throw malformed('embedded message overran its length');
  }
}

/** Tag byte of TimeSeries field 1 (labels), wire type LEN. */
const LABEL_TAG = (1 << 3) | WIRE_LEN;

/**
 * End of the run of consecutive Label fields starting at `start` (= `start` when none). Only
 * looks at tags and lengths; a malformed length ends the run (the full decode reports it).
 */
function labelRunEnd(buf: Uint8Array, start: number, end: number): number {
  let pos = start;
  while (pos < end && buf[pos] === LABEL_TAG) {
    let p = pos + 1;
    let len = 0;
    let shift = 0;
    let b = 0x80;
    while (b >= 0x80 && shift < 35 && p < end) {
      b = buf[p++] as number;
      len += (b & 0x7f) * 2 ** shift;
      shift += 7;
    }
    if (b >= 0x80 || p + len > end) break;
    pos = p + len;
  }
  return pos;
}

function decodeTimeSeries(s: State, end: number): Labels {
  let labels: string[] = [];
  const r = s.r;
  let runEnd = -1;
  const start = r.pos;
  const runs = s.runs;
  if (runs !== null) {
    // Columns-only: note where the labels are and skip them; a later Label field makes the
    // request non-contiguous (the caller then decodes it the ordinary way).
    runEnd = labelRunEnd(s.buf, start, end);
    runs.push(start, runEnd);
    r.pos = runEnd;
  }
  if (s.lookup !== undefined) {
    s.raw = undefined;
    s.hit = undefined;
    runEnd = labelRunEnd(s.buf, start, end);
    if (runEnd > start && s.latin1 !== null) {
      const raw = s.latin1(start, runEnd);
      s.raw = raw;
      // Hash the bytes in place (word reads), not the string just made from them.
      const lookup = s.lookup;
      const hit = lookup.getHashed !== undefined ? lookup.getHashed(labelRunHash(s.view, start, runEnd), raw) : lookup.get(raw);
      if (hit !== undefined) {
        s.hit = hit;
        r.pos = runEnd;
      }
    }
  }
  while (r.pos < end) {
    if (s.buf[r.pos] === SAMPLE_TAG && canonicalSample(s, end)) continue;
    const tag = readTag(s);
    const field = tag >>> 3;
    const wt = tag & 7;
    if (wt === WIRE_LEN && field >= 1 && field <= 4) {
      const subEnd = readEnd(s, end);
      if (field === 1 && runs !== null) {
        runs.contiguous = false;
        r.pos = subEnd;
      } else if (field === 1) {
        if (runEnd >= 0 && r.pos > runEnd) {
          // A label after other fields: the raw run is not the whole label set. Forget the key;
          // on a hit, the labels are decoded again from the start below.
          s.raw = undefined;
          if (s.hit !== undefined) {
            s.hit = undefined;
            const p = r.pos;
            decodeLabelRun(s, start, runEnd, labels);
            r.pos = p;
          }
          runEnd = -1;
        }
        decodeLabel(s, subEnd, labels);
      } else if (field === 2) decodeSample(s, subEnd);
      else if (field === 3) decodeExemplar(s, subEnd);
      else {
        s.histograms++;
        r.pos = subEnd;
      }
      if (r.pos !== subEnd) throw malformed('embedded message overran its length');
    } else {
      skipField(s, wt, end);
    }
  }
  return s.hit !== undefined ? s.hit.labels : labels;
}

/**
 * Decodes a serialized (already decompressed) `prometheus.WriteRequest` into columns.
 * Native histograms are counted but not decoded. Labels keep the sender's
 * order. Throws `AppError` (bad_data, code `bad-protobuf`) on malformed or truncated input; never
 * loops forever (every step advances, every length is bounds-checked).
 */
export function decodeWriteRequest<T extends KnownLabels = KnownLabels>(buf: Uint8Array, lookup?: RawLabelsLookup<T>): DecodedWriteRequest<T> {
  return decodeCore(buf, lookup, false) as DecodedWriteRequest<T>;
}

/**
 * The first half of decodeWriteRequest, meant for a worker thread: samples, exemplars, metadata
 * and histogram counts, with each series' labels left in the buffer as the byte run
 * `[labelRuns[2i], labelRuns[2i + 1])` of its consecutive Label fields. `resolveLabels` on the
 * same bytes finishes the job (label lookups need the caller's cache). Returns null when some
 * series' labels are not one contiguous run (then use decodeWriteRequest). Every array is
 * freshly allocated (transferable); throws like decodeWriteRequest.
 */
export function decodeWriteRequestColumns(buf: Uint8Array): ColumnarWriteRequest | null {
  return decodeCore(buf, undefined, true) as ColumnarWriteRequest | null;
}

/** A WriteRequest decoded except for its labels (decodeWriteRequestColumns). */
export interface ColumnarWriteRequest {
  readonly sampleStart: Uint32Array;
  readonly tsMs: Float64Array;
  readonly values: Float64Array;
  /** Label run of series i: bytes [labelRuns[2i], labelRuns[2i + 1]) of the decoded buffer. */
  readonly labelRuns: Uint32Array;
  /** labelRunHash of each series' label run (hashed here, off the thread that looks series up). */
  readonly labelHashes: Uint32Array;
  readonly exemplars: DecodedExemplar[];
  readonly metadata: MetricMetadata[];
  readonly histogramCount: number;
}

/**
 * The second half: labels of every series of `cols`, read from `buf` (the bytes given to
 * decodeWriteRequestColumns), through `lookup` like decodeWriteRequest. The result equals
 * `decodeWriteRequest(buf, lookup)`; `cols`' arrays are taken over, not copied.
 */
export function resolveLabels<T extends KnownLabels = KnownLabels>(buf: Uint8Array, cols: ColumnarWriteRequest, lookup?: RawLabelsLookup<T>): DecodedWriteRequest<T> {
  const s = newState(buf, undefined, false, 16);
  const n = cols.sampleStart.length - 1;
  if (cols.labelRuns.length < 2 * n) throw malformed('label runs do not match the series');
  const series = new Array<Labels>(n);
  const rawLabels: (string | undefined)[] | undefined = lookup === undefined ? undefined : new Array<string | undefined>(n);
  const known: (T | undefined)[] | undefined = lookup === undefined ? undefined : new Array<T | undefined>(n);
  try {
    for (let i = 0; i < n; i++) {
      const start = cols.labelRuns[2 * i] as number;
      const end = cols.labelRuns[2 * i + 1] as number;
      if (end > buf.length || start > end) throw malformed('label run out of range');
      let raw: string | undefined;
      let hit: T | undefined;
      if (lookup !== undefined && end > start && s.latin1 !== null) {
        raw = s.latin1(start, end);
        const hash = cols.labelHashes[i];
        hit = lookup.getHashed !== undefined && hash !== undefined ? lookup.getHashed(hash, raw) : lookup.get(raw);
      }
      if (rawLabels !== undefined && known !== undefined) {
        rawLabels[i] = raw;
        known[i] = hit;
      }
      if (hit !== undefined) {
        series[i] = hit.labels;
        continue;
      }
      const labels: string[] = [];
      decodeLabelRun(s, start, end, labels);
      series[i] = labels;
    }
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw malformed(err instanceof Error ? err.message : String(err), err);
  }
  return {
    series,
    sampleStart: cols.sampleStart,
    tsMs: cols.tsMs,
    values: cols.values,
    exemplarCount: cols.exemplars.length,
    exemplars: cols.exemplars,
    metadata: cols.metadata,
    histogramCount: cols.histogramCount,
    metadataCount: cols.metadata.length,
    ...(rawLabels === undefined || known === undefined ? {} : { rawLabels, known }),
  };
}

/** `capacity`: initial sample columns (resolveLabels decodes no samples and passes a token size). */
function newState(buf: Uint8Array, lookup: RawLabelsLookup<KnownLabels> | undefined, columnsOnly: boolean, capacity?: number): State {
  // A Buffer view (no copy) gives us the fast native UTF-8 slicer.
  const nodeBuf = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const slicers = nodeBuf as unknown as { utf8Slice?: (s: number, e: number) => string; latin1Slice?: (s: number, e: number) => string };
  const utf8Slice = slicers.utf8Slice;
  const latin1Slice = slicers.latin1Slice;
  return {
    r: protobuf.Reader.create(nodeBuf),
    buf: nodeBuf,
    view: new DataView(nodeBuf.buffer, nodeBuf.byteOffset, nodeBuf.byteLength),
    utf8: typeof utf8Slice === 'function' ? utf8Slice.bind(nodeBuf) : null,
    // A sample takes at least ~12 bytes on the wire in practice; start there and double as needed.
    cols: new Columns(capacity ?? Math.max(16, Math.min(1 << 20, (buf.length / 16) | 0))),
    intern: new InternTable(),
    exemplars: [],
    histograms: 0,
    seriesIndex: 0,
    latin1: typeof latin1Slice === 'function' ? latin1Slice.bind(nodeBuf) : null,
    lookup,
    raw: undefined,
    hit: undefined,
    runs: columnsOnly ? new LabelRuns() : null,
  };
}

function decodeCore(buf: Uint8Array, lookup: RawLabelsLookup<KnownLabels> | undefined, columnsOnly: boolean): DecodedWriteRequest | ColumnarWriteRequest | null {
  const s = newState(buf, lookup, columnsOnly);
  const cols = s.cols;
  const rawLabels: (string | undefined)[] | undefined = lookup === undefined ? undefined : [];
  const known: (KnownLabels | undefined)[] | undefined = lookup === undefined ? undefined : [];
  const series: Labels[] = [];
  let starts = new Uint32Array(64);
  const metadata: MetricMetadata[] = [];
  const len = s.buf.length;
  const r = s.r;
  try {
    while (r.pos < len) {
      const tag = readTag(s);
      const field = tag >>> 3;
      const wt = tag & 7;
      if (field === 1 && wt === WIRE_LEN) {
        const end = readEnd(s, len);
        if (series.length + 1 >= starts.length) {
          const next = new Uint32Array(starts.length * 2);
          next.set(starts);
          starts = next;
        }
        starts[series.length] = cols.n;
        s.seriesIndex = series.length;
        series.push(decodeTimeSeries(s, end));
        if (r.pos !== end) throw malformed('embedded message overran its length');
        if (rawLabels !== undefined && known !== undefined) {
          rawLabels.push(s.raw);
          known.push(s.hit);
        }
      } else if (field === 3 && wt === WIRE_LEN) {
        const end = readEnd(s, len);
        metadata.push(decodeMetadata(s, end));
        if (r.pos !== end) throw malformed('embedded message overran its length');
      } else {
        skipField(s, wt, len);
      }
    }
  } catch (err) {
    if (err instanceof AppError) throw err;
    // protobufjs throws RangeError ("index out of range") on truncation and Error on bad wire types.
    throw malformed(err instanceof Error ? err.message : String(err), err);
  }
  starts[series.length] = cols.n;
  const runs = s.runs;
  if (runs !== null) {
    if (!runs.contiguous) return null;
    // Exact-length copies: these arrays are transferred to another thread whole.
    return {
      sampleStart: starts.slice(0, series.length + 1),
      tsMs: cols.tsMs.slice(0, cols.n),
      values: cols.values.slice(0, cols.n),
      labelRuns: runs.pairs.slice(0, 2 * runs.n),
      labelHashes: runs.hashes(s.view),
      exemplars: s.exemplars,
      metadata,
      histogramCount: s.histograms,
    };
  }
  return {
    series,
    sampleStart: starts.subarray(0, series.length + 1),
    tsMs: cols.tsMs.subarray(0, cols.n),
    values: cols.values.subarray(0, cols.n),
    exemplarCount: s.exemplars.length,
    exemplars: s.exemplars,
    metadata,
    histogramCount: s.histograms,
    metadataCount: metadata.length,
    ...(rawLabels === undefined || known === undefined ? {} : { rawLabels, known }),
  };
}
