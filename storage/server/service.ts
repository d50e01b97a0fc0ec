/**
 * Handlers of the Storage gRPC service: decode → backend → encode. The only place where an
 * AppError becomes a gRPC status (via toGrpcCode), with the kind and code in trailing metadata so
 * the client rebuilds the same AppError (fromGrpc).
 */
import { subBatch } from '../../common/sample-batch.js';
import * as grpc from '@grpc/grpc-js';
import { AppError, ErrorKind, badData, toAppError, toGrpcCode } from '../../common/errors.js';
import type { Exemplar, Labels, Matcher, MatchType, SampleBatch, WriteExtras, WriteResult } from '../../common/types.js';
import type {
  ExemplarMsg,
  ExemplarsRequestMsg,
  ExemplarsResponseMsg,
  FlushRequestMsg,
  FlushResponseMsg,
  MetadataRequestMsg,
  MetadataResponseMsg,
  StatsRequestMsg,
  StatsResponseMsg,
  LabelNamesRequestMsg,
  LabelNamesResponseMsg,
  LabelValuesRequestMsg,
  LabelValuesResponseMsg,
  MatcherMsg,
  SelectRequestMsg,
  SeriesRequestMsg,
  SeriesResponseMsg,
  WriteRequestMsg,
  WriteResponseMsg,
} from '../../proto/index.js';
import { hasRefs, hasSlicedSelect, type Backend, type SelectedSeries } from '../backend/backend.js';
import { ERROR_CODE_KEY, ERROR_KIND_KEY, type SelectStreamMessage } from '../rpc.js';
import { encodeSelectedSeries } from '../select-codec.js';

/** Structured log sink: `msg` is a constant, variables go in `fields`. */
export type ServiceLog = (level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown>) => void;

/** Default sink: one JSON line on stderr. */
export const stderrLog: ServiceLog = (level, msg, fields) => {
  process.stderr.write(`${JSON.stringify({ ts: new Date().toISOString(), level, msg, component: 'storage', ...fields })}\n`);
};

/** Limits of one Select stream message. */
export interface SelectBatchLimits {
  /** Most series per SelectResponse. */
  readonly maxSeries: number;
  /** Approximate payload bytes per SelectResponse (chunk data plus label text). */
  readonly maxBytes: number;
}

/** Dependencies of the service handlers. */
export interface StorageServiceDeps {
  readonly backend: Backend;
  readonly log: ServiceLog;
  readonly selectBatch: SelectBatchLimits;
}

/** Handler object for `server.addService(storageServiceDefinition, …)`. */
export interface StorageServiceHandlers extends grpc.UntypedServiceImplementation {
  Write: grpc.handleUnaryCall<WriteRequestMsg, WriteResponseMsg>;
  Select: grpc.handleServerStreamingCall<SelectRequestMsg, SelectStreamMessage>;
  LabelNames: grpc.handleUnaryCall<LabelNamesRequestMsg, LabelNamesResponseMsg>;
  LabelValues: grpc.handleUnaryCall<LabelValuesRequestMsg, LabelValuesResponseMsg>;
  Series: grpc.handleUnaryCall<SeriesRequestMsg, SeriesResponseMsg>;
  Metadata: grpc.handleUnaryCall<MetadataRequestMsg, MetadataResponseMsg>;
  Exemplars: grpc.handleUnaryCall<ExemplarsRequestMsg, ExemplarsResponseMsg>;
  Stats: grpc.handleUnaryCall<StatsRequestMsg, StatsResponseMsg>;
  Flush: grpc.handleUnaryCall<FlushRequestMsg, FlushResponseMsg>;
}

/** Exemplars and metadata of a WriteRequest, or null when it carries none. */
export function writeRequestExtras(req: WriteRequestMsg): WriteExtras | null {
  const ex = req.exemplars ?? [];
  const md = req.metadata ?? [];
  if (ex.length === 0 && md.length === 0) return null;
  const exemplars = new Array<Exemplar>(ex.length);
  for (let i = 0; i < ex.length; i++) {
    const e = ex[i] as ExemplarMsg;
    if (e.seriesLabels.length % 2 !== 0 || e.labels.length % 2 !== 0) {
      throw badData('write-request-malformed', 'exemplar label strings must come in name/value pairs [err-write-request-malformed]');
    }
    exemplars[i] = { seriesLabels: [...e.seriesLabels], labels: [...e.labels], value: e.value, tsMs: e.timestampMs };
  }
  return {
    exemplars,
    metadata: md.map((m) => ({ metric: m.metricFamilyName, type: m.type, help: m.help, unit: m.unit })),
    maxExemplars: req.maxExemplars ?? 0,
    maxMetadata: req.maxMetadata ?? 0,
    maxMetadataPerMetric: req.maxMetadataPerMetric ?? 0,
  };
}

