/**
 * Ingest metrics (STYLE 2.7): requests, series, samples, exemplars and metadata by tenant,
 * discarded samples / exemplars / metadata by tenant and reason (= stable error code), active
 * series and targets by tenant, body sizes, and duration by route and status class.
 * Created once per server; tenant label values are capped (common/metrics.ts TenantLabels).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { METRIC_PREFIX, TenantLabels, statusClass } from '../common/metrics.js';
import type { RejectedSamples, TenantId } from '../common/types.js';
import type { ActiveSeriesTracker } from './active-series.js';
import type { WriteOutcome } from './distributor.js';

export { MAX_TENANT_LABELS, OVERFLOW_TENANT, UNKNOWN_TENANT } from '../common/metrics.js';

const PREFIX = `${METRIC_PREFIX}_ingest`;

/** Counts of what a request carried, before validation. */
export interface ReceivedCounts {
  readonly series: number;
  readonly samples: number;
  readonly exemplars: number;
  readonly metadata?: number;
}

/** The ingest metric set, registered into a caller-provided prom-client Registry. */
export class IngestMetrics {
  private readonly _tenants = new TenantLabels();
  private readonly _requests: Counter<'tenant' | 'status_class'>;
  private readonly _series: Counter<'tenant'>;
  private readonly _samples: Counter<'tenant'>;
  private readonly _samplesWritten: Counter<'tenant'>;
  private readonly _exemplars: Counter<'tenant'>;
  private readonly _exemplarsWritten: Counter<'tenant'>;
  private readonly _metadata: Counter<'tenant'>;
  private readonly _discarded: Counter<'tenant' | 'reason'>;
  private readonly _discardedExemplars: Counter<'tenant' | 'reason'>;
  private readonly _discardedMetadata: Counter<'tenant' | 'reason'>;
  private readonly _bodyBytes: Histogram;
  private readonly _duration: Histogram<'route' | 'status_class'>;
  private _tracker: ActiveSeriesTracker | null = null;

