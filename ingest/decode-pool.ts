/**
 * A small pool of decode threads for remote-write bodies. Decompressing and walking the protobuf
 * is a third of the ingest thread's work per request; a thread of its own takes it off the one
 * thread that also serves HTTP, validates and applies limits, so requests overlap. The labels are
 * resolved back on the ingest thread (resolveLabels), where the known-series cache lives: only
 * typed arrays and the decoded bytes cross threads, moved, never copied.
 */
import { Worker } from 'node:worker_threads';
import { AppError, ErrorKind, type ErrorKind as ErrorKindT } from '../common/errors.js';
import type { ColumnarWriteRequest } from '../proto/write-request-decoder.js';

/** A body to decode (its ArrayBuffer is transferred). */
export interface DecodeJob {
  readonly id: number;
  readonly body: Uint8Array;
}

/** A decode thread's answer. `cols` null: labels not contiguous, decode `buf` in one pass. */
export type DecodeReply =
  | { readonly id: number; readonly ok: true; readonly buf: Uint8Array; readonly cols: ColumnarWriteRequest | null }
  | { readonly id: number; readonly ok: false; readonly kind: ErrorKindT; readonly code: string; readonly message: string };

/** What decode() resolves with: the decompressed bytes and, when possible, their columns. */
export interface PooledDecode {
  readonly buf: Uint8Array;
  readonly cols: ColumnarWriteRequest | null;
}

interface Pending {
  resolve(v: PooledDecode): void;
  reject(e: AppError): void;
}

class PoolThread {
  readonly pending = new Map<number, Pending>();
  constructor(readonly worker: Worker) {}
}

/** Options of a DecodePool. */
export interface DecodePoolOptions {
  readonly threads: number;
  readonly maxDecompressedBytes: number;
  /** Entry script; default the compiled decode-worker.js beside this module. */
  readonly workerUrl?: URL;
}

function threadFailed(detail: string): AppError {
  return new AppError(ErrorKind.Internal, 'decode-thread-failed', `remote-write decode thread failed: ${detail} [err-decode-thread-failed]`);
}

/** Decode threads; jobs go to the thread with the fewest in flight. A thread that dies is replaced. */
export class DecodePool {
  private readonly _threads: PoolThread[] = [];
  private _nextId = 1;
  private _closed = false;

  constructor(private readonly _opts: DecodePoolOptions) {
    for (let i = 0; i < _opts.threads; i++) this._threads.push(this._spawn());
  }

  get size(): number {
    return this._threads.length;
  }

  private _spawn(): PoolThread {
    const worker = new Worker(this._opts.workerUrl ?? new URL('./decode-worker.js', import.meta.url), {
      workerData: { maxDecompressedBytes: this._opts.maxDecompressedBytes },
    });
    // Idle decode threads must not keep the process alive.
    worker.unref();
    const t = new PoolThread(worker);
    worker.on('message', (reply: DecodeReply) => {
      const p = t.pending.get(reply.id);
      if (p === undefined) return;
      t.pending.delete(reply.id);
      if (reply.ok) p.resolve({ buf: reply.buf, cols: reply.cols });
      else p.reject(new AppError(reply.kind, reply.code, reply.message));
    });
    const fail = (detail: string): void => {
      for (const p of t.pending.values()) p.reject(threadFailed(detail));
      t.pending.clear();
      const i = this._threads.indexOf(t);
      if (i >= 0 && !this._closed) this._threads[i] = this._spawn();
    };
    worker.on('error', (err) => fail(err.message));
    worker.on('exit', (code) => fail(`exited with code ${code}`));
    return t;
  }

  /** Decompresses and column-decodes `body` on a decode thread; rejects with the decode's AppError. */
  decode(body: Uint8Array): Promise<PooledDecode> {
    let best: PoolThread | undefined;
    for (const t of this._threads) if (best === undefined || t.pending.size < best.pending.size) best = t;
    if (best === undefined || this._closed) return Promise.reject(threadFailed('pool closed'));
    const t = best;
    const id = this._nextId++;
    // Copy into a buffer of its own: the request's bytes may share a pooled ArrayBuffer.
    const own = new Uint8Array(body.length);
    own.set(body);
    return new Promise<PooledDecode>((resolve, reject) => {
      t.pending.set(id, { resolve, reject });
      const job: DecodeJob = { id, body: own };
      t.worker.postMessage(job, [own.buffer]);
    });
  }

  /** Stops every thread; pending jobs fail. */
  async close(): Promise<void> {
    this._closed = true;
    await Promise.all(this._threads.map((t) => t.worker.terminate()));
  }
}
