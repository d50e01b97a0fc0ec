import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import snappy from 'snappyjs';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAuthConfig, type AuthConfig } from '../../common/auth.js';
import type { IngestConfig } from '../../common/config.js';
import { encodeWriteRequest } from '../../proto/write-request-encoder.js';
import { SqliteBackend } from '../../storage/backend/sqlite/sqlite-backend.js';
import { createLocalStorageClient } from '../../storage/client/local.js';
import { buildIngestServer } from '../server.js';
import { FLUSH_PATH } from './flush.js';

const CONFIG: IngestConfig = { maxBodyBytes: 64 * 1024, maxDecompressedBytes: 256 * 1024, requireTenantHeader: false, defaultTenant: 'anonymous', decodeThreads: 0 };
const PROTO_HEADERS = { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy', 'x-prometheus-remote-write-version': '0.1.0' };
const AUTH = parseAuthConfig(`
tokens:
  - name: admin
    token: admin-secret
    tenants: ["*"]
  - name: team-a
    token: a-secret
    tenants: [team-a]
`);

let dir: string;
let backend: SqliteBackend;
let app: FastifyInstance;

function build(auth: AuthConfig | null): FastifyInstance {
  return buildIngestServer({ storage: createLocalStorageClient(backend), config: CONFIG, auth: () => auth });
}

function body(): Buffer {
  const ts = Array.from({ length: 30 }, (_, i) => 1_700_000_000_000 + i * 15_000);
  const batch = { series: [['__name__', 'up', 'job', 'a']], sampleStart: new Uint32Array([0, ts.length]), tsMs: new Float64Array(ts), values: new Float64Array(ts.length).fill(1) };
  return Buffer.from(snappy.compress(encodeWriteRequest(batch)));
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'promstore-flush-'));
  backend = SqliteBackend.open({ dataDir: dir, checkpointIntervalMs: 0 });
});

afterEach(async () => {
  await app.close();
  await backend.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

describe(`${FLUSH_PATH}`, () => {
  it('checkpoints what was written and answers 204 (GET and POST)', async () => {
    app = build(null);
    const push = await app.inject({ method: 'POST', url: '/api/v1/push', payload: body(), headers: { ...PROTO_HEADERS, 'x-scope-orgid': 'team-a' } });
    expect(push.statusCode).toBe(204);
    expect(backend.stats('team-a').walBytes).toBeGreaterThan(0);
    const res = await app.inject({ method: 'POST', url: FLUSH_PATH });
    expect(res.statusCode).toBe(204);
    expect(backend.stats('team-a')).toMatchObject({ walBytes: 0, checkpoints: 1 });
    expect((await app.inject({ method: 'GET', url: FLUSH_PATH })).statusCode).toBe(204);
  });

  it('with authentication on, needs credentials granted every tenant', async () => {
    app = build(AUTH);
    const missing = await app.inject({ method: 'POST', url: FLUSH_PATH });
    expect(missing.statusCode).toBe(401);
    const narrow = await app.inject({ method: 'POST', url: FLUSH_PATH, headers: { authorization: 'Bearer a-secret' } });
    expect(narrow.statusCode).toBe(403);
    expect(narrow.body).toContain('err-flush-forbidden');
    const admin = await app.inject({ method: 'POST', url: FLUSH_PATH, headers: { authorization: 'Bearer admin-secret' } });
    expect(admin.statusCode).toBe(204);
  });

  it('answers 503 with the storage error when storage is closed', async () => {
    app = build(null);
    await backend.close();
    const res = await app.inject({ method: 'POST', url: FLUSH_PATH });
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('err-storage-closed');
  });
});
