/**
 * StorageClient over gRPC (`promstore.storage.v1.Storage`). Every call carries a deadline, an
 * AbortSignal cancels the call, idempotent reads are retried once on UNAVAILABLE, and every failure
 * is an AppError rebuilt from the gRPC status and the server's `x-error-kind`/`x-error-code`
 * trailers (fromGrpc): a server that is down gives kind `unavailable`.
 */
import { subBatch } from '../../common/sample-batch.js';
import * as grpc from '@grpc/grpc-js';
import { AppError, ErrorKind, fromGrpc, toAppError } from '../../common/errors.js';
import type {
  Exemplar,
  Labels,
  Matcher,
  MetadataQuery,
  MetricMetadata,
  SampleBatch,
  SampleBufferLease,
  SelectHints,
  SeriesSamples,
  StorageStats,
  TenantId,
  TimeMs,
  WriteExtras,
  WriteResult,
} from '../../common/types.js';
import type { MatcherMsg, SelectRequestMsg, WriteRequestMsg } from '../../proto/index.js';
import { ERROR_CODE_KEY, ERROR_KIND_KEY, storageServiceDefinition as def } from '../rpc.js';
import { SelectedSeriesDecoder } from './decode.js';
import { LabelStringCache, parseSelectResponse } from './select-response.js';
import { SeriesRefCache, type PlannedRefs } from './series-refs.js';
import type { ClientLookupOptions, SeriesRefSlot, StorageClient } from './storage-client.js';
import type { RpcTransport } from '../port/port-transport.js';

/** Options of createGrpcStorageClient. */
export interface GrpcStorageClientOptions {
  /** `host:port` of the storage service. */
  readonly address: string;
  /** Deadline of each call (a retry shares the original deadline), ms. */
  readonly timeoutMs: number;
  /** Largest gRPC message sent or received, bytes. */
  readonly maxMessageBytes: number;
  /** Bound of the per-tenant series ref cache (default DEFAULT_MAX_REFS_PER_TENANT). */
  readonly maxRefsPerTenant?: number;
  /**
   * Carries the calls instead of a gRPC channel to `address`: all mode's port to the storage
   * thread of the same process (storage/port). Same messages, handlers and status codes.
   */
  readonly transport?: RpcTransport;
}

/** Tenant used by ready(): a cheap lookup that touches no real tenant's data. */
const READY_TENANT = '__ready__';
/** ready() answers within this long even when the RPC timeout is large, ms. */
const READY_TIMEOUT_MS = 2000;
/** Deadline of a Flush call at least: a checkpoint of a large head can take minutes. */
const FLUSH_TIMEOUT_MS = 10 * 60_000;

function firstString(md: grpc.Metadata | undefined, key: string): string | undefined {
  const v = md?.get(key)[0];
  return typeof v === 'string' ? v : undefined;
}

/** AppError from a grpc-js call error (the only place the client interprets gRPC statuses). */
function fromServiceError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = err as Partial<grpc.ServiceError>;
  if (typeof e.code !== 'number') return toAppError(err);
  return fromGrpc(e.code, e.details ?? e.message ?? '', firstString(e.metadata, ERROR_KIND_KEY), firstString(e.metadata, ERROR_CODE_KEY));
}

/** HTTP/2 connection receive window of the client (see createGrpcStorageClient). */
const SELECT_RECEIVE_WINDOW_BYTES = 16 * 1024 * 1024;

/** Identity deserializer: Select messages are parsed by parseSelectResponse. */
function rawBytes(b: Buffer): Buffer {
  return b;
}

function canceledError(): AppError {
  return new AppError(ErrorKind.Canceled, 'storage-canceled', 'storage: request canceled');
}

function toMatcherMsgs(matchers: readonly Matcher[]): MatcherMsg[] {
  return matchers.map((m) => ({ type: m.type, name: m.name, value: m.value }));
}

/** Bytes of elements [from, to) of a Float64Array, as a view (no copy). */
function bytesView(arr: Float64Array, from: number, to: number): Uint8Array {
  return new Uint8Array(arr.buffer, arr.byteOffset + from * 8, (to - from) * 8);
}

/**
 * Packs a SampleBatch into the columnar WriteRequest: label strings flat, per-series pair and
 * sample counts, timestamps/values as byte views of the batch's arrays (no copies).
 */
