import { chunkCorrupt } from '../../chunk/bitstream.js';
import { ChunkEncoding, type EncodedChunk } from '../backend.js';

/**
 * `open_rows.enc` of an open row kept as its cut XOR chunks side by side, as they were appended
 * (not a ChunkEncoding: such a row is split into its chunks before anything leaves the store).
 *
 * Why: an open row grows by one chunk at a time. Re-encoding it in the compact format at every
 * checkpoint decoded and re-encoded its older chunks each time (1 + 2 + 3 + 4 chunk encodings for a
 * 4-chunk row on a live stream); kept as XOR it is encoded once, when it is complete or at an
 * admin flush (the way Prometheus keeps cut head chunks as they are on disk until its
 * compaction). A graceful close leaves open rows as they are: sealing every one would make
 * shutdown several times longer.
 *
 * Layout, per chunk: min_t (float64 LE) | max_t (float64 LE) | byte length (uint32 LE) | XOR bytes.
 */
export const ROW_XOR_LIST = 16;

const ENTRY_HEADER = 20;

/** The blob of an XOR-list open row holding `chunks` (all XOR, in time order). */
export function encodeXorList(chunks: readonly EncodedChunk[]): Buffer {
  let size = 0;
  for (let i = 0; i < chunks.length; i++) size += ENTRY_HEADER + (chunks[i] as EncodedChunk).data.length;
  const out = Buffer.allocUnsafe(size);
  let off = 0;
  for (let i = 0; i < chunks.length; i++) {
    const c = chunks[i] as EncodedChunk;
    out.writeDoubleLE(c.minTimeMs, off);
    out.writeDoubleLE(c.maxTimeMs, off + 8);
    out.writeUInt32LE(c.data.length, off + 16);
    out.set(c.data, off + ENTRY_HEADER);
    off += ENTRY_HEADER + c.data.length;
  }
  return out;
}

/** The XOR chunks of an XOR-list open row (views into `data`); throws `chunk-corrupt` on a malformed blob. */
export function decodeXorList(data: Buffer): EncodedChunk[] {
  const out: EncodedChunk[] = [];
  let off = 0;
  while (off < data.length) {
    if (data.length - off < ENTRY_HEADER) throw chunkCorrupt(`open row: ${data.length - off} bytes left, less than a chunk header`);
    const minTimeMs = data.readDoubleLE(off);
    const maxTimeMs = data.readDoubleLE(off + 8);
    const len = data.readUInt32LE(off + 16);
    const start = off + ENTRY_HEADER;
    if (len > data.length - start) throw chunkCorrupt(`open row: chunk of ${len} bytes at ${off} runs past the row's ${data.length}`);
    if (!(minTimeMs <= maxTimeMs)) throw chunkCorrupt(`open row: chunk at ${off} spans ${minTimeMs}..${maxTimeMs}`);
    out.push({ minTimeMs, maxTimeMs, encoding: ChunkEncoding.XOR, data: data.subarray(start, start + len) });
    off = start + len;
  }
  return out;
}
