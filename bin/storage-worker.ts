/**
 * Worker-thread entry of `all` mode: runs the storage gRPC service (embedded SQLite backend) off
 * the HTTP event loop, because better-sqlite3 is synchronous. The main thread calls the same
 * service (same messages, handlers and status codes) over a MessagePort, storage/port's
 * in-process transport, which costs a tenth of a gRPC call on loopback; the gRPC port serves
 * other processes.
 *
 * Messages to the parent: {type:'listening', port} once serving, {type:'error', message} on a
 * start failure, {type:'closed'} after a requested shutdown ({type:'close'} from the parent).
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { startStorageProcess, type StorageProcessOptions } from './storage-process.js';

/** The worker's data: the storage options, and the port the main thread calls the service on. */
export interface StorageWorkerData extends StorageProcessOptions {
  readonly callPort: MessagePort;
}

if (parentPort === null) throw new Error('storage-worker must run in a worker thread');
const port = parentPort;

const data = workerData as StorageWorkerData;
startStorageProcess(data).then(
  (running) => {
    running.serve(data.callPort);
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
