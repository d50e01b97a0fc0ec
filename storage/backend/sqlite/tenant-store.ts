import { performance } from 'node:perf_hooks';
import type { Database as Db } from 'better-sqlite3';
import { AppError, clip, ErrorKind } from '../../../common/errors.js';
import { compareLabels, formatLabels } from '../../../common/labels.js';
import type { CompiledMatcher } from '../../../common/matchers.js';
import { type Labels, type RejectedSamples, type SampleBatch, type WriteResult, wordsOf } from '../../../common/types.js';
import { COMPACT_MAX_SAMPLES, compactChunkSampleCount, decodeCompactChunk, encodeCompactChunk } from '../../chunk/compact.js';
import { ByteArena } from '../../chunk/byte-arena.js';
import { XOR_RESUME_HEADER_BYTES, XorEncoder, decodeXorChunk, writeXorResumeHeader, xorChunkSampleCount, xorResumeNextTime, xorResumePoint, type XorResumePoint } from '../../chunk/xor.js';
import { ChunkEncoding, type EncodedChunk, type SelectedSeries } from '../backend.js';
import { SeriesIndex } from '../series-index.js';
import { headTableSql, markMigrated, openRowsTableSql, openTenantDb, type Statements } from './statements.js';
import { corrupt as corruptSeries, decodePairIds, encodePairIds } from './label-pairs.js';
import { decodeWalRecord, encodeWalRecord } from './wal-record.js';
import { ROW_XOR_LIST, decodeXorList, encodeXorList } from './open-row.js';

/**
 * Default bound of a persisted row, in cut chunks: chunks flushed together (a checkpoint after a
 * backfill or a batch of writes) are merged into rows of up to this many chunks' samples. Four
 * 120-sample chunks at 15 s span 2 h, the block length retention works in in Prometheus.
 */
export const DEFAULT_ROW_CHUNKS = 4;

/** Stable rejection codes (see spec limits-and-tenancy.md §4). */
export const CODE_DUPLICATE = 'sample-duplicate-timestamp';
export const CODE_OUT_OF_ORDER = 'sample-out-of-order';
/** A timestamp that is not a safe integer (NaN, ±Inf, fractional, beyond 2^53) cannot be stored. */
export const CODE_INVALID_TIMESTAMP = 'sample-timestamp-invalid';

/**
 * One series in memory. Invariants: `lastT`/`lastLo`/`lastHi` describe the newest committed
 * sample (-Infinity when none); `head` holds the samples after the last cut chunk; `unflushed`
 * holds cut chunks not yet written to the `chunks` table, in time order; `persisted*` describe
 * the chunks in the table (what the series' state row says once it is written).
 * The `p*` fields are the tentative state while one group commit is being planned; they are valid
 * only when `epoch` equals the store's current epoch.
 */
class MemSeries {
  head: XorEncoder | null = null;
  // Value words are kept as int32 (`word | 0`): a uint32 word ≥ 2^31 in a field would make V8
  // box that field in every series (16 bytes each); SQLite gets them back as uint32 (`>>> 0`).
  /** First sample time over chunks and head (Infinity: none). */
  minT = Infinity;
  lastT = -Infinity;
  lastLo = 0;
  lastHi = 0;
  /** min_t of the oldest chunk in the `chunks` table (Infinity: none). */
  persistedMinT = Infinity;
  /** max_t of the newest chunk in the `chunks` table (-Infinity: none); lets select skip the query. */
  persistedMaxT = -Infinity;
  /** Value words of the last sample of the newest persisted chunk. */
  persistedLastLo = 0;
  persistedLastHi = 0;
  /** Value words of the last sample of the newest unflushed chunk. */
  cutLastLo = 0;
  cutLastHi = 0;
  /** Id of the newest WAL record holding samples of this series (0: none since open). */
  lastWalId = 0;
  epoch = 0;
  pT = -Infinity;
  pLo = 0;
  pHi = 0;
  /** NO_CHUNKS (shared, frozen) until a chunk is cut: most series have none most of the time. */
  unflushed: EncodedChunk[] = NO_CHUNKS;
  /** State row is stale: head or chunks changed since it was written (listed in the store's dirty list). */
  dirty = false;
  /** Next series whose labels hash the same (see TenantStore._byLabels; almost always null). */
  nextSameHash: MemSeries | null = null;

  constructor(
    readonly id: number,
    /** Replaced by the index's interned copy once the series is added. */
    public labels: Labels,
  ) {}
}

/** The empty `unflushed` list of every series without cut chunks (frozen: a push would be a bug). */
const NO_CHUNKS: EncodedChunk[] = Object.freeze([]) as unknown as EncodedChunk[];

/**
 * 30-bit FNV-1a of a label set (a small integer in V8, so a cheap Map key). Series are found by
 * this hash and an exact comparison of their labels rather than by their joined label string,
 * which would cost ~150 bytes of memory per series.
 */
export function labelsHash(labels: Labels): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < labels.length; i++) {
    const s = labels[i] as string;
    for (let j = 0; j < s.length; j++) h = Math.imul(h ^ s.charCodeAt(j), 0x01000193);
    h = Math.imul(h ^ 0xff, 0x01000193); // separator: ("ab", "c") and ("a", "bc") differ
  }
  return h & 0x3fffffff;
}

/** The series with exactly `labels` in a map of hash chains (see TenantStore._byLabels). */
function findInChain(byHash: ReadonlyMap<number, MemSeries>, labels: Labels): MemSeries | undefined {
  for (let ms = byHash.get(labelsHash(labels)) ?? null; ms !== null; ms = ms.nextSameHash) {
    if (sameLabels(ms.labels, labels)) return ms;
  }
  return undefined;
}

function sameLabels(a: Labels, b: Labels): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Series refs of one batch of a commit: `in` (per series, 0 = by labels) and what the commit
 * fills in: `out` (per series, the series id = its ref; 0 = none) and `unknown` (indices whose
 * ref names no series; skipped). `out` is valid only if commit returns (it throws on failure).
 */
export interface CommitRefs {
  readonly in: ArrayLike<number> | null;
  /** False: the refs come from another instance, so every nonzero ref is unknown. */
  readonly valid: boolean;
  readonly out: Uint32Array;
  readonly unknown: number[];
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
  /** Chunks deleted by retention. */
  chunksDeleted: number;
  /** Series dropped by retention (no data left). */
  seriesDropped: number;
  /** Pages returned to the file system by incremental vacuum. */
  pagesVacuumed: number;
  /** Longest single maintenance transaction (checkpoint or retention step), ms (gauge). */
  maxMaintenanceTxnMs: number;
}

/** Options of a TenantStore. */
export interface TenantStoreOptions {
  readonly samplesPerChunk: number;
  /** Most cut chunks merged into one persisted row (see DEFAULT_ROW_CHUNKS). */
  readonly rowChunks: number;
  /** Target duration of one maintenance transaction, ms (checkpoint and retention steps). */
  readonly stepBudgetMs: number;
  /** Free bytes a checkpoint leaves in the file for the next WAL records (the rest is vacuumed). */
  readonly keepFreeBytes: number;
}

/** Maintenance steps: each `next()` runs one bounded transaction; writes may run between them. */
export type MaintenanceTask = Generator<void, void, void>;

/** Free space above which a maintenance task ends with incremental vacuum steps. */
const VACUUM_MIN_FREE_BYTES = 1 << 20;
/** WAL records deleted per statement in a checkpoint's delete steps. */
const WAL_RECORDS_PER_DELETE = 4;
/** Space freed per vacuum step (a few ms). */
const VACUUM_BYTES_PER_STEP = 4 << 20;
const EMPTY_BLOB = Buffer.alloc(0);
/** Label-pair rows deleted per transaction when their series are gone. */
const PAIRS_PER_DELETE_STEP = 4096;

