/**
 * Storage figures on the /metrics of the process that talks to storage (query or all mode): one
 * Stats RPC per scrape (shared by the gauges below, cached for a second), so the storage service
 * needs no HTTP port of its own.
 */
import { Gauge, type Registry } from 'prom-client';
import { METRIC_PREFIX } from '../../common/metrics.js';
import type { StorageStats } from '../../common/types.js';
import type { StorageClient } from './storage-client.js';

const FIGURES: ReadonlyArray<[keyof StorageStats, string, string]> = [
  ['series', 'series', 'Series known to storage (open tenants).'],
  ['chunks', 'chunks_flushed', 'Chunks written to disk since the storage service started.'],
  ['bytesOnDisk', 'disk_bytes', 'Bytes of every file under the data directory.'],
  ['walBytes', 'wal_bytes', 'Bytes of write-ahead records not yet checkpointed.'],
  ['tenants', 'tenants', 'Tenants with an open database.'],
  ['exemplars', 'exemplars', 'Exemplars kept.'],
  ['metadata', 'metadata_entries', 'Metric metadata entries kept.'],
];

/** Registers `promstore_storage_*` gauges read from `client.stats()` at scrape time. */
export function registerStorageMetrics(registry: Registry, client: StorageClient, nowMs: () => number = Date.now): void {
  let cached: { atMs: number; stats: Promise<StorageStats | null> } | null = null;
  const current = (): Promise<StorageStats | null> => {
    const now = nowMs();
    if (cached === null || now - cached.atMs > 1000) cached = { atMs: now, stats: client.stats().catch(() => null) };
    return cached.stats;
  };
  new Gauge({
    name: `${METRIC_PREFIX}_storage_up`,
    help: 'Whether the last Stats call to storage succeeded.',
    registers: [registry],
    async collect() {
      this.set((await current()) === null ? 0 : 1);
    },
  });
  for (const [key, name, help] of FIGURES) {
    new Gauge({
      name: `${METRIC_PREFIX}_storage_${name}`,
      help,
      registers: [registry],
      async collect() {
        const s = await current();
        if (s !== null) this.set(s[key]);
      },
    });
  }
}
