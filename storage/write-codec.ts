/**
 * Hand-written wire codec of the hot `Write` RPC messages, `WriteRequest` and `WriteResponse`
 * (proto/storage/v1/storage.proto), used by storage/rpc.ts instead of protobufjs reflection, whose
 * writer builds one operation object per varint (a 2,000-series write by ref is ~4,000 of them)
 * and whose reader allocates a Message per decode. Same messages in and out as the reflected codec
 * of proto/index.ts, same wire format:
 * ```
 * WriteRequest   1 tenant (len)  2 label_strings (len, repeated)  3 label_pair_counts (packed u32)
 *                4 sample_counts (packed u32)  5 timestamps (len)  6 values (len)
 *                7 Exemplar (len, repeated)  8 MetricMetadata (len, repeated)  9, 10, 11 (u32)
 *                12 series_refs (packed u64)  13 refs_instance (len)  14 want_refs (bool)
 * WriteResponse  1 samples_written (u64)  2 RejectedSamples (len, repeated: 1 code, 2 count u32,
 *                3 example)  3 exemplars_written (u64)  4 metadata_written (u64)
 *                5 series_refs (packed u64)  6 refs_instance (len)  7 unknown_ref_series (packed u32)
 * ```
 * Encoding is proto3-canonical: ascending field numbers, defaults (0, '', false, empty) left out,
 * repeated scalars packed. Decoding accepts packed and unpacked repeated scalars, skips unknown
 * fields (and known fields with an unexpected wire type) and lets the last singular value win.
 *
 * Decoded strings go through a small cache of recent short ASCII strings (label names and most
 * values repeat), which halves the decode time of requests that carry labels.
 *
 * Exemplars and metadata are rare: each such submessage is encoded/decoded by protobufjs
 * reflection (the message around it stays hand-written), so their int64/double edge cases keep the
 * reflected codec's behaviour.
 *
 * uint64 fields are JS numbers as elsewhere (proto/index.ts): the codec writes and reads them
 * exactly up to Number.MAX_SAFE_INTEGER and throws on anything larger (or negative, fractional)
 * instead of rounding or wrapping as protobufjs does. uint32 fields must be integers in [0, 2^32);
 * on decode a longer varint is truncated to its low 32 bits, as the proto3 spec requires.
 * (protobufjs differs in corners this codec gets right: it reads 6- to 9-byte varints of uint32 and
 * bool fields wrongly, and its Buffer reader lets a truncated string through.)
 *
 * Errors: a malformed request is bad_data `write-request-malformed`, a malformed response internal
 * `storage-bad-response`, a value that cannot be encoded exactly internal `storage-encode-out-of-range`.
 */
import { AppError, ErrorKind } from '../common/errors.js';
import {
  protoRoot,
  type ExemplarMsg,
  type MetricMetadataMsg,
  type RejectedSamplesMsg,
  type WriteRequestMsg,
  type WriteResponseMsg,
} from '../proto/index.js';
import { finishWire, lenFieldSize, utf8Length, varintSize, WireWriter } from '../proto/wire-writer.js';

const exemplarType = protoRoot.lookupType('promstore.storage.v1.Exemplar');
const metadataType = protoRoot.lookupType('promstore.storage.v1.MetricMetadata');

const EMPTY_BYTES = new Uint8Array(0);

// ---------------------------------------------------------------------------------------------
// Encoding: pass 1 sizes the message, pass 2 writes it into one exact-size Buffer (proto/wire-writer.ts).

/** A value the field cannot carry exactly: a bug of the caller, reported rather than wrapped. */
function encodeError(detail: string): AppError {
  return new AppError(ErrorKind.Internal, 'storage-encode-out-of-range', `cannot encode Write message: ${detail}`);
}

function checkU32(v: number, field: string): number {
  if (v >>> 0 !== v) throw encodeError(`${field} = ${v} is not a uint32`);
  return v;
}

function checkU64(v: number, field: string): number {
  if (v >>> 0 !== v && !(Number.isSafeInteger(v) && v >= 0)) throw encodeError(`${field} = ${v} is not a uint64 below 2^53`);
  return v;
}