/**
 * A head is sent from a resume point (XOR_RESUME) only when the range starts at least this many
 * samples into it: fewer are cheaper to decode again than a 40-byte state is to send.
 */
const RESUME_MIN_SKIP = 16;
/** Most heads with a remembered resume point; past it the memory starts over. */
const MAX_RESUME_POINTS = 100_000;

/** Series ids per chunk-reading statement of select (bounds the JSON argument and the row batch). */
const SELECT_IDS_PER_STATEMENT = 8192;

/** Each series' newest sample (if at or after `startMs`) as a one-sample RAW chunk. */
function newestSamples(list: readonly MemSeries[], startMs: number): SelectedSeries[] {
  const out: SelectedSeries[] = [];
  // One buffer for all the chunks (16 bytes each): thousands of tiny ArrayBuffers cost more than their bytes.
  const all = new Uint8Array(16 * list.length);
  const view = new DataView(all.buffer);
  let at = 0;
  for (const ms of list) {
    if (ms.lastT < startMs) continue;
    // RAW layout for one sample: float64 timestamp, then the value's two words, little-endian.
    view.setFloat64(at, ms.lastT, true);
    view.setUint32(at + 8, ms.lastLo, true);
    view.setUint32(at + 12, ms.lastHi, true);
    const data = all.subarray(at, at + 16);
    at += 16;
    out.push({ labels: ms.labels, chunks: [{ minTimeMs: ms.lastT, maxTimeMs: ms.lastT, encoding: ChunkEncoding.RAW, data }] });
  }
  return out;
}

/** A `chunks` row as the EncodedChunk select returns: the one place rows become chunks. */
function chunkFromRow(minT: number, maxT: number, data: Buffer, enc: number): EncodedChunk {
  return { minTimeMs: minT, maxTimeMs: maxT, encoding: enc as ChunkEncoding, data };
}

/** The series' head if it has samples overlapping [startMs, endMs], else null. */
function headInRange(ms: MemSeries, startMs: number, endMs: number): XorEncoder | null {
  const h = ms.head;
  return h !== null && h.count > 0 && h.minTimeMs <= endMs && h.maxTimeMs >= startMs ? h : null;
}

/** Whether a select from `startMs` may send head `h` from a resume point (it starts far enough inside). */
function mayResume(h: XorEncoder, startMs: number): boolean {
  return h.count > RESUME_MIN_SKIP && h.minTimeMs < startMs && h.maxTimeMs >= startMs;
}

/** Bytes a select from `startMs` sets aside for head `h`: its chunk, and room for a resume state when it may get one. */
function headRoom(h: XorEncoder, startMs: number): number {
  return h.byteLength + (mayResume(h, startMs) ? XOR_RESUME_HEADER_BYTES : 0);
}

/** The chunks of a row: its XOR chunks for an XOR-list open row, else the row as one chunk. */
function rowChunks(minT: number, maxT: number, data: Buffer, enc: number): EncodedChunk[] {
  return enc === ROW_XOR_LIST ? decodeXorList(data) : [chunkFromRow(minT, maxT, data, enc)];
}

/**
 * Everything of one tenant: its SQLite database, the series map, the inverted index and the open
 * head chunks. All methods are synchronous; the backend serialises calls (single JS thread).
 * See sqlite-backend.ts for the overall design and the recovery argument.
 */
export class TenantStore {
  private readonly _db: Db;
  private readonly _st: Statements;
  /**
   * The write transaction of commit(): the planned new pairs and series rows, then the WAL record
   * (if any) as `walId`. Built once: better-sqlite3 wraps a function in several closures per call.
   */
  private readonly _writeTxn: (walId: number, walRecord: Buffer | null) => void;
  private readonly _samplesPerChunk: number;
  private readonly _rowChunks: number;
  /** Scratch columns for re-encoding cut chunks at flush (grown as needed, reused). */
  private _sealTs = new Float64Array(512);
  /** Encoding of head snapshots written now: XOR, COMPACT only for the final checkpoint (see _headSnapshot). */
  private _headEncoding: ChunkEncoding = ChunkEncoding.XOR;
  private _sealValues = new Float64Array(512);
  /**
   * Whether checkpoints write open rows in the compact format (admin flush) rather than as XOR
   * lists (routine checkpoints and the close, see open-row.ts).
   */
  private _sealOpenRows = false;
  private readonly _stepBudgetMs: number;
  private readonly _keepFreePages: number;
  /** Page size of the file (new files: PAGE_SIZE; older ones keep theirs). */
  private readonly _pageSize: number;
  /** labelsHash → series with that hash (chained through `nextSameHash`). */
  private readonly _byLabels = new Map<number, MemSeries>();
  /** Where the series' head chunks keep their bytes (a typed array per head would cost more than most heads hold). */
  private readonly _heads = new ByteArena();
  /** Series by id (ids are dense, starting at 1; dropped series leave holes). */
  private readonly _byId: (MemSeries | undefined)[] = [];
  private readonly _index = new SeriesIndex();
  private _nextId = 1;
  /** Next id of a `label_pairs` row (ids of pairs in use live in the index, see label-pairs.ts). */
  private _nextPairId = 1;
  /** Pairs left without series (retention dropped them) whose rows are still to be deleted. */
  private _orphanPairs: number[] = [];
  private _epoch = 0;
  private _lastWalId = 0;
  /** WAL records with id ≤ this have been deleted by a completed checkpoint. */
  private _walDeletedUpTo = 0;
  /** Series whose state row is stale; flag `dirty` ⇔ listed here. */
  private _dirty: MemSeries[] = [];
  /** The running maintenance task (checkpoint or retention), if any. */
  private _task: MaintenanceTask | null = null;
  /**
   * Select's label-order cache: `_labelRank[id]` = 1 + position of the series in label order
   * among the series that existed at the last rebuild (0: not ranked). Ids are never reused while
   * the store is open and labels never change, so a rank stays valid until the series is dropped.
   */
  private _labelRank = new Uint32Array(0);
  /**
   * Comparisons (n·log2 n per sort) spent since the last rank rebuild sorting lists with many
   * unranked series; once they add up to a rebuild's (one sort of every series), rebuild.
   */
  private _unrankedSortWork = 0;

  // Planning scratch, reused by every commit (lifetime: one commit call).
  private _accT = new Float64Array(1024);
  private _accW = new Uint32Array(2048);
  private readonly _accSeries: MemSeries[] = [];
  private readonly _runSeriesId: number[] = [];
  private readonly _runStart: number[] = [];
  private readonly _newSeries: MemSeries[] = [];
  /**
   * Series created by the commit being planned, by labelsHash, chained through `nextSameHash`
   * (free until _addSeries links them into `_byLabels`): a hash and a comparison per lookup, no
   * joined label string.
   */
  private readonly _newByHash = new Map<number, MemSeries>();
  /** Pair ids of each new series (same index as `_newSeries`). */
  private readonly _newSeriesPairs: number[][] = [];
  /** Pairs first seen in this commit: `name\xffvalue` → id, and their rows as (id, name, value) triples. */
  private readonly _newPairs = new Map<string, number>();
  private readonly _newPairRows: (number | string)[] = [];
  /**
   * The decoder state of heads that selects started inside, so the next select (a dashboard's
   * next refresh) only decodes the samples added since: series → the head's first sample time
   * (a later head of the series has a later one) and the state before the last select's start.
   */
  private readonly _resumePoints = new Map<MemSeries, { minT: number; point: XorResumePoint }>();

  /** Stats, exposed read-only through `stats()`. */
  private readonly _stats: TenantStoreStats = {
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
  };

