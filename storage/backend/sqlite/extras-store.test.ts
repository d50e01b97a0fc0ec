import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MatchType, type WriteExtras } from '../../../common/types.js';
import { MemoryBackend } from '../memory.js';
import { SqliteBackend } from './sqlite-backend.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const ex = (series: string, ts: number, value = 1) => ({ seriesLabels: ['__name__', series], labels: ['trace_id', `t${ts}`], value, tsMs: ts });
const md = (metric: string, help: string) => ({ metric, type: 'gauge', help, unit: '' });
const extras = (over: Partial<WriteExtras>): WriteExtras => ({ exemplars: [], metadata: [], maxExemplars: 3, maxMetadata: 2, maxMetadataPerMetric: 1, ...over });

// Both backends must keep the same bounds and answer the same way.
describe.each([
  ['memory', () => new MemoryBackend()],
  [
    'sqlite',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'promstore-extras-'));
      dirs.push(dir);
      return SqliteBackend.open({ dataDir: dir, checkpointIntervalMs: 0 });
    },
  ],
] as const)('%s backend: exemplars and metadata', (_name, make) => {
  it('keeps the newest exemplars within the bound, de-duplicates, filters by matchers and time', async () => {
    const b = make();
    const r = await b.writeExtras('t', extras({ exemplars: [ex('a', 1), ex('a', 2), ex('b', 3), ex('a', 2), ex('b', 4), ex('a', 5, NaN)] }));
    expect(r.exemplarsWritten).toBe(6);
    const all = await b.exemplars('t', [[{ type: MatchType.RE, name: '__name__', value: '.+' }]], 0, 10);
    expect(all.map((e) => `${e.seriesLabels[1]}@${e.tsMs}`)).toEqual(['a@5', 'b@3', 'b@4']);
    expect(Number.isNaN(all[0]?.value)).toBe(true);
    expect((await b.exemplars('t', [[{ type: MatchType.EQ, name: '__name__', value: 'b' }]], 4, 4)).map((e) => e.tsMs)).toEqual([4]);
    expect(await b.exemplars('other', [[{ type: MatchType.EQ, name: '__name__', value: 'b' }]], 0, 10)).toEqual([]);
    await b.close();
  });

  it('metadata: known entries refresh, new ones beyond the bounds are rejected by code', async () => {
    const b = make();
    const r = await b.writeExtras('t', extras({ metadata: [md('a', 'x'), md('a', 'x'), md('a', 'y'), md('b', 'x'), md('c', 'x')] }));
    expect(r.metadataWritten).toBe(3);
    expect(r.rejected.map((x) => [x.code, x.count])).toEqual([
      ['max-metadata-per-metric', 1],
      ['max-metadata-per-tenant', 1],
    ]);
    expect(await b.metadata('t', { metric: '', limit: 0, limitPerMetric: 0 })).toEqual([md('a', 'x'), md('b', 'x')]);
    expect(await b.metadata('t', { metric: 'b', limit: 0, limitPerMetric: 0 })).toEqual([md('b', 'x')]);
    expect(await b.metadata('t', { metric: '', limit: 1, limitPerMetric: 0 })).toEqual([md('a', 'x')]);
    const stats = await b.storageStats();
    expect([stats.exemplars, stats.metadata]).toEqual([0, 2]);
    await b.close();
  });
});
