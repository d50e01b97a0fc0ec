/**
 * Storage gRPC server: serves a Backend over `promstore.storage.v1.Storage`. Opening and closing
 * the backend is the caller's job (bin/storage-process.ts), so one backend can outlive a server.
 */
import * as grpc from '@grpc/grpc-js';
import { AppError, ErrorKind } from '../../common/errors.js';
import type { Backend } from '../backend/backend.js';
import { storageServiceDefinition } from '../rpc.js';
import { createStorageService, stderrLog, type SelectBatchLimits, type ServiceLog, type StorageServiceHandlers } from './service.js';

/** Options of startStorageServer. */
export interface StorageServerOptions {
  readonly backend: Backend;
  readonly host: string;
  /** 0 picks a free port (see the returned `port`). */
  readonly port: number;
  /** Largest gRPC message accepted or sent, bytes. */
  readonly maxMessageBytes: number;
  /** How long close() lets in-flight calls finish before cancelling them, ms. Default 5000. */
  readonly shutdownTimeoutMs?: number;
  /** Log sink; default JSON lines on stderr. */
  readonly log?: ServiceLog;
  /** Select stream batching; default ≤ 500 series and ~4 MiB (capped at half the message limit). */
  readonly selectBatch?: SelectBatchLimits;
}

/** A serving storage gRPC server. */
export interface RunningStorageServer {
  /** The bound port. */
  readonly port: number;
  /** The handlers registered with the server (also served in-process, see storage/port). */
  readonly handlers: StorageServiceHandlers;
  /** Stops accepting calls, waits (bounded) for in-flight ones, then forces shutdown. Leaves the backend open. */
  close(): Promise<void>;
}

const DEFAULT_SELECT_SERIES = 500;
const DEFAULT_SELECT_BYTES = 4 * 1024 * 1024;

/** Binds (insecure, as the service listens on a private network) and serves `opts.backend`. */
export async function startStorageServer(opts: StorageServerOptions): Promise<RunningStorageServer> {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': opts.maxMessageBytes,
    'grpc.max_send_message_length': opts.maxMessageBytes,
  });
  const selectBatch = opts.selectBatch ?? {
    maxSeries: DEFAULT_SELECT_SERIES,
    maxBytes: Math.min(DEFAULT_SELECT_BYTES, Math.floor(opts.maxMessageBytes / 2)),
  };
  const handlers = createStorageService({ backend: opts.backend, log: opts.log ?? stderrLog, selectBatch });
  server.addService(storageServiceDefinition, handlers);
  const host = opts.host.includes(':') && !opts.host.startsWith('[') ? `[${opts.host}]` : opts.host;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${opts.port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => {
      if (err !== null) {
        reject(new AppError(ErrorKind.Unavailable, 'storage-bind-failed', `storage cannot listen on ${host}:${opts.port}: ${err.message}`, { cause: err }));
      } else resolve(bound);
    });
  });
  const shutdownTimeoutMs = opts.shutdownTimeoutMs ?? 5000;
  let closing: Promise<void> | undefined;
  return {
    port,
    handlers,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, shutdownTimeoutMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      return closing;
    },
  };
}
