/**
 * The sole .proto loader: loads proto/prometheus/*.proto and proto/storage/v1/storage.proto once
 * with protobufjs reflection and exports typed codecs for every storage message.
 *
 * int64/uint64 fields surface as JS `number` (exact below 2^53), never `Long`: protobufjs is told
 * there is no Long implementation before any type is loaded. Field names are camelCase
 * (`label_strings` → `labelStrings`), as protobufjs converts them by default.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

// Without this protobufjs picks up the `long` package (a dependency of its own) and int64 fields
// decode as Long objects. `configure()` re-derives the reader/writer int64 paths from util.Long.
(protobuf.util as { Long: unknown }).Long = undefined;
protobuf.configure();

/**
 * Finds the proto root: the folder holding `storage/v1/storage.proto`. From source this file sits
 * in it; from the build (dist/proto/index.js) the package's proto/ folder is found by walking up.
 */
function findProtoDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    for (const candidate of [dir, join(dir, 'proto')]) {
      if (existsSync(join(candidate, 'storage', 'v1', 'storage.proto'))) return candidate;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`proto folder with storage/v1/storage.proto not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** Absolute path of the folder holding the .proto files (imports resolve relative to it). */
export const PROTO_DIR = findProtoDir();

function loadRoot(): protobuf.Root {
  const root = new protobuf.Root();
  // Imports such as "prometheus/types.proto" are relative to the proto root, not to the importer.
  root.resolvePath = (_origin, target) => (target.startsWith('/') ? target : resolve(PROTO_DIR, target));
  root.loadSync(['prometheus/remote.proto', 'prometheus/types.proto', 'storage/v1/storage.proto']);
  root.resolveAll();
  return root;
}

/** The loaded, resolved root of all project protos. */
export const protoRoot: protobuf.Root = loadRoot();

/** Reflection type of `prometheus.WriteRequest` (remote write 1.0), e.g. for differential tests. */
export const prometheusWriteRequestType: protobuf.Type = protoRoot.lookupType('prometheus.WriteRequest');

/** Fully qualified name of the storage gRPC service. */
export const STORAGE_SERVICE_NAME = 'promstore.storage.v1.Storage';

// ---------------------------------------------------------------------------------------------
// Message shapes (mirror proto/storage/v1/storage.proto; camelCase field names).

/** `Label`. */
export interface LabelMsg {
  readonly name: string;
  readonly value: string;
}

/** `Matcher`; `type` is `Matcher.Type` (EQ 0, NEQ 1, RE 2, NRE 3), the same numbers as common MatchType. */
export interface MatcherMsg {
  readonly type: number;
  readonly name: string;
  readonly value: string;
}

/** `WriteRequest`: columnar samples; `timestamps`/`values` are little-endian float64 arrays. */
export interface WriteRequestMsg {
  readonly tenant: string;
  readonly labelStrings: readonly string[];
  readonly labelPairCounts: readonly number[];
  readonly sampleCounts: readonly number[];
  readonly timestamps: Uint8Array;
  readonly values: Uint8Array;
  /** Absent on the wire = empty (older writers). */
  readonly exemplars?: readonly ExemplarMsg[];
  readonly metadata?: readonly MetricMetadataMsg[];
  readonly maxExemplars?: number;
  readonly maxMetadata?: number;
  readonly maxMetadataPerMetric?: number;
  /** Per series, or empty: nonzero = series ref standing for the labels (pair count 0). */
  readonly seriesRefs?: readonly number[];
  /** Instance that issued `seriesRefs`. */
  readonly refsInstance?: string;
  /** Ask for refs of this request's series in the response. */
  readonly wantRefs?: boolean;
}

/** `Exemplar`: series labels and own labels flat (name, value, …). */
export interface ExemplarMsg {
  readonly seriesLabels: readonly string[];
  readonly labels: readonly string[];
  readonly value: number;
  readonly timestampMs: number;
}

/** `MetricMetadata` (type in Prometheus API spelling). */
export interface MetricMetadataMsg {
  readonly metricFamilyName: string;
  readonly type: string;
  readonly help: string;
  readonly unit: string;
}

/** `MetadataRequest`. */
export interface MetadataRequestMsg {
  readonly tenant: string;
  readonly metric: string;
  readonly limit: number;
  readonly limitPerMetric: number;
}

/** `MetadataResponse`. */
export interface MetadataResponseMsg {
  readonly metadata: readonly MetricMetadataMsg[];
}

/** `MatcherSet`. */
export interface MatcherSetMsg {
  readonly matchers: readonly MatcherMsg[];
}

/** `ExemplarsRequest`. */
export interface ExemplarsRequestMsg {
  readonly tenant: string;
  readonly matcherSets: readonly MatcherSetMsg[];
  readonly startMs: number;
  readonly endMs: number;
}

/** `ExemplarsResponse`. */
export interface ExemplarsResponseMsg {
  readonly exemplars: readonly ExemplarMsg[];
}

/** `FlushRequest` (empty). */
export type FlushRequestMsg = Record<string, never>;

/** `FlushResponse` (empty). */
export type FlushResponseMsg = Record<string, never>;

/** `StatsRequest` (empty). */
export type StatsRequestMsg = Record<string, never>;

/** `StatsResponse`. */
export interface StatsResponseMsg {
  readonly series: number;
  readonly chunks: number;
  readonly bytesOnDisk: number;
  readonly walBytes: number;
  readonly tenants: number;
  readonly exemplars: number;
  readonly metadata: number;
}

/** `RejectedSamples`. */
export interface RejectedSamplesMsg {
  readonly code: string;
  readonly count: number;
  readonly example: string;
}

/** `WriteResponse`. */
export interface WriteResponseMsg {
  readonly samplesWritten: number;
  readonly rejected: readonly RejectedSamplesMsg[];
  readonly exemplarsWritten?: number;
  readonly metadataWritten?: number;
  /** With wantRefs: one ref per request series (0 = none). */
  readonly seriesRefs?: readonly number[];
  /** Storage instance the refs belong to. */
  readonly refsInstance?: string;
  /** Request series whose ref was unknown: not written, to resend with labels. */
  readonly unknownRefSeries?: readonly number[];
}

/** `SelectRequest`. */
export interface SelectRequestMsg {
  readonly tenant: string;
  readonly matchers: readonly MatcherMsg[];
  readonly startMs: number;
  readonly endMs: number;
  readonly newestOnly?: boolean;
}

/** `Chunk`; `encoding` is `Chunk.Encoding` (RAW 1, XOR 2). */
export interface ChunkMsg {
  readonly minTimeMs: number;
  readonly maxTimeMs: number;
  readonly encoding: number;
  readonly data: Uint8Array;
}

/** `SelectedSeries`. */
export interface SelectedSeriesMsg {
  readonly labels: readonly LabelMsg[];
  readonly chunks: readonly ChunkMsg[];
}

/** `SelectResponse`: one batch of the Select stream. */
export interface SelectResponseMsg {
  readonly series: readonly SelectedSeriesMsg[];
}

/** `LabelNamesRequest`; `limit` 0 = unlimited. */
export interface LabelNamesRequestMsg {
  readonly tenant: string;
  readonly matchers: readonly MatcherMsg[];
  readonly startMs: number;
  readonly endMs: number;
  readonly limit: number;
}

/** `LabelNamesResponse`. */
export interface LabelNamesResponseMsg {
  readonly names: readonly string[];
}

/** `LabelValuesRequest`; `limit` 0 = unlimited. */
export interface LabelValuesRequestMsg {
  readonly tenant: string;
  readonly name: string;
  readonly matchers: readonly MatcherMsg[];
  readonly startMs: number;
  readonly endMs: number;
  readonly limit: number;
}

/** `LabelValuesResponse`. */
export interface LabelValuesResponseMsg {
  readonly values: readonly string[];
}

/** `SeriesRequest`; `limit` 0 = unlimited. */
export interface SeriesRequestMsg {
  readonly tenant: string;
  readonly matchers: readonly MatcherMsg[];
  readonly startMs: number;
  readonly endMs: number;
  readonly limit: number;
}

/** `SeriesResponse`: label strings of all series flat, `labelPairCounts` pairs per series. */
export interface SeriesResponseMsg {
  readonly labelStrings: readonly string[];
  readonly labelPairCounts: readonly number[];
}

// ---------------------------------------------------------------------------------------------
// Codecs.

const EMPTY_BYTES = new Uint8Array(0);

/** protobufjs leaves an absent bytes field as a plain empty array default; callers get a Uint8Array. */
function bytesOrEmpty(v: unknown): Uint8Array {
  return v instanceof Uint8Array ? v : EMPTY_BYTES;
}

function storageType(name: string): protobuf.Type {
  return protoRoot.lookupType(`promstore.storage.v1.${name}`);
}

/** An encode/decode pair over one reflected type. Decoded bytes fields may alias the input. */
function codec<T>(name: string, fix?: (m: T) => T): { encode(msg: T): Uint8Array; decode(bytes: Uint8Array): T } {
  const type = storageType(name);
  return {
    encode: (msg) => type.encode(msg as object).finish(),
    decode: (bytes) => {
      const m = type.decode(bytes) as unknown as T;
      return fix === undefined ? m : fix(m);
    },
  };
}

const writeRequest = codec<WriteRequestMsg>('WriteRequest', (m) => ({
  tenant: m.tenant,
  labelStrings: m.labelStrings,
  labelPairCounts: m.labelPairCounts,
  sampleCounts: m.sampleCounts,
  timestamps: bytesOrEmpty(m.timestamps),
  values: bytesOrEmpty(m.values),
  exemplars: m.exemplars ?? [],
  metadata: m.metadata ?? [],
  maxExemplars: m.maxExemplars ?? 0,
  maxMetadata: m.maxMetadata ?? 0,
  maxMetadataPerMetric: m.maxMetadataPerMetric ?? 0,
  seriesRefs: m.seriesRefs ?? [],
  refsInstance: m.refsInstance ?? '',
  wantRefs: m.wantRefs ?? false,
}));
const writeResponse = codec<WriteResponseMsg>('WriteResponse', (m) => ({
  samplesWritten: m.samplesWritten,
  rejected: m.rejected,
  exemplarsWritten: m.exemplarsWritten ?? 0,
  metadataWritten: m.metadataWritten ?? 0,
  seriesRefs: m.seriesRefs ?? [],
  refsInstance: m.refsInstance ?? '',
  unknownRefSeries: m.unknownRefSeries ?? [],
}));
const selectRequest = codec<SelectRequestMsg>('SelectRequest');
const selectResponse = codec<SelectResponseMsg>('SelectResponse', (m) => {
  for (const s of m.series) {
    for (const c of s.chunks) {
      if (!(c.data instanceof Uint8Array)) (c as { data: Uint8Array }).data = EMPTY_BYTES;
    }
  }
  return m;
});
const labelNamesRequest = codec<LabelNamesRequestMsg>('LabelNamesRequest');
const labelNamesResponse = codec<LabelNamesResponseMsg>('LabelNamesResponse');
const labelValuesRequest = codec<LabelValuesRequestMsg>('LabelValuesRequest');
const labelValuesResponse = codec<LabelValuesResponseMsg>('LabelValuesResponse');
const seriesRequest = codec<SeriesRequestMsg>('SeriesRequest');
const seriesResponse = codec<SeriesResponseMsg>('SeriesResponse');
const metadataRequest = codec<MetadataRequestMsg>('MetadataRequest');
const metadataResponse = codec<MetadataResponseMsg>('MetadataResponse');
const exemplarsRequest = codec<ExemplarsRequestMsg>('ExemplarsRequest');
const exemplarsResponse = codec<ExemplarsResponseMsg>('ExemplarsResponse');
const statsRequest = codec<StatsRequestMsg>('StatsRequest');
const statsResponse = codec<StatsResponseMsg>('StatsResponse');
const flushRequest = codec<FlushRequestMsg>('FlushRequest');
const flushResponse = codec<FlushResponseMsg>('FlushResponse');

/** Encodes a `MetadataRequest`. */
export const encodeMetadataRequest = metadataRequest.encode;
/** Decodes a `MetadataRequest`. */
export const decodeMetadataRequest = metadataRequest.decode;
/** Encodes a `MetadataResponse`. */
export const encodeMetadataResponse = metadataResponse.encode;
/** Decodes a `MetadataResponse`. */
export const decodeMetadataResponse = metadataResponse.decode;
/** Encodes an `ExemplarsRequest`. */
export const encodeExemplarsRequest = exemplarsRequest.encode;
/** Decodes an `ExemplarsRequest`. */
export const decodeExemplarsRequest = exemplarsRequest.decode;
/** Encodes an `ExemplarsResponse`. */
export const encodeExemplarsResponse = exemplarsResponse.encode;
/** Decodes an `ExemplarsResponse`. */
export const decodeExemplarsResponse = exemplarsResponse.decode;
/** Encodes a `StatsRequest`. */
export const encodeStatsRequest = statsRequest.encode;
/** Decodes a `StatsRequest`. */
export const decodeStatsRequest = statsRequest.decode;
/** Encodes a `StatsResponse`. */
export const encodeStatsResponse = statsResponse.encode;
/** Decodes a `StatsResponse`. */
export const decodeStatsResponse = statsResponse.decode;
/** Encodes a `FlushRequest`. */
export const encodeFlushRequest = flushRequest.encode;
/** Decodes a `FlushRequest`. */
export const decodeFlushRequest = flushRequest.decode;
/** Encodes a `FlushResponse`. */
export const encodeFlushResponse = flushResponse.encode;
/** Decodes a `FlushResponse`. */
export const decodeFlushResponse = flushResponse.decode;

/** Encodes a `WriteRequest`. */
export const encodeWriteRequest = writeRequest.encode;
/** Decodes a `WriteRequest`; `timestamps`/`values` are views into `bytes` (possibly unaligned). */
export const decodeWriteRequest = writeRequest.decode;
/** Encodes a `WriteResponse`. */
export const encodeWriteResponse = writeResponse.encode;
/** Decodes a `WriteResponse`. */
export const decodeWriteResponse = writeResponse.decode;
/** Encodes a `SelectRequest`. */
export const encodeSelectRequest = selectRequest.encode;
/** Decodes a `SelectRequest`. */
export const decodeSelectRequest = selectRequest.decode;
/** Encodes one `SelectResponse` batch. */
export const encodeSelectResponse = selectResponse.encode;
/** Decodes one `SelectResponse` batch; chunk `data` are views into `bytes`. */
export const decodeSelectResponse = selectResponse.decode;
/** Encodes a `LabelNamesRequest`. */
export const encodeLabelNamesRequest = labelNamesRequest.encode;
/** Decodes a `LabelNamesRequest`. */
export const decodeLabelNamesRequest = labelNamesRequest.decode;
/** Encodes a `LabelNamesResponse`. */
export const encodeLabelNamesResponse = labelNamesResponse.encode;
/** Decodes a `LabelNamesResponse`. */
export const decodeLabelNamesResponse = labelNamesResponse.decode;
/** Encodes a `LabelValuesRequest`. */
export const encodeLabelValuesRequest = labelValuesRequest.encode;
/** Decodes a `LabelValuesRequest`. */
export const decodeLabelValuesRequest = labelValuesRequest.decode;
/** Encodes a `LabelValuesResponse`. */
export const encodeLabelValuesResponse = labelValuesResponse.encode;
/** Decodes a `LabelValuesResponse`. */
export const decodeLabelValuesResponse = labelValuesResponse.decode;
/** Encodes a `SeriesRequest`. */
export const encodeSeriesRequest = seriesRequest.encode;
/** Decodes a `SeriesRequest`. */
export const decodeSeriesRequest = seriesRequest.decode;
/** Encodes a `SeriesResponse`. */
export const encodeSeriesResponse = seriesResponse.encode;
/** Decodes a `SeriesResponse`. */
export const decodeSeriesResponse = seriesResponse.decode;
