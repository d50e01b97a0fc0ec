import { mkdirSync } from 'node:fs';
import { SqliteBackend } from '../storage/backend/sqlite/sqlite-backend.js';
import type { MessagePort } from 'node:worker_threads';
import { servePort, type ServedPort } from '../storage/port/port-transport.js';
import { storageServiceDefinition } from '../storage/rpc.js';
import { startStorageServer } from '../storage/server/main.js';

/** What the storage service needs to start (plain data: it crosses into a worker thread). */
export interface StorageProcessOptions {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly maxMessageBytes: number;
  /** Retention, ms (0 = forever). */
  readonly retentionMs: number;
  /** Checkpoint interval, ms. */
  readonly checkpointIntervalMs: number;
}

/** A running storage service. */
export interface RunningStorage {
  readonly port: number;
  /** Also serves the service on `port` (all mode's in-process transport, see storage/port). */
  serve(port: MessagePort): void;
  /** Stops accepting calls, lets in-flight ones finish, then flushes and closes the backend. */
  close(): Promise<void>;
}

/** Opens the embedded backend and serves it over gRPC. */
export async function startStorageProcess(opts: StorageProcessOptions): Promise<RunningStorage> {
  mkdirSync(opts.dataDir, { recursive: true });
  const backend = SqliteBackend.open({ dataDir: opts.dataDir, retentionMs: opts.retentionMs, checkpointIntervalMs: opts.checkpointIntervalMs });
  let server;
  try {
    server = await startStorageServer({ backend, host: opts.host, port: opts.port, maxMessageBytes: opts.maxMessageBytes });
  } catch (err) {
    await backend.close();
    throw err;
  }
  const srv = server;
  const served: ServedPort[] = [];
  return {
    port: srv.port,
    serve(port: MessagePort) {
      served.push(servePort(port, storageServiceDefinition, srv.handlers));
    },
    async close() {
      for (const s of served) s.close();
      await srv.close();
      await backend.close();
    },
  };
}
