/**
 * SQLite storage backend.
 *
 * Design
 * - One database per tenant at `<dataDir>/tenants/<tenant>.db`, opened lazily on first use (a read
 *   of a tenant with no file answers empty without creating one). WAL journal, synchronous=NORMAL:
 *   a committed transaction survives kill -9 of the process (not necessarily power loss).
 *   A tenant database must be used by one backend at a time (no cross-process locking).
 * - Tables: series(id, labels = label-pair id varints) and label_pairs(id, name, value), each
 *   distinct pair once (label-pairs.ts), chunks(id, series_id, min_t, max_t, enc, data) complete
 *   rows of `rowChunks` sealed chunks with a unique index on (series_id, min_t), open_rows: per
 *   series its newest row while not complete (statements.ts), wal(id, data) records of accepted
 *   samples, head(series_id, data,
 *   chunk_min_t, chunk_max_t, last_lo, last_hi) = one state row per series: its head snapshot
 *   plus the span and last value of its persisted chunks, meta(key, value) (reserved).
 *   New files use auto_vacuum=INCREMENTAL (older ones are converted by one VACUUM at open), so
 *   space of deleted WAL records and expired chunks goes back to the file system.
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
 *   series rows and one WAL record with the accepted samples. Only after COMMIT are samples
 *   applied to the heads (a full head of `samplesPerChunk` samples is cut into a chunk when the
 *   next sample arrives, as Prometheus cuts, so the newest full chunk stays in memory) and callers
 *   resolved. A failed transaction rejects its callers with `storage-write-failed` (kind
 *   unavailable) and leaves memory unchanged. Queues are split into transactions of at most
 *   MAX_TXN_SAMPLES samples (whole batches) to keep each one short.
 *
 * Maintenance (one task per tenant at a time, in steps of one transaction of ~stepBudgetMs,
 * with writes committing between steps)
 * - Checkpoint (every checkpointIntervalMs, when the WAL exceeds maxWalBytes, and on close):
 *   for every series changed since the last checkpoint, its cut chunks and its state row in
 *   the same transaction; then deletes the WAL records that were applied when it started; then
 *   incremental vacuum steps. Cut chunks that complete a row are re-encoded compact into `chunks`;
 *   the others join the series' open row as they are (XOR), so each chunk is re-encoded once. An
 *   admin flush also re-encodes open rows compact (open-row.ts).
 * - Retention (every retentionIntervalMs when retentionMs > 0): a checkpoint, then per series
 *   deletes the chunks whose max time is before now − retention (rewriting its state row in the
 *   same transaction); a series whose chunks and head are all expired and that no remaining WAL
 *   record names is deleted (row, state, index). Then incremental vacuum steps.
 *
 * Recovery (on open), and why it is exact
 * - A series' rows (complete and open) and state row are only ever written together, so the
 *   state rows describe the chunks and open_rows tables: one scan of `head` gives every series' chunk span, last persisted value and
 *   head snapshot (no per-series query). A snapshot only holds committed samples after the
 *   series' newest chunk. lastT = newest of chunk and head. Every acknowledged sample newer than
 *   lastT is in a WAL record not yet deleted (a record is deleted only after every sample in it
 *   is in a chunk or state row), so replaying the WAL in id order while skipping samples with
 *   t ≤ lastT of their series restores exactly the acknowledged state, also after a crash in the
 *   middle of a multi-step checkpoint. A checkpoint follows any replay, so restarts replay only
 *   the WAL tail written since the last completed checkpoint.
 *
 * Reads
 * - select: index → series whose [first, last] sample span overlaps the range, sorted by labels;
 *   persisted rows overlapping the range read for up to 8,192 series per statement (complete
 *   rows, then open rows), then unflushed cut chunks, then the head, in time order.
 * - labelNames / labelValues / series filter the index by matchers and by each series' data span
 *   (series with any data in [first, last] overlapping the range; gaps inside the span count).
 */
