import { AppError, ErrorKind } from '../../../common/errors.js';

/**
 * Binary layout of one WAL record (all integers little-endian):
 *
 * ```
 * u32 version (= 1) | u32 runCount
 * runCount × run:  u32 seriesId | u32 n | n × f64 timestamp ms | n × (u32 lo, u32 hi) value words
 * ```
 *
 * A run is consecutive accepted samples of one series; one series may have several runs in a
 * record (several batches in one group commit). Replay applies runs in order.
 */
const WAL_VERSION = 1;

/** Error code for a WAL record that cannot be decoded. */
export const WAL_CORRUPT = 'wal-corrupt';

function walCorrupt(detail: string): AppError {
  return new AppError(ErrorKind.Internal, WAL_CORRUPT, `wal record corrupt: ${detail} [err-${WAL_CORRUPT}]`);
}

/**
 * Encodes accepted samples into a WAL record. Run `r` covers samples
 * `[runStart[r], runStart[r + 1])` (the last run ends at `count`) of `ts` / `words` and belongs to
 * series `runSeriesId[r]`. Returns a fresh Buffer owned by the caller.
 */
export function encodeWalRecord(
  runSeriesId: readonly number[],
  runStart: readonly number[],
  count: number,
  ts: Float64Array,
  words: Uint32Array,
): Buffer {
  const runs = runSeriesId.length;
  const buf = Buffer.allocUnsafe(8 + runs * 8 + count * 16);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  dv.setUint32(0, WAL_VERSION, true);
  dv.setUint32(4, runs, true);
  let off = 8;
  for (let r = 0; r < runs; r++) {
    const start = runStart[r] as number;
    const end = r + 1 < runs ? (runStart[r + 1] as number) : count;
    dv.setUint32(off, runSeriesId[r] as number, true);
    dv.setUint32(off + 4, end - start, true);
    off += 8;
    for (let i = start; i < end; i++, off += 8) dv.setFloat64(off, ts[i] as number, true);
    for (let i = start; i < end; i++, off += 8) {
      dv.setUint32(off, words[2 * i] as number, true);
      dv.setUint32(off + 4, words[2 * i + 1] as number, true);
    }
  }
  return buf;
}

/** Decoded WAL record: flat columns plus run boundaries. Arrays are fresh per call. */
export interface WalRecord {
  readonly runSeriesId: Uint32Array;
  /** `runStart.length === runSeriesId.length + 1`; the last element is the sample count. */
  readonly runStart: Uint32Array;
  readonly ts: Float64Array;
  /** Value words, (lo, hi) per sample. */
  readonly words: Uint32Array;
}

/** Decodes a WAL record; throws `wal-corrupt` on malformed input (never reads out of bounds). */
export function decodeWalRecord(data: Uint8Array): WalRecord {
  if (data.length < 8) throw walCorrupt(`record of ${data.length} bytes`);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (dv.getUint32(0, true) !== WAL_VERSION) throw walCorrupt(`unknown version ${dv.getUint32(0, true)}`);
  const runs = dv.getUint32(4, true);
  // First pass: validate sizes and count samples.
  let off = 8;
  let total = 0;
  for (let r = 0; r < runs; r++) {
    if (off + 8 > data.length) throw walCorrupt('truncated run header');
    const n = dv.getUint32(off + 4, true);
    off += 8 + n * 16;
    if (off > data.length) throw walCorrupt('truncated run');
    total += n;
  }
  if (off !== data.length) throw walCorrupt('trailing bytes');
  const runSeriesId = new Uint32Array(runs);
  const runStart = new Uint32Array(runs + 1);
  const ts = new Float64Array(total);
  const words = new Uint32Array(total * 2);
  off = 8;
  let k = 0;
  for (let r = 0; r < runs; r++) {
    runSeriesId[r] = dv.getUint32(off, true);
    const n = dv.getUint32(off + 4, true);
    runStart[r] = k;
    off += 8;
    for (let i = 0; i < n; i++, off += 8) ts[k + i] = dv.getFloat64(off, true);
    for (let i = 0; i < n; i++, off += 8) {
      words[2 * (k + i)] = dv.getUint32(off, true);
      words[2 * (k + i) + 1] = dv.getUint32(off + 4, true);
    }
    k += n;
  }
  runStart[runs] = k;
  return { runSeriesId, runStart, ts, words };
}
