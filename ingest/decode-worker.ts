/**
 * Entry of a decode thread (see decode-pool.ts): snappy decompression and the columns half of the
 * protobuf decode, off the thread that serves HTTP. Answers every job with either the decoded
 * buffer and columns (all transferred, not copied) or the AppError's kind, code and message.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { toAppError } from '../common/errors.js';
import { decodeWriteRequestColumns } from '../proto/write-request-decoder.js';
import { decompressSnappy } from './decode.js';
import type { DecodeJob, DecodeReply } from './decode-pool.js';

const { maxDecompressedBytes } = workerData as { maxDecompressedBytes: number };

/** `bytes` as a Uint8Array that owns its whole ArrayBuffer (so transferring it moves nothing else). */
function owned(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

parentPort?.on('message', (job: DecodeJob) => {
  let reply: DecodeReply;
  let transfer: ArrayBuffer[] = [];
  try {
    const buf = owned(decompressSnappy(job.body, maxDecompressedBytes));
    const cols = decodeWriteRequestColumns(buf);
    reply = { id: job.id, ok: true, buf, cols };
    transfer = [buf.buffer as ArrayBuffer];
    if (cols !== null) transfer.push(cols.sampleStart.buffer as ArrayBuffer, cols.tsMs.buffer as ArrayBuffer, cols.values.buffer as ArrayBuffer, cols.labelRuns.buffer as ArrayBuffer, cols.labelHashes.buffer as ArrayBuffer);
  } catch (e) {
    const err = toAppError(e);
    reply = { id: job.id, ok: false, kind: err.kind, code: err.code, message: err.message };
  }
  parentPort?.postMessage(reply, transfer);
});
