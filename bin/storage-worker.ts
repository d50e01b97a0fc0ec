/**
 * Worker-thread entry of `all` mode: runs the storage gRPC service (embedded SQLite backend) off
 * the HTTP event loop, because better-sqlite3 is synchronous. The main thread reaches it over
 * gRPC on loopback, exactly as split mode does, so the storage contract stays the only path.
 *
 * Messages to the parent: {type:'listening', port} once serving, {type:'error', message} on a
 * start failure, {type:'closed'} after a requested shutdown ({type:'close'} from the parent).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { startStorageProcess, type StorageProcessOptions } from './storage-process.js';

if (parentPort === null) throw new Error('storage-worker must run in a worker thread');
const port = parentPort;

startStorageProcess(workerData as StorageProcessOptions).then(
  (running) => {
    port.postMessage({ type: 'listening', port: running.port });
    port.on('message', (msg: { type: string }) => {
      if (msg.type !== 'close') return;
      running.close().then(
        () => port.postMessage({ type: 'closed' }),
        (err: unknown) => port.postMessage({ type: 'error', message: String(err) }),
      );
    });
  },
  (err: unknown) => {
    port.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  },
);
