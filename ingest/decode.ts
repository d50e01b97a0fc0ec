/**
 * Remote-write body → DecodedWriteRequest: content negotiation, size caps before and after
 * decompression, snappy block decoding (snappyjs) and the fast protobuf decoder.
 * Every failure is an AppError; nothing here allocates in proportion to a size the sender merely claims.
 */
import { uncompress } from 'snappyjs';
import { AppError, ErrorKind } from '../common/errors.js';
import { decodeWriteRequest, type DecodedWriteRequest, type KnownLabels, type RawLabelsLookup } from '../proto/write-request-decoder.js';

/** Size limits applied while decoding one body. */
export interface DecodeLimits {
  /** Largest accepted compressed body, bytes. */
  readonly maxBodyBytes: number;
  /** Largest accepted decompressed body (as announced by the snappy preamble), bytes. */
  readonly maxDecompressedBytes: number;
}

/** The request headers that select the body format; `undefined` = header absent. */
export interface BodyHeaders {
  readonly contentType: string | undefined;
  readonly contentEncoding: string | undefined;
}

/** Remote-write message versions we can be asked for. Only v1 is decoded today. */
export const RemoteWriteVersion = { V1: 'v1', V2: 'v2' } as const;
export type RemoteWriteVersion = (typeof RemoteWriteVersion)[keyof typeof RemoteWriteVersion];

const V1_PROTO = 'prometheus.WriteRequest';
const V2_PROTO = 'io.prometheus.write.v2.Request';

/** Stream identifier chunk that opens every framed-snappy stream (forbidden by the spec). */
const FRAMED_SNAPPY_MAGIC = [0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59] as const;

function unsupported(code: string, message: string): AppError {
  return new AppError(ErrorKind.UnsupportedMedia, code, `${message} [err-${code}]`);
}

function badSnappy(message: string, cause?: unknown): AppError {
  return new AppError(ErrorKind.BadData, 'bad-snappy', `invalid snappy body: ${message} [err-bad-snappy]`, { cause });
}

/**
 * Picks the message version from the headers, as Prometheus's receiver does: a missing
 * Content-Encoding means snappy and a missing Content-Type means v1; anything else unknown is 415.
 */
export function negotiate(headers: BodyHeaders): RemoteWriteVersion {
  const enc = headers.contentEncoding?.trim().toLowerCase() ?? '';
  if (enc !== '' && enc !== 'snappy') {
    throw unsupported('unsupported-content-encoding', `content-encoding ${JSON.stringify(enc.slice(0, 100))} is not supported, only snappy`);
  }
  const ct = headers.contentType?.trim() ?? '';
  if (ct === '') return RemoteWriteVersion.V1;
  const parts = ct.split(';');
  const media = (parts[0] as string).trim().toLowerCase();
  if (media !== 'application/x-protobuf') {
    throw unsupported('unsupported-content-type', `content-type ${JSON.stringify(ct.slice(0, 100))} is not supported, expected application/x-protobuf`);
  }
  let proto = '';
  for (let i = 1; i < parts.length; i++) {
    const p = (parts[i] as string).trim();
    const eq = p.indexOf('=');
    if (eq > 0 && p.slice(0, eq).trim().toLowerCase() === 'proto') proto = p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  if (proto === '' || proto === V1_PROTO) return RemoteWriteVersion.V1;
  if (proto === V2_PROTO) return RemoteWriteVersion.V2;
  throw unsupported('unsupported-content-type', `proto=${JSON.stringify(proto.slice(0, 100))} is not supported, expected ${V1_PROTO}`);
}

/**
 * Reads the snappy block preamble: the decompressed length as a little-endian base-128 varint
 * of at most 5 bytes (≤ 2^32 − 1). Returns `[length, preambleBytes]`.
 */
export function snappyDecodedLength(body: Uint8Array): [number, number] {
  let result = 0;
  for (let i = 0; i < 5 && i < body.length; i++) {
    const b = body[i] as number;
    result += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) {
      if (result > 0xffffffff) break;
      return [result, i + 1];
    }
  }
  throw badSnappy('bad length preamble');
}

/**
 * Walks the snappy elements without copying and checks that they produce exactly `expected` bytes
 * and only reference already-produced output. snappyjs skips both checks (a short stream leaves a
 * zero-filled tail, a long one is silently cut), which would hand garbage to the protobuf decoder.
 */
