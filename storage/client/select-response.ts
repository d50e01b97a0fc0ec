/**
 * Hand-written reader of one `SelectResponse` message (proto/storage/v1/storage.proto), used by the
 * client instead of the reflected protobufjs decoder: it builds no per-label or per-chunk message
 * objects, keeps chunk `data` as views into the message bytes, and reuses label strings that are
 * byte-identical to those at the same position of the previous series (series arrive sorted by
 * labels, so names and most values repeat), which saves most string allocations of large selects.
 */
import { AppError, ErrorKind } from '../../common/errors.js';
import type { DecodableChunk, DecodableSeries } from './decode.js';

function badResponse(detail: string): AppError {
  return new AppError(ErrorKind.Internal, 'storage-bad-response', `malformed SelectResponse from storage: ${detail}`);
}

const utf8 = new TextDecoder('utf-8');

/**
 * Label strings of the previous series by position (slot 2i: name i, 2i+1: value i), with the
 * bytes they were decoded from. One instance per Select stream; it keeps the last message alive.
 */
export class LabelStringCache {
  private readonly _bufs: Uint8Array[] = [];
  private readonly _starts: number[] = [];
  private readonly _lens: number[] = [];
  private readonly _strs: string[] = [];

  /** The string of `buf[start, end)`, reused from `slot` when the bytes are the same. */
  get(slot: number, buf: Uint8Array, start: number, end: number): string {
    const len = end - start;
    if (slot < this._strs.length && this._lens[slot] === len) {
      const pb = this._bufs[slot] as Uint8Array;
      const ps = this._starts[slot] as number;
      let i = 0;
      while (i < len && pb[ps + i] === buf[start + i]) i++;
      if (i === len) return this._strs[slot] as string;
    }
    const s = decodeUtf8(buf, start, end);
    this._bufs[slot] = buf;
    this._starts[slot] = start;
    this._lens[slot] = len;
    this._strs[slot] = s;
    return s;
  }
}

/** UTF-8 text of `buf[start, end)`; short ASCII (the usual label) without a decoder call. */
function decodeUtf8(buf: Uint8Array, start: number, end: number): string {
  if (end - start <= 32) {
    let s = '';
    for (let i = start; i < end; i++) {
      const b = buf[i] as number;
      if (b >= 0x80) return utf8.decode(buf.subarray(start, end));
      s += String.fromCharCode(b);
    }
    return s;
  }
  return utf8.decode(buf.subarray(start, end));
}

/** Cursor over protobuf wire data; every read is bounds-checked. */
class WireReader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  /** Reads a varint of at most 10 bytes; exact below 2^53 (lengths, tags and enums are small). */
  varint(limit: number): number {
    const buf = this.buf;
    let x = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= limit) throw badResponse('truncated varint');
      const b = buf[this.pos++] as number;
      x += (b & 0x7f) * mul;
      if (b < 0x80) return x;
      mul *= 128;
    }
    throw badResponse('varint too long');
  }

  /** Reads a length prefix and returns the end of the delimited field. */
  delimited(limit: number): number {
    const len = this.varint(limit);
    const end = this.pos + len;
    if (end > limit) throw badResponse('field length past the end');
    return end;
  }

  /** Skips one field of wire type `wt`. */
  skip(wt: number, limit: number): void {
    switch (wt) {
      case 0:
        this.varint(limit);
        return;
      case 1:
        this.pos += 8;
        break;
      case 2:
        this.pos = this.delimited(limit);
        return;
      case 5:
        this.pos += 4;
        break;
      default:
        throw badResponse(`unsupported wire type ${wt}`);
    }
    if (this.pos > limit) throw badResponse('fixed field past the end');
  }
}

/**
 * Parses one SelectResponse into series (flat labels, chunks whose `data` are views into `buf`).
 * Throws an internal `storage-bad-response` AppError on malformed input.
 */
export function parseSelectResponse(buf: Uint8Array, strings: LabelStringCache): DecodableSeries[] {
  const r = new WireReader(buf);
  const out: DecodableSeries[] = [];
  const end = buf.length;
  while (r.pos < end) {
    const tag = r.varint(end);
    if (tag === ((1 << 3) | 2)) {
      const sEnd = r.delimited(end);
      out.push(parseSeries(r, sEnd, strings));
      r.pos = sEnd;
    } else r.skip(tag & 7, end);
  }
  return out;
}

function parseSeries(r: WireReader, end: number, strings: LabelStringCache): DecodableSeries {
  const labels: string[] = [];
  const chunks: DecodableChunk[] = [];
  const buf = r.buf;
  while (r.pos < end) {
    const tag = r.varint(end);
    if (tag === ((1 << 3) | 2)) {
      const lEnd = r.delimited(end);
      const slot = labels.length;
      let name = '';
      let value = '';
      while (r.pos < lEnd) {
        const t = r.varint(lEnd);
        if (t === ((1 << 3) | 2) || t === ((2 << 3) | 2)) {
          const fEnd = r.delimited(lEnd);
          const s = strings.get(t === ((1 << 3) | 2) ? slot : slot + 1, buf, r.pos, fEnd);
          if (t === ((1 << 3) | 2)) name = s;
          else value = s;
          r.pos = fEnd;
        } else r.skip(t & 7, lEnd);
      }
      labels.push(name, value);
    } else if (tag === ((2 << 3) | 2)) {
      const cEnd = r.delimited(end);
      let encoding = 0;
      let data: Uint8Array = buf.subarray(0, 0);
      while (r.pos < cEnd) {
        const t = r.varint(cEnd);
        if (t === ((3 << 3) | 0)) encoding = r.varint(cEnd);
        else if (t === ((4 << 3) | 2)) {
          const dEnd = r.delimited(cEnd);
          data = buf.subarray(r.pos, dEnd);
          r.pos = dEnd;
        } else r.skip(t & 7, cEnd);
      }
      chunks.push({ encoding, data });
    } else r.skip(tag & 7, end);
  }
  return { labels, chunks };
}