/** Body size of a packed field; checks every value is a uint32, or with `wide` a uint64 < 2^53. */
function packedSize(list: readonly number[], field: string, wide: boolean): number {
  let n = 0;
  for (let i = 0; i < list.length; i++) {
    const v = list[i] as number;
    // `>>> 0` is the identity exactly for integers in [0, 2^32): one test covers the usual case.
    if (v >>> 0 === v) n += v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
    else n += varintSize(wide ? checkU64(v, field) : checkU32(v, field));
  }
  return n;
}

/** Growable scratch of string byte lengths, so pass 2 does not measure strings again. */
let strLens = new Int32Array(1024);

/** Encodes a `WriteRequest` (wire-identical to the reflected encoder's, defaults left out). */
export function encodeWriteRequestMsg(m: WriteRequestMsg): Buffer {
  const strs = m.labelStrings;
  if (strLens.length < strs.length) strLens = new Int32Array(strs.length * 2);
  const lens = strLens;
  const tenantLen = utf8Length(m.tenant);
  const instLen = utf8Length(m.refsInstance ?? '');
  const refs = m.seriesRefs ?? [];
  // Rare submessages through protobufjs (see the file comment).
  const exemplars = (m.exemplars ?? []).map((e) => exemplarType.encode(e).finish());
  const metadata = (m.metadata ?? []).map((e) => metadataType.encode(e).finish());
  const pairsSize = packedSize(m.labelPairCounts, 'label_pair_counts', false);
  const countsSize = packedSize(m.sampleCounts, 'sample_counts', false);
  const refsSize = packedSize(refs, 'series_refs', true);
  const maxEx = checkU32(m.maxExemplars ?? 0, 'max_exemplars');
  const maxMd = checkU32(m.maxMetadata ?? 0, 'max_metadata');
  const maxMdPer = checkU32(m.maxMetadataPerMetric ?? 0, 'max_metadata_per_metric');

  let size = 0;
  if (tenantLen > 0) size += lenFieldSize(tenantLen);
  for (let i = 0; i < strs.length; i++) {
    const len = utf8Length(strs[i] as string);
    lens[i] = len;
    size += lenFieldSize(len);
  }
  if (pairsSize > 0) size += lenFieldSize(pairsSize);
  if (countsSize > 0) size += lenFieldSize(countsSize);
  if (m.timestamps.byteLength > 0) size += lenFieldSize(m.timestamps.byteLength);
  if (m.values.byteLength > 0) size += lenFieldSize(m.values.byteLength);
  for (const b of exemplars) size += lenFieldSize(b.byteLength);
  for (const b of metadata) size += lenFieldSize(b.byteLength);
  if (maxEx !== 0) size += 1 + varintSize(maxEx);
  if (maxMd !== 0) size += 1 + varintSize(maxMd);
  if (maxMdPer !== 0) size += 1 + varintSize(maxMdPer);
  if (refsSize > 0) size += lenFieldSize(refsSize);
  if (instLen > 0) size += lenFieldSize(instLen);
  if (m.wantRefs === true) size += 2;

  const w = new WireWriter(Buffer.allocUnsafe(size));
  const buf = w.buf;
  if (tenantLen > 0) {
    buf[w.pos++] = 0x0a;
    w.string(m.tenant, tenantLen);
  }
  for (let i = 0; i < strs.length; i++) {
    buf[w.pos++] = 0x12;
    w.string(strs[i] as string, lens[i] as number);
  }
  w.packed(0x1a, m.labelPairCounts, pairsSize);
  w.packed(0x22, m.sampleCounts, countsSize);
  if (m.timestamps.byteLength > 0) {
    buf[w.pos++] = 0x2a;
    w.bytes(m.timestamps);
  }
  if (m.values.byteLength > 0) {
    buf[w.pos++] = 0x32;
    w.bytes(m.values);
  }
  for (const b of exemplars) {
    buf[w.pos++] = 0x3a;
    w.bytes(b);
  }
  for (const b of metadata) {
    buf[w.pos++] = 0x42;
    w.bytes(b);
  }
  if (maxEx !== 0) {
    buf[w.pos++] = 0x48;
    w.varint(maxEx);
  }
  if (maxMd !== 0) {
    buf[w.pos++] = 0x50;
    w.varint(maxMd);
  }
  if (maxMdPer !== 0) {
    buf[w.pos++] = 0x58;
    w.varint(maxMdPer);
  }
  w.packed(0x62, refs, refsSize);
  if (instLen > 0) {
    buf[w.pos++] = 0x6a;
    w.string(m.refsInstance as string, instLen);
  }
  if (m.wantRefs === true) {
    buf[w.pos++] = 0x70;
    buf[w.pos++] = 1;
  }
  return finishWire(w, size, 'write codec');
}