export function batchToWriteRequest(tenant: TenantId, batch: SampleBatch, extras?: WriteExtras, refs?: PlannedRefs): WriteRequestMsg {
  const n = batch.series.length;
  const labelStrings: string[] = [];
  const labelPairCounts = new Array<number>(n);
  const sampleCounts = new Array<number>(n);
  const seriesRefs = refs?.refs;
  for (let i = 0; i < n; i++) {
    sampleCounts[i] = (batch.sampleStart[i + 1] as number) - (batch.sampleStart[i] as number);
    if (seriesRefs !== undefined && (seriesRefs[i] as number) !== 0) {
      // Known series: its ref stands for the labels.
      labelPairCounts[i] = 0;
      continue;
    }
    const l = batch.series[i] as Labels;
    for (let j = 0; j < l.length; j++) labelStrings.push(l[j] as string);
    labelPairCounts[i] = l.length >>> 1;
  }
  const from = n === 0 ? 0 : (batch.sampleStart[0] as number);
  const to = n === 0 ? 0 : (batch.sampleStart[n] as number);
  return {
    tenant,
    labelStrings,
    labelPairCounts,
    sampleCounts,
    timestamps: bytesView(batch.tsMs, from, to),
    values: bytesView(batch.values, from, to),
    ...(refs === undefined ? {} : { seriesRefs: refs.refs, refsInstance: refs.instance, wantRefs: true }),
    ...(extras === undefined
      ? {}
      : {
          exemplars: extras.exemplars.map((e) => ({ seriesLabels: e.seriesLabels, labels: e.labels, value: e.value, timestampMs: e.tsMs })),
          metadata: extras.metadata.map((m) => ({ metricFamilyName: m.metric, type: m.type, help: m.help, unit: m.unit })),
          maxExemplars: extras.maxExemplars,
          maxMetadata: extras.maxMetadata,
          maxMetadataPerMetric: extras.maxMetadataPerMetric,
        }),
  };
}

