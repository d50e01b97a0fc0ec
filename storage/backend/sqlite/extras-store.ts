/**
 * Exemplars and metric metadata of every tenant in one small SQLite database,
 * `<dataDir>/extras.db`, kept apart from the tenant sample databases so the sample schema and
 * its recovery logic stay untouched.
 *
 * - exemplars(id, tenant, series, labels, value, ts): `series`/`labels` are seriesKey strings;
 *   UNIQUE(tenant, series, ts) makes a re-send a no-op. Per tenant at most `maxExemplars` rows:
 *   after an insert the oldest rows (lowest id) beyond the bound are deleted, a ring buffer on disk.
 * - metadata(tenant, metric, type, help, unit) primary key over all five; new entries beyond the
 *   tenant / per-metric bounds are rejected, as Mimir's ingesters do.
 * Per-tenant row counts are cached in memory (loaded on first use) so bounds cost no COUNT(*).
 */
import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import { clip } from '../../../common/errors.js';
import { compareLabels, labelsFromKey, seriesKey } from '../../../common/labels.js';
import { compileMatcher } from '../../../common/matchers.js';
import type { Exemplar, Matcher, MetadataQuery, MetricMetadata, TenantId, TimeMs, WriteExtras } from '../../../common/types.js';
import { MetadataCode, limitMetadata, matchesAnySet, type ExtrasResult } from '../backend.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS exemplars (
  id INTEGER PRIMARY KEY,
  tenant TEXT NOT NULL,
  series TEXT NOT NULL,
  labels TEXT NOT NULL,
  value REAL,
  ts INTEGER NOT NULL,
  UNIQUE (tenant, series, ts)
);
CREATE INDEX IF NOT EXISTS exemplars_by_tenant_ts ON exemplars (tenant, ts);
CREATE TABLE IF NOT EXISTS metadata (
  tenant TEXT NOT NULL,
  metric TEXT NOT NULL,
  type TEXT NOT NULL,
  help TEXT NOT NULL,
  unit TEXT NOT NULL,
  PRIMARY KEY (tenant, metric, type, help, unit)
) WITHOUT ROWID;
`;

interface TenantCounts {
  exemplars: number;
  metadata: number;
  /** metric → entries, loaded lazily per metric. */
  perMetric: Map<string, number>;
}

/** The extras database: see the file comment. Synchronous (runs in the storage thread). */
export class ExtrasStore {
  private readonly _db: Db;
  private readonly _counts = new Map<TenantId, TenantCounts>();
  private readonly _insertExemplar: Statement<[string, string, string, number, number]>;
  private readonly _trimExemplars: Statement<[string, string, number]>;
  private readonly _countExemplars: Statement<[string], number>;
  private readonly _rangeExemplars: Statement<[string, number, number], [string, string, number | null, number]>;
  private readonly _insertMetadata: Statement<[string, string, string, string, string]>;
  private readonly _hasMetadata: Statement<[string, string, string, string, string], number>;
  private readonly _countMetadata: Statement<[string], number>;
  private readonly _countMetricMetadata: Statement<[string, string], number>;
  private readonly _allMetadata: Statement<[string], [string, string, string, string]>;
  private readonly _totals: Statement<[], [number, number]>;

  constructor(path: string) {
    const db = new Database(path);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      db.exec(SCHEMA);
    } catch (err) {
      db.close();
      throw err;
    }
    this._db = db;
    this._insertExemplar = db.prepare('INSERT OR IGNORE INTO exemplars (tenant, series, labels, value, ts) VALUES (?, ?, ?, ?, ?)');
    this._trimExemplars = db.prepare('DELETE FROM exemplars WHERE id IN (SELECT id FROM exemplars WHERE tenant = ? ORDER BY id LIMIT max(0, (SELECT count(*) FROM exemplars WHERE tenant = ?) - ?))');
    this._countExemplars = db.prepare<[string], number>('SELECT count(*) FROM exemplars WHERE tenant = ?').pluck();
    this._rangeExemplars = db
      .prepare<[string, number, number], [string, string, number | null, number]>('SELECT series, labels, value, ts FROM exemplars WHERE tenant = ? AND ts BETWEEN ? AND ?')
      .raw();
    this._insertMetadata = db.prepare('INSERT OR IGNORE INTO metadata (tenant, metric, type, help, unit) VALUES (?, ?, ?, ?, ?)');
    this._hasMetadata = db
      .prepare<[string, string, string, string, string], number>('SELECT count(*) FROM metadata WHERE tenant = ? AND metric = ? AND type = ? AND help = ? AND unit = ?')
      .pluck();
    this._countMetadata = db.prepare<[string], number>('SELECT count(*) FROM metadata WHERE tenant = ?').pluck();
    this._countMetricMetadata = db.prepare<[string, string], number>('SELECT count(*) FROM metadata WHERE tenant = ? AND metric = ?').pluck();
    this._allMetadata = db
      .prepare<[string], [string, string, string, string]>('SELECT metric, type, help, unit FROM metadata WHERE tenant = ? ORDER BY metric, type, help, unit')
      .raw();
    this._totals = db.prepare<[], [number, number]>('SELECT (SELECT count(*) FROM exemplars), (SELECT count(*) FROM metadata)').raw();
  }

  private _tenantCounts(tenant: TenantId): TenantCounts {
    let c = this._counts.get(tenant);
    if (c === undefined) {
      c = { exemplars: this._countExemplars.get(tenant) ?? 0, metadata: this._countMetadata.get(tenant) ?? 0, perMetric: new Map() };
      this._counts.set(tenant, c);
    }
    return c;
  }

  /** Keeps exemplars and metadata in one transaction; see Backend.writeExtras. */
  write(tenant: TenantId, extras: WriteExtras): ExtrasResult {
    const counts = this._tenantCounts(tenant);
    const rejected = new Map<string, { count: number; example: string }>();
    const reject = (code: string, example: () => string): void => {
      const r = rejected.get(code);
      if (r === undefined) rejected.set(code, { count: 1, example: example() });
      else r.count++;
    };
    let exemplarsWritten = 0;
    let metadataWritten = 0;
    const txn = this._db.transaction(() => {
      if (extras.maxExemplars > 0) {
        for (const e of extras.exemplars) {
          const res = this._insertExemplar.run(tenant, seriesKey(e.seriesLabels), seriesKey(e.labels), e.value, e.tsMs);
          counts.exemplars += res.changes;
          exemplarsWritten++;
        }
      }
      if (counts.exemplars > extras.maxExemplars) {
        counts.exemplars -= this._trimExemplars.run(tenant, tenant, extras.maxExemplars).changes;
      }
      for (const m of extras.metadata) {
        if ((this._hasMetadata.get(tenant, m.metric, m.type, m.help, m.unit) ?? 0) > 0) {
          metadataWritten++;
          continue;
        }
        let perMetric = counts.perMetric.get(m.metric);
        if (perMetric === undefined) {
          perMetric = this._countMetricMetadata.get(tenant, m.metric) ?? 0;
          counts.perMetric.set(m.metric, perMetric);
        }
        if (extras.maxMetadata > 0 && counts.metadata >= extras.maxMetadata) {
          const n = counts.metadata;
          reject(MetadataCode.MaxPerTenant, () => `metadata of ${clip(m.metric)} dropped: tenant has ${n} metadata entries, limit ${extras.maxMetadata} (limit max_global_metadata_per_user) [err-${MetadataCode.MaxPerTenant}]`);
          continue;
        }
        if (extras.maxMetadataPerMetric > 0 && perMetric >= extras.maxMetadataPerMetric) {
          const n = perMetric;
          reject(MetadataCode.MaxPerMetric, () => `metadata of ${clip(m.metric)} dropped: metric has ${n} metadata entries, limit ${extras.maxMetadataPerMetric} (limit max_global_metadata_per_metric) [err-${MetadataCode.MaxPerMetric}]`);
          continue;
        }
        this._insertMetadata.run(tenant, m.metric, m.type, m.help, m.unit);
        counts.metadata++;
        counts.perMetric.set(m.metric, perMetric + 1);
        metadataWritten++;
      }
    });
    try {
      txn();
    } catch (err) {
      // Counts may be off after a failed transaction: reload them on next use.
      this._counts.delete(tenant);
      throw err;
    }
    return { exemplarsWritten, metadataWritten, rejected: [...rejected].map(([code, r]) => ({ code, count: r.count, example: r.example })) };
  }

  /** See Backend.metadata. */
  metadata(tenant: TenantId, q: MetadataQuery): MetricMetadata[] {
    const all: MetricMetadata[] = [];
    for (const [metric, type, help, unit] of this._allMetadata.iterate(tenant)) all.push({ metric, type, help, unit });
    return limitMetadata(all, q);
  }

  /** See Backend.exemplars. */
  exemplars(tenant: TenantId, matcherSets: readonly (readonly Matcher[])[], startMs: TimeMs, endMs: TimeMs): Exemplar[] {
    const sets = matcherSets.map((set) => set.map(compileMatcher));
    const out: Exemplar[] = [];
    // Range bounds clamp to SQLite's int64; Grafana's probe sends ms where seconds are expected.
    const lo = Math.max(Number.MIN_SAFE_INTEGER, Math.floor(startMs));
    const hi = Math.min(Number.MAX_SAFE_INTEGER, Math.ceil(endMs));
    if (lo > hi) return out;
    for (const [series, labels, value, ts] of this._rangeExemplars.iterate(tenant, lo, hi)) {
      const seriesLabels = labelsFromKey(series);
      if (matchesAnySet(seriesLabels, sets)) // SQLite stores NaN as NULL.
        out.push({ seriesLabels, labels: labelsFromKey(labels), value: value ?? NaN, tsMs: ts });
    }
    return out.sort((a, b) => compareLabels(a.seriesLabels, b.seriesLabels) || a.tsMs - b.tsMs);
  }

  /** Exemplar and metadata rows over all tenants. */
  totals(): { exemplars: number; metadata: number } {
    const row = this._totals.get();
    return { exemplars: row?.[0] ?? 0, metadata: row?.[1] ?? 0 };
  }

  /** Closes the database. */
  close(): void {
    this._db.close();
  }
}