  constructor(registry: Registry) {
    const registers = [registry];
    this._requests = new Counter({ name: `${PREFIX}_requests_total`, help: 'Remote-write requests by tenant and response status class.', labelNames: ['tenant', 'status_class'], registers });
    this._series = new Counter({ name: `${PREFIX}_series_received_total`, help: 'Series received in remote-write requests.', labelNames: ['tenant'], registers });
    this._samples = new Counter({ name: `${PREFIX}_samples_received_total`, help: 'Float samples received in remote-write requests.', labelNames: ['tenant'], registers });
    this._samplesWritten = new Counter({ name: `${PREFIX}_samples_written_total`, help: 'Float samples stored.', labelNames: ['tenant'], registers });
    this._exemplars = new Counter({ name: `${PREFIX}_exemplars_received_total`, help: 'Exemplars received.', labelNames: ['tenant'], registers });
    this._exemplarsWritten = new Counter({ name: `${PREFIX}_exemplars_written_total`, help: 'Exemplars stored.', labelNames: ['tenant'], registers });
    this._metadata = new Counter({ name: `${PREFIX}_metadata_received_total`, help: 'Metric metadata entries received.', labelNames: ['tenant'], registers });
    this._discarded = new Counter({ name: `${PREFIX}_discarded_samples_total`, help: 'Samples rejected, by tenant and stable error code.', labelNames: ['tenant', 'reason'], registers });
    this._discardedExemplars = new Counter({ name: `${PREFIX}_discarded_exemplars_total`, help: 'Exemplars dropped, by tenant and stable error code.', labelNames: ['tenant', 'reason'], registers });
    this._discardedMetadata = new Counter({ name: `${PREFIX}_discarded_metadata_total`, help: 'Metadata entries dropped, by tenant and stable error code.', labelNames: ['tenant', 'reason'], registers });
    this._bodyBytes = new Histogram({
      name: `${PREFIX}_request_body_bytes`,
      help: 'Compressed remote-write body sizes.',
      buckets: [1 << 10, 1 << 12, 1 << 14, 1 << 16, 1 << 18, 1 << 20, 1 << 22, 1 << 24],
      registers,
    });
    this._duration = new Histogram({
      name: `${PREFIX}_request_duration_seconds`,
      help: 'Remote-write request handling time.',
      labelNames: ['route', 'status_class'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    const self = this;
    new Gauge({
      name: `${PREFIX}_active_series`,
      help: 'Series written within the active-series idle timeout, by tenant (those the series limits count).',
      labelNames: ['tenant'],
      registers,
      collect() {
        this.reset();
        const tracker = self._tracker;
        if (tracker === null) return;
        for (const t of tracker.tenants()) this.inc({ tenant: self._tenants.of(t) }, tracker.activeSeries(t));
      },
    });
    new Gauge({
      name: `${PREFIX}_active_targets`,
      help: 'Distinct (job, instance) pairs written within the idle timeout, by tenant (tracked while target_limit is set).',
      labelNames: ['tenant'],
      registers,
      collect() {
        this.reset();
        const tracker = self._tracker;
        if (tracker === null) return;
        for (const t of tracker.tenants()) this.inc({ tenant: self._tenants.of(t) }, tracker.activeTargets(t));
      },
    });
  }

  /** Exposes the distributor's active series and targets as gauges (read at scrape time). */
  bindActiveSeries(tracker: ActiveSeriesTracker): void {
    this._tracker = tracker;
  }

  /** Records a request that reached the write step (fully or partially written). */
  observeOutcome(tenant: TenantId, received: ReceivedCounts, outcome: WriteOutcome, bodyBytes: number): void {
    const t = this._tenants.of(tenant);
    this._requests.inc({ tenant: t, status_class: outcome.rejected.length === 0 ? '2xx' : '4xx' });
    this._series.inc({ tenant: t }, received.series);
    this._samples.inc({ tenant: t }, received.samples);
    this._samplesWritten.inc({ tenant: t }, outcome.samplesWritten);
    if (received.exemplars > 0) this._exemplars.inc({ tenant: t }, received.exemplars);
    if ((received.metadata ?? 0) > 0) this._metadata.inc({ tenant: t }, received.metadata);
    if (outcome.exemplarsWritten > 0) this._exemplarsWritten.inc({ tenant: t }, outcome.exemplarsWritten);
    for (const r of outcome.rejected) this._discarded.inc({ tenant: t, reason: r.code }, r.count);
    this._observeExtras(t, outcome.extrasRejected);
    this._bodyBytes.observe(bodyBytes);
  }

  private _observeExtras(t: string, list: readonly RejectedSamples[]): void {
    for (const r of list) {
      if (r.code.includes('metadata')) this._discardedMetadata.inc({ tenant: t, reason: r.code }, r.count);
      else this._discardedExemplars.inc({ tenant: t, reason: r.code }, r.count);
    }
  }

  /** Records samples of a request refused as a whole (sample limit, rate limit) under `reason`. */
  observeRefused(tenant: TenantId, reason: string, received: ReceivedCounts): void {
    const t = this._tenants.of(tenant);
    this._series.inc({ tenant: t }, received.series);
    this._samples.inc({ tenant: t }, received.samples);
    if (received.samples > 0) this._discarded.inc({ tenant: t, reason }, received.samples);
    if (received.exemplars > 0) {
      this._exemplars.inc({ tenant: t }, received.exemplars);
      this._discardedExemplars.inc({ tenant: t, reason }, received.exemplars);
    }
    if ((received.metadata ?? 0) > 0) {
      this._metadata.inc({ tenant: t }, received.metadata);
      this._discardedMetadata.inc({ tenant: t, reason }, received.metadata);
    }
  }

  /** Records a request that failed as a whole (nothing or nothing known stored). */
  observeError(tenant: TenantId | undefined, status: number, bodyBytes: number): void {
    this._requests.inc({ tenant: this._tenants.of(tenant), status_class: statusClass(status) });
    if (bodyBytes > 0) this._bodyBytes.observe(bodyBytes);
  }

  /** Records the handling time of one request. */
  observeDuration(route: string, status: number, seconds: number): void {
    this._duration.observe({ route, status_class: statusClass(status) }, seconds);
  }
}