/** Encodes a `WriteResponse` (wire-identical to the reflected encoder's, defaults left out). */
export function encodeWriteResponseMsg(m: WriteResponseMsg): Buffer {
  const written = checkU64(m.samplesWritten, 'samples_written');
  const exWritten = checkU64(m.exemplarsWritten ?? 0, 'exemplars_written');
  const mdWritten = checkU64(m.metadataWritten ?? 0, 'metadata_written');
  const refs = m.seriesRefs ?? [];
  const unknown = m.unknownRefSeries ?? [];
  const refsSize = packedSize(refs, 'series_refs', true);
  const unknownSize = packedSize(unknown, 'unknown_ref_series', false);
  const instLen = utf8Length(m.refsInstance ?? '');
  // Rejections are a handful at most: their sizes are kept in a small array.
  const rejSizes = m.rejected.map((r) => {
    const c = utf8Length(r.code);
    const e = utf8Length(r.example);
    const count = checkU32(r.count, 'rejected.count');
    return [c, e, (c > 0 ? lenFieldSize(c) : 0) + (count !== 0 ? 1 + varintSize(count) : 0) + (e > 0 ? lenFieldSize(e) : 0)] as const;
  });

  let size = 0;
  if (written !== 0) size += 1 + varintSize(written);
  for (const [, , s] of rejSizes) size += lenFieldSize(s);
  if (exWritten !== 0) size += 1 + varintSize(exWritten);
  if (mdWritten !== 0) size += 1 + varintSize(mdWritten);
  if (refsSize > 0) size += lenFieldSize(refsSize);
  if (instLen > 0) size += lenFieldSize(instLen);
  if (unknownSize > 0) size += lenFieldSize(unknownSize);

  const w = new WireWriter(Buffer.allocUnsafe(size));
  const buf = w.buf;
  if (written !== 0) {
    buf[w.pos++] = 0x08;
    w.varint(written);
  }
  for (let i = 0; i < rejSizes.length; i++) {
    const r = m.rejected[i] as RejectedSamplesMsg;
    const [c, e, s] = rejSizes[i] as readonly [number, number, number];
    buf[w.pos++] = 0x12;
    w.varint(s);
    if (c > 0) {
      buf[w.pos++] = 0x0a;
      w.string(r.code, c);
    }
    if (r.count !== 0) {
      buf[w.pos++] = 0x10;
      w.varint(r.count);
    }
    if (e > 0) {
      buf[w.pos++] = 0x1a;
      w.string(r.example, e);
    }
  }
  if (exWritten !== 0) {
    buf[w.pos++] = 0x18;
    w.varint(exWritten);
  }
  if (mdWritten !== 0) {
    buf[w.pos++] = 0x20;
    w.varint(mdWritten);
  }
  w.packed(0x2a, refs, refsSize);
  if (instLen > 0) {
    buf[w.pos++] = 0x32;
    w.string(m.refsInstance as string, instLen);
  }
  w.packed(0x3a, unknown, unknownSize);
  return finishWire(w, size, 'write codec');
}

// ---------------------------------------------------------------------------------------------
// Decoding.

/** Cursor over protobuf wire data; every read is bounds-checked against `end`. */
class Reader {
  pos = 0;
  constructor(
    readonly buf: Buffer,
    /** Builds the error for malformed input (request: bad_data; response: internal). */
    readonly fail: (detail: string) => AppError,
  ) {}

