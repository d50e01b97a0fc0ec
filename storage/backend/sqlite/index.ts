/** Entry point of the SQLite backend (used by storage/server). */
export { SqliteBackend, MAX_TXN_SAMPLES, type SqliteBackendOptions, type SqliteBackendStats } from './sqlite-backend.js';
export { CODE_DUPLICATE, CODE_OUT_OF_ORDER, CODE_INVALID_TIMESTAMP } from './tenant-store.js';
