/**
 * Query metrics (STYLE 2.7): queries by endpoint and outcome (errorType or `success`), query
 * duration by endpoint, series and samples loaded from storage by tenant.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import { METRIC_PREFIX, TenantLabels } from '../../common/metrics.js';

const PREFIX = `${METRIC_PREFIX}_query`;

/** The query metric set, registered into a caller-provided Registry. */
export class QueryMetrics {
  private readonly _tenants = new TenantLabels();
  private readonly _requests: Counter<'endpoint' | 'outcome'>;
  private readonly _duration: Histogram<'endpoint'>;
  private readonly _samples: Counter<'tenant'>;
  private readonly _series: Counter<'tenant'>;
  private readonly _samplesPerQuery: Histogram;

  constructor(registry: Registry) {
    const registers = [registry];
    this._requests = new Counter({ name: `${PREFIX}_requests_total`, help: 'Query API requests by endpoint and outcome (success or errorType).', labelNames: ['endpoint', 'outcome'], registers });
    this._duration = new Histogram({
      name: `${PREFIX}_duration_seconds`,
      help: 'Query API request time by endpoint.',
      labelNames: ['endpoint'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    });
    this._samples = new Counter({ name: `${PREFIX}_samples_loaded_total`, help: 'Samples loaded from storage by PromQL queries, by tenant.', labelNames: ['tenant'], registers });
    this._series = new Counter({ name: `${PREFIX}_series_loaded_total`, help: 'Series loaded from storage by PromQL queries, by tenant.', labelNames: ['tenant'], registers });
    this._samplesPerQuery = new Histogram({
      name: `${PREFIX}_samples_loaded_per_query`,
      help: 'Samples one PromQL query loaded from storage.',
      buckets: [10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8],
      registers,
    });
  }

  /** Records one API request. */
  observeRequest(endpoint: string, outcome: string, seconds: number): void {
    this._requests.inc({ endpoint, outcome });
    this._duration.observe({ endpoint }, seconds);
  }

  /** Records what one PromQL query loaded (tenant = the header value, federated ones joined by `|`). */
  observeLoaded(tenant: string, series: number, samples: number): void {
    const t = this._tenants.of(tenant);
    this._series.inc({ tenant: t }, series);
    this._samples.inc({ tenant: t }, samples);
    this._samplesPerQuery.observe(samples);
  }
}
