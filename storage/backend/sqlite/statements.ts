import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import { AppError, ErrorKind } from '../../../common/errors.js';
import { ChunkEncoding } from '../backend.js';
import { convertSeriesTable } from './label-pairs.js';

/**
 * Schema of one tenant database (one file per tenant, so no tenant column anywhere).
 * Kept in TypeScript rather than a .sql file so the build needs no asset copying.
 * `user_version` records the schema version:
 * - 1: `head(series_id, data)` held only head snapshots; recovery queried chunks per series.
 * - 2: `head` rows are per-series state rows (see tenant-store.ts): the head snapshot plus the
 *   span and last value of the persisted chunks, written in the same transaction as the series'
 *   chunks, so recovery is one scan of `head` instead of two chunk queries per series.
 * - 3: `chunks` is a rowid table (rows appended in time order, so its pages stay full; a WITHOUT
 *   ROWID table keyed by series filled pages only ~60 % as each checkpoint inserted into every
 *   series' key range) with a unique index on (series_id, min_t), and `chunks.enc` names each
 *   row's encoding (ChunkEncoding: 2 = XOR, 3 = COMPACT). Older files are rebuilt at open (a
 *   one-time copy of their chunks, all XOR).
 * - 4: label sets are stored as ids of (name, value) pairs: `label_pairs(id, name, value)` holds each
 *   distinct pair once and `series.labels` is a BLOB of pair-id varints (see label-pairs.ts).
 *   Older files are converted at open (a one-time pass over the series table).
 *   Also from 4: `open_rows` holds, per series, its newest row while that row still has room for
 *   another cut chunk (see TenantStore._writeSeries); `chunks` only receives rows that are complete.
 * - 5: `head.head_enc` names the encoding of the head snapshot (NULL or 2 = XOR, 3 = COMPACT);
 *   routine checkpoints write XOR (cheap), the final one of a graceful close COMPACT (about half
 *   the bytes). Older files get the column (NULL). A file of a newer version than this code is refused.
 * - 6: an open row may also be an XOR list (`open_rows.enc` = ROW_XOR_LIST, see open-row.ts): its cut
 *   chunks side by side as appended, re-encoded only once complete or at an admin flush.
 *   Older files need no conversion; older builds cannot read such rows, hence the new version.
 */
export const SCHEMA_VERSION = 6;

/** DDL of the per-series state table named `name` (also used to rewrite it compactly, see TenantStore.vacuum). */
export function headTableSql(name: string): string {
  return `CREATE TABLE IF NOT EXISTS ${name} (
  series_id INTEGER PRIMARY KEY,
  data BLOB NOT NULL,
  chunk_min_t INTEGER,
  chunk_max_t INTEGER,
  last_lo INTEGER,
  last_hi INTEGER,
  head_enc INTEGER
)`;
}

/**
 * DDL of the open-row table named `name`: per series at most one row, the chunks flushed since its
 * last complete row (an XOR list, or one compact chunk after an admin flush), rewritten
 * at each checkpoint that adds a chunk until it is complete. Kept apart
 * from `chunks` so that table is only ever appended to: rewriting growing rows inside it split its
 * pages (measured 25 % of its bytes unused, against 4 % append-only).
 */