import { randomUUID } from 'node:crypto';
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
  SelectHints,
  StorageStats,
  TenantId,
  TimeMs,
  WriteExtras,
  WriteResult,
} from '../../../common/types.js';
import { systemClock, type Clock } from '../../../common/clock.js';
import type { Backend, ExtrasResult, LookupOptions, RefBackend, RefBatch, RefWriteResult, SelectedSeries, SlicedSelectBackend } from '../backend.js';
import { ExtrasStore } from './extras-store.js';
import { DEFAULT_ROW_CHUNKS, TenantStore, type CommitRefs, type TenantStoreStats } from './tenant-store.js';

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
  /** Cut chunks flushed together are merged into one persisted row of up to this many chunks (default 4). */
  readonly rowChunks?: number;
  /**
   * Keep data this long, ms (Prometheus --storage.tsdb.retention.time); older whole chunks are
   * deleted and series left without data dropped. 0 (default here) = keep forever.
   */
  readonly retentionMs?: number;
  /** How often retention runs, ms (default 60 000). 0 disables the timer (tests call enforceRetention). */
  readonly retentionIntervalMs?: number;
  /** Target duration of one maintenance transaction, ms (default 20; writes wait at most about this long). */
  readonly stepBudgetMs?: number;
  /** Time source of retention (default the system clock). */
  readonly clock?: Clock;
}

/** Aggregated counters across open tenants (see TenantStoreStats). */
export type SqliteBackendStats = TenantStoreStats & { checkpointErrors: number; tenants: number };

/** Upper bound of samples judged and written in one transaction (~tens of ms). */
export const MAX_TXN_SAMPLES = 50_000;

