/**
 * Metric conventions shared by every process (STYLE 2.7): the name prefix, one prom-client
 * Registry per process with the default Node metrics (event-loop delay included), tenant label
 * capping, and the HTTP request histogram every server exposes.
 */
import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { TenantId } from './types.js';

/** Prefix of every metric of ours: `<prefix>_<component>_<noun>_<unit>`. */
export const METRIC_PREFIX = 'promstore';
/** Distinct tenant label values kept per process before folding into OVERFLOW_TENANT. */
export const MAX_TENANT_LABELS = 100;
/** Tenant label value for tenants past the cap. */
export const OVERFLOW_TENANT = '__overflow__';
/** Tenant label value for requests that failed before a tenant was known. */
export const UNKNOWN_TENANT = '__unknown__';

/**
 * How often the event-loop delay is sampled, ms. prom-client's default (10) wakes the HTTP thread
 * 100 times a second even when nothing happens: that alone was about half of an idle server's CPU
 * (~9 of ~20 ms per second here). Ten samples a second still give every scrape interval a p99.
 */
export const EVENT_LOOP_SAMPLE_MS = 100;

/** A new Registry with the default process/Node metrics (CPU, memory, GC, event-loop delay). */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  return registry;
}

/**
 * Maps tenant ids to label values with a cap: the first `max` tenants keep their id, later ones
 * share `__overflow__`, so a flood of tenants cannot blow up the metric cardinality.
 */
export class TenantLabels {
  private readonly _seen = new Set<string>();
  constructor(private readonly _max = MAX_TENANT_LABELS) {}

  /** The label value for `tenant` (UNKNOWN_TENANT when undefined). */
  of(tenant: TenantId | undefined): string {
    if (tenant === undefined) return UNKNOWN_TENANT;
    if (this._seen.has(tenant)) return tenant;
    if (this._seen.size >= this._max) return OVERFLOW_TENANT;
    this._seen.add(tenant);
    return tenant;
  }
}

/** `2xx`, `4xx`, … of an HTTP status. */
export function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`;
}

/** Latency buckets of HTTP requests, seconds. */
export const HTTP_DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * `promstore_http_request_duration_seconds{component, route, method, status_class}`: one histogram
 * per process, observed by every server for every routed request (route = the route pattern, a
 * closed set; unknown paths are `unmatched`).
 */
export class HttpMetrics {
  private readonly _duration: Histogram<'component' | 'route' | 'method' | 'status_class'>;
  constructor(registry: Registry) {
    const existing = registry.getSingleMetric(`${METRIC_PREFIX}_http_request_duration_seconds`);
    this._duration =
      (existing as Histogram<'component' | 'route' | 'method' | 'status_class'> | undefined) ??
      new Histogram({
        name: `${METRIC_PREFIX}_http_request_duration_seconds`,
        help: 'HTTP request handling time by route, method and status class.',
        labelNames: ['component', 'route', 'method', 'status_class'],
        buckets: HTTP_DURATION_BUCKETS,
        registers: [registry],
      });
  }

  /** Records one request. */
  observe(component: string, route: string, method: string, status: number, seconds: number): void {
    this._duration.observe({ component, route: route === '' ? 'unmatched' : route, method, status_class: statusClass(status) }, seconds);
  }
}