export function openRowsTableSql(name: string): string {
  return `CREATE TABLE IF NOT EXISTS ${name} (
  series_id INTEGER PRIMARY KEY,
  min_t INTEGER NOT NULL,
  max_t INTEGER NOT NULL,
  enc INTEGER NOT NULL,
  data BLOB NOT NULL
)`;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS series (id INTEGER PRIMARY KEY, labels BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS label_pairs (id INTEGER PRIMARY KEY, name TEXT NOT NULL, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
  id INTEGER PRIMARY KEY,
  series_id INTEGER NOT NULL,
  min_t INTEGER NOT NULL,
  max_t INTEGER NOT NULL,
  enc INTEGER NOT NULL,
  data BLOB NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS chunks_by_series ON chunks (series_id, min_t);
CREATE TABLE IF NOT EXISTS wal (id INTEGER PRIMARY KEY, data BLOB NOT NULL);
${headTableSql('head')};
${openRowsTableSql('open_rows')};
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
`;

/**
 * Page size of new files (set before anything else: it cannot change once the file has tables in
 * WAL mode; older files keep their 4 KiB). Chunk rows are appended in time order and a page is
 * closed when the next row does not fit, so the space left at the end of each page grows with the
 * row size relative to the page: rows of noisy gauges reach ~3 KiB, and on the benchmark's data
 * 24 % of the chunk pages' bytes went unused with 4 KiB pages, 7 % with 8 KiB, 4 % with 16 KiB
 * (file 16.9 → 12.9 MB). Commits write a little more (whole 16 KiB pages to SQLite's -wal file).
 */
export const PAGE_SIZE = 16384;

/** Columns added to `head` by the version 1 → 2 migration. */
const V2_HEAD_COLUMNS = ['chunk_min_t', 'chunk_max_t', 'last_lo', 'last_hi'] as const;

/**
 * One state row: [series_id, head snapshot, chunk_min_t, chunk_max_t, last_lo, last_hi, head_enc]
 * (chunk nulls: no chunks; head_enc null: XOR).
 */
export type StateRow = [number, Buffer, number | null, number | null, number | null, number | null, number | null];

/** Every prepared statement of a tenant database, created once at open. */
export interface Statements {
  /** (id, pair-id varints). */
  readonly insertSeries: Statement<[number, Buffer]>;
  readonly allSeries: Statement<[], [number, Buffer]>;
  readonly deleteSeries: Statement<[number]>;
  readonly insertPair: Statement<[number, string, string]>;
  readonly allPairs: Statement<[], [number, string, string]>;
  readonly deletePair: Statement<[number]>;
  /** (series_id, min_t, max_t, data, enc). */
  readonly insertChunk: Statement<[number, number, number, Buffer, number]>;
  /**
   * Chunks overlapping [start, end] of many series at once: args (JSON array of series ids, end,
   * start, start, start); rows [index in the array, min_t, max_t, data, enc], grouped by index in
   * array order and by min_t within a series (the plan scans the array, then the (series_id, min_t)
   * index; callers still check the order).
   */
  readonly rangeChunksMany: Statement<[string, number, number, number, number], [number, number, number, Buffer, number]>;
  /** The open row of a series: [min_t, max_t, data, enc]. */
  readonly openRow: Statement<[number], [number, number, Buffer, number]>;
  /** (series_id, min_t, max_t, data, enc). */
  readonly upsertOpenRow: Statement<[number, number, number, Buffer, number]>;
  readonly deleteOpenRow: Statement<[number]>;
  /** Deletes the open row of a series if it ends before a cutoff: args (id, cutoff). */
  readonly deleteOldOpenRow: Statement<[number, number]>;
  /** Open rows overlapping [start, end] of many series: args (JSON array of ids, end, start); rows as rangeChunksMany. */
  readonly openRowsMany: Statement<[string, number, number], [number, number, number, Buffer, number]>;
  /** Ids of the series whose open row has encoding `enc` (see open-row.ts). */
  readonly xorListOpenRows: Statement<[number], number>;
  /** min_t of the oldest row of a series, complete or open: args (id, id). */
  readonly firstChunkMinT: Statement<[number, number], number>;
  /** The newest row of a series, complete or open: [max_t, data, enc]; args (id, id). */
  readonly lastChunk: Statement<[number, number], [number, Buffer, number]>;
  /** Deletes chunks of a series that end before a cutoff: args (id, cutoff, cutoff). */
  readonly deleteOldChunks: Statement<[number, number, number]>;
  readonly deleteAllChunks: Statement<[number]>;
  /**
   * (id, data). Ids are given, one above the previous record's: SQLite would hand out max(id) + 1,
   * i.e. reuse ids once a checkpoint emptied the table, and checkpoints and retention compare ids.
   */
  readonly insertWal: Statement<[number, Buffer]>;
  readonly allWal: Statement<[], [number, Buffer]>;
  readonly walBytes: Statement<[], number>;
  readonly deleteWalUpTo: Statement<[number]>;
  /** Upserts a state row: (series_id, head, chunk_min_t, chunk_max_t, last_lo, last_hi, head_enc). */
  readonly upsertState: Statement<[number, Buffer, number | null, number | null, number | null, number | null, number]>;
  readonly allStates: Statement<[], StateRow>;
  readonly deleteState: Statement<[number]>;
  readonly freePages: Statement<[], number>;
}

/** The opened database, its statements, and the schema version it had before this open (0 = new). */
export interface OpenedTenantDb {
  readonly db: Db;
  readonly stmts: Statements;
  readonly previousVersion: number;
}

/**
 * Opens (creating if needed) a tenant database: WAL journal, synchronous=NORMAL, incremental
 * auto-vacuum, schema applied. A version 1 database gets the new `head` columns; the caller
 * completes the migration (state rows) and then calls `markMigrated`.
 */
export function openTenantDb(path: string): OpenedTenantDb {
  const db = new Database(path);
  try {
    // WAL + NORMAL: a commit is durable once in the WAL file, which survives a process crash
    // (kill -9); only an OS crash / power loss can lose the last commits.
    db.pragma('busy_timeout = 5000');
    const isNew = (db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table'").pluck().get() as number) === 0;
    let previousVersion = isNew ? 0 : (db.pragma('user_version', { simple: true }) as number);
    if (previousVersion > SCHEMA_VERSION) {
      throw new AppError(
        ErrorKind.Internal,
        'storage-version-newer',
        `${path} has schema version ${previousVersion}, newer than this build's ${SCHEMA_VERSION}: run a newer promstore [err-storage-version-newer]`,
      );
    }
    // Only takes effect on a file with no table yet, and before journal_mode=WAL writes the
    // header: freed pages (deleted WAL records, expired chunks) can then be returned to the file
    // system by `PRAGMA incremental_vacuum`.
    if (isNew) db.pragma(`page_size = ${PAGE_SIZE}`);
    if (isNew) db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    // Truncate SQLite's own -wal file after checkpoints instead of leaving it at its peak size.
    db.pragma('journal_size_limit = 16777216');
    if (!isNew && (db.pragma('auto_vacuum', { simple: true }) as number) !== 2) {
      // An older database without auto-vacuum: switching needs one full VACUUM (a one-time cost
      // at open, proportional to the live data; afterwards space comes back incrementally).
      db.pragma('auto_vacuum = INCREMENTAL');
      db.exec('VACUUM');
    }
    // What to convert is read from the tables themselves, not only from user_version, and done in
    // one transaction: a crash during a conversion leaves the file as it was, and a version 1 file
    // (marked only after its state rows are written, see markMigrated) is not converted twice.
    const tables = new Set(db.prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all());
    const columnsOf = (table: string): Set<string> => new Set((db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name));
    const rebuildChunks = tables.has('chunks') && !columnsOf('chunks').has('enc');
    const convertSeries = tables.has('series') && !tables.has('label_pairs');
    db.transaction(() => {
      if (rebuildChunks) db.exec('ALTER TABLE chunks RENAME TO chunks_before_v3');
      if (convertSeries) db.exec('ALTER TABLE series RENAME TO series_before_v4');
      db.exec(SCHEMA);
      if (convertSeries) convertSeriesTable(db);
      if (rebuildChunks) {
        // In time order, as new rows arrive: retention then frees whole pages at the front.
        db.exec(`INSERT INTO chunks (series_id, min_t, max_t, enc, data)
                 SELECT series_id, min_t, max_t, ${ChunkEncoding.XOR}, data FROM chunks_before_v3 ORDER BY max_t, series_id`);
        db.exec('DROP TABLE chunks_before_v3');
      }
      if (!isNew && !columnsOf('head').has('head_enc')) {
        if (previousVersion === 1) {
          const cols = columnsOf('head');
          for (const c of V2_HEAD_COLUMNS) if (!cols.has(c)) db.exec(`ALTER TABLE head ADD COLUMN ${c} INTEGER`);
        }
        // Last, so `SELECT *` copies of the table (TenantStore.vacuum) keep headTableSql's column order.
        db.exec('ALTER TABLE head ADD COLUMN head_enc INTEGER');
      }
      // A version 1 file is marked only once the caller has written its state rows (markMigrated).
      if (!isNew && previousVersion !== 1 && previousVersion < SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
    })();
    if (isNew) {
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
      previousVersion = 0;
    }
    return { db, stmts: prepare(db), previousVersion };
  } catch (err) {
    db.close();
    throw err;
  }
}

