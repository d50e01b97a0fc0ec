import type { Database as Db } from 'better-sqlite3';
import { AppError, clip, ErrorKind } from '../../../common/errors.js';
import { compareLabels, formatLabels, labelsFromKey, seriesKey } from '../../../common/labels.js';
import type { CompiledMatcher } from '../../../common/matchers.js';
import { type Labels, type RejectedSamples, type SampleBatch, type WriteResult, wordsOf } from '../../../common/types.js';
import { XorEncoder, XorIterator } from '../../chunk/xor.js';
import { ChunkEncoding, type EncodedChunk, type SelectedSeries } from '../backend.js';
import { SeriesIndex } from '../series-index.js';
import { openTenantDb, type Statements } from './statements.js';
import { decodeWalRecord, encodeWalRecord } from './wal-record.js';

/** Stable rejection codes (see spec limits-and-tenancy.md §4). */
export const CODE_DUPLICATE = 'sample-duplicate-timestamp';
export const CODE_OUT_OF_ORDER = 'sample-out-of-order';
/** A timestamp that is not a safe integer (NaN, ±Inf, fractional, beyond 2^53) cannot be stored. */
export const CODE_INVALID_TIMESTAMP = 'sample-timestamp-invalid';

/**
 * One series in memory. Invariants: `lastT`/`lastLo`/`lastHi` describe the newest committed
 * sample (-Infinity when none); `head` holds the samples after the last cut chunk; `unflushed`
 * holds cut chunks not yet written to the `chunks` table, in time order.
 * The `p*` fields are the tentative state while one group commit is being planned; they are valid
 * only when `epoch` equals the store's current epoch.
 */
class MemSeries {
  head: XorEncoder | null = null;
  minT = Infinity;
  lastT = -Infinity;
  lastLo = 0;
  lastHi = 0;
  /** max_t of the newest chunk in the `chunks` table (-Infinity: none); lets select skip the query. */
  persistedMaxT = -Infinity;
  epoch = 0;
  pT = -Infinity;
  pLo = 0;
  pHi = 0;
  unflushed: EncodedChunk[] = [];
  /** Head changed since the last checkpoint (listed in the store's dirty list). */
  dirty = false;

  constructor(
    readonly id: number,
    readonly key: string,
    readonly labels: Labels,
  ) {}
}

/** Per-caller rejection tally while planning one group commit. */
class Tally {
  written = 0;
  dup = 0;
  dupExample = '';
  ooo = 0;
  oooExample = '';
  invalid = 0;
  invalidExample = '';

  toResult(): WriteResult {
    const rejected: RejectedSamples[] = [];
    if (this.dup > 0) rejected.push({ code: CODE_DUPLICATE, count: this.dup, example: this.dupExample });
    if (this.ooo > 0) rejected.push({ code: CODE_OUT_OF_ORDER, count: this.ooo, example: this.oooExample });
    if (this.invalid > 0) rejected.push({ code: CODE_INVALID_TIMESTAMP, count: this.invalid, example: this.invalidExample });
    return { samplesWritten: this.written, rejected };
  }
}

/** Counters of one tenant store (monotonic unless noted). */
export interface TenantStoreStats {
  transactions: number;
  seriesCount: number;
  chunksFlushed: number;
  /** Bytes of WAL records not yet checkpointed (gauge). */
  walBytes: number;
  checkpoints: number;
  /** Head snapshots that failed to decode at recovery and were ignored. */
  corruptHeads: number;
}

/**
 * Everything of one tenant: its SQLite database, the series map, the inverted index and the open
 * head chunks. All methods are synchronous; the backend serialises calls (single JS thread).
 * See sqlite-backend.ts for the overall design and the recovery argument.
 */
export class TenantStore {
  private readonly _db: Db;
  private readonly _st: Statements;
  private readonly _samplesPerChunk: number;
  private readonly _byKey = new Map<string, MemSeries>();
  /** Series by id (ids are dense, starting at 1). */
  private readonly _byId: (MemSeries | undefined)[] = [];
  private readonly _index = new SeriesIndex();
  private _nextId = 1;
  private _epoch = 0;
  private _lastWalId = 0;
  private readonly _dirty: MemSeries[] = [];
  private readonly _withUnflushed: MemSeries[] = [];

