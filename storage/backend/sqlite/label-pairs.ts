import type { Database } from 'better-sqlite3';
import { AppError, ErrorKind } from '../../../common/errors.js';
import { labelsFromKey } from '../../../common/labels.js';

/**
 * How a series' label set is stored (schema 4): the distinct (name, value) pairs live once each in
 * `label_pairs(id, name, value)`, and a `series` row holds only its pairs' ids, in label order, as
 * unsigned LEB128 varints. A typical series of 6 labels takes ~8 bytes instead of its ~110-byte
 * label text (the series table was ~0.2 bytes per sample of a 2 h benchmark). Pair ids live in
 * memory with the index's postings (SeriesIndex.pairId), so writing a new series looks them up
 * there; a pair row is deleted once no series has the pair.
 */

/** Encodes pair ids as varints (exact-size buffer: SQLite stores what it is given). */
export function encodePairIds(ids: ArrayLike<number>): Buffer {
  let size = 0;
  for (let i = 0; i < ids.length; i++) size += varintSize(ids[i] as number);
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (let i = 0; i < ids.length; i++) {
    let v = ids[i] as number;
    while (v >= 0x80) {
      out[at++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    out[at++] = v;
  }
  return out;
}

/** Decodes what encodePairIds wrote; throws `series-corrupt` on a truncated or oversized varint. */
export function decodePairIds(data: Uint8Array, seriesId: number): number[] {
  const out: number[] = [];
  let at = 0;
  while (at < data.length) {
    let v = 0;
    let scale = 1;
    for (;;) {
      const b = data[at++];
      if (b === undefined || scale > 2 ** 49) throw corrupt(seriesId, 'truncated pair id');
      v += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 128;
    }
    out.push(v);
  }
  return out;
}

function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** A stored series row that cannot be read back (the file was damaged). */
export function corrupt(seriesId: number, why: string): AppError {
  return new AppError(ErrorKind.Internal, 'series-corrupt', `series ${seriesId}: ${why} [err-series-corrupt]`);
}

/**
 * Schema 3 → 4, inside the caller's transaction: the old `series(id, labels TEXT)` table, renamed
 * to `series_before_v4` by the caller, is copied into the new `series` and `label_pairs` tables
 * (created by the caller) and dropped. A one-time pass over one row per series.
 */
export function convertSeriesTable(db: Database): void {
  const pairIds = new Map<string, number>();
  const insertPair = db.prepare('INSERT INTO label_pairs (id, name, value) VALUES (?, ?, ?)');
  const insertSeries = db.prepare('INSERT INTO series (id, labels) VALUES (?, ?)');
  // Read in pages: better-sqlite3 cannot write while a statement is being iterated.
  const page = db.prepare<[number], [number, string]>('SELECT id, labels FROM series_before_v4 WHERE id > ? ORDER BY id LIMIT 4096').raw();
  const ids: number[] = [];
  for (let after = -1; ; ) {
    const rows = page.all(after);
    if (rows.length === 0) break;
    for (const [id, key] of rows) {
      const labels = labelsFromKey(key);
      ids.length = 0;
      for (let i = 0; i + 1 < labels.length; i += 2) {
        const name = labels[i] as string;
        const value = labels[i + 1] as string;
        const pairKey = `${name}\xff${value}`;
        let pid = pairIds.get(pairKey);
        if (pid === undefined) {
          pid = pairIds.size + 1;
          pairIds.set(pairKey, pid);
          insertPair.run(pid, name, value);
        }
        ids.push(pid);
      }
      insertSeries.run(id, encodePairIds(ids));
      after = id;
    }
  }
  db.exec('DROP TABLE series_before_v4');
}