/** Records that a version 1 database has been fully migrated (every series has a state row). */
export function markMigrated(db: Db): void {
  db.pragma(`user_version = ${SCHEMA_VERSION}`);
}

function prepare(db: Db): Statements {
  return {
    insertSeries: db.prepare('INSERT INTO series (id, labels) VALUES (?, ?)'),
    allSeries: db.prepare<[], [number, Buffer]>('SELECT id, labels FROM series ORDER BY id').raw(),
    deleteSeries: db.prepare('DELETE FROM series WHERE id = ?'),
    insertPair: db.prepare('INSERT INTO label_pairs (id, name, value) VALUES (?, ?, ?)'),
    allPairs: db.prepare<[], [number, string, string]>('SELECT id, name, value FROM label_pairs').raw(),
    deletePair: db.prepare('DELETE FROM label_pairs WHERE id = ?'),
    // OR REPLACE: re-persisting a chunk after a partial recovery must not wedge every later commit.
    insertChunk: db.prepare('INSERT OR REPLACE INTO chunks (series_id, min_t, max_t, data, enc) VALUES (?, ?, ?, ?, ?)'),
    // Chunks never overlap, so only the last chunk starting at or before `start` can reach into the
    // range from the left; bounding min_t from below keeps this an index range scan. One statement
    // for many series (ids as a JSON array) instead of one per series.
    rangeChunksMany: db
      .prepare<[string, number, number, number, number], [number, number, number, Buffer, number]>(
        `SELECT j.key, c.min_t, c.max_t, c.data, c.enc FROM json_each(?) AS j JOIN chunks AS c ON c.series_id = j.value
         WHERE c.min_t <= ? AND c.max_t >= ?
           AND c.min_t >= coalesce((SELECT max(min_t) FROM chunks WHERE series_id = j.value AND min_t <= ?), ?)`,
      )
      .raw(),
    openRow: db.prepare<[number], [number, number, Buffer, number]>('SELECT min_t, max_t, data, enc FROM open_rows WHERE series_id = ?').raw(),
    upsertOpenRow: db.prepare('INSERT OR REPLACE INTO open_rows (series_id, min_t, max_t, data, enc) VALUES (?, ?, ?, ?, ?)'),
    deleteOpenRow: db.prepare('DELETE FROM open_rows WHERE series_id = ?'),
    deleteOldOpenRow: db.prepare('DELETE FROM open_rows WHERE series_id = ? AND max_t < ?'),
    openRowsMany: db
      .prepare<[string, number, number], [number, number, number, Buffer, number]>(
        `SELECT j.key, o.min_t, o.max_t, o.data, o.enc FROM json_each(?) AS j JOIN open_rows AS o ON o.series_id = j.value
         WHERE o.min_t <= ? AND o.max_t >= ?`,
      )
      .raw(),
    xorListOpenRows: db.prepare<[number], number>('SELECT series_id FROM open_rows WHERE enc = ?').pluck(),
    // The open row is newer than every complete row of its series.
    firstChunkMinT: db
      .prepare<[number, number], number>(
        'SELECT coalesce((SELECT min_t FROM chunks WHERE series_id = ? ORDER BY min_t LIMIT 1), (SELECT min_t FROM open_rows WHERE series_id = ?))',
      )
      .pluck(),
    lastChunk: db
      .prepare<[number, number], [number, Buffer, number]>(
        `SELECT max_t, data, enc FROM open_rows WHERE series_id = ?
         UNION ALL SELECT * FROM (SELECT max_t, data, enc FROM chunks WHERE series_id = ? ORDER BY min_t DESC LIMIT 1) LIMIT 1`,
      )
      .raw(),
    // min_t < cutoff bounds the index range scan; max_t < cutoff keeps only whole expired chunks.
    deleteOldChunks: db.prepare('DELETE FROM chunks WHERE series_id = ? AND min_t < ? AND max_t < ?'),
    deleteAllChunks: db.prepare('DELETE FROM chunks WHERE series_id = ?'),
    insertWal: db.prepare('INSERT INTO wal (id, data) VALUES (?, ?)'),
    allWal: db.prepare<[], [number, Buffer]>('SELECT id, data FROM wal ORDER BY id').raw(),
    walBytes: db.prepare<[], number>('SELECT coalesce(sum(length(data)), 0) FROM wal').pluck(),
    deleteWalUpTo: db.prepare('DELETE FROM wal WHERE id <= ?'),
    upsertState: db.prepare(
      'INSERT OR REPLACE INTO head (series_id, data, chunk_min_t, chunk_max_t, last_lo, last_hi, head_enc) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    allStates: db.prepare<[], StateRow>('SELECT series_id, data, chunk_min_t, chunk_max_t, last_lo, last_hi, head_enc FROM head').raw(),
    deleteState: db.prepare('DELETE FROM head WHERE series_id = ?'),
    freePages: db.prepare<[], number>('PRAGMA freelist_count').pluck(),
  };
}