  // Planning scratch, reused by every commit (lifetime: one commit call).
  private _accT = new Float64Array(1024);
  private _accW = new Uint32Array(2048);
  private readonly _accSeries: MemSeries[] = [];
  private readonly _runSeriesId: number[] = [];
  private readonly _runStart: number[] = [];
  private readonly _newSeries: MemSeries[] = [];
  private readonly _newByKey = new Map<string, MemSeries>();

  /** Stats, exposed read-only through `stats()`. */
  private readonly _stats: TenantStoreStats = {
    transactions: 0,
    seriesCount: 0,
    chunksFlushed: 0,
    walBytes: 0,
    checkpoints: 0,
    corruptHeads: 0,
  };

  /** Opens the database at `path` and recovers the in-memory state (see sqlite-backend.ts). */
  constructor(path: string, samplesPerChunk: number) {
    const { db, stmts } = openTenantDb(path);
    this._db = db;
    this._st = stmts;
    this._samplesPerChunk = samplesPerChunk;
    try {
      this._recover();
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** Bytes of WAL records written since the last checkpoint. */
  get walBytes(): number {
    return this._stats.walBytes;
  }

  /** A snapshot of the counters. */
  stats(): TenantStoreStats {
    this._stats.seriesCount = this._index.seriesCount;
    return { ...this._stats };
  }

  /**
   * Judges and durably commits `batches` in ONE transaction, then applies the accepted samples to
   * the heads. Returns one WriteResult per batch. On a database error nothing in memory changes
   * and an `unavailable` AppError is thrown.
   */
  commit(batches: readonly SampleBatch[]): WriteResult[] {
    const epoch = ++this._epoch;
    this._accSeries.length = 0;
    this._runSeriesId.length = 0;
    this._runStart.length = 0;
    this._newSeries.length = 0;
    this._newByKey.clear();
    let nextId = this._nextId;
    let acc = 0;
    const results: WriteResult[] = [];

    for (const batch of batches) {
      const tally = new Tally();
      const { sampleStart, tsMs } = batch;
      const words = wordsOf(batch.values);
      this._ensureScratch(acc + tsMs.length);
      const accT = this._accT;
      const accW = this._accW;
      for (let s = 0; s < batch.series.length; s++) {
        const start = sampleStart[s] as number;
        const end = sampleStart[s + 1] as number;
        if (start >= end) continue;
        const labels = batch.series[s] as Labels;
        const key = seriesKey(labels);
        let ms = this._byKey.get(key) ?? this._newByKey.get(key);
        for (let i = start; i < end; i++) {
          const t = tsMs[i] as number;
          const lo = words[2 * i] as number;
          const hi = words[2 * i + 1] as number;
          if (!Number.isSafeInteger(t)) {
            if (tally.invalid++ === 0) {
              tally.invalidExample = `timestamp ${t} is not an integer number of milliseconds for series ${clip(formatLabels(labels))} [err-${CODE_INVALID_TIMESTAMP}]`;
            }
            continue;
          }
          if (ms === undefined) {
            ms = new MemSeries(nextId++, key, labels);
            this._newByKey.set(key, ms);
            this._newSeries.push(ms);
          }
          if (ms.epoch !== epoch) {
            ms.epoch = epoch;
            ms.pT = ms.lastT;
            ms.pLo = ms.lastLo;
            ms.pHi = ms.lastHi;
          }
          if (t > ms.pT) {
            if (acc === 0 || this._accSeries[acc - 1] !== ms) {
              this._runSeriesId.push(ms.id);
              this._runStart.push(acc);
            }
            this._accSeries[acc] = ms;
            accT[acc] = t;
            accW[2 * acc] = lo;
            accW[2 * acc + 1] = hi;
            acc++;
            ms.pT = t;
            ms.pLo = lo;
            ms.pHi = hi;
            tally.written++;
          } else if (t === ms.pT) {
            // Prometheus TSDB: an identical re-send is a no-op that still counts as written.
            if (lo === ms.pLo && hi === ms.pHi) tally.written++;
            else if (tally.dup++ === 0) {
              tally.dupExample = `new value for timestamp ${t} differs from the stored sample of series ${clip(formatLabels(labels))} [err-${CODE_DUPLICATE}]`;
            }
          } else if (tally.ooo++ === 0) {
            tally.oooExample = `out of order sample: timestamp ${t} is older than the newest sample ${ms.pT} of series ${clip(formatLabels(labels))} [err-${CODE_OUT_OF_ORDER}]`;
          }
        }
      }
      results.push(tally.toResult());
    }

    if (acc === 0 && this._newSeries.length === 0 && this._withUnflushed.length === 0) return results;

    const walRecord = acc > 0 ? encodeWalRecord(this._runSeriesId, this._runStart, acc, this._accT, this._accW) : null;
    let walId = this._lastWalId;
    let chunks = 0;
    try {
      this._db.transaction(() => {
        for (const ms of this._newSeries) this._st.insertSeries.run(ms.id, ms.key);
        if (walRecord !== null) walId = Number(this._st.insertWal.run(walRecord).lastInsertRowid);
        chunks = this._writeUnflushed();
      })();
    } catch (err) {
      throw storageWriteFailed(err);
    }
    // Committed: from here on only in-memory work that cannot fail on valid input.
    this._afterChunksWritten(chunks);
    this._stats.transactions++;
    this._lastWalId = walId;
    if (walRecord !== null) this._stats.walBytes += walRecord.length;
    this._nextId = nextId;
    for (const ms of this._newSeries) this._addSeries(ms);
    for (let k = 0; k < acc; k++) this._appendToHead(this._accSeries[k] as MemSeries, this._accT[k] as number, this._accW, k);
    this._accSeries.length = 0; // drop references
    return results;
  }

  /**
   * Checkpoint: in one transaction writes cut chunks, upserts head snapshots of changed heads and
   * deletes the WAL records already applied, bounding recovery work. No-op when nothing changed.
   */
  checkpoint(): void {
    if (this._stats.walBytes === 0 && this._dirty.length === 0 && this._withUnflushed.length === 0) return;
    let chunks = 0;
    try {
      this._db.transaction(() => {
        chunks = this._writeUnflushed();
        for (const ms of this._dirty) {
          // An empty head keeps its old snapshot: a persisted chunk now covers it, and recovery
          // ignores snapshots that a chunk reaches (deleting it before that chunk is durable could lose data).
          if (ms.head !== null && ms.head.count > 0) this._st.upsertHead.run(ms.id, toBuffer(ms.head.bytes()));
        }
        this._st.deleteWalUpTo.run(this._lastWalId);
      })();
    } catch (err) {
      throw storageWriteFailed(err);
    }
    this._afterChunksWritten(chunks);
    for (const ms of this._dirty) ms.dirty = false;
    this._dirty.length = 0;
    this._stats.walBytes = 0;
    this._stats.checkpoints++;
    this._stats.transactions++;
  }

  /** Closes the database (call checkpoint first for a fast next open). */
  close(): void {
    this._db.close();
  }

  /**
   * Series matching all matchers with data that may overlap [startMs, endMs], sorted by labels,
   * each with its chunks overlapping the range in time order (persisted, then cut-but-unflushed,
   * then the open head). Series without such a chunk are skipped.
   */
  select(matchers: readonly CompiledMatcher[], startMs: number, endMs: number): SelectedSeries[] {
    const list = this._matchingSeries(matchers, startMs, endMs);
    list.sort((a, b) => compareLabels(a.labels, b.labels));
    const out: SelectedSeries[] = [];
    for (const ms of list) {
      const chunks: EncodedChunk[] = [];
      if (ms.persistedMaxT >= startMs) {
        for (const row of this._st.rangeChunks.iterate(ms.id, endMs, startMs, ms.id, startMs, startMs)) {
          chunks.push({ minTimeMs: row[0], maxTimeMs: row[1], encoding: ChunkEncoding.XOR, data: row[2] });
        }
      }
      for (const c of ms.unflushed) {
        if (c.minTimeMs <= endMs && c.maxTimeMs >= startMs) chunks.push({ ...c, data: c.data.slice() });
      }
      const h = ms.head;
      if (h !== null && h.count > 0 && h.minTimeMs <= endMs && h.maxTimeMs >= startMs) {
        chunks.push({ minTimeMs: h.minTimeMs, maxTimeMs: h.maxTimeMs, encoding: ChunkEncoding.XOR, data: h.bytes() });
      }
      if (chunks.length > 0) out.push({ labels: ms.labels, chunks });
    }
    return out;
  }

  /**
   * Label sets of matching series whose data span [first sample, last sample] overlaps
   * [startMs, endMs] (approximate: a gap inside the span still counts), sorted, cut to `limit` (0 = all).
   */
  series(matchers: readonly CompiledMatcher[], startMs: number, endMs: number, limit: number): Labels[] {
    const list = this._matchingSeries(matchers, startMs, endMs);
    list.sort((a, b) => compareLabels(a.labels, b.labels));
    if (limit > 0 && list.length > limit) list.length = limit;
    return list.map((ms) => ms.labels);
  }

  /** Sorted label names among matching series overlapping the range (as `series`), cut to `limit`. */
  labelNames(matchers: readonly CompiledMatcher[], startMs: number, endMs: number, limit: number): string[] {
    const ids = matchers.length > 0 ? this._index.resolve(matchers) : null;
    const out: string[] = [];
    for (const name of this._index.names()) {
      if (this._anyOverlaps(this._index.withName(name), ids, startMs, endMs)) out.push(name);
    }
    return sortAndLimit(out, limit);
  }

  /** Sorted values of label `name` among matching series overlapping the range, cut to `limit`. */
  labelValues(name: string, matchers: readonly CompiledMatcher[], startMs: number, endMs: number, limit: number): string[] {
    const ids = matchers.length > 0 ? this._index.resolve(matchers) : null;
    const out: string[] = [];
    for (const [value, p] of this._index.values(name)) {
      if (this._anyOverlaps(p, ids, startMs, endMs)) out.push(value);
    }
    return sortAndLimit(out, limit);
  }

  private _matchingSeries(matchers: readonly CompiledMatcher[], startMs: number, endMs: number): MemSeries[] {
    const ids = this._index.resolve(matchers);
    const list: MemSeries[] = [];
    for (let i = 0; i < ids.length; i++) {
      const ms = this._byId[ids[i] as number];
      if (ms !== undefined && ms.minT <= endMs && ms.lastT >= startMs) list.push(ms);
    }
    return list;
  }

  /** Whether some id of `p` (restricted to `ids` when given) belongs to a series overlapping the range. */
  private _anyOverlaps(p: Uint32Array, ids: Uint32Array | null, startMs: number, endMs: number): boolean {
    let j = 0;
    for (let i = 0; i < p.length; i++) {
      const id = p[i] as number;
      if (ids !== null) {
        while (j < ids.length && (ids[j] as number) < id) j++;
        if (j >= ids.length) return false;
        if (ids[j] !== id) continue;
      }
      const ms = this._byId[id];
      if (ms !== undefined && ms.minT <= endMs && ms.lastT >= startMs) return true;
    }
    return false;
  }

  private _addSeries(ms: MemSeries): void {
    this._byKey.set(ms.key, ms);
    this._byId[ms.id] = ms;
    this._index.add(ms.id, ms.labels);
  }

  /** Appends one committed sample to the series head, cutting the head into a chunk when full. */
  private _appendToHead(ms: MemSeries, t: number, words: Uint32Array, k: number): void {
    let head = ms.head;
    if (head === null) {
      head = new XorEncoder();
      ms.head = head;
    }
    head.append(t, words, k);
    if (ms.minT === Infinity) ms.minT = t;
    ms.lastT = t;
    ms.lastLo = words[2 * k] as number;
    ms.lastHi = words[2 * k + 1] as number;
    if (!ms.dirty) {
      ms.dirty = true;
      this._dirty.push(ms);
    }
    if (head.count >= this._samplesPerChunk) {
      if (ms.unflushed.length === 0) this._withUnflushed.push(ms);
      ms.unflushed.push({ minTimeMs: head.minTimeMs, maxTimeMs: head.maxTimeMs, encoding: ChunkEncoding.XOR, data: head.bytes() });
      ms.head = null;
    }
  }

  /** Inside a transaction: inserts every cut-but-unflushed chunk; returns how many. */
  private _writeUnflushed(): number {
    let n = 0;
    for (const ms of this._withUnflushed) {
      for (const c of ms.unflushed) {
        this._st.insertChunk.run(ms.id, c.minTimeMs, c.maxTimeMs, toBuffer(c.data));
        n++;
      }
    }
    return n;
  }

  /** After the transaction that wrote the unflushed chunks committed. */
  private _afterChunksWritten(n: number): void {
    if (n === 0) return;
    for (const ms of this._withUnflushed) {
      ms.persistedMaxT = (ms.unflushed[ms.unflushed.length - 1] as EncodedChunk).maxTimeMs;
      ms.unflushed = [];
    }
    this._withUnflushed.length = 0;
    this._stats.chunksFlushed += n;
  }

  private _ensureScratch(n: number): void {
    if (n <= this._accT.length) return;
    let cap = this._accT.length * 2;
    while (cap < n) cap *= 2;
    const t = new Float64Array(cap);
    t.set(this._accT);
    const w = new Uint32Array(cap * 2);
    w.set(this._accW);
    this._accT = t;
    this._accW = w;
  }

  /**
   * Rebuilds memory from the database: series → index; per series the time span and last sample
   * of its persisted chunks; head snapshots not yet covered by a chunk; then WAL replay of the
   * samples newer than what chunks and snapshots hold. Ends with a checkpoint when anything was
   * replayed, so the WAL never grows across restarts.
   */
  private _recover(): void {
    const st = this._st;
    const it = new XorIterator();
    for (const [id, key] of st.allSeries.iterate()) {
      const ms = new MemSeries(id, key, labelsFromKey(key));
      this._addSeries(ms);
      if (id >= this._nextId) this._nextId = id + 1;
      const last = st.lastChunk.get(id);
      if (last !== undefined) {
        ms.minT = st.firstChunkMinT.get(id) ?? last[0];
        ms.lastT = last[0];
        ms.persistedMaxT = last[0];
        it.reset(last[1]);
        while (it.next()) {
          /* to the last sample */
        }
        ms.lastLo = it.vLo;
        ms.lastHi = it.vHi;
      }
    }
    for (const [id, data] of st.allHeads.iterate()) {
      const ms = this._byId[id];
      if (ms === undefined) continue;
      let enc: XorEncoder;
      try {
        enc = XorEncoder.resume(data);
      } catch {
        this._stats.corruptHeads++;
        continue;
      }
      // A chunk reaching the snapshot's first sample contains the whole snapshot (heads are only
      // ever cut into chunks), so the snapshot is stale.
      if (enc.count === 0 || ms.lastT >= enc.minTimeMs) continue;
      ms.head = enc;
      if (enc.minTimeMs < ms.minT) ms.minT = enc.minTimeMs;
      ms.lastT = enc.maxTimeMs;
      ms.lastLo = enc.lastValueLo;
      ms.lastHi = enc.lastValueHi;
    }
    let replayed = false;
    for (const [walId, data] of st.allWal.iterate()) {
      const rec = decodeWalRecord(data);
      for (let r = 0; r < rec.runSeriesId.length; r++) {
        const ms = this._byId[rec.runSeriesId[r] as number];
        if (ms === undefined) {
          throw new AppError(ErrorKind.Internal, 'wal-corrupt', `wal record ${walId} names unknown series ${rec.runSeriesId[r]} [err-wal-corrupt]`);
        }
        const end = rec.runStart[r + 1] as number;
        for (let k = rec.runStart[r] as number; k < end; k++) {
          const t = rec.ts[k] as number;
          // Samples up to lastT are already in a chunk or the head snapshot.
          if (t > ms.lastT) this._appendToHead(ms, t, rec.words, k);
        }
      }
      this._lastWalId = walId;
      this._stats.walBytes += data.length;
      replayed = true;
    }
    if (replayed) this.checkpoint();
  }
}

function sortAndLimit(out: string[], limit: number): string[] {
  out.sort();
  if (limit > 0 && out.length > limit) out.length = limit;
  return out;
}

/** A Buffer view over the same bytes (better-sqlite3 binds Buffers as BLOBs). */
function toBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

function storageWriteFailed(err: unknown): AppError {
  const msg = err instanceof Error ? err.message : String(err);
  return new AppError(ErrorKind.Unavailable, 'storage-write-failed', `storage write failed: ${msg} [err-storage-write-failed]`, { cause: err });
}
