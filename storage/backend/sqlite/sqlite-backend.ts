/**
 * SQLite storage backend.
 *
 * Design
 * - One database per tenant at `<dataDir>/tenants/<tenant>.db`, opened lazily on first use (a read
 *   of a tenant with no file answers empty without creating one). WAL journal, synchronous=NORMAL:
 *   a committed transaction survives kill -9 of the process (not necessarily power loss).
 *   A tenant database must be used by one backend at a time (no cross-process locking).
 * - Tables: series(id, labels = seriesKey), chunks(series_id, min_t, max_t, data) WITHOUT ROWID
 *   keyed (series_id, min_t), wal(id, data) records of accepted samples, head(series_id, data)
 *   snapshots of open head chunks, meta(key, value) (reserved).
 * - Memory per tenant (tenant-store.ts): series by key and id, an inverted index
 *   (series-index.ts), per series the open head XorEncoder, newest timestamp and value words, and
 *   cut chunks not yet written.
 *
 * Write path (group commit)
 * - append() queues the batch; one flush per event-loop turn (setImmediate, or at once when a
 *   tenant queues ≥ MAX_TXN_SAMPLES) judges every queued batch against the newest sample of each
 *   series (Prometheus TSDB rules: newer → append; same timestamp with identical bits → no-op
 *   counted as written; same timestamp, other bits → `sample-duplicate-timestamp`; older →
 *   `sample-out-of-order`; there is no out-of-order window), then in ONE transaction inserts new
 *   series rows, one WAL record with the accepted samples and the chunks cut since the last
 *   transaction. Only after COMMIT are samples applied to the heads (cutting a head into a chunk at
 *   `samplesPerChunk`) and callers resolved. A failed transaction rejects its callers with
 *   `storage-write-failed` (kind unavailable) and leaves memory unchanged. Queues are split into
 *   transactions of at most MAX_TXN_SAMPLES samples (whole batches) to keep each one short.
 *
 * Checkpoint (every checkpointIntervalMs, when the WAL exceeds maxWalBytes, and on close)
 * - One transaction writes cut chunks, upserts head snapshots of heads that changed, and deletes
 *   the WAL records applied so far.
 *
 * Recovery (on open), and why it is exact
 * - Chunks are persisted in time order, each containing every earlier snapshot of its head, so a
 *   snapshot whose first timestamp is ≤ the newest persisted chunk's max_t is stale and ignored;
 *   otherwise the snapshot becomes the head. lastT = newest of chunk and head. Every acknowledged
 *   sample newer than lastT is in a WAL record written after the last checkpoint, so replaying the
 *   WAL in id order while skipping samples with t ≤ lastT of their series restores exactly the
 *   acknowledged state. A checkpoint follows any replay, so restarts never replay much.
 *
 * Reads
 * - select: index → series whose [first, last] sample span overlaps the range, sorted by labels;
 *   per series one indexed range query for persisted chunks, then unflushed cut chunks, then the
 *   head, all XOR encoded, in time order.
 * - labelNames / labelValues / series filter the index by matchers and by each series' data span
 *   (series with any data in [first, last] overlapping the range; gaps inside the span count).
 */
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AppError, ErrorKind, toAppError } from '../../../common/errors.js';
import { compileMatcher, type CompiledMatcher } from '../../../common/matchers.js';
import type {
  Exemplar,
  Labels,
  Matcher,
  MetadataQuery,
  MetricMetadata,
  SampleBatch,
  StorageStats,
  TenantId,
  TimeMs,
  WriteExtras,
  WriteResult,
} from '../../../common/types.js';
import type { Backend, ExtrasResult, LookupOptions, SelectedSeries } from '../backend.js';
import { ExtrasStore } from './extras-store.js';
import { TenantStore, type TenantStoreStats } from './tenant-store.js';

