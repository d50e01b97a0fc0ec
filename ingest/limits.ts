/**
 * Per-tenant ingestion rate limiting (limits-and-tenancy.md §3 step 4): a token bucket per tenant
 * refilled at `ingestion_rate` tokens/s up to `ingestion_burst_size`. A request costs its valid
 * samples + exemplars + metadata and is admitted whole or refused whole (429), so a 429 never
 * leaves a partial write behind. Time comes from an injected Clock.
 */
import type { Clock } from '../common/clock.js';
import { AppError, type ErrorKind } from '../common/errors.js';
import type { TenantId } from '../common/types.js';

/** A token bucket; `rate`/`burst` follow the tenant's current limits on every call. */
class Bucket {
  tokens: number;
  lastMs: number;
  constructor(burst: number, nowMs: number) {
    this.tokens = burst;
    this.lastMs = nowMs;
  }
}

/** Outcome of RateLimiter.take: admitted, or refused with a suggested wait. */
export interface RateDecision {
  readonly ok: boolean;
  /** When refused: ms until the bucket could cover the cost (Infinity when cost > burst). */
  readonly retryAfterMs: number;
}

const ADMIT: RateDecision = Object.freeze({ ok: true, retryAfterMs: 0 });

/** Token buckets per tenant. Buckets that refilled to the brim are dropped by sweep(). */
export class RateLimiter {
  private readonly _buckets = new Map<TenantId, Bucket>();
  constructor(private readonly _clock: Clock) {}

  /**
   * Takes `cost` tokens from the tenant's bucket if it holds that many. `ratePerSec` 0 means
   * unlimited. A cost above `burst` can never be admitted (Mimir behaves the same); the caller
   * reports it as a 429 whose Retry-After is capped.
   */
  take(tenant: TenantId, cost: number, ratePerSec: number, burst: number): RateDecision {
    if (ratePerSec <= 0 || cost <= 0) return ADMIT;
    const now = this._clock.nowMs();
    let b = this._buckets.get(tenant);
    if (b === undefined) {
      b = new Bucket(burst, now);
      this._buckets.set(tenant, b);
    } else {
      const elapsedMs = Math.max(0, now - b.lastMs);
      b.tokens = Math.min(burst, b.tokens + (elapsedMs * ratePerSec) / 1000);
      b.lastMs = now;
    }
    if (b.tokens >= cost) {
      b.tokens -= cost;
      return ADMIT;
    }
    if (cost > burst) return { ok: false, retryAfterMs: Infinity };
    return { ok: false, retryAfterMs: Math.ceil(((cost - b.tokens) * 1000) / ratePerSec) };
  }

  /** Forgets buckets idle long enough to be full again (they equal a fresh bucket). */
  sweep(rateOf: (tenant: TenantId) => { ratePerSec: number; burst: number }): void {
    const now = this._clock.nowMs();
    for (const [tenant, b] of this._buckets) {
      const { ratePerSec, burst } = rateOf(tenant);
      if (ratePerSec <= 0 || b.tokens + ((now - b.lastMs) * ratePerSec) / 1000 >= burst) this._buckets.delete(tenant);
    }
  }

  /** Buckets held (for tests and metrics). */
  get size(): number {
    return this._buckets.size;
  }
}

/**
 * A whole request refused by a tenant limit before anything was written: `sample-limit` (400) or
 * `ingestion-rate-limited` (429). Carries what the route needs to count and answer.
 */
export class RequestRefusedError extends AppError {
  constructor(
    kind: ErrorKind,
    code: string,
    message: string,
    /** Samples (plus exemplars and metadata) the request carried, all discarded. */
    readonly discarded: number,
    /** Suggested wait for a 429, seconds (0 when not rate limited). */
    readonly retryAfterSeconds: number,
  ) {
    super(kind, code, message);
  }
}

/** Codes of whole-request refusals (discard-metric reasons). */
export const RefusalCode = {
  SampleLimit: 'sample-limit',
  RateLimited: 'ingestion-rate-limited',
} as const;

/** Longest Retry-After we suggest, seconds (also used when a request can never fit the burst). */
export const MAX_RETRY_AFTER_S = 60;
