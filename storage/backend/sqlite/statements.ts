import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';

/**
 * Schema of one tenant database (one file per tenant, so no tenant column anywhere).
 * Kept in TypeScript rather than a .sql file so the build needs no asset copying.
 * `user_version` records the schema version for future migrations.
 */
export const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS series (id INTEGER PRIMARY KEY, labels TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
  series_id INTEGER NOT NULL,
  min_t INTEGER NOT NULL,
  max_t INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (series_id, min_t)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS wal (id INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS head (series_id INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
`;

/** Every prepared statement of a tenant database, created once at open. */
export interface Statements {
  readonly insertSeries: Statement<[number, string]>;
  readonly allSeries: Statement<[], [number, string]>;
  readonly insertChunk: Statement<[number, number, number, Buffer]>;
  /** Chunks of a series overlapping [start, end]: args (id, end, start, id, start, start). */
  readonly rangeChunks: Statement<[number, number, number, number, number, number], [number, number, Buffer]>;
  readonly firstChunkMinT: Statement<[number], number>;
  readonly lastChunk: Statement<[number], [number, Buffer]>;
  readonly insertWal: Statement<[Buffer]>;
  readonly allWal: Statement<[], [number, Buffer]>;
  readonly walBytes: Statement<[], number>;
  readonly deleteWalUpTo: Statement<[number]>;
  readonly upsertHead: Statement<[number, Buffer]>;
  readonly allHeads: Statement<[], [number, Buffer]>;
}

/** Opens (creating if needed) a tenant database: WAL journal, synchronous=NORMAL, schema applied. */
export function openTenantDb(path: string): { db: Db; stmts: Statements } {
  const db = new Database(path);
  try {
    // WAL + NORMAL: a commit is durable once in the WAL file, which survives a process crash
    // (kill -9); only an OS crash / power loss can lose the last commits.
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    db.exec(SCHEMA);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
    return { db, stmts: prepare(db) };
  } catch (err) {
    db.close();
    throw err;
  }
}

function prepare(db: Db): Statements {
  return {
    insertSeries: db.prepare('INSERT INTO series (id, labels) VALUES (?, ?)'),
    allSeries: db.prepare<[], [number, string]>('SELECT id, labels FROM series ORDER BY id').raw(),
    // OR REPLACE: re-persisting a chunk after a partial recovery must not wedge every later commit.
    insertChunk: db.prepare('INSERT OR REPLACE INTO chunks (series_id, min_t, max_t, data) VALUES (?, ?, ?, ?)'),
    // Chunks never overlap, so only the last chunk starting at or before `start` can reach into the
    // range from the left; bounding min_t from below keeps this an index range scan.
    rangeChunks: db
      .prepare<[number, number, number, number, number, number], [number, number, Buffer]>(
        `SELECT min_t, max_t, data FROM chunks
         WHERE series_id = ? AND min_t <= ? AND max_t >= ?
           AND min_t >= coalesce((SELECT max(min_t) FROM chunks WHERE series_id = ? AND min_t <= ?), ?)
         ORDER BY min_t`,
      )
      .raw(),
    firstChunkMinT: db.prepare<[number], number>('SELECT min_t FROM chunks WHERE series_id = ? ORDER BY min_t LIMIT 1').pluck(),
    lastChunk: db.prepare<[number], [number, Buffer]>('SELECT max_t, data FROM chunks WHERE series_id = ? ORDER BY min_t DESC LIMIT 1').raw(),
    insertWal: db.prepare('INSERT INTO wal (data) VALUES (?)'),
    allWal: db.prepare<[], [number, Buffer]>('SELECT id, data FROM wal ORDER BY id').raw(),
    walBytes: db.prepare<[], number>('SELECT coalesce(sum(length(data)), 0) FROM wal').pluck(),
    deleteWalUpTo: db.prepare('DELETE FROM wal WHERE id <= ?'),
    upsertHead: db.prepare('INSERT OR REPLACE INTO head (series_id, data) VALUES (?, ?)'),
    allHeads: db.prepare<[], [number, Buffer]>('SELECT series_id, data FROM head').raw(),
  };
}