/** Exemplars as wire messages. */
export function exemplarMsgs(list: readonly Exemplar[]): ExemplarMsg[] {
  return list.map((e) => ({ seriesLabels: e.seriesLabels, labels: e.labels, value: e.value, timestampMs: e.tsMs }));
}

/**
 * The one AppError → gRPC status mapping of the server side. Unknown errors become INTERNAL and
 * are logged with their stack; AppErrors travel with `x-error-kind`/`x-error-code` trailers.
 */
export function toServiceError(err: unknown, rpc: string, log: ServiceLog): Partial<grpc.StatusObject> & Error {
  const app = toAppError(err);
  if (!(err instanceof AppError) || app.kind === ErrorKind.Internal) {
    log('error', 'storage rpc failed', { rpc, err: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }
  const metadata = new grpc.Metadata();
  metadata.set(ERROR_KIND_KEY, app.kind);
  metadata.set(ERROR_CODE_KEY, app.code);
  return Object.assign(new Error(app.message), { code: toGrpcCode(app) as grpc.status, details: app.message, metadata });
}

function requireTenant(tenant: string): void {
  if (tenant === '') throw badData('tenant-missing', 'storage request without tenant [err-tenant-missing]');
}

function toMatchers(msgs: readonly MatcherMsg[]): Matcher[] {
  const out = new Array<Matcher>(msgs.length);
  for (let i = 0; i < msgs.length; i++) {
    const m = msgs[i] as MatcherMsg;
    out[i] = { type: m.type as MatchType, name: m.name, value: m.value };
  }
  return out;
}

/** A Float64Array over `bytes`: a view when 8-byte aligned, else an aligned copy (bits preserved). */
function float64s(bytes: Uint8Array): Float64Array {
  const n = bytes.byteLength / 8;
  if (bytes.byteOffset % 8 === 0) return new Float64Array(bytes.buffer, bytes.byteOffset, n);
  const out = new Float64Array(n);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/**
 * Converts a columnar WriteRequest to a SampleBatch without per-sample objects. The float arrays
 * may alias the request's bytes; they live as long as the request. Throws bad_data when the
 * columns disagree. Assumes a little-endian host (as every Node platform is).
 */
export function writeRequestToBatch(req: WriteRequestMsg): SampleBatch {
  const nSeries = req.labelPairCounts.length;
  if (req.sampleCounts.length !== nSeries) {
    throw badData('write-request-malformed', `write request has ${nSeries} label sets but ${req.sampleCounts.length} sample counts [err-write-request-malformed]`);
  }
  let pairTotal = 0;
  for (let s = 0; s < nSeries; s++) pairTotal += req.labelPairCounts[s] as number;
  if (pairTotal * 2 !== req.labelStrings.length) {
    throw badData(
      'write-request-malformed',
      `write request label_pair_counts sum to ${pairTotal} pairs but carry ${req.labelStrings.length} label strings [err-write-request-malformed]`,
    );
  }
  const refs = req.seriesRefs ?? [];
  if (refs.length !== 0 && refs.length !== nSeries) {
    throw badData('write-request-malformed', `write request has ${nSeries} label sets but ${refs.length} series refs [err-write-request-malformed]`);
  }
  const series = new Array<Labels>(nSeries);
  const sampleStart = new Uint32Array(nSeries + 1);
  let li = 0;
  let total = 0;
  for (let s = 0; s < nSeries; s++) {
    const pairs = req.labelPairCounts[s] as number;
    if (refs.length !== 0 && (refs[s] as number) !== 0 && pairs !== 0) {
      throw badData('write-request-malformed', `write request series ${s} has both a series ref and labels [err-write-request-malformed]`);
    }
    const end = li + pairs * 2;
    // A series sent by ref carries no labels; storage resolves the ref.
    series[s] = pairs === 0 ? NO_LABELS : req.labelStrings.slice(li, end);
    li = end;
    total += req.sampleCounts[s] as number;
    sampleStart[s + 1] = total;
  }
  if (req.timestamps.byteLength !== total * 8 || req.values.byteLength !== total * 8) {
    throw badData(
      'write-request-malformed',
      `write request has ${total} samples but ${req.timestamps.byteLength} timestamp and ${req.values.byteLength} value bytes [err-write-request-malformed]`,
    );
  }
  return { series, sampleStart, tsMs: float64s(req.timestamps), values: float64s(req.values) };
}

const NO_LABELS: Labels = [];

/**
 * The series of `batch` whose ref is 0, as a new batch, plus the indices of the others (for a
 * backend without refs, every ref is unknown).
 */
function withoutRefSeries(batch: SampleBatch, refs: readonly number[]): { batch: SampleBatch; unknown: number[] } {
  const unknown: number[] = [];
  const keep: number[] = [];
  for (let s = 0; s < batch.series.length; s++) {
    if ((refs[s] as number) !== 0) unknown.push(s);
    else keep.push(s);
  }
  return { batch: subBatch(batch, keep), unknown };
}

/** Rough wire size of one selected series, for batching. */
function seriesBytes(s: SelectedSeries): number {
  let n = 16;
  for (const l of s.labels) n += l.length + 2;
  for (const c of s.chunks) n += c.data.byteLength + 24;
  return n;
}

/**
 * Writes one message, waiting for the stream to drain when its buffer is full. A cancelled or
 * closed call also ends the wait (the caller then sees `call.cancelled` and stops).
 */
function writeMessage(call: grpc.ServerWritableStream<SelectRequestMsg, SelectStreamMessage>, msg: SelectStreamMessage): Promise<void> {
  if (call.write(msg) || call.cancelled) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      call.off('drain', done);
      call.off('close', done);
      call.off('cancelled', done);
      resolve();
    };
    call.on('drain', done);
    call.on('close', done);
    call.on('cancelled', done);
  });
}