/** Creates a client; the channel connects lazily on the first call. `close()` releases it. */
export function createGrpcStorageClient(opts: GrpcStorageClientOptions): StorageClient {
  const refCache = new SeriesRefCache(opts.maxRefsPerTenant);
  const client: RpcTransport =
    opts.transport ??
    new grpc.Client(opts.address, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': opts.maxMessageBytes,
      'grpc.max_send_message_length': opts.maxMessageBytes,
      // Receive window of the HTTP/2 connection: with the 64 KiB default, a large Select stream
      // stalls on a WINDOW_UPDATE round trip every 64 KiB.
      'grpc-node.flow_control_window': SELECT_RECEIVE_WINDOW_BYTES,
    });

  /** One unary attempt. */
  function unaryOnce<Req, Res>(method: grpc.MethodDefinition<Req, Res>, req: Req, deadline: Date, signal: AbortSignal | undefined): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      if (signal?.aborted === true) {
        reject(canceledError());
        return;
      }
      let onAbort: (() => void) | undefined;
      try {
        const call = client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, req, new grpc.Metadata(), { deadline }, (err, res) => {
          if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
          if (err !== null || res === undefined) reject(fromServiceError(err ?? new Error('empty response')));
          else resolve(res);
        });
        if (signal !== undefined) {
          onAbort = () => call.cancel();
          signal.addEventListener('abort', onAbort, { once: true });
        }
      } catch (err) {
        reject(toAppError(err));
      }
    });
  }

  /** Runs `attempt` and, for idempotent reads, once more after UNAVAILABLE (same deadline). */
  async function withRetry<T>(attempt: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof AppError) || err.kind !== ErrorKind.Unavailable || signal?.aborted === true) throw err;
      return attempt();
    }
  }

  function deadlineIn(ms: number): Date {
    return new Date(Date.now() + ms);
  }

  /**
   * Collects one Select stream, decoding each message as it arrives (so decoding overlaps the
   * storage side's work). Rejects with a retryable `unavailable` only when no data arrived.
   */
  function selectOnce(req: SelectRequestMsg, deadline: Date, signal: AbortSignal | undefined, buffers: SampleBufferLease | undefined): Promise<SeriesSamples[]> {
    return new Promise<SeriesSamples[]>((resolve, reject) => {
      if (signal?.aborted === true) {
        reject(canceledError());
        return;
      }
      const decoder = new SelectedSeriesDecoder(req.startMs, req.endMs, buffers);
      // Until finish, stream data may still be decoded into the lease's buffers.
      const unhold = buffers?.hold();
      const strings = new LabelStringCache();
      const out = decoder.out;
      let settled = false;
      let onAbort: (() => void) | undefined;
      const finish = (err: AppError | null): void => {
        if (settled) return;
        settled = true;
        unhold?.();
        if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
        if (err === null) resolve(out);
        else reject(err);
      };
      let call: grpc.ClientReadableStream<Buffer>;
      try {
        // Raw message bytes: parseSelectResponse reads them without building message objects.
        call = client.makeServerStreamRequest(def.Select.path, def.Select.requestSerialize, rawBytes, req, new grpc.Metadata(), { deadline });
      } catch (err) {
        finish(toAppError(err));
        return;
      }
      call.on('data', (msg: Buffer) => {
        if (settled) return;
        try {
          decoder.add(parseSelectResponse(msg, strings));
        } catch (err) {
          finish(toAppError(err));
          call.cancel();
        }
      });
      call.on('error', (err) => finish(fromServiceError(err)));
      call.on('status', (status: grpc.StatusObject) => {
        if (status.code === grpc.status.OK) finish(null);
      });
      if (signal !== undefined) {
        onAbort = () => call.cancel();
        signal.addEventListener('abort', onAbort, { once: true });
      }
    });
  }

  return {
    async write(tenant: TenantId, batch: SampleBatch, signal?: AbortSignal, extras?: WriteExtras, slots?: readonly SeriesRefSlot[]): Promise<WriteResult> {
      // Not retried here: the caller (ingest → Prometheus) owns retries of writes.
      const deadline = deadlineIn(opts.timeoutMs);
      const planned = refCache.plan(tenant, batch, slots);
      const res = await unaryOnce(def.Write, batchToWriteRequest(tenant, batch, extras, planned), deadline, signal);
      const unknown = res.unknownRefSeries ?? [];
      refCache.learn(tenant, planned, res.refsInstance ?? '', res.seriesRefs ?? [], unknown);
      let samplesWritten = res.samplesWritten;
      const rejected = res.rejected.map((r) => ({ code: r.code, count: r.count, example: r.example }));
      if (unknown.length > 0) {
        // Storage did not know some refs (it restarted, or dropped the series): nothing of those
        // series was written, so send them again with their labels (which never fails this way).
        const again = subBatch(batch, unknown);
        const plannedAgain: PlannedRefs = {
          slots: unknown.map((i) => planned.slots[i] as SeriesRefSlot),
          callerSlots: planned.callerSlots,
          refs: new Array<number>(unknown.length).fill(0),
          instance: '',
        };
        const res2 = await unaryOnce(def.Write, batchToWriteRequest(tenant, again, undefined, plannedAgain), deadline, signal);
        if ((res2.unknownRefSeries ?? []).length > 0) throw new AppError(ErrorKind.Internal, 'storage-bad-response', 'storage answered series sent with labels as unknown refs');
        refCache.learn(tenant, plannedAgain, res2.refsInstance ?? '', res2.seriesRefs ?? [], []);
        samplesWritten += res2.samplesWritten;
        for (const r of res2.rejected) {
          const same = rejected.find((x) => x.code === r.code);
          if (same !== undefined) same.count += r.count;
          else rejected.push({ code: r.code, count: r.count, example: r.example });
        }
      }
      const out: WriteResult = { samplesWritten, rejected };
      if (extras !== undefined) {
        out.exemplarsWritten = res.exemplarsWritten ?? 0;
        out.metadataWritten = res.metadataWritten ?? 0;
      }
      return out;
    },

    async metadata(tenant: TenantId, query: MetadataQuery, signal?: AbortSignal): Promise<MetricMetadata[]> {
      const req = { tenant, metric: query.metric, limit: query.limit, limitPerMetric: query.limitPerMetric };
      const deadline = deadlineIn(opts.timeoutMs);
      const res = await withRetry(() => unaryOnce(def.Metadata, req, deadline, signal), signal);
      return res.metadata.map((m) => ({ metric: m.metricFamilyName, type: m.type, help: m.help, unit: m.unit }));
    },

    async exemplars(tenant: TenantId, matcherSets: readonly (readonly Matcher[])[], startMs: TimeMs, endMs: TimeMs, signal?: AbortSignal): Promise<Exemplar[]> {
      const req = { tenant, matcherSets: matcherSets.map((set) => ({ matchers: toMatcherMsgs(set) })), startMs, endMs };
      const deadline = deadlineIn(opts.timeoutMs);
      const res = await withRetry(() => unaryOnce(def.Exemplars, req, deadline, signal), signal);
      return res.exemplars.map((e) => ({ seriesLabels: [...e.seriesLabels], labels: [...e.labels], value: e.value, tsMs: e.timestampMs }));
    },

    async stats(signal?: AbortSignal): Promise<StorageStats> {
      const deadline = deadlineIn(Math.min(opts.timeoutMs, READY_TIMEOUT_MS * 5));
      const res = await withRetry(() => unaryOnce(def.Stats, {}, deadline, signal), signal);
      return {
        series: res.series ?? 0,
        chunks: res.chunks ?? 0,
        bytesOnDisk: res.bytesOnDisk ?? 0,
        walBytes: res.walBytes ?? 0,
        tenants: res.tenants ?? 0,
        exemplars: res.exemplars ?? 0,
        metadata: res.metadata ?? 0,
      };
    },

    async flush(signal?: AbortSignal): Promise<void> {
      // A checkpoint of much data takes longer than a query may; it is bounded by the data, not the caller.
      const deadline = deadlineIn(Math.max(opts.timeoutMs, FLUSH_TIMEOUT_MS));
      await withRetry(() => unaryOnce(def.Flush, {}, deadline, signal), signal);
    },

    async select(tenant: TenantId, matchers: readonly Matcher[], startMs: TimeMs, endMs: TimeMs, signal?: AbortSignal, hints?: SelectHints): Promise<SeriesSamples[]> {
      const req = { tenant, matchers: toMatcherMsgs(matchers), startMs, endMs, newestOnly: hints?.newestOnly === true };
      const deadline = deadlineIn(opts.timeoutMs);
      return withRetry(() => selectOnce(req, deadline, signal, hints?.buffers), signal);
    },

    async labelNames(tenant: TenantId, matchers: readonly Matcher[], o: ClientLookupOptions): Promise<string[]> {
      const req = { tenant, matchers: toMatcherMsgs(matchers), startMs: o.startMs, endMs: o.endMs, limit: o.limit };
      const deadline = deadlineIn(opts.timeoutMs);
      const res = await withRetry(() => unaryOnce(def.LabelNames, req, deadline, o.signal), o.signal);
      return [...res.names];
    },

    async labelValues(tenant: TenantId, name: string, matchers: readonly Matcher[], o: ClientLookupOptions): Promise<string[]> {
      const req = { tenant, name, matchers: toMatcherMsgs(matchers), startMs: o.startMs, endMs: o.endMs, limit: o.limit };
      const deadline = deadlineIn(opts.timeoutMs);
      const res = await withRetry(() => unaryOnce(def.LabelValues, req, deadline, o.signal), o.signal);
      return [...res.values];
    },

    async series(tenant: TenantId, matchers: readonly Matcher[], o: ClientLookupOptions): Promise<Labels[]> {
      const req = { tenant, matchers: toMatcherMsgs(matchers), startMs: o.startMs, endMs: o.endMs, limit: o.limit };
      const deadline = deadlineIn(opts.timeoutMs);
      const res = await withRetry(() => unaryOnce(def.Series, req, deadline, o.signal), o.signal);
      const out = new Array<Labels>(res.labelPairCounts.length);
      let li = 0;
      for (let i = 0; i < out.length; i++) {
        const end = li + (res.labelPairCounts[i] as number) * 2;
        out[i] = res.labelStrings.slice(li, end);
        li = end;
      }
      return out;
    },

    async ready(): Promise<boolean> {
      const req = { tenant: READY_TENANT, matchers: [], startMs: 0, endMs: 0, limit: 1 };
      const deadline = deadlineIn(Math.min(opts.timeoutMs, READY_TIMEOUT_MS));
      try {
        await withRetry(() => unaryOnce(def.LabelNames, req, deadline, undefined), undefined);
        return true;
      } catch {
        return false;
      }
    },

    close(): void {
      client.close();
    },
  };
}