const TENANT_RE = /^[A-Za-z0-9!_.*'()-]+$/;

interface QueuedAppend {
  readonly batch: SampleBatch;
  /** Series refs of appendRefs (null: plain append). */
  readonly refs: CommitRefs | null;
  readonly resolve: (r: WriteResult) => void;
  readonly reject: (e: AppError) => void;
}

interface TenantSlot {
  readonly store: TenantStore;
  queue: QueuedAppend[];
  queuedSamples: number;
  /** A maintenance step is scheduled (setImmediate) for this tenant. */
  pumping: boolean;
  /** Retention is due but another task was running. */
  retentionDue: boolean;
  /** Waiting for the running maintenance task to end (see _whenIdle); told its failure or null. */
  idleWaiters: ((failure: unknown) => void)[];
}

function closedError(): AppError {
  return new AppError(ErrorKind.Unavailable, 'storage-closed', 'storage is closed [err-storage-closed]');
}

/** The embedded SQLite Backend (see the design notes at the top of this file). */
export class SqliteBackend implements Backend, RefBackend, SlicedSelectBackend {
  /**
   * Names this open backend in series refs. Refs are series ids, which a tenant store never reuses
   * while open (but may after a reopen, once retention dropped the newest series), so a ref is
   * honoured only together with the instance that issued it.
   */
  readonly refsInstance: string = randomUUID();
  private readonly _tenantsDir: string;
  private readonly _maxWalBytes: number;
  private readonly _samplesPerChunk: number;
  private readonly _rowChunks: number;
  private readonly _slots = new Map<TenantId, TenantSlot>();
  private _closed = false;
  private _flushScheduled = false;
  private _checkpointErrors = 0;
  private readonly _timer: NodeJS.Timeout | null;
  private readonly _retentionTimer: NodeJS.Timeout | null;
  private readonly _retentionMs: number;
  private readonly _stepBudgetMs: number;
  private readonly _clock: Clock;
  private readonly _dataDir: string;
  /** Exemplars and metadata (extras-store.ts), opened lazily on first use. */
  private _extras: ExtrasStore | null = null;

  private constructor(opts: SqliteBackendOptions) {
    this._dataDir = opts.dataDir;
    this._tenantsDir = join(opts.dataDir, 'tenants');
    this._maxWalBytes = opts.maxWalBytes ?? 64 * 1024 * 1024;
    this._samplesPerChunk = opts.samplesPerChunk ?? 120;
    this._rowChunks = Math.max(1, Math.floor(opts.rowChunks ?? DEFAULT_ROW_CHUNKS));
    if (!(this._samplesPerChunk >= 1 && this._samplesPerChunk <= 0xffff)) {
      throw new AppError(ErrorKind.Internal, 'invalid-config', `samplesPerChunk ${this._samplesPerChunk} out of range 1..65535`);
    }
    this._retentionMs = opts.retentionMs ?? 0;
    this._stepBudgetMs = opts.stepBudgetMs ?? 20;
    this._clock = opts.clock ?? systemClock;
    if (!(this._retentionMs >= 0) || !(this._stepBudgetMs > 0)) {
      throw new AppError(ErrorKind.Internal, 'invalid-config', `retentionMs ${this._retentionMs} / stepBudgetMs ${this._stepBudgetMs} out of range`);
    }
    mkdirSync(this._tenantsDir, { recursive: true });
    const interval = opts.checkpointIntervalMs ?? 60_000;
    this._timer = interval > 0 ? setInterval(() => this._checkpointAll(), interval) : null;
    this._timer?.unref();
    const retentionInterval = opts.retentionIntervalMs ?? 60_000;
    this._retentionTimer = this._retentionMs > 0 && retentionInterval > 0 ? setInterval(() => this._retentionAll(), retentionInterval) : null;
    this._retentionTimer?.unref();
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
      slot.queue.push({ batch, refs: null, resolve, reject });
      slot.queuedSamples += batch.tsMs.length;
      if (slot.queuedSamples >= MAX_TXN_SAMPLES) this._flushSlot(slot);
      else this._scheduleFlush();
    });
  }

  /**
   * See RefBackend.appendRefs: like append; refs of another instance are all unknown (nothing of
   * those series is written), and the result carries every series' ref.
   */
  appendRefs(tenant: TenantId, req: RefBatch): Promise<RefWriteResult> {
    const { batch } = req;
    // Refs issued by another instance (storage restarted) are resolved to nothing: all unknown.
    const refs: CommitRefs = { in: req.refs, valid: req.refsInstance === this.refsInstance, out: new Uint32Array(batch.series.length), unknown: [] };
    return this._appendQueued(tenant, batch, refs).then((r) => ({ ...r, refs: refs.out, refsInstance: this.refsInstance, unknownRefSeries: refs.unknown }));
  }

  private _appendQueued(tenant: TenantId, batch: SampleBatch, refs: CommitRefs): Promise<WriteResult> {
    if (this._closed) return Promise.reject(closedError());
    let slot: TenantSlot;
    try {
      slot = this._slot(tenant, true) as TenantSlot;
    } catch (err) {
      return Promise.reject(toAppError(err));
    }
    return new Promise<WriteResult>((resolve, reject) => {
      slot.queue.push({ batch, refs, resolve, reject });
      slot.queuedSamples += batch.tsMs.length;
      if (slot.queuedSamples >= MAX_TXN_SAMPLES) this._flushSlot(slot);
      else this._scheduleFlush();
    });
  }

  /** See Backend.select. */
  async select(tenant: TenantId, matchers: readonly Matcher[], startMs: TimeMs, endMs: TimeMs, hints?: SelectHints): Promise<SelectedSeries[]> {
    const slot = this._readSlot(tenant);
    if (slot === null) return [];
    return slot.store.select(compileAll(matchers), startMs, endMs, hints?.newestOnly === true);
  }

  /** See SlicedSelectBackend.selectSlices. */
  *selectSlices(tenant: TenantId, matchers: readonly Matcher[], startMs: TimeMs, endMs: TimeMs, hints: SelectHints | undefined, sliceSeries: number): Iterable<SelectedSeries[]> {
    const slot = this._readSlot(tenant);
    if (slot === null) return;
    yield* slot.store.selectSlices(compileAll(matchers), startMs, endMs, hints?.newestOnly === true, sliceSeries);
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
    if (this._retentionTimer !== null) clearInterval(this._retentionTimer);
    let firstErr: unknown = null;
    for (const slot of this._slots.values()) this._flushSlot(slot);
    this._closed = true;
    for (const slot of this._slots.values()) this._tellIdle(slot, closedError());
    for (const slot of this._slots.values()) {
      try {
        slot.store.finalCheckpoint();
        slot.store.vacuum();
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

  /**
   * Checkpoints every open tenant, open rows sealed in the compact format too, and resolves once
   * all are done (admin flush: everything in the form it would reach later anyway). The checkpoints
   * run in the usual bounded steps, one per event-loop turn, so writes and queries go on meanwhile.
   * Rejects with the first failed checkpoint's AppError.
   */
  async flush(): Promise<void> {
    if (this._closed) throw closedError();
    for (const slot of [...this._slots.values()]) {
      this._flushSlot(slot);
      // A task already running may have started before writes acknowledged before this call.
      while (!slot.store.startCheckpoint(true)) await this._whenIdle(slot);
      this._pump(slot);
      const failure = await this._whenIdle(slot);
      if (failure !== null) throw toAppError(failure);
    }
  }

  /** Resolves when the tenant's maintenance task has ended, with its failure or null. */
  private _whenIdle(slot: TenantSlot): Promise<unknown> {
    if (this._closed) return Promise.resolve(closedError());
    if (!slot.store.busy) return Promise.resolve(null);
    return new Promise((resolve) => slot.idleWaiters.push(resolve));
  }

  /** Runs a checkpoint of every open tenant now (tests, graceful shutdown). Throws the first failure. */
  checkpoint(): void {
    if (this._closed) throw closedError();
    for (const slot of this._slots.values()) slot.store.checkpoint();
  }

  /**
   * Applies retention to every open tenant now, to completion (tests; the timer runs it in steps).
   * Returns the cutoff used (clock − retentionMs), or null when retention is off.
   */
  enforceRetention(): number | null {
    if (this._closed) throw closedError();
    if (this._retentionMs <= 0) return null;
    const cutoff = this._clock.nowMs() - this._retentionMs;
    for (const slot of this._slots.values()) slot.store.enforceRetention(cutoff);
    return cutoff;
  }

  /** Resolves once no maintenance task runs in any tenant (tests). */
  async idle(): Promise<void> {
    for (const slot of [...this._slots.values()]) {
      while (slot.store.busy && !this._closed) await this._whenIdle(slot);
    }
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
      chunksDeleted: 0,
      seriesDropped: 0,
      pagesVacuumed: 0,
      maxMaintenanceTxnMs: 0,
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
      total.chunksDeleted += s.chunksDeleted;
      total.seriesDropped += s.seriesDropped;
      total.pagesVacuumed += s.pagesVacuumed;
      total.maxMaintenanceTxnMs = Math.max(total.maxMaintenanceTxnMs, s.maxMaintenanceTxnMs);
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
      store = new TenantStore(path, { samplesPerChunk: this._samplesPerChunk, rowChunks: this._rowChunks, stepBudgetMs: this._stepBudgetMs, keepFreeBytes: 2 * this._maxWalBytes });
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw new AppError(ErrorKind.Unavailable, 'storage-open-failed', `cannot open tenant database: ${(err as Error).message} [err-storage-open-failed]`, {
        cause: err,
      });
    }
    const slot: TenantSlot = { store, queue: [], queuedSamples: 0, pumping: false, retentionDue: false, idleWaiters: [] };
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
        results = slot.store.commit(
          group.map((q) => q.batch),
          group.map((q) => q.refs),
        );
      } catch (err) {
        const appErr = toAppError(err);
        for (const q of group) q.reject(appErr);
        continue;
      }
      for (let i = 0; i < group.length; i++) (group[i] as QueuedAppend).resolve(results[i] as WriteResult);
    }
    if (slot.store.walBytes > this._maxWalBytes && slot.store.startCheckpoint()) this._pump(slot);
  }

  private _checkpointAll(): void {
    for (const slot of this._slots.values()) {
      if (slot.store.startCheckpoint()) this._pump(slot);
    }
  }

  private _retentionAll(): void {
    if (this._closed) return;
    const cutoff = this._clock.nowMs() - this._retentionMs;
    for (const slot of this._slots.values()) {
      if (slot.store.minTime() >= cutoff) continue;
      if (slot.store.startRetention(cutoff)) this._pump(slot);
      else slot.retentionDue = true;
    }
  }

  /** Runs the tenant's maintenance task one step per event-loop turn, so commits interleave. */
  private _pump(slot: TenantSlot): void {
    if (slot.pumping) return;
    slot.pumping = true;
    setImmediate(() => {
      slot.pumping = false;
      if (this._closed) return;
      let more = false;
      let failure: unknown = null;
      try {
        more = slot.store.step();
      } catch (err) {
        // Counted and retried at the next checkpoint; the WAL keeps everything durable meanwhile.
        this._checkpointErrors++;
        failure = err;
      }
      if (!more) this._tellIdle(slot, failure);
      if (!more && slot.retentionDue) {
        slot.retentionDue = false;
        more = slot.store.startRetention(this._clock.nowMs() - this._retentionMs);
      }
      if (more) this._pump(slot);
    });
  }

  private _tellIdle(slot: TenantSlot, failure: unknown): void {
    const waiters = slot.idleWaiters;
    if (waiters.length === 0) return;
    slot.idleWaiters = [];
    for (const w of waiters) w(failure);
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