/** Builds the service handlers over a backend. */
export function createStorageService(deps: StorageServiceDeps): StorageServiceHandlers {
  const { backend, log, selectBatch } = deps;

  /** Runs a unary handler body and answers via the callback, mapping errors once. */
  function unary<Req, Res>(rpc: string, body: (req: Req) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      body(call.request).then(
        (res) => callback(null, res),
        (err: unknown) => callback(toServiceError(err, rpc, log)),
      );
    };
  }

  return {
    Write: unary<WriteRequestMsg, WriteResponseMsg>('Write', async (req) => {
      requireTenant(req.tenant);
      let batch = writeRequestToBatch(req);
      const extras = writeRequestExtras(req);
      const refsIn = req.seriesRefs ?? [];
      const wantRefs = req.wantRefs === true;
      let refsOut: Partial<WriteResponseMsg> = {};
      let res: WriteResult;
      if (batch.series.length === 0 && extras !== null) res = { samplesWritten: 0, rejected: [] };
      else if ((wantRefs || refsIn.length > 0) && hasRefs(backend)) {
        const r = await backend.appendRefs(req.tenant, { batch, refs: refsIn.length > 0 ? refsIn : null, refsInstance: req.refsInstance ?? '' });
        res = r;
        refsOut = { seriesRefs: wantRefs ? Array.from(r.refs) : [], refsInstance: r.refsInstance, unknownRefSeries: r.unknownRefSeries };
      } else {
        let unknown: number[] = [];
        if (refsIn.some((r) => r !== 0)) ({ batch, unknown } = withoutRefSeries(batch, refsIn));
        // No refs from this backend: the writer keeps sending labels.
        if (unknown.length > 0 || wantRefs) refsOut = { seriesRefs: [], refsInstance: '', unknownRefSeries: unknown };
        res = batch.series.length > 0 || extras === null ? await backend.append(req.tenant, batch) : { samplesWritten: 0, rejected: [] };
      }
      if (extras === null) return { samplesWritten: res.samplesWritten, rejected: res.rejected, ...refsOut };
      const more = await backend.writeExtras(req.tenant, extras);
      return {
        samplesWritten: res.samplesWritten,
        rejected: [...res.rejected, ...more.rejected],
        exemplarsWritten: more.exemplarsWritten,
        metadataWritten: more.metadataWritten,
        ...refsOut,
      };
    }),

    Select: (call) => {
      const req = call.request;
      const run = async (): Promise<void> => {
        requireTenant(req.tenant);
        const matchers = toMatchers(req.matchers);
        const hints = { newestOnly: req.newestOnly === true };
        // A backend that reads in slices lets the caller decode one message while the next slice is
        // read; otherwise everything is read first.
        const slices = hasSlicedSelect(backend)
          ? backend.selectSlices(req.tenant, matchers, req.startMs, req.endMs, hints, selectBatch.maxSeries)
          : [await backend.select(req.tenant, matchers, req.startMs, req.endMs, hints)];
        for (const selected of slices) {
          // Each batch selected[from, i] is encoded straight from the backend's series into one
          // exact-size Buffer (chunk bytes copied once, no message objects), then written.
          let from = 0;
          let bytes = 0;
          for (let i = 0; i < selected.length; i++) {
            if (call.cancelled) return;
            bytes += seriesBytes(selected[i] as SelectedSeries);
            if (i + 1 - from >= selectBatch.maxSeries || bytes >= selectBatch.maxBytes) {
              await writeMessage(call, encodeSelectedSeries(selected, from, i + 1));
              from = i + 1;
              bytes = 0;
            }
          }
          if (call.cancelled) return;
          if (from < selected.length) await writeMessage(call, encodeSelectedSeries(selected, from));
        }
      };
      run().then(
        () => {
          if (!call.cancelled) call.end();
        },
        (err: unknown) => call.emit('error', toServiceError(err, 'Select', log)),
      );
    },

    LabelNames: unary<LabelNamesRequestMsg, LabelNamesResponseMsg>('LabelNames', async (req) => {
      requireTenant(req.tenant);
      const names = await backend.labelNames(req.tenant, toMatchers(req.matchers), { startMs: req.startMs, endMs: req.endMs, limit: req.limit });
      return { names };
    }),

    LabelValues: unary<LabelValuesRequestMsg, LabelValuesResponseMsg>('LabelValues', async (req) => {
      requireTenant(req.tenant);
      const opts = { startMs: req.startMs, endMs: req.endMs, limit: req.limit };
      return { values: await backend.labelValues(req.tenant, req.name, toMatchers(req.matchers), opts) };
    }),

    Series: unary<SeriesRequestMsg, SeriesResponseMsg>('Series', async (req) => {
      requireTenant(req.tenant);
      const list = await backend.series(req.tenant, toMatchers(req.matchers), { startMs: req.startMs, endMs: req.endMs, limit: req.limit });
      const labelStrings: string[] = [];
      const labelPairCounts = new Array<number>(list.length);
      for (let i = 0; i < list.length; i++) {
        const l = list[i] as Labels;
        for (const s of l) labelStrings.push(s);
        labelPairCounts[i] = l.length / 2;
      }
      return { labelStrings, labelPairCounts };
    }),

    Metadata: unary<MetadataRequestMsg, MetadataResponseMsg>('Metadata', async (req) => {
      requireTenant(req.tenant);
      const list = await backend.metadata(req.tenant, { metric: req.metric, limit: req.limit, limitPerMetric: req.limitPerMetric });
      return { metadata: list.map((m) => ({ metricFamilyName: m.metric, type: m.type, help: m.help, unit: m.unit })) };
    }),

    Exemplars: unary<ExemplarsRequestMsg, ExemplarsResponseMsg>('Exemplars', async (req) => {
      requireTenant(req.tenant);
      const sets = req.matcherSets.map((s) => toMatchers(s.matchers));
      return { exemplars: exemplarMsgs(await backend.exemplars(req.tenant, sets, req.startMs, req.endMs)) };
    }),

    Stats: unary<StatsRequestMsg, StatsResponseMsg>('Stats', async () => backend.storageStats()),

    Flush: unary<FlushRequestMsg, FlushResponseMsg>('Flush', async () => {
      await backend.flush();
      return {};
    }),
  };
}