/** Options of SqliteBackend.open. */
export interface SqliteBackendOptions {
  /** Root data directory; tenant databases live in `<dataDir>/tenants/`. */
  readonly dataDir: string;
  /** Interval between checkpoints in ms (default 60 000). 0 disables the timer. */
  readonly checkpointIntervalMs?: number;
  /** Checkpoint as soon as a tenant's un-checkpointed WAL exceeds this many bytes (default 64 MiB). */
  readonly maxWalBytes?: number;
  /** Samples per chunk before the head is cut (default 120, as Prometheus). */
  readonly samplesPerChunk?: number;
}

/** Aggregated counters across open tenants (see TenantStoreStats). */
export type SqliteBackendStats = TenantStoreStats & { checkpointErrors: number; tenants: number };

/** Upper bound of samples judged and written in one transaction (~tens of ms). */
export const MAX_TXN_SAMPLES = 50_000;

const TENANT_RE = /^[A-Za-z0-9!_.*'()-]+$/;

interface QueuedAppend {
  readonly batch: SampleBatch;
  readonly resolve: (r: WriteResult) => void;
  readonly reject: (e: AppError) => void;
}

interface TenantSlot {
  readonly store: TenantStore;
  queue: QueuedAppend[];
  queuedSamples: number;
}

function closedError(): AppError {
  return new AppError(ErrorKind.Unavailable, 'storage-closed', 'storage is closed [err-storage-closed]');
}

/** The embedded SQLite Backend (see the design notes at the top of this file). */
export class SqliteBackend implements Backend {
  private readonly _tenantsDir: string;
  private readonly _maxWalBytes: number;
  private readonly _samplesPerChunk: number;
  private readonly _slots = new Map<TenantId, TenantSlot>();
  private _closed = false;
  private _flushScheduled = false;
  private _checkpointErrors = 0;
  private readonly _timer: NodeJS.Timeout | null;
  private readonly _dataDir: string;
  /** Exemplars and metadata (extras-store.ts), opened lazily on first use. */
  private _extras: ExtrasStore | null = null;

  private constructor(opts: SqliteBackendOptions) {
    this._dataDir = opts.dataDir;
    this._tenantsDir = join(opts.dataDir, 'tenants');
    this._maxWalBytes = opts.maxWalBytes ?? 64 * 1024 * 1024;
    this._samplesPerChunk = opts.samplesPerChunk ?? 120;
    if (!(this._samplesPerChunk >= 1 && this._samplesPerChunk <= 0xffff)) {
      throw new AppError(ErrorKind.Internal, 'invalid-config', `samplesPerChunk ${this._samplesPerChunk} out of range 1..65535`);
    }
    mkdirSync(this._tenantsDir, { recursive: true });
    const interval = opts.checkpointIntervalMs ?? 60_000;
    this._timer = interval > 0 ? setInterval(() => this._checkpointAll(), interval) : null;
    this._timer?.unref();
  }

  /** Opens the backend (synchronously); tenant databases open lazily on first use. */
  static open(opts: SqliteBackendOptions): SqliteBackend {
    try {
      return new SqliteBackend(opts);
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw new AppError(ErrorKind.Unavailable, 'storage-open-failed', `cannot open data dir ${opts.dataDir}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Queues a batch for the next group commit; resolves once it is durable. See Backend.append. */
  append(tenant: TenantId, batch: SampleBatch): Promise<WriteResult> {
    if (this._closed) return Promise.reject(closedError());
    let slot: TenantSlot;
    try {
      slot = this._slot(tenant, true) as TenantSlot;
    } catch (err) {
      return Promise.reject(toAppError(err));
    }
    return new Promise<WriteResult>((resolve, reject) => {
      slot.queue.push({ batch, resolve, reject });
      slot.queuedSamples += batch.tsMs.length;
      if (slot.queuedSamples >= MAX_TXN_SAMPLES) this._flushSlot(slot);
      else this._scheduleFlush();
    });
  }

  /** See Backend.select. */
  async select(tenant: TenantId, matchers: readonly Matcher[], startMs: TimeMs, endMs: TimeMs): Promise<SelectedSeries[]> {
    const slot = this._readSlot(tenant);
    if (slot === null) return [];
    return slot.store.select(compileAll(matchers), startMs, endMs);
  }

  /** See Backend.labelNames; time filtering by each series' data span. */
  async labelNames(tenant: TenantId, matchers: readonly Matcher[], opts: LookupOptions): Promise<string[]> {
    const slot = this._readSlot(tenant);
    if (slot === null) return [];
    return slot.store.labelNames(compileAll(matchers), opts.startMs, opts.endMs, opts.limit);
  }

  /** See Backend.labelValues; time filtering by each series' data span. */
  async labelValues(tenant: TenantId, name: string, matchers: readonly Matcher[], opts: LookupOptions): Promise<string[]> {
    const slot = this._readSlot(tenant);
    if (slot === null) return [];
    return slot.store.labelValues(name, compileAll(matchers), opts.startMs, opts.endMs, opts.limit);
  }

  /** See Backend.series; time filtering by each series' data span. */
  async series(tenant: TenantId, matchers: readonly Matcher[], opts: LookupOptions): Promise<Labels[]> {
    const slot = this._readSlot(tenant);
    if (slot === null) return [];
    return slot.store.series(compileAll(matchers), opts.startMs, opts.endMs, opts.limit);
  }

  /** See Backend.writeExtras (stored in `<dataDir>/extras.db`). */
  async writeExtras(tenant: TenantId, extras: WriteExtras): Promise<ExtrasResult> {
    return this._extrasStore().write(tenant, extras);
  }

  /** See Backend.metadata. */
  async metadata(tenant: TenantId, query: MetadataQuery): Promise<MetricMetadata[]> {
    return this._extrasStore().metadata(tenant, query);
  }

  /** See Backend.exemplars. */
  async exemplars(tenant: TenantId, matcherSets: readonly (readonly Matcher[])[], startMs: TimeMs, endMs: TimeMs): Promise<Exemplar[]> {
    return this._extrasStore().exemplars(tenant, matcherSets, startMs, endMs);
  }

  /** Storage figures: counters of open tenants plus the size of every file under the data dir. */
  async storageStats(): Promise<StorageStats> {
    if (this._closed) throw closedError();
    const s = this.stats();
    const extras = this._extrasStore().totals();
    return { series: s.seriesCount, chunks: s.chunksFlushed, bytesOnDisk: dirBytes(this._dataDir), walBytes: s.walBytes, tenants: s.tenants, ...extras };
  }

  private _extrasStore(): ExtrasStore {
    if (this._closed) throw closedError();
    this._extras ??= new ExtrasStore(join(this._dataDir, 'extras.db'));
    return this._extras;
  }

  /** Flushes queued appends, checkpoints and closes every tenant database; later calls fail `storage-closed`. */
  async close(): Promise<void> {
    if (this._closed) return;
    if (this._timer !== null) clearInterval(this._timer);
    let firstErr: unknown = null;
    for (const slot of this._slots.values()) this._flushSlot(slot);
    this._closed = true;
    for (const slot of this._slots.values()) {
      try {
        slot.store.checkpoint();
      } catch (err) {
        firstErr ??= err;
      }
      slot.store.close();
    }
    this._slots.clear();
    this._extras?.close();
    this._extras = null;
    if (firstErr !== null) throw toAppError(firstErr);
  }

  /** Runs a checkpoint of every open tenant now (tests, graceful shutdown). Throws the first failure. */
  checkpoint(): void {
    if (this._closed) throw closedError();
    for (const slot of this._slots.values()) slot.store.checkpoint();
  }

  /** Counters summed over open tenants, or of one tenant (zeros if not open). */
  stats(tenant?: TenantId): SqliteBackendStats {
    const total: SqliteBackendStats = {
      transactions: 0,
      seriesCount: 0,
      chunksFlushed: 0,
      walBytes: 0,
      checkpoints: 0,
      corruptHeads: 0,
      checkpointErrors: this._checkpointErrors,
      tenants: this._slots.size,
    };
    for (const [id, slot] of this._slots) {
      if (tenant !== undefined && id !== tenant) continue;
      const s = slot.store.stats();
      total.transactions += s.transactions;
      total.seriesCount += s.seriesCount;
      total.chunksFlushed += s.chunksFlushed;
      total.walBytes += s.walBytes;
      total.checkpoints += s.checkpoints;
      total.corruptHeads += s.corruptHeads;
    }
    return total;
  }

  private _readSlot(tenant: TenantId): TenantSlot | null {
    if (this._closed) throw closedError();
    return this._slot(tenant, false);
  }

  /** The tenant's slot, opening (and recovering) its database on first use. */
  private _slot(tenant: TenantId, create: boolean): TenantSlot | null {
    const existing = this._slots.get(tenant);
    if (existing !== undefined) return existing;
    // Defence in depth: the id becomes a file name.
    if (!TENANT_RE.test(tenant) || tenant === '.' || tenant === '..') {
      throw new AppError(ErrorKind.BadData, 'invalid-tenant', `invalid tenant id ${JSON.stringify(tenant.slice(0, 200))} [err-invalid-tenant]`);
    }
    const path = join(this._tenantsDir, `${tenant}.db`);
    if (!create && !existsSync(path)) return null;
    let store: TenantStore;
    try {
      store = new TenantStore(path, this._samplesPerChunk);
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw new AppError(ErrorKind.Unavailable, 'storage-open-failed', `cannot open tenant database: ${(err as Error).message} [err-storage-open-failed]`, {
        cause: err,
      });
    }
    const slot: TenantSlot = { store, queue: [], queuedSamples: 0 };
    this._slots.set(tenant, slot);
    return slot;
  }

  private _scheduleFlush(): void {
    if (this._flushScheduled) return;
    this._flushScheduled = true;
    setImmediate(() => {
      this._flushScheduled = false;
      for (const slot of this._slots.values()) this._flushSlot(slot);
    });
  }

  /** Commits everything queued for one tenant, in transactions of at most MAX_TXN_SAMPLES samples. */
  private _flushSlot(slot: TenantSlot): void {
    while (slot.queue.length > 0) {
      let take = 0;
      let samples = 0;
      while (take < slot.queue.length) {
        const n = (slot.queue[take] as QueuedAppend).batch.tsMs.length;
        if (take > 0 && samples + n > MAX_TXN_SAMPLES) break;
        samples += n;
        take++;
      }
      const group = slot.queue.splice(0, take);
      slot.queuedSamples -= samples;
      let results: WriteResult[];
      try {
        results = slot.store.commit(group.map((q) => q.batch));
      } catch (err) {
        const appErr = toAppError(err);
        for (const q of group) q.reject(appErr);
        continue;
      }
      for (let i = 0; i < group.length; i++) (group[i] as QueuedAppend).resolve(results[i] as WriteResult);
    }
    if (slot.store.walBytes > this._maxWalBytes) this._checkpointSlot(slot);
  }

  private _checkpointAll(): void {
    for (const slot of this._slots.values()) this._checkpointSlot(slot);
  }

  private _checkpointSlot(slot: TenantSlot): void {
    try {
      slot.store.checkpoint();
    } catch {
      // Counted and retried at the next checkpoint; the WAL keeps everything durable meanwhile.
      this._checkpointErrors++;
    }
  }
}

function compileAll(matchers: readonly Matcher[]): CompiledMatcher[] {
  return matchers.map(compileMatcher);
}

/** Total bytes of the regular files under `dir` (two levels: data dir and tenants/). */
function dirBytes(dir: string): number {
  let total = 0;
  const walk = (d: string, depth: number): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isFile()) total += statSync(p, { throwIfNoEntry: false })?.size ?? 0;
      else if (e.isDirectory() && depth > 0) walk(p, depth - 1);
    }
  };
  try {
    walk(dir, 1);
  } catch {
    // A file vanishing mid-walk only makes the figure approximate.
  }
  return total;
}
