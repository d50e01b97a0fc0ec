/**
 * Runs every test/promql/cases/*.promqltest file (format: FORMAT.md) against the engine over the
 * memory backend and the SQLite backend, through the same StorageClient contract production uses.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe } from 'vitest';
import type { Backend } from '../../storage/backend/backend.js';
import { MemoryBackend } from '../../storage/backend/memory.js';
import { SqliteBackend } from '../../storage/backend/sqlite/index.js';
import { createLocalStorageClient } from '../../storage/client/local.js';
import { queryableForTenant } from '../../query/queryable.js';
import { Engine } from '../../query/promql/engine.js';
import { TEST_ENGINE_OPTIONS, batchOf, registerPromqlTests, type BackendFactory, type LoadSeries } from './runner.js';

const CASES_DIR = join(dirname(fileURLToPath(import.meta.url)), 'cases');
const TENANT = 'promqltest';

async function loaded(backend: Backend, data: readonly LoadSeries[]): Promise<Backend> {
  if (data.length > 0) {
    const result = await backend.append(TENANT, batchOf(data));
    if (result.rejected.length > 0) throw new Error(`test data rejected: ${JSON.stringify(result.rejected)}`);
  }
  return backend;
}

const memory: BackendFactory = {
  name: 'memory',
  async create(data) {
    return queryableForTenant(createLocalStorageClient(await loaded(new MemoryBackend(), data)), TENANT);
  },
};

const sqliteDirs: string[] = [];
const sqliteBackends: SqliteBackend[] = [];

const sqlite: BackendFactory = {
  name: 'sqlite',
  async create(data) {
    const dataDir = mkdtempSync(join(tmpdir(), 'promqltest-'));
    sqliteDirs.push(dataDir);
    // Tiny chunks so that selections cross chunk boundaries.
    const backend = SqliteBackend.open({ dataDir, checkpointIntervalMs: 0, samplesPerChunk: 4 });
    sqliteBackends.push(backend);
    return queryableForTenant(createLocalStorageClient(await loaded(backend, data)), TENANT);
  },
};

afterAll(async () => {
  for (const b of sqliteBackends) await b.close();
  for (const d of sqliteDirs) rmSync(d, { recursive: true, force: true });
});

for (const file of readdirSync(CASES_DIR).filter((f) => f.endsWith('.promqltest')).sort()) {
  describe(file, () => {
    registerPromqlTests(join(CASES_DIR, file), [memory, sqlite]);
  });
}

// The same cases with every range query evaluated one step per block (the engine's yielding mode for
// long queries): results and errors must not depend on how the steps are split.
const stepBlocks = new Engine({ ...TEST_ENGINE_OPTIONS, evalBlockWork: 1 });
for (const file of readdirSync(CASES_DIR).filter((f) => f.endsWith('.promqltest')).sort()) {
  describe(`${file} in 1-step blocks`, () => {
    registerPromqlTests(join(CASES_DIR, file), [memory], stepBlocks);
  });
}