function checkSnappyElements(body: Uint8Array, start: number, expected: number): void {
  let pos = start;
  let out = 0;
  const n = body.length;
  while (pos < n) {
    const c = body[pos++] as number;
    let len: number;
    if ((c & 3) === 0) {
      len = (c >>> 2) + 1;
      if (len > 60) {
        const extra = len - 60;
        if (pos + extra > n) throw badSnappy('truncated literal length');
        len = 0;
        for (let k = extra - 1; k >= 0; k--) len = len * 256 + (body[pos + k] as number);
        len += 1;
        pos += extra;
      }
      if (pos + len > n) throw badSnappy('literal runs past the end of the body');
      pos += len;
    } else {
      let offset: number;
      if ((c & 3) === 1) {
        if (pos + 1 > n) throw badSnappy('truncated copy');
        len = ((c >>> 2) & 7) + 4;
        offset = ((c >>> 5) << 8) | (body[pos] as number);
        pos += 1;
      } else if ((c & 3) === 2) {
        if (pos + 2 > n) throw badSnappy('truncated copy');
        len = (c >>> 2) + 1;
        offset = (body[pos] as number) | ((body[pos + 1] as number) << 8);
        pos += 2;
      } else {
        if (pos + 4 > n) throw badSnappy('truncated copy');
        len = (c >>> 2) + 1;
        offset = ((body[pos] as number) | ((body[pos + 1] as number) << 8) | ((body[pos + 2] as number) << 16) | ((body[pos + 3] as number) << 24)) >>> 0;
        pos += 4;
      }
      if (offset === 0 || offset > out) throw badSnappy('copy offset out of range');
    }
    out += len;
    if (out > expected) throw badSnappy(`stream decodes to more than the announced ${expected} bytes`);
  }
  if (out !== expected) throw badSnappy(`stream decodes to ${out} bytes, preamble announced ${expected}`);
}

/**
 * Decompresses a snappy block-format body after checking the announced size against the limit
 * (before allocating) and rejecting the framed format with a clear message.
 */
export function decompressSnappy(body: Uint8Array, maxDecompressedBytes: number): Uint8Array {
  if (body.length >= FRAMED_SNAPPY_MAGIC.length && FRAMED_SNAPPY_MAGIC.every((b, i) => body[i] === b)) {
    throw new AppError(
      ErrorKind.BadData,
      'snappy-framed',
      'body uses the framed snappy format; remote write requires the snappy block format [err-snappy-framed]',
    );
  }
  const [length, preamble] = snappyDecodedLength(body);
  if (length > maxDecompressedBytes) {
    throw new AppError(
      ErrorKind.TooLarge,
      'decompressed-too-large',
      `decompressed body would be ${length} bytes, limit ${maxDecompressedBytes} (ingest.maxDecompressedBytes) [err-decompressed-too-large]`,
    );
  }
  checkSnappyElements(body, preamble, length);
  try {
    return uncompress(body, maxDecompressedBytes);
  } catch (err) {
    throw badSnappy(err instanceof Error ? err.message : String(err), err);
  }
}

/**
 * The checks made before any decoding: negotiate (415; remote write 2.0 is answered with 415 for
 * now so v2 senders fall back to v1) and cap the compressed size (413).
 */
export function checkRemoteWriteBody(body: Uint8Array, headers: BodyHeaders, limits: DecodeLimits): void {
  const version = negotiate(headers);
  if (version === RemoteWriteVersion.V2) {
    throw unsupported('remote-write-v2-unsupported', `remote write 2.0 (proto=${V2_PROTO}) is not supported yet, send ${V1_PROTO}`);
  }
  if (body.length > limits.maxBodyBytes) {
    throw new AppError(
      ErrorKind.TooLarge,
      'body-too-large',
      `request body is ${body.length} bytes, limit ${limits.maxBodyBytes} (ingest.maxBodyBytes) [err-body-too-large]`,
    );
  }
}

/**
 * Turns a raw remote-write body into a decoded v1 request: checkRemoteWriteBody, decompress
 * (413/400), decode protobuf (400). `lookup` (known series by raw label bytes) is passed to the decoder.
 */
export function decodeRemoteWriteBody<T extends KnownLabels = KnownLabels>(
  body: Uint8Array,
  headers: BodyHeaders,
  limits: DecodeLimits,
  lookup?: RawLabelsLookup<T>,
): DecodedWriteRequest<T> {
  checkRemoteWriteBody(body, headers, limits);
  return decodeWriteRequest(decompressSnappy(body, limits.maxDecompressedBytes), lookup);
}
