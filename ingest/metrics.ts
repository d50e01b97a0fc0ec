/**
 * Ingest metrics (STYLE 2.7): requests, series, samples and exemplars by tenant, discarded samples
 * by reason (= stable error code), body sizes, and duration by route and status class.
 * Created once per server; tenant label values are capped, extra tenants fold into `__overflow__`.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { TenantId } from '../common/types.js';
import type { WriteOutcome } from './distributor.js';

// TODO(lead): take the prefix from common/metrics.ts (METRIC_PREFIX) once it exists.
const PREFIX = 'promstore_ingest';

/** Distinct tenant label values kept before folding into OVERFLOW_TENANT. */
export const MAX_TENANT_LABELS = 100;
/** Tenant label value for tenants past the cap. */
export const OVERFLOW_TENANT = '__overflow__';
/** Tenant label value for requests that failed before a tenant was known. */
export const UNKNOWN_TENANT = '__unknown__';

/** Counts of what a request carried, before validation. */
export interface ReceivedCounts {
  readonly series: number;
  readonly samples: number;
  readonly exemplars: number;
}

function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`;
}

/** The ingest metric set, registered into a caller-provided prom-client Registry. */
export class IngestMetrics {
  private readonly _tenants = new Set<string>();
  private readonly _requests: Counter<'tenant' | 'status_class'>;
  private readonly _series: Counter<'tenant'>;
  private readonly _samples: Counter<'tenant'>;
  private readonly _samplesWritten: Counter<'tenant'>;
  private readonly _exemplars: Counter<'tenant'>;
  private readonly _discarded: Counter<'reason'>;
  private readonly _bodyBytes: Histogram;
  private readonly _duration: Histogram<'route' | 'status_class'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this._requests = new Counter({ name: `${PREFIX}_requests_total`, help: 'Remote-write requests by tenant and response status class.', labelNames: ['tenant', 'status_class'], registers });
    this._series = new Counter({ name: `${PREFIX}_series_received_total`, help: 'Series received in remote-write requests.', labelNames: ['tenant'], registers });
    this._samples = new Counter({ name: `${PREFIX}_samples_received_total`, help: 'Float samples received in remote-write requests.', labelNames: ['tenant'], registers });
    this._samplesWritten = new Counter({ name: `${PREFIX}_samples_written_total`, help: 'Float samples stored.', labelNames: ['tenant'], registers });
    this._exemplars = new Counter({ name: `${PREFIX}_exemplars_received_total`, help: 'Exemplars received (not stored).', labelNames: ['tenant'], registers });
    this._discarded = new Counter({ name: `${PREFIX}_discarded_samples_total`, help: 'Samples rejected, by stable error code.', labelNames: ['reason'], registers });
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
  }

  private _tenantLabel(tenant: TenantId | undefined): string {
    if (tenant === undefined) return UNKNOWN_TENANT;
    if (this._tenants.has(tenant)) return tenant;
    if (this._tenants.size >= MAX_TENANT_LABELS) return OVERFLOW_TENANT;
    this._tenants.add(tenant);
    return tenant;
  }

  /** Records a request that reached storage (fully or partially written). */
  observeOutcome(tenant: TenantId, received: ReceivedCounts, outcome: WriteOutcome, bodyBytes: number): void {
    const t = this._tenantLabel(tenant);
    this._requests.inc({ tenant: t, status_class: outcome.rejected.length === 0 ? '2xx' : '4xx' });
    this._series.inc({ tenant: t }, received.series);
    this._samples.inc({ tenant: t }, received.samples);
    this._samplesWritten.inc({ tenant: t }, outcome.samplesWritten);
    if (received.exemplars > 0) this._exemplars.inc({ tenant: t }, received.exemplars);
    for (const r of outcome.rejected) this._discarded.inc({ reason: r.code }, r.count);
    this._bodyBytes.observe(bodyBytes);
  }

  /** Records a request that failed as a whole (nothing or nothing known stored). */
  observeError(tenant: TenantId | undefined, status: number, bodyBytes: number): void {
    this._requests.inc({ tenant: this._tenantLabel(tenant), status_class: statusClass(status) });
    if (bodyBytes > 0) this._bodyBytes.observe(bodyBytes);
  }

  /** Records the handling time of one request. */
  observeDuration(route: string, status: number, seconds: number): void {
    this._duration.observe({ route, status_class: statusClass(status) }, seconds);
  }
}