  /** Opens the database at `path` and recovers the in-memory state (see sqlite-backend.ts). */
  constructor(path: string, opts: TenantStoreOptions) {
    const { db, stmts, previousVersion } = openTenantDb(path);
    this._db = db;
    this._st = stmts;
    this._writeTxn = db.transaction((walId: number, walRecord: Buffer | null) => {
      const rows = this._newPairRows;
      for (let k = 0; k < rows.length; k += 3) stmts.insertPair.run(rows[k] as number, rows[k + 1] as string, rows[k + 2] as string);
      for (let k = 0; k < this._newSeries.length; k++) {
        stmts.insertSeries.run((this._newSeries[k] as MemSeries).id, encodePairIds(this._newSeriesPairs[k] as number[]));
      }
      if (walRecord !== null) stmts.insertWal.run(walId, walRecord);
    });
    this._samplesPerChunk = opts.samplesPerChunk;
    this._rowChunks = opts.rowChunks;
    this._stepBudgetMs = opts.stepBudgetMs;
    this._pageSize = db.pragma('page_size', { simple: true }) as number;
    this._keepFreePages = Math.ceil(opts.keepFreeBytes / this._pageSize);
    try {
      this._recover(previousVersion);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** Bytes of WAL records written since the last checkpoint. */
  get walBytes(): number {
    return this._stats.walBytes;
  }

  /** Whether a maintenance task is running. */
  get busy(): boolean {
    return this._task !== null;
  }

  /** A snapshot of the counters. */
  stats(): TenantStoreStats {
    this._stats.seriesCount = this._index.seriesCount;
    return { ...this._stats };
  }

  /**
   * Judges and durably commits `batches` in ONE transaction (new series rows and one WAL record),
   * then applies the accepted samples to the heads. Returns one WriteResult per batch. On a
   * database error nothing in memory changes and an `unavailable` AppError is thrown.
   */
  commit(batches: readonly SampleBatch[], refs?: readonly (CommitRefs | null)[]): WriteResult[] {
    const epoch = ++this._epoch;
    this._accSeries.length = 0;
    this._runSeriesId.length = 0;
    this._runStart.length = 0;
    this._newSeries.length = 0;
    this._newByHash.clear();
    let nextId = this._nextId;
    let acc = 0;
    const results: WriteResult[] = [];

    for (let b = 0; b < batches.length; b++) {
      const batch = batches[b] as SampleBatch;
      const cr = refs?.[b] ?? null;
      const refIn = cr?.in ?? null;
      const tally = new Tally();
      const { sampleStart, tsMs } = batch;
      const words = wordsOf(batch.values);
      const signedWords = new Int32Array(words.buffer, words.byteOffset, words.length);
      this._ensureScratch(acc + tsMs.length);
      const accT = this._accT;
      const accW = this._accW;
      for (let s = 0; s < batch.series.length; s++) {
        const start = sampleStart[s] as number;
        const end = sampleStart[s + 1] as number;
        if (start >= end) continue;
        const ref = refIn === null ? 0 : (refIn[s] as number);
        let ms: MemSeries | undefined;
        let labels: Labels;
        if (ref !== 0) {
          // A ref stands for a committed series of this store; ids are never reused while it is open.
          ms = cr?.valid === true ? this._byId[ref] : undefined;
          if (ms === undefined) {
            cr?.unknown.push(s);
            continue;
          }
          labels = ms.labels;
        } else {
          labels = batch.series[s] as Labels;
          ms = this._findByLabels(labels) ?? (this._newByHash.size > 0 ? findInChain(this._newByHash, labels) : undefined);
        }
        for (let i = start; i < end; i++) {
          const t = tsMs[i] as number;
          const lo = signedWords[2 * i] as number;
          const hi = signedWords[2 * i + 1] as number;
          if (!Number.isSafeInteger(t)) {
            if (tally.invalid++ === 0) {
              tally.invalidExample = `timestamp ${t} is not an integer number of milliseconds for series ${clip(formatLabels(labels))} [err-${CODE_INVALID_TIMESTAMP}]`;
            }
            continue;
          }
          if (ms === undefined) {
            ms = new MemSeries(nextId++, labels);
            const h = labelsHash(labels);
            ms.nextSameHash = this._newByHash.get(h) ?? null;
            this._newByHash.set(h, ms);
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
        if (cr !== null && ms !== undefined) cr.out[s] = ms.id;
      }
      results.push(tally.toResult());
    }

    if (acc === 0 && this._newSeries.length === 0) return results;

    const walRecord = acc > 0 ? encodeWalRecord(this._runSeriesId, this._runStart, acc, this._accT, this._accW) : null;
    const nextPairId = this._planNewPairs();
    let walId = this._lastWalId;
    if (walRecord !== null) walId++;
    try {
      this._writeTxn(walId, walRecord);
    } catch (err) {
      throw storageWriteFailed(err);
    }
    // Committed: from here on only in-memory work that cannot fail on valid input.
    this._stats.transactions++;
    this._lastWalId = walId;
    if (walRecord !== null) this._stats.walBytes += walRecord.length;
    this._nextId = nextId;
    this._nextPairId = nextPairId;
    for (let k = 0; k < this._newSeries.length; k++) this._addSeries(this._newSeries[k] as MemSeries, this._newSeriesPairs[k] as number[]);
    this._newSeriesPairs.length = 0;
    for (let k = 0; k < acc; k++) this._appendToHead(this._accSeries[k] as MemSeries, this._accT[k] as number, this._accW, k, walId);
    this._accSeries.length = 0; // drop references
    return results;
  }

  /**
   * The label-pair ids of every new series of the commit being planned (`_newSeriesPairs`): a pair
   * some series already has keeps its id (held by the index); other pairs get new ids and rows
   * (`_newPairRows`). Returns the next free pair id once those rows are committed.
   */
  private _planNewPairs(): number {
    let nextPairId = this._nextPairId;
    this._newPairs.clear();
    this._newPairRows.length = 0;
    this._newSeriesPairs.length = 0;
    for (const ms of this._newSeries) {
      const labels = ms.labels;
      const ids = new Array<number>(labels.length >>> 1);
      for (let i = 0; i + 1 < labels.length; i += 2) {
        const name = labels[i] as string;
        const value = labels[i + 1] as string;
        let pid = this._index.pairId(name, value);
        if (pid === 0) {
          const pairKey = `${name}\xff${value}`;
          pid = this._newPairs.get(pairKey) ?? 0;
          if (pid === 0) {
            pid = nextPairId++;
            this._newPairs.set(pairKey, pid);
            this._newPairRows.push(pid, name, value);
          }
        }
        ids[i >>> 1] = pid;
      }
      this._newSeriesPairs.push(ids);
    }
    return nextPairId;
  }

  /**
   * Starts a checkpoint task unless a task is already running (see `step`). Returns whether it
   * started. The checkpoint writes, in transactions of about `stepBudgetMs`, the cut chunks and
   * state rows of every series changed since the last checkpoint, then deletes the WAL records
   * that were applied when it started, then gives free pages back (incremental vacuum).
   * `seal` (admin flush): open rows kept as XOR lists are re-encoded in the compact format too.
   */
  startCheckpoint(seal = false): boolean {
    if (this._task !== null) return false;
    this._task = this._checkpointSteps(this._stepBudgetMs, seal);
    return true;
  }

  /**
   * Starts a retention task unless one is running: a checkpoint, then deletion of every persisted
   * chunk whose max time is before `cutoffMs` (and of head samples all before it), then removal
   * of series left without data, in bounded transactions. Returns whether it started.
   */
  startRetention(cutoffMs: number): boolean {
    if (this._task !== null) return false;
    this._resumePoints.clear(); // let series that retention drops go
    this._task = this._retentionSteps(cutoffMs);
    return true;
  }

  /**
   * Runs one step (one bounded transaction) of the running task. Returns true while more steps
   * remain. A failing step ends the task and throws `storage-write-failed`; the state stays
   * consistent (a failed checkpoint is simply retried later, the WAL keeps everything durable).
   */
  step(): boolean {
    const task = this._task;
    if (task === null) return false;
    let done = true;
    try {
      done = task.next().done === true;
    } catch (err) {
      this._task = null;
      throw err instanceof AppError ? err : storageWriteFailed(err);
    }
    if (done) this._task = null;
    return !done;
  }

  /**
   * The final checkpoint of a graceful close: every head is written COMPACT (see _headSnapshot).
   * The store takes no writes afterwards (the caller closes it).
   */
  finalCheckpoint(): void {
    this._headEncoding = ChunkEncoding.COMPACT;
    for (const ms of this._allSeries()) if (ms.head !== null && ms.head.count > 0) this._markDirty(ms);
    // Open rows stay as they are: sealing them all would make shutdown several times longer
    // (seconds per million series), and they are sealed when complete anyway.
    this.checkpoint();
  }

  /** Finishes the running task, then runs a whole checkpoint now (tests, close); `seal` as in startCheckpoint. */
  checkpoint(seal = false): void {
    while (this.step()) {
      /* finish the running task first: tasks never overlap */
    }
    this._task = this._checkpointSteps(Infinity, seal);
    while (this.step()) {
      /* run to completion */
    }
  }

  /**
   * Returns every free page to the file system (graceful close: leave a compact file). First the
   * state and open-row tables are rewritten: their rows are rewritten at every checkpoint and
   * shrink when heads are cut or rows completed, and SQLite leaves the emptied pages as they are
   * (~10 % full measured), so a fresh copy in key order takes a fraction of the pages. Cost: one
   * pass over one small row per series.
   */
  vacuum(): void {
    while (this.step()) {
      /* finish the running task first */
    }
    this._timedTxn(() => {
      this._db.exec(`${headTableSql('head_compacted')};
        INSERT INTO head_compacted SELECT * FROM head ORDER BY series_id;
        DROP TABLE head;
        ALTER TABLE head_compacted RENAME TO head;
        ${openRowsTableSql('open_rows_compacted')};
        INSERT INTO open_rows_compacted SELECT * FROM open_rows ORDER BY series_id;
        DROP TABLE open_rows;
        ALTER TABLE open_rows_compacted RENAME TO open_rows;`);
    });
    // Every free page, not just a surplus of a MiB: nothing will reuse them before the next open.
    this._task = this._vacuumSteps(0, 0);
    while (this.step()) {
      /* run to completion */
    }
  }

  /** Finishes the running task, then applies retention with `cutoffMs` to completion (tests). */
  enforceRetention(cutoffMs: number): void {
    while (this.step()) {
      /* finish the running task first */
    }
    this._task = this._retentionSteps(cutoffMs);
    while (this.step()) {
      /* run to completion */
    }
  }

  /** Closes the database (call checkpoint first for a fast next open). */
  close(): void {
    this._task = null;
    this._db.close();
  }

  /** Earliest sample time of any series, Infinity when empty (retention skips tenants with nothing to do). */
  minTime(): number {
    let min = Infinity;
    for (const ms of this._byId) if (ms !== undefined && ms.minT < min) min = ms.minT;
    return min;
  }

  /**
   * Series matching all matchers with data that may overlap [startMs, endMs], sorted by labels,
   * each with its chunks overlapping the range in time order (persisted, then cut-but-unflushed,
   * then the open head). Series without such a chunk are skipped. With `newestOnly` (see
   * SelectHints) and no matching series newer than `endMs` (a query at "now"), each series gets
   * just its newest sample, from memory: no table read and nothing for the caller to decode.
   */
  select(matchers: readonly CompiledMatcher[], startMs: number, endMs: number, newestOnly = false): SelectedSeries[] {
    // One slice holds everything when slices are unbounded.
    for (const all of this.selectSlices(matchers, startMs, endMs, newestOnly, Infinity)) return all;
    return [];
  }

  /**
   * select() in slices of at most `sliceSeries` series (same order), each read when the caller
   * asks for it: matching and sorting happen once, then each slice's persisted chunks are read and
   * its heads copied. A slice is read in one synchronous step; a caller that waits between slices
   * (backpressure) lets writes in, so later slices may hold samples newer than earlier ones.
   */
  *selectSlices(matchers: readonly CompiledMatcher[], startMs: number, endMs: number, newestOnly: boolean, sliceSeries: number): Generator<SelectedSeries[]> {
    const list = this._matchingSeries(matchers, startMs, endMs);
    this._sortByLabels(list);
    if (newestOnly && list.every((ms) => ms.lastT <= endMs)) {
      yield newestSamples(list, startMs);
      return;
    }
    const step = Math.max(1, sliceSeries);
    for (let from = 0; from < list.length; from += step) {
      const slice = this._readSlice(from === 0 && step >= list.length ? list : list.slice(from, from + step), startMs, endMs);
      if (slice.length > 0) yield slice;
    }
  }

  /** Chunks of `list` (sorted) overlapping [startMs, endMs]: persisted, cut-but-unflushed, then the head. */
  private _readSlice(list: readonly MemSeries[], startMs: number, endMs: number): SelectedSeries[] {
    const persisted = this._persistedChunks(list, startMs, endMs);
    // Heads change with later appends, so they are copied: all into one buffer (one allocation
    // per slice instead of one off-heap buffer per series, which V8 answers with extra GCs).
    let headBytes = 0;
    for (let i = 0; i < list.length; i++) {
      const h = headInRange(list[i] as MemSeries, startMs, endMs);
      if (h !== null) headBytes += headRoom(h, startMs);
    }
    const heads = new Uint8Array(headBytes);
    let headAt = 0;
    const out: SelectedSeries[] = [];
    for (let i = 0; i < list.length; i++) {
      const ms = list[i] as MemSeries;
      const chunks: EncodedChunk[] = persisted[i] ?? [];
      // Cut chunks are never modified (a flush replaces the list), so they are handed out as they
      // are; only the head is copied (above).
      // Indexed: for-of over the frozen NO_CHUNKS takes V8's slow iterator path (~5x per series).
      const cut = ms.unflushed;
      for (let k = 0; k < cut.length; k++) {
        const c = cut[k] as EncodedChunk;
        if (c.minTimeMs <= endMs && c.maxTimeMs >= startMs) chunks.push(c);
      }
      const h = headInRange(ms, startMs, endMs);
      if (h !== null) {
        chunks.push(this._headChunk(ms, h, startMs, heads, headAt));
        headAt += headRoom(h, startMs);
      }
      if (chunks.length > 0) out.push({ labels: ms.labels, chunks });
    }
    return out;
  }

  /**
   * The head of `ms` copied into `heads` at `at`: as XOR_RESUME from the state before `startMs`
   * when the range starts well inside it (the caller then decodes only from there), else as is.
   */
  private _headChunk(ms: MemSeries, h: XorEncoder, startMs: number, heads: Uint8Array, at: number): EncodedChunk {
    if (!mayResume(h, startMs)) return { minTimeMs: h.minTimeMs, maxTimeMs: h.maxTimeMs, encoding: ChunkEncoding.XOR, data: h.bytesInto(heads, at) };
    const data = h.bytesInto(heads, at + XOR_RESUME_HEADER_BYTES);
    const known = this._resumePoints.get(ms);
    const point = xorResumePoint(data, startMs, known !== undefined && known.minT === h.minTimeMs ? known.point : null);
    const firstMs = xorResumeNextTime();
    if (point === null || point.read < RESUME_MIN_SKIP || Number.isNaN(firstMs)) return { minTimeMs: h.minTimeMs, maxTimeMs: h.maxTimeMs, encoding: ChunkEncoding.XOR, data };
    if (known !== undefined) {
      known.minT = h.minTimeMs;
      known.point = point;
    } else {
      if (this._resumePoints.size >= MAX_RESUME_POINTS) this._resumePoints.clear();
      this._resumePoints.set(ms, { minT: h.minTimeMs, point });
    }
    writeXorResumeHeader(heads, at, point);
    return { minTimeMs: firstMs, maxTimeMs: h.maxTimeMs, encoding: ChunkEncoding.XOR_RESUME, data: heads.subarray(at, at + XOR_RESUME_HEADER_BYTES + data.length) };
  }

  /**
   * Sorts series by labels, comparing cached label ranks instead of label strings where both
   * series are ranked (ranks agree with the label order, so mixing the two comparisons is still
   * one consistent order). Rebuilds the ranks when many of `list` are unranked and the rebuild
   * (one sort of every series) costs at most a few times this sort.
   */
  private _sortByLabels(list: MemSeries[]): void {
    if (list.length < 64) {
      list.sort((a, b) => compareLabels(a.labels, b.labels));
      return;
    }
    let rank = this._labelRank;
    let unranked = 0;
    for (const ms of list) if (ms.id >= rank.length || rank[ms.id] === 0) unranked++;
    if (unranked * 8 > list.length) {
      // Rebuild at once for a list of a large share of all series; for smaller ones (a dashboard's
      // metric), once the label-string sorts since the last rebuild have cost as much as one
      // (amortised: sorting stays within twice the work of sorting ranks every time).
      const all = this._index.seriesCount;
      this._unrankedSortWork += list.length * Math.log2(list.length);
      if (all <= 4 * list.length || this._unrankedSortWork >= all * Math.log2(all)) {
        this._rebuildLabelRanks();
        rank = this._labelRank;
        unranked = 0;
      }
    }
    if (unranked === 0) {
      // Sort numbers, not objects: keys rank·n + position in a Float64Array sort natively, 2–3× faster
      // than a comparator over the series (exact: rank·n + n stays far below 2^53).
      const n = list.length;
      const keys = new Float64Array(n);
      for (let i = 0; i < n; i++) keys[i] = (rank[(list[i] as MemSeries).id] as number) * n + i;
      keys.sort();
      const byPosition = list.slice();
      for (let i = 0; i < n; i++) list[i] = byPosition[(keys[i] as number) % n] as MemSeries;
      return;
    }
    const len = rank.length;
    list.sort((a, b) => {
      const ra = a.id < len ? (rank[a.id] as number) : 0;
      const rb = b.id < len ? (rank[b.id] as number) : 0;
      return ra !== 0 && rb !== 0 ? ra - rb : compareLabels(a.labels, b.labels);
    });
  }

  /** Ranks every live series by labels (see `_labelRank`). */
  private _rebuildLabelRanks(): void {
    const all = this._allSeries();
    all.sort((a, b) => compareLabels(a.labels, b.labels));
    const rank = new Uint32Array(this._nextId);
    for (let i = 0; i < all.length; i++) rank[(all[i] as MemSeries).id] = i + 1;
    this._labelRank = rank;
    this._unrankedSortWork = 0;
  }

  /**
   * Persisted chunks overlapping [startMs, endMs] of each series of `list` (same index; undefined
   * when none), in time order. Reads many series per SQLite statement (ids as a JSON array)
   * instead of one statement per series, skipping series whose persisted span misses the range.
   */
  private _persistedChunks(list: readonly MemSeries[], startMs: number, endMs: number): (EncodedChunk[] | undefined)[] {
    const out = new Array<EncodedChunk[] | undefined>(list.length);
    const ids: number[] = [];
    const at: number[] = [];
    const flush = (): void => {
      if (ids.length === 0) return;
      const json = JSON.stringify(ids);
      // Complete rows in time order, then the open rows (each newer than its series' complete rows).
      const rows = this._st.rangeChunksMany.all(json, endMs, startMs, startMs, startMs);
      for (const row of this._st.openRowsMany.all(json, endMs, startMs)) rows.push(row);
      for (const row of rows) {
        const idx = at[row[0]] as number;
        const cs = (out[idx] ??= []);
        const before = cs.length;
        if (row[4] === ROW_XOR_LIST) {
          for (const c of decodeXorList(row[3])) if (c.minTimeMs <= endMs && c.maxTimeMs >= startMs) cs.push(c);
        } else {
          cs.push(chunkFromRow(row[1], row[2], row[3], row[4]));
        }
        // The plan yields min_t order; sort only if SQLite ever chose otherwise.
        if (before > 0 && cs.length > before && (cs[before - 1] as EncodedChunk).minTimeMs > (cs[before] as EncodedChunk).minTimeMs) {
          cs.sort((a, b) => a.minTimeMs - b.minTimeMs);
        }
      }
      ids.length = 0;
      at.length = 0;
    };
    for (let i = 0; i < list.length; i++) {
      const ms = list[i] as MemSeries;
      if (ms.persistedMaxT < startMs || ms.persistedMinT > endMs) continue;
      ids.push(ms.id);
      at.push(i);
      if (ids.length >= SELECT_IDS_PER_STATEMENT) flush();
    }
    flush();
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

  private _addSeries(ms: MemSeries, pairIds: readonly number[]): void {
    const h = labelsHash(ms.labels);
    ms.nextSameHash = this._byLabels.get(h) ?? null;
    this._byLabels.set(h, ms);
    this._byId[ms.id] = ms;
    ms.labels = this._index.add(ms.id, ms.labels, pairIds);
  }

  /** The series with exactly these labels, if any. */
  private _findByLabels(labels: Labels): MemSeries | undefined {
    return findInChain(this._byLabels, labels);
  }

  /** Unlinks `ms` from its hash chain. */
  private _forgetLabels(ms: MemSeries): void {
    const h = labelsHash(ms.labels);
    let prev: MemSeries | null = null;
    for (let cur = this._byLabels.get(h) ?? null; cur !== null; prev = cur, cur = cur.nextSameHash) {
      if (cur !== ms) continue;
      if (prev !== null) prev.nextSameHash = cur.nextSameHash;
      else if (cur.nextSameHash !== null) this._byLabels.set(h, cur.nextSameHash);
      else this._byLabels.delete(h);
      return;
    }
  }

  /** Every live series, in id order. */
  private _allSeries(): MemSeries[] {
    const out: MemSeries[] = [];
    for (const ms of this._byId) if (ms !== undefined) out.push(ms);
    return out;
  }

  /** Appends one committed sample (from WAL record `walId`) to the head, cutting the head into a chunk when full. */
  private _appendToHead(ms: MemSeries, t: number, words: Uint32Array, k: number, walId: number): void {
    let head = ms.head;
    if (head !== null && head.count >= this._samplesPerChunk) {
      // Cut only when a sample needs the room, as Prometheus does: until then the newest full
      // chunk stays the head, in memory, so reads of the latest minutes never need a table row.
      const data = head.finish();
      this._addCutChunk(ms, { minTimeMs: head.minTimeMs, maxTimeMs: head.maxTimeMs, encoding: ChunkEncoding.XOR, data });
      ms.cutLastLo = ms.lastLo;
      ms.cutLastHi = ms.lastHi;
      // The next chunk of a series is usually about as big as its last one.
      head = new XorEncoder(data.length + (data.length >>> 3) + 8, this._heads);
      ms.head = head;
    } else if (head === null) {
      head = new XorEncoder(32, this._heads);
      ms.head = head;
    }
    head.append(t, words, k);
    if (ms.minT === Infinity) ms.minT = t;
    ms.lastT = t;
    ms.lastLo = (words[2 * k] as number) | 0;
    ms.lastHi = (words[2 * k + 1] as number) | 0;
    ms.lastWalId = walId;
    this._markDirty(ms);
  }

  private _addCutChunk(ms: MemSeries, chunk: EncodedChunk): void {
    if (ms.unflushed === NO_CHUNKS) ms.unflushed = [chunk];
    else ms.unflushed.push(chunk);
  }

  private _markDirty(ms: MemSeries): void {
    if (ms.dirty) return;
    ms.dirty = true;
    this._dirty.push(ms);
  }

  /**
   * Inside a transaction: writes the series' cut chunks (as complete rows and its open row) and
   * upserts its state row (head snapshot, span and last value of its rows as they will be once this
   * transaction commits).
   * Rows and the state row of a series are always written together, so the state rows alone
   * describe the chunks and open_rows tables at recovery.
   */
  private _writeSeries(ms: MemSeries): void {
    let pMin = ms.persistedMinT;
    let pMax = ms.persistedMaxT;
    let lo = ms.persistedLastLo;
    let hi = ms.persistedLastHi;
    const st = this._st;
    // Most checkpoints of a series only rewrite its state row: read the open row only when it may change.
    const mayChangeRows = ms.unflushed.length > 0 || this._sealOpenRows;
    const open = !mayChangeRows || ms.persistedMaxT === -Infinity ? undefined : st.openRow.get(ms.id);
    const sealOpen = this._sealOpenRows && open !== undefined && open[3] === ROW_XOR_LIST;
    if (ms.unflushed.length > 0 || sealOpen) {
      // The open row (if any) and the cut chunks become rows (see _writeRows).
      const chunks = open === undefined ? ms.unflushed : [...rowChunks(open[0], open[1], open[2], open[3]), ...ms.unflushed];
      const span = this._writeRows(ms.id, chunks);
      if (pMin === Infinity) pMin = span.minT;
      pMax = span.maxT;
      if (open !== undefined && !span.leftOpen) st.deleteOpenRow.run(ms.id);
      if (ms.unflushed.length > 0) {
        lo = ms.cutLastLo;
        hi = ms.cutLastHi;
      }
    }
    const hasChunks = pMax !== -Infinity;
    this._st.upsertState.run(ms.id, this._headSnapshot(ms.head), hasChunks ? pMin : null, hasChunks ? pMax : null, hasChunks ? lo >>> 0 : null, hasChunks ? hi >>> 0 : null, this._headEncoding);
  }

  /** Most samples in one `chunks` row. */
  private get _maxRowSamples(): number {
    return Math.min(COMPACT_MAX_SAMPLES, this._samplesPerChunk * this._rowChunks);
  }

  /**
   * Writes a series' open row and cut chunks (`chunks`, in time order) as rows: consecutive chunks
   * grouped up to `rowChunks` chunks' worth of samples (fewer rows: less per-row overhead on disk and
   * fewer row reads per query). Every group but the last is complete: re-encoded in the compact
   * sealed-chunk format (storage/chunk/compact.ts, ~2.2× smaller on typical data) and appended to
   * `chunks`. The last group stays the open row while another chunk fits: as an XOR list (its chunks
   * as they are, see open-row.ts) unless `_sealOpenRows` is set or some chunk is not XOR (a restored
   * compact head or a sealed open row), COMPACT then. Returns the span written and whether a row
   * was left open.
   */
  private _writeRows(id: number, chunks: readonly EncodedChunk[]): { minT: number; maxT: number; leftOpen: boolean } {
    const maxRow = this._maxRowSamples;
    const st = this._st;
    let groupStart = 0;
    let n = 0;
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i] as EncodedChunk;
      const count = c.encoding === ChunkEncoding.COMPACT ? compactChunkSampleCount(c.data) : xorChunkSampleCount(c.data);
      if (n > 0 && n + count > maxRow) {
        const row = this._sealRow(chunks, groupStart, i, n);
        st.insertChunk.run(id, row.minTimeMs, row.maxTimeMs, toBuffer(row.data), row.encoding);
        groupStart = i;
        n = 0;
      }
      n += count;
    }
    const first = chunks[0] as EncodedChunk;
    const last = chunks[chunks.length - 1] as EncodedChunk;
    const leftOpen = n + this._samplesPerChunk <= maxRow;
    let asList = leftOpen && !this._sealOpenRows;
    for (let i = groupStart; asList && i < chunks.length; i++) if ((chunks[i] as EncodedChunk).encoding !== ChunkEncoding.XOR) asList = false;
    if (asList) {
      const tail = chunks.slice(groupStart);
      st.upsertOpenRow.run(id, (tail[0] as EncodedChunk).minTimeMs, last.maxTimeMs, encodeXorList(tail), ROW_XOR_LIST);
    } else {
      const row = this._sealRow(chunks, groupStart, chunks.length, n);
      if (leftOpen) st.upsertOpenRow.run(id, row.minTimeMs, row.maxTimeMs, toBuffer(row.data), row.encoding);
      else st.insertChunk.run(id, row.minTimeMs, row.maxTimeMs, toBuffer(row.data), row.encoding);
    }
    return { minT: first.minTimeMs, maxT: last.maxTimeMs, leftOpen };
  }

  /** Chunks [from, to) (`n` samples in all) decoded and re-encoded as one compact row. */
  private _sealRow(chunks: readonly EncodedChunk[], from: number, to: number, n: number): EncodedChunk {
    this._ensureSealScratch(n);
    let k = 0;
    for (let i = from; i < to; i++) {
      const c = chunks[i] as EncodedChunk;
      k += c.encoding === ChunkEncoding.COMPACT ? decodeCompactChunk(c.data, this._sealTs, this._sealValues, k) : decodeXorChunk(c.data, this._sealTs, this._sealValues, k);
    }
    const ts = this._sealTs;
    return { minTimeMs: ts[0] as number, maxTimeMs: ts[k - 1] as number, encoding: ChunkEncoding.COMPACT, data: encodeCompactChunk(ts, this._sealValues, 0, k) };
  }

  /**
   * The head as a state-row snapshot in `_headEncoding`: its XOR bytes as they are at routine
   * checkpoints (a head's row is rewritten at every one, so encoding it would cost more CPU per
   * minute than ingesting), COMPACT at the final checkpoint of a graceful close (about half the
   * bytes; a head holds up to a full chunk until the next sample cuts it). Empty when no head.
   */
  private _headSnapshot(head: XorEncoder | null): Buffer {
    if (head === null || head.count === 0) return EMPTY_BLOB;
    if (this._headEncoding === ChunkEncoding.XOR) return toBuffer(head.bytes());
    this._ensureSealScratch(head.count);
    const n = decodeXorChunk(head.bytes(), this._sealTs, this._sealValues, 0);
    return toBuffer(encodeCompactChunk(this._sealTs, this._sealValues, 0, n));
  }

  /**
   * Restores a COMPACT head snapshot as a cut chunk, not as a head: re-encoding it as XOR would
   * cost ~30 µs per full head at open (seconds for 100k series); as a chunk it is read as it is
   * and sealed into its row at the next checkpoint (the work a cut would have caused anyway), and
   * new samples start a new head.
   */
  private _restoreCompactHead(ms: MemSeries, data: Buffer): void {
    let n: number;
    try {
      this._ensureSealScratch(compactChunkSampleCount(data));
      n = decodeCompactChunk(data, this._sealTs, this._sealValues, 0);
    } catch {
      this._stats.corruptHeads++;
      return;
    }
    const ts = this._sealTs;
    // A chunk reaching the snapshot's first sample already holds all of it.
    if (n === 0 || ms.lastT >= (ts[0] as number)) return;
    const words = wordsOf(this._sealValues);
    this._addCutChunk(ms, { minTimeMs: ts[0] as number, maxTimeMs: ts[n - 1] as number, encoding: ChunkEncoding.COMPACT, data });
    ms.cutLastLo = (words[2 * n - 2] as number) | 0;
    ms.cutLastHi = (words[2 * n - 1] as number) | 0;
    if ((ts[0] as number) < ms.minT) ms.minT = ts[0] as number;
    ms.lastT = ts[n - 1] as number;
    ms.lastLo = ms.cutLastLo;
    ms.lastHi = ms.cutLastHi;
    // Cut chunks are always pending for the next checkpoint (which seals this one into its row).
    this._markDirty(ms);
  }

  /** Restores an XOR head snapshot (files before schema 5) as the head. */
  private _restoreXorHead(ms: MemSeries, data: Buffer): void {
    let enc: XorEncoder;
    try {
      enc = XorEncoder.resume(data, this._heads);
    } catch {
      this._stats.corruptHeads++;
      return;
    }
    // A chunk reaching the snapshot's first sample contains the whole snapshot (heads are only
    // ever cut into chunks), so the snapshot is stale (only possible in version 1 files).
    if (enc.count === 0 || ms.lastT >= enc.minTimeMs) {
      enc.release();
      return;
    }
    ms.head = enc;
    if (enc.minTimeMs < ms.minT) ms.minT = enc.minTimeMs;
    ms.lastT = enc.maxTimeMs;
    ms.lastLo = enc.lastValueLo | 0;
    ms.lastHi = enc.lastValueHi | 0;
  }

  /** Grows the seal scratch to hold `n` samples (contents not kept). */
  private _ensureSealScratch(n: number): void {
    if (this._sealTs.length >= n) return;
    const size = Math.max(2 * this._sealTs.length, n);
    this._sealTs = new Float64Array(size);
    this._sealValues = new Float64Array(size);
  }

  /** After the transaction that ran `_writeSeries(ms)` committed. */
  private _afterWritten(ms: MemSeries): void {
    const n = ms.unflushed.length;
    if (n > 0) {
      if (ms.persistedMinT === Infinity) ms.persistedMinT = (ms.unflushed[0] as EncodedChunk).minTimeMs;
      ms.persistedMaxT = (ms.unflushed[n - 1] as EncodedChunk).maxTimeMs;
      ms.persistedLastLo = ms.cutLastLo;
      ms.persistedLastHi = ms.cutLastHi;
      ms.unflushed = NO_CHUNKS;
      this._stats.chunksFlushed += n;
    }
    ms.dirty = false;
  }

  /** Runs `fn` in one transaction, recording its duration; throws `storage-write-failed`. */
  private _timedTxn(fn: () => void): void {
    const t0 = performance.now();
    try {
      this._db.transaction(fn)();
    } catch (err) {
      throw storageWriteFailed(err);
    }
    const ms = performance.now() - t0;
    if (ms > this._stats.maxMaintenanceTxnMs) this._stats.maxMaintenanceTxnMs = ms;
    this._stats.transactions++;
  }

  /**
   * Checkpoint steps. Safe under interleaved commits: the dirty list is taken at the start (new
   * changes go to a fresh list); every sample in WAL records up to the id current at the start
   * was applied before the start, so once every listed series' state row and chunks are written
   * those records can go. A crash between steps leaves state rows that are each an exact snapshot
   * of committed data plus the whole WAL, which recovery replays skipping what the rows hold.
   */
  private *_checkpointSteps(budgetMs: number, seal: boolean): MaintenanceTask {
    if (seal) {
      for (const id of this._st.xorListOpenRows.all(ROW_XOR_LIST)) {
        const ms = this._byId[id];
        if (ms !== undefined) this._markDirty(ms);
      }
    }
    if (this._stats.walBytes === 0 && this._dirty.length === 0) return;
    // Tasks never overlap, so the flag belongs to this one until it ends (or fails).
    this._sealOpenRows = seal;
    try {
      yield* this._checkpointBody(budgetMs);
    } finally {
      this._sealOpenRows = false;
    }
  }

  private *_checkpointBody(budgetMs: number): MaintenanceTask {
    const capturedWalId = this._lastWalId;
    const capturedWalBytes = this._stats.walBytes;
    const list = this._dirty;
    this._dirty = [];
    let i = 0;
    while (i < list.length) {
      const from = i;
      const t0 = performance.now();
      try {
        this._timedTxn(() => {
          while (i < list.length) {
            const ms = list[i++] as MemSeries;
            if (ms.dirty && this._byId[ms.id] === ms) this._writeSeries(ms);
            if ((i & 31) === 0 && performance.now() - t0 > budgetMs) break;
          }
        });
      } catch (err) {
        // Not written: hand the rest back to the dirty list (their flags are still set).
        for (let k = from; k < list.length; k++) this._dirty.push(list[k] as MemSeries);
        throw err;
      }
      for (let k = from; k < i; k++) {
        const ms = list[k] as MemSeries;
        if (ms.dirty && this._byId[ms.id] === ms) this._afterWritten(ms);
      }
      if (i < list.length) yield;
    }
    // Every sample of records ≤ capturedWalId is now in a state row or chunk, so any subset of
    // them may go; deleting large BLOBs walks their overflow pages, so delete a few per step.
    let upTo = this._walDeletedUpTo;
    while (upTo < capturedWalId) {
      const t0 = performance.now();
      this._timedTxn(() => {
        while (upTo < capturedWalId) {
          upTo = Math.min(capturedWalId, upTo + WAL_RECORDS_PER_DELETE);
          this._st.deleteWalUpTo.run(upTo);
          if (performance.now() - t0 > budgetMs) break;
        }
      });
      this._walDeletedUpTo = upTo;
      if (upTo < capturedWalId) yield;
    }
    this._stats.walBytes -= capturedWalBytes;
    this._stats.checkpoints++;
    // Pages freed by WAL records are reused by the next ones; give back only a surplus.
    if (this._freePages() > this._keepFreePages) yield* this._vacuumSteps(this._keepFreePages);
  }

  private _freePages(): number {
    return this._db.pragma('freelist_count', { simple: true }) as number;
  }

  /** Retention steps (see startRetention); drops only series with no WAL record left. */
  private *_retentionSteps(cutoffMs: number): MaintenanceTask {
    // Persist cut chunks and delete the WAL first, so most series qualify for dropping.
    yield* this._checkpointSteps(this._stepBudgetMs, false);
    const st = this._st;
    let id = 1;
    const dropped: MemSeries[] = [];
    const changed: MemSeries[] = [];
    const newMin: number[] = [];
    while (id < this._byId.length) {
      dropped.length = 0;
      changed.length = 0;
      newMin.length = 0;
      let deleted = 0;
      const t0 = performance.now();
      let visited = 0;
      this._timedTxn(() => {
        for (; id < this._byId.length; id++) {
          if ((++visited & 63) === 0 && performance.now() - t0 > this._stepBudgetMs) break;
          const ms = this._byId[id];
          if (ms === undefined || ms.minT >= cutoffMs || ms.unflushed.length > 0) continue;
          const head = ms.head;
          const headExpired = head === null || head.count === 0 || head.maxTimeMs < cutoffMs;
          if (ms.persistedMaxT < cutoffMs && headExpired) {
            // No data at or after the cutoff. Only drop it when no WAL record names it (else a
            // replay after a crash would meet an unknown series); the next run will.
            if (ms.lastWalId > this._walDeletedUpTo) continue;
            deleted += st.deleteAllChunks.run(ms.id).changes + st.deleteOpenRow.run(ms.id).changes;
            st.deleteState.run(ms.id);
            st.deleteSeries.run(ms.id);
            dropped.push(ms);
          } else if (ms.persistedMinT < cutoffMs) {
            const n = st.deleteOldChunks.run(ms.id, cutoffMs, cutoffMs).changes + st.deleteOldOpenRow.run(ms.id, cutoffMs).changes;
            if (n === 0) continue; // the oldest chunk still reaches the cutoff
            deleted += n;
            // The state row must describe the chunks left (recovery trusts it).
            const first = ms.persistedMaxT < cutoffMs ? undefined : st.firstChunkMinT.get(ms.id, ms.id);
            const pMin = first ?? Infinity;
            const hasChunks = first !== undefined;
            st.upsertState.run(
              ms.id,
              this._headSnapshot(head),
              hasChunks ? pMin : null,
              hasChunks ? ms.persistedMaxT : null,
              hasChunks ? ms.persistedLastLo >>> 0 : null,
              hasChunks ? ms.persistedLastHi >>> 0 : null,
              this._headEncoding,
            );
            changed.push(ms);
            newMin.push(pMin);
          }
        }
      });
      this._stats.chunksDeleted += deleted;
      for (let k = 0; k < changed.length; k++) {
        const ms = changed[k] as MemSeries;
        const pMin = newMin[k] as number;
        ms.persistedMinT = pMin;
        if (pMin === Infinity) ms.persistedMaxT = -Infinity;
        ms.minT = Math.min(pMin, ms.head !== null && ms.head.count > 0 ? ms.head.minTimeMs : Infinity);
      }
      if (dropped.length > 0) this._dropSeries(dropped);
      if (id < this._byId.length) yield;
    }
    yield* this._deleteOrphanPairs();
    yield* this._vacuumSteps(0);
  }

  /** Forgets series whose rows were deleted (after that transaction committed). */
  private _dropSeries(list: readonly MemSeries[]): void {
    const ids = new Uint32Array(list.length);
    for (let k = 0; k < list.length; k++) {
      const ms = list[k] as MemSeries;
      ids[k] = ms.id;
      this._forgetLabels(ms);
      ms.head?.release();
      ms.head = null;
    }
    ids.sort();
    this._index.remove(
      ids,
      (id) => (this._byId[id] as MemSeries).labels,
      (pairId) => this._orphanPairs.push(pairId),
    );
    for (const ms of list) this._byId[ms.id] = undefined;
    this._stats.seriesDropped += list.length;
  }

  /** Deletes the rows of label pairs no series has any more, in bounded transactions. */
  private *_deleteOrphanPairs(): MaintenanceTask {
    while (this._orphanPairs.length > 0) {
      const batch = this._orphanPairs.splice(0, PAIRS_PER_DELETE_STEP);
      try {
        this._timedTxn(() => {
          for (const pid of batch) this._st.deletePair.run(pid);
        });
      } catch (err) {
        this._orphanPairs.push(...batch);
        throw err;
      }
      if (this._orphanPairs.length > 0) yield;
    }
  }

  /** Gives free pages back to the file system, a bounded number per step, until `keep` remain. */
  private *_vacuumSteps(keep: number, slackPages = VACUUM_MIN_FREE_BYTES / this._pageSize): MaintenanceTask {
    for (;;) {
      const free = this._freePages();
      if (free <= keep + slackPages) return;
      yield;
      const t0 = performance.now();
      this._db.pragma(`incremental_vacuum(${Math.min(VACUUM_BYTES_PER_STEP / this._pageSize, free - keep)})`);
      const ms = performance.now() - t0;
      if (ms > this._stats.maxMaintenanceTxnMs) this._stats.maxMaintenanceTxnMs = ms;
      const after = this._db.pragma('freelist_count', { simple: true }) as number;
      this._stats.pagesVacuumed += free - after;
      if (after >= free) return; // auto_vacuum off (e.g. the conversion failed): nothing to do
    }
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
   * Rebuilds memory from the database: series → index; state rows → per series the span and last
   * value of its chunks and its head snapshot (one table scan, no per-series query); then WAL
   * replay of the samples newer than what chunks and snapshots hold. Ends with a checkpoint when
   * anything was replayed, so the WAL never grows across restarts. A version 1 database (no
   * chunk columns in `head`) is read the old way, per series, once, and then migrated.
   */
  private _recover(previousVersion: number): void {
    const st = this._st;
    const legacy = previousVersion === 1;
    this._recoverSeries();
    if (legacy) this._recoverLegacyChunks();
    for (const [id, data, cMin, cMax, lo, hi, headEnc] of st.allStates.iterate()) {
      const ms = this._byId[id];
      if (ms === undefined) continue;
      if (!legacy && cMax !== null) {
        ms.persistedMinT = cMin ?? cMax;
        ms.persistedMaxT = cMax;
        ms.persistedLastLo = (lo ?? 0) | 0;
        ms.persistedLastHi = (hi ?? 0) | 0;
        ms.minT = ms.persistedMinT;
        ms.lastT = cMax;
        ms.lastLo = ms.persistedLastLo;
        ms.lastHi = ms.persistedLastHi;
      }
      if (data.length === 0) continue;
      if (headEnc === ChunkEncoding.COMPACT) this._restoreCompactHead(ms, data);
      else this._restoreXorHead(ms, data);
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
          if (t > ms.lastT) this._appendToHead(ms, t, rec.words, k, walId);
        }
      }
      this._lastWalId = walId;
      this._stats.walBytes += data.length;
      replayed = true;
    }
    if (legacy) {
      // Write a state row for every series, then record the new version.
      for (const ms of this._allSeries()) this._markDirty(ms);
      this.checkpoint();
      markMigrated(this._db);
    } else if (replayed) this.checkpoint();
  }

  /**
   * Loads every series (labels from their label-pair ids) into the maps and the index. Pair rows no
   * series uses (retention dropped their series, and a crash came before the rows were deleted)
   * are deleted here.
   */
  private _recoverSeries(): void {
    const st = this._st;
    const pairName: string[] = [];
    const pairValue: string[] = [];
    for (const [pid, name, value] of st.allPairs.iterate()) {
      pairName[pid] = name;
      pairValue[pid] = value;
      if (pid >= this._nextPairId) this._nextPairId = pid + 1;
    }
    const used = new Uint8Array(this._nextPairId);
    for (const [id, data] of st.allSeries.iterate()) {
      const pairIds = decodePairIds(data, id);
      const labels = new Array<string>(2 * pairIds.length);
      for (let j = 0; j < pairIds.length; j++) {
        const pid = pairIds[j] as number;
        const name = pairName[pid];
        if (name === undefined) throw corruptSeries(id, `unknown label pair ${pid}`);
        labels[2 * j] = name;
        labels[2 * j + 1] = pairValue[pid] as string;
        used[pid] = 1;
      }
      this._addSeries(new MemSeries(id, labels), pairIds);
      if (id >= this._nextId) this._nextId = id + 1;
    }
    pairName.forEach((_name, pid) => {
      if (used[pid] === 0) this._orphanPairs.push(pid);
    });
    if (this._orphanPairs.length > 0) {
      const steps = this._deleteOrphanPairs();
      while (steps.next().done !== true) {
        /* to completion */
      }
    }
  }

  /**
   * Version 1 files: per series, the span and last value of its chunks from two queries. (The
   * newest chunk may already be compact if a crash interrupted this migration after its checkpoint.)
   */
  private _recoverLegacyChunks(): void {
    const st = this._st;
    for (const ms of this._allSeries()) {
      const last = st.lastChunk.get(ms.id, ms.id);
      if (last === undefined) continue;
      const [maxT, data, enc] = last;
      const count = enc === ChunkEncoding.COMPACT ? compactChunkSampleCount(data) : xorChunkSampleCount(data);
      const ts = new Float64Array(count);
      const values = new Float64Array(count);
      if (enc === ChunkEncoding.COMPACT) decodeCompactChunk(data, ts, values, 0);
      else decodeXorChunk(data, ts, values, 0);
      const words = wordsOf(values);
      ms.persistedMinT = st.firstChunkMinT.get(ms.id, ms.id) ?? maxT;
      ms.persistedMaxT = maxT;
      ms.persistedLastLo = count > 0 ? (words[2 * count - 2] as number) | 0 : 0;
      ms.persistedLastHi = count > 0 ? (words[2 * count - 1] as number) | 0 : 0;
      ms.minT = ms.persistedMinT;
      ms.lastT = maxT;
      ms.lastLo = ms.persistedLastLo;
      ms.lastHi = ms.persistedLastHi;
    }
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
  if (err instanceof AppError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new AppError(ErrorKind.Unavailable, 'storage-write-failed', `storage write failed: ${msg} [err-storage-write-failed]`, { cause: err });
}