  /** A varint as uint32: bits above 32 of a longer (≤ 10-byte) varint are dropped, per proto3. */
  u32(end: number, maxBytes = 10): number {
    const buf = this.buf;
    let x = 0;
    for (let i = 0; i < maxBytes; i++) {
      if (this.pos >= end) throw this.fail('truncated varint');
      const b = buf[this.pos++] as number;
      if (i < 5) x |= (b & 0x7f) << (7 * i);
      if (b < 0x80) return x >>> 0;
    }
    throw this.fail('varint longer than 10 bytes');
  }

  /** A varint as uint64, exact; throws above 2^53 - 1 rather than rounding. */
  u64(end: number, maxBytes = 10): number {
    const buf = this.buf;
    const first = this.pos < end ? (buf[this.pos] as number) : 0x80;
    if (first < 0x80) {
      this.pos++;
      return first;
    }
    let x = 0;
    let mul = 1;
    for (let i = 0; i < maxBytes; i++) {
      if (this.pos >= end) throw this.fail('truncated varint');
      const b = buf[this.pos++] as number;
      x += (b & 0x7f) * mul;
      if (b < 0x80) {
        // Every value ≥ 2^53 lands on a double > MAX_SAFE_INTEGER, so this check is exact.
        if (x > Number.MAX_SAFE_INTEGER) throw this.fail('uint64 value above 2^53 - 1 (not representable exactly)');
        return x;
      }
      mul *= 128;
    }
    throw this.fail('varint longer than 10 bytes');
  }

  /** Reads a length prefix; returns the end of the delimited field. */
  delimited(end: number): number {
    const len = this.u32(end);
    const fieldEnd = this.pos + len;
    if (fieldEnd > end) throw this.fail('field length past the end');
    return fieldEnd;
  }

  /** A string field; invalid UTF-8 becomes U+FFFD, as with protobufjs. */
  string(end: number): string {
    const fEnd = this.delimited(end);
    const s = cachedString(this.buf, this.pos, fEnd);
    this.pos = fEnd;
    return s;
  }

  /** A bytes field as a view into the input (no copy), like the reflected decoder. */
  bytes(end: number): Uint8Array {
    const fEnd = this.delimited(end);
    const b = this.buf.subarray(this.pos, fEnd);
    this.pos = fEnd;
    return b;
  }

  /**
   * Appends the values of one packed field to `prev` (a field may come in several runs). A fresh
   * array is sized up front to one slot per byte (an upper bound on the count of values) and
   * trimmed after, since growing an array by push costs several times more.
   */
  packed(prev: number[], end: number, wide: boolean): number[] {
    const fEnd = this.delimited(end);
    const buf = this.buf;
    let k = prev.length;
    const out = k === 0 ? new Array<number>(fEnd - this.pos) : prev;
    // The hot loop: cursor in a local, varint inline; up to 4 bytes (28 bits) in int arithmetic.
    let p = this.pos;
    while (p < fEnd) {
      let b = buf[p++] as number;
      let x = b & 0x7f;
      let shift = 7;
      while (b >= 0x80 && shift < 28) {
        if (p >= fEnd) throw this.fail('truncated varint');
        b = buf[p++] as number;
        x |= (b & 0x7f) << shift;
        shift += 7;
      }
      if (b >= 0x80) {
        // Longer than 4 bytes: finish in float arithmetic (u64 / u32 rules).
        this.pos = p;
        const rest = wide ? this.u64(fEnd, 6) : this.u32(fEnd, 6);
        p = this.pos;
        x = wide ? x + rest * 0x10000000 : (x | (rest << 28)) >>> 0;
        if (x > Number.MAX_SAFE_INTEGER) throw this.fail('uint64 value above 2^53 - 1 (not representable exactly)');
      }
      out[k++] = x;
    }
    this.pos = p;
    // Trims the spare slots (one per byte was reserved; multi-byte values leave some unused).
    out.length = k;
    return out;
  }

