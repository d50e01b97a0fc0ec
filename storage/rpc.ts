/**
 * grpc-js service definition of `promstore.storage.v1.Storage`, built from the proto/index.ts
 * codecs (no @grpc/proto-loader). Shared by storage/server and storage/client, so both sides use
 * the same paths and serializers.
 */
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import {
  STORAGE_SERVICE_NAME,
  decodeLabelNamesRequest,
  decodeLabelNamesResponse,
  decodeLabelValuesRequest,
  decodeLabelValuesResponse,
  decodeSelectRequest,
  decodeSelectResponse,
  decodeSeriesRequest,
  decodeSeriesResponse,
  encodeLabelNamesRequest,
  encodeLabelNamesResponse,
  encodeLabelValuesRequest,
  encodeLabelValuesResponse,
  encodeSelectRequest,
  encodeSeriesRequest,
  encodeSeriesResponse,
  type LabelNamesRequestMsg,
  type LabelNamesResponseMsg,
  type LabelValuesRequestMsg,
  type LabelValuesResponseMsg,
  type SelectRequestMsg,
  type SelectResponseMsg,
  type SeriesRequestMsg,
  type SeriesResponseMsg,
  type WriteRequestMsg,
  type WriteResponseMsg,
  decodeMetadataRequest,
  decodeMetadataResponse,
  decodeExemplarsRequest,
  decodeExemplarsResponse,
  decodeFlushRequest,
  decodeFlushResponse,
  encodeFlushRequest,
  encodeFlushResponse,
  type FlushRequestMsg,
  type FlushResponseMsg,
  decodeStatsRequest,
  decodeStatsResponse,
  encodeMetadataRequest,
  encodeMetadataResponse,
  encodeExemplarsRequest,
  encodeExemplarsResponse,
  encodeStatsRequest,
  encodeStatsResponse,
  type MetadataRequestMsg,
  type MetadataResponseMsg,
  type ExemplarsRequestMsg,
  type ExemplarsResponseMsg,
  type StatsRequestMsg,
  type StatsResponseMsg,
} from '../proto/index.js';
import { encodeSelectResponseMsg } from './select-codec.js';
import { decodeWriteRequestMsg, decodeWriteResponseMsg, encodeWriteRequestMsg, encodeWriteResponseMsg } from './write-codec.js';

/** A Buffer over the same memory as `bytes` (grpc-js wants Buffers; no copy). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function method<Req, Res>(
  name: string,
  responseStream: boolean,
  encReq: (m: Req) => Uint8Array,
  decReq: (b: Uint8Array) => Req,
  encRes: (m: Res) => Uint8Array,
  decRes: (b: Uint8Array) => Res,
): MethodDefinition<Req, Res> {
  return {
    path: `/${STORAGE_SERVICE_NAME}/${name}`,
    requestStream: false,
    responseStream,
    requestSerialize: (m: Req) => asBuffer(encReq(m)),
    requestDeserialize: (b: Buffer) => decReq(b),
    responseSerialize: (m: Res) => asBuffer(encRes(m)),
    responseDeserialize: (b: Buffer) => decRes(b),
    originalName: name.charAt(0).toLowerCase() + name.slice(1),
  };
}

/**
 * One message of the Select stream as the server writes it: a `SelectResponse`, or its bytes
 * already encoded by storage/select-codec.ts's `encodeSelectedSeries` (the server's way: straight
 * from the backend's series, without message objects). Received messages are always decoded.
 */
export type SelectStreamMessage = SelectResponseMsg | Uint8Array;

/** Select responses: pre-encoded bytes pass through, message objects get the hand-written encoder. */
function encodeSelectStreamMessage(m: SelectStreamMessage): Uint8Array {
  return m instanceof Uint8Array ? m : encodeSelectResponseMsg(m);
}

/** The Storage service's methods, keyed by RPC name (handler objects use the same keys). */
export interface StorageServiceDefinition extends ServiceDefinition {
  readonly Write: MethodDefinition<WriteRequestMsg, WriteResponseMsg>;
  /** The server writes each message already encoded (see `SelectStreamMessage`). */
  readonly Select: MethodDefinition<SelectRequestMsg, SelectStreamMessage>;
  readonly LabelNames: MethodDefinition<LabelNamesRequestMsg, LabelNamesResponseMsg>;
  readonly LabelValues: MethodDefinition<LabelValuesRequestMsg, LabelValuesResponseMsg>;
  readonly Series: MethodDefinition<SeriesRequestMsg, SeriesResponseMsg>;
  readonly Metadata: MethodDefinition<MetadataRequestMsg, MetadataResponseMsg>;
  readonly Exemplars: MethodDefinition<ExemplarsRequestMsg, ExemplarsResponseMsg>;
  readonly Stats: MethodDefinition<StatsRequestMsg, StatsResponseMsg>;
  readonly Flush: MethodDefinition<FlushRequestMsg, FlushResponseMsg>;
}

/** grpc-js definition of `promstore.storage.v1.Storage` (paths `/promstore.storage.v1.Storage/<Rpc>`). */
export const storageServiceDefinition: StorageServiceDefinition = {
  // The hot RPC: hand-written codec (storage/write-codec.ts), same wire format as the reflected one.
  Write: method('Write', false, encodeWriteRequestMsg, decodeWriteRequestMsg, encodeWriteResponseMsg, decodeWriteResponseMsg),
  // The hot stream: responses hand-encoded (storage/select-codec.ts), same wire format.
  Select: method<SelectRequestMsg, SelectStreamMessage>('Select', true, encodeSelectRequest, decodeSelectRequest, encodeSelectStreamMessage, decodeSelectResponse),
  LabelNames: method('LabelNames', false, encodeLabelNamesRequest, decodeLabelNamesRequest, encodeLabelNamesResponse, decodeLabelNamesResponse),
  LabelValues: method('LabelValues', false, encodeLabelValuesRequest, decodeLabelValuesRequest, encodeLabelValuesResponse, decodeLabelValuesResponse),
  Series: method('Series', false, encodeSeriesRequest, decodeSeriesRequest, encodeSeriesResponse, decodeSeriesResponse),
  Metadata: method('Metadata', false, encodeMetadataRequest, decodeMetadataRequest, encodeMetadataResponse, decodeMetadataResponse),
  Exemplars: method('Exemplars', false, encodeExemplarsRequest, decodeExemplarsRequest, encodeExemplarsResponse, decodeExemplarsResponse),
  Stats: method('Stats', false, encodeStatsRequest, decodeStatsRequest, encodeStatsResponse, decodeStatsResponse),
  Flush: method('Flush', false, encodeFlushRequest, decodeFlushRequest, encodeFlushResponse, decodeFlushResponse),
};

/** Trailing-metadata keys that carry an AppError's kind and code across the wire. */
export const ERROR_KIND_KEY = 'x-error-kind';
export const ERROR_CODE_KEY = 'x-error-code';
