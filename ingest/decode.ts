/**
 * Remote-write body → DecodedWriteRequest: content negotiation, size caps before and after
 * decompression, snappy block decoding (ingest/snappy.ts) and the fast protobuf decoder.
 * Every failure is an AppError; nothing here allocates in proportion to a size the sender merely claims.
 */
import { AppError, ErrorKind } from '../common/errors.js';
import { decodeWriteRequest, type DecodedWriteRequest, type KnownLabels, type RawLabelsLookup } from '../proto/write-request-decoder.js';
import { decodeSnappyElements, snappyDecodedLength } from './snappy.js';

/** Re-exported from ingest/snappy.ts, where the decoder lives, for existing callers. */
export { snappyDecodedLength };

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
 * Decompresses a snappy block-format body after checking the announced size against the limit
 * (before allocating) and rejecting the framed format with a clear message. The result is a fresh
 * Uint8Array that owns its whole buffer (decode-worker.ts transfers it without copying).
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
  return decodeSnappyElements(body, preamble, length);
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