  /** Skips one field of wire type `wt` (groups, deprecated and proto2-only, are rejected). */
  skip(wt: number, end: number): void {
    switch (wt) {
      case 0:
        this.bool(end);
        return;
      case 1:
        this.pos += 8;
        break;
      case 2:
        this.pos = this.delimited(end);
        return;
      case 5:
        this.pos += 4;
        break;
      default:
        throw this.fail(`unsupported wire type ${wt}`);
    }
    if (this.pos > end) throw this.fail('fixed-size field past the end');
  }

  /** A varint as bool: true when any of its bits is set (any width, unlike u32/u64). */
  bool(end: number): boolean {
    let any = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) throw this.fail('truncated varint');
      const b = this.buf[this.pos++] as number;
      any |= b & 0x7f;
      if (b < 0x80) return any !== 0;
    }
    throw this.fail('varint longer than 10 bytes');
  }

  /** A length-delimited submessage decoded by protobufjs reflection, errors made AppErrors. */
  reflected<T>(type: typeof exemplarType, end: number): T {
    const fEnd = this.delimited(end);
    try {
      // A plain Uint8Array view: protobufjs's Buffer reader would let a string run past the end.
      const view = new Uint8Array(this.buf.buffer, this.buf.byteOffset + this.pos, fEnd - this.pos);
      return type.decode(view) as unknown as T;
    } catch (err) {
      throw this.fail(`bad ${type.name}: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.pos = fEnd;
    }
  }
}

/**
 * Recently decoded short ASCII strings, direct-mapped by length and three sampled bytes. Label
 * names and most values repeat across series and requests, and comparing a string's chars with
 * the bytes is several times cheaper than making a new string.
 */
const stringCache: string[] = new Array<string>(4096).fill('');

function cachedString(buf: Buffer, start: number, end: number): string {
  const len = end - start;
  if (len === 0) return '';
  if (len > 48) return buf.toString('utf8', start, end);
  const slot = (len * 31 + (buf[start] as number) * 7 + (buf[start + (len >> 1)] as number) * 3 + (buf[end - 1] as number)) & 4095;
  const hit = stringCache[slot] as string;
  if (hit.length === len) {
    let i = 0;
    while (i < len && hit.charCodeAt(i) === buf[start + i]) i++;
    if (i === len) return hit;
  }
  // Measured faster than TextDecoder or a char loop for label-sized strings, and gives flat strings.
  const s = buf.toString('utf8', start, end);
  // Only ASCII strings are cached: for them chars and bytes match one to one.
  if (s.length === len) stringCache[slot] = s;
  return s;
}

/** A Buffer over the same memory (grpc-js passes Buffers already; tests may not). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function requestError(detail: string): AppError {
  return new AppError(ErrorKind.BadData, 'write-request-malformed', `malformed WriteRequest: ${detail} [err-write-request-malformed]`);
}

function responseError(detail: string): AppError {
  return new AppError(ErrorKind.Internal, 'storage-bad-response', `malformed WriteResponse from storage: ${detail}`);
}

/**
 * Decodes a `WriteRequest` into the shape of proto/index.ts's decoder (every field present,
 * defaults filled in). `timestamps`/`values` are views into `bytes` (possibly unaligned).
 * Throws a bad_data `write-request-malformed` AppError on malformed input.
 */
export function decodeWriteRequestMsg(bytes: Uint8Array): WriteRequestMsg {
  const r = new Reader(asBuffer(bytes), requestError);
  const end = bytes.length;
  let tenant = '';
  const labelStrings: string[] = [];
  let labelPairCounts: number[] = [];
  let sampleCounts: number[] = [];
  let timestamps: Uint8Array = EMPTY_BYTES;
  let values: Uint8Array = EMPTY_BYTES;
  const exemplars: ExemplarMsg[] = [];
  const metadata: MetricMetadataMsg[] = [];
  let maxExemplars = 0;
  let maxMetadata = 0;
  let maxMetadataPerMetric = 0;
  let seriesRefs: number[] = [];
  let refsInstance = '';
  let wantRefs = false;
  while (r.pos < end) {
    // Tags are (field << 3) | wire type; a known field with another wire type is skipped.
    const tag = r.u32(end);
    switch (tag) {
      case 0x0a: tenant = r.string(end); break;
      case 0x12: labelStrings.push(r.string(end)); break;
      case 0x1a: labelPairCounts = r.packed(labelPairCounts, end, false); break;
      case 0x18: labelPairCounts.push(r.u32(end)); break;
      case 0x22: sampleCounts = r.packed(sampleCounts, end, false); break;
      case 0x20: sampleCounts.push(r.u32(end)); break;
      case 0x2a: timestamps = r.bytes(end); break;
      case 0x32: values = r.bytes(end); break;
      case 0x3a: exemplars.push(r.reflected<ExemplarMsg>(exemplarType, end)); break;
      case 0x42: metadata.push(r.reflected<MetricMetadataMsg>(metadataType, end)); break;
      case 0x48: maxExemplars = r.u32(end); break;
      case 0x50: maxMetadata = r.u32(end); break;
      case 0x58: maxMetadataPerMetric = r.u32(end); break;
      case 0x62: seriesRefs = r.packed(seriesRefs, end, true); break;
      case 0x60: seriesRefs.push(r.u64(end)); break;
      case 0x6a: refsInstance = r.string(end); break;
      case 0x70: wantRefs = r.bool(end); break;
      default:
        if (tag >>> 3 === 0) throw r.fail('field number 0');
        r.skip(tag & 7, end);
    }
  }
  return {
    tenant,
    labelStrings,
    labelPairCounts,
    sampleCounts,
    timestamps,
    values,
    exemplars,
    metadata,
    maxExemplars,
    maxMetadata,
    maxMetadataPerMetric,
    seriesRefs,
    refsInstance,
    wantRefs,
  };
}

function decodeRejected(r: Reader, end: number): RejectedSamplesMsg {
  const fEnd = r.delimited(end);
  let code = '';
  let count = 0;
  let example = '';
  while (r.pos < fEnd) {
    const tag = r.u32(fEnd);
    if (tag === 0x0a) code = r.string(fEnd);
    else if (tag === 0x10) count = r.u32(fEnd);
    else if (tag === 0x1a) example = r.string(fEnd);
    else if (tag >>> 3 === 0) throw r.fail('field number 0');
    else r.skip(tag & 7, fEnd);
  }
  return { code, count, example };
}

/**
 * Decodes a `WriteResponse` into the shape of proto/index.ts's decoder (every field present).
 * Throws an internal `storage-bad-response` AppError on malformed input.
 */
export function decodeWriteResponseMsg(bytes: Uint8Array): WriteResponseMsg {
  const r = new Reader(asBuffer(bytes), responseError);
  const end = bytes.length;
  let samplesWritten = 0;
  const rejected: RejectedSamplesMsg[] = [];
  let exemplarsWritten = 0;
  let metadataWritten = 0;
  let seriesRefs: number[] = [];
  let refsInstance = '';
  let unknownRefSeries: number[] = [];
  while (r.pos < end) {
    const tag = r.u32(end);
    switch (tag) {
      case 0x08: samplesWritten = r.u64(end); break;
      case 0x12: rejected.push(decodeRejected(r, end)); break;
      case 0x18: exemplarsWritten = r.u64(end); break;
      case 0x20: metadataWritten = r.u64(end); break;
      case 0x2a: seriesRefs = r.packed(seriesRefs, end, true); break;
      case 0x28: seriesRefs.push(r.u64(end)); break;
      case 0x32: refsInstance = r.string(end); break;
      case 0x3a: unknownRefSeries = r.packed(unknownRefSeries, end, false); break;
      case 0x38: unknownRefSeries.push(r.u32(end)); break;
      default:
        if (tag >>> 3 === 0) throw r.fail('field number 0');
        r.skip(tag & 7, end);
    }
  }
  return { samplesWritten, rejected, exemplarsWritten, metadataWritten, seriesRefs, refsInstance, unknownRefSeries };
}
