/**
 * The only entry point through which ingest/ and query/ reach storage.
 * `StorageClient` is the contract; `createGrpcStorageClient` talks to any server of
 * proto/storage/v1/storage.proto.
 */
export type { SeriesRefSlot, StorageClient } from './storage-client.js';
export { createGrpcStorageClient, type GrpcStorageClientOptions } from './client.js';
export { registerStorageMetrics } from './metrics.js';
export { PooledSampleBuffers } from './sample-buffers.js';
